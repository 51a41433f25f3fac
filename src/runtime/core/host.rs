//! What an embedder's turn leaves the host to see: the poll fd's contract.
//!
//! A host loop (a `poll(2)` loop, calloop, glib, its own `mio::Poll`) watches
//! kettle's poll fd and calls [`Runtime::turn`](crate::Runtime::turn) when it
//! is readable. The contract (`runtime/embed.rs` states it for users): the
//! fd is readable whenever kettle has work it could do now, and every time
//! such work appears it gets a *new* edge, so that a host that registered it
//! edge-triggered is told too. Most of that is the loop's own machinery: an
//! I/O event, a push from another thread (the eventfd), a timer (the
//! timerfd) each make kettle's epoll readable, and epoll passes each new
//! event on as a new edge of its own fd. Three cases are not, and
//! [`Core::hand_over_to_host`] covers them whenever the loop is left — after
//! an embedder's turn, and after a `block_on` that host code ran — once a
//! host drives the runtime (it asked for the fd, or turned the loop: a
//! program that never does pays nothing):
//!
//! - **Work the turn left queued**: a task that woke itself, a callback
//!   queued by a callback, a timer that came due while tasks ran. Nothing
//!   else would make the fd readable: the loop writes its eventfd.
//! - **Readiness the turn did not collect**: a poll that filled the events
//!   buffer leaves the rest in the kernel. The fd *is* readable then, but
//!   its edge was the one that made the host call this turn: an
//!   edge-triggered host would never come back for the rest. If a zero
//!   `poll(2)` of the fd says events remain, the eventfd write is a new
//!   edge. (Asking first matters: with a one-event buffer, the turn that
//!   collects the write is full again, and would write again for ever.)
//! - **The next timer**: a blocking loop arms its timerfd just before
//!   `epoll_wait`; an embedder's turn does not block, so it is armed here,
//!   and the fd fires at the deadline with kettle's own precision (at once
//!   for a timer already due). A paused clock's deadlines are not the
//!   kernel's: the fd never fires for them, and `next_timeout` is zero while
//!   one is pending (the turn jumps the clock only if nothing else arrived,
//!   which an eventfd write here would spoil).
//!
//! And a fourth is mostly avoided: a busy turn skips `epoll_wait`
//! (`Core::plan_poll`'s shortcut), which leaves every event of the fd
//! uncollected. An embedder's turn always polls, at least without blocking
//! ([`Core::before_host_turn`]): the shortcut pays between turns that follow
//! each other at once, not between turns the host's own work separates. A
//! `block_on` whose last turn skipped the poll is treated as a full one:
//! the write if the fd says events remain.
//!
//! One write per hand-over: if leaving the loop already wrote (remote work
//! came in during the run), that is the host's new edge, and the wake
//! callback has had its one call.
//!
//! Work added by host code between turns (`Runtime::spawn`) writes the
//! eventfd where it is added (`Shared::wake_from_host`). The write is the
//! injector's write as far as the wake protocol goes (`shared.rs`): it
//! clears `idle`, and the loop forgets its idle announcement when a poll
//! consumes the event. An overfull poll may leave it among the events not
//! collected: that is the second case above, and the host keeps coming
//! back until a poll has consumed it.

use super::{Core, IO_EVERY_BUSY_TURNS};

impl Core {
    /// A host loop drives this runtime from now on (it asked for the poll
    /// fd, turns the loop itself, or gave a wake callback): from now on,
    /// leaving the loop hands over to it ([`hand_over_to_host`](Core::hand_over_to_host)). A
    /// program that only runs `block_on` or `run_forever` never pays for it.
    ///
    /// The first time, between runs, it also hands over what earlier runs
    /// left: a program sets up with `block_on`, then registers the fd.
    pub(crate) fn mark_hosted(&self) {
        let was_hosted = self.extras.hosted.replace(true);
        if !was_hosted && !crate::runtime::context::is_current(&self.shared) {
            self.hand_over_to_host(false);
        }
    }

    /// Before an embedder's turn: make it poll for I/O even if work is
    /// queued (see the module docs), by counting it as the last busy turn
    /// the shortcut may skip.
    pub(crate) fn before_host_turn(&self) {
        self.mark_hosted();
        self.shortcuts.busy_turns_without_io.set(IO_EVERY_BUSY_TURNS - 1);
    }

    /// Leaving the loop (after `Core::leave`, which says whether it wrote
    /// the eventfd), if a host drives it: makes the poll fd tell the host
    /// about the work the run leaves behind (see the module docs). After an
    /// embedder's turn, and after a `block_on` or `run_forever` the host's
    /// code ran.
    ///
    /// One write is enough for one hand-over: if `leave` wrote (remote work
    /// came in during the run), that is the new edge, and the wake callback
    /// has been called once already.
    #[inline(always)] // a flag read for a runtime no host drives: `block_on`'s hot path
    pub(crate) fn hand_over_to_host(&self, left_with_a_write: bool) {
        if self.extras.hosted.get() {
            self.hand_over(left_with_a_write);
        }
    }

    /// [`hand_over_to_host`](Core::hand_over_to_host)'s work, for a hosted
    /// runtime.
    #[inline(never)]
    fn hand_over(&self, left_with_a_write: bool) {
        if self.has_local_work() || self.uncollected_events() {
            if !left_with_a_write {
                self.shared.signal_host();
            }
        } else if !self.extras.clock.is_paused()
            && let Some(deadline) = self.timers.borrow().next_deadline()
        {
            self.shortcuts.timer_fd.arm_if_earlier(deadline);
        }
    }

    /// Whether the last turn may have left events in the kernel: it skipped
    /// the poll (a `block_on`'s busy turn; an embedder's never does) or
    /// filled the events buffer — and the fd says some are there. Asking the
    /// fd (one `poll(2)`, only in those two cases) keeps a one-event buffer,
    /// which the hand-over's own write fills, from writing again for ever.
    fn uncollected_events(&self) -> bool {
        let skipped_io = self.shortcuts.busy_turns_without_io.get() > 0;
        let events_full = {
            let events = self.events.borrow();
            events.iter().count() >= events.capacity()
        };
        (skipped_io || events_full) && self.reactor.is_readable()
    }

    /// A timer moved between runs (`Sleep::reset` from host code): a host
    /// that only watches the fd must be woken by the new deadline, so the
    /// timerfd is armed for it if it is earlier.
    pub(crate) fn timer_moved(&self, deadline: std::time::Instant) {
        if self.extras.hosted.get()
            && !self.extras.clock.is_paused()
            && !crate::runtime::context::is_current(&self.shared)
        {
            self.shortcuts.timer_fd.arm_if_earlier(deadline);
        }
    }

    /// Whether the poll fd is readable right now (`Runtime::next_timeout`):
    /// an event kettle has not collected — I/O, a push, a timer — or the
    /// host's nudge.
    pub(crate) fn poll_fd_is_readable(&self) -> bool {
        self.reactor.is_readable()
    }
}
