//! What the loop's named shortcuts remember between turns, behind one
//! field of `Core`. Each shortcut is a function of `core.rs` (or
//! `requests.rs`) whose doc comment gives its simple version; DESIGN's
//! optimisation table lists them all, and `kettle-mini` runs the simple
//! versions.

use std::cell::{Cell, RefCell};
use std::task::Waker;

use crate::contain;
use crate::runtime::shared::Remote;
use crate::runtime::timerfd::TimerFd;

/// What the named shortcuts remember between turns. Each field names the
/// function that owns it; DESIGN's optimisation table gives the simple
/// version, which `kettle-mini` runs.
pub(super) struct Shortcuts {
    /// Ends a blocked poll at the next timer's deadline, to the microsecond
    /// (`timerfd.rs`; simple version: `epoll_wait`'s millisecond timeout).
    pub(super) timer_fd: TimerFd,
    /// The loop has marked itself idle in the injector ([`Core::announce_idle`](super::Core::announce_idle)
    /// or [`Core::leave`](super::Core::leave)), and since then has neither marked itself busy
    /// (step 3) nor consumed an eventfd event. Invariant: while it is set,
    /// the injector's `idle` is set or an eventfd event is pending — so a
    /// wait may start without the handshake, and leaving needs no lock.
    pub(super) idle_announced: Cell<bool>,
    /// Busy turns in a row that skipped polling for I/O
    /// ([`Core::plan_poll`](super::Core::plan_poll)).
    pub(super) busy_turns_without_io: Cell<u32>,
    /// The task-poll count at the last I/O poll ([`Core::plan_poll`](super::Core::plan_poll)).
    pub(super) polls_at_last_io: Cell<u64>,
    /// Wakers released by this turn's events; kept to reuse its capacity.
    pub(super) io_wakers: RefCell<Vec<Waker>>,
    /// The injector's contents during step 3; kept to reuse its capacity.
    pub(super) injected: RefCell<Vec<Remote>>,
    /// Task ids reserved for local spawns, `next..end`
    /// ([`Core::next_task_id`](super::Core::next_task_id)).
    pub(super) task_ids: Cell<(u64, u64)>,
}

/// Wakes the wakers step 2's events released, in event order, and leaves
/// `wake` empty with its buffer kept. The simple version,
/// `for waker in wake.drain(..)`, pays for a `Drain` (its drop moves the
/// vector's tail and sets its length back, about twenty instructions) on
/// every turn with events, which usually release one waker or none.
#[inline(always)]
pub(super) fn fire_io_wakers(wake: &mut Vec<Waker>) {
    // A waker is user code (a foreign executor's, around kettle futures).
    match wake.len() {
        0 => {}
        1 => {
            let waker = wake.pop().expect("one waker");
            contain::call(|| waker.wake());
        }
        _ => {
            for waker in wake.drain(..) {
                contain::call(|| waker.wake());
            }
        }
    }
}

/// Whether the only event of a poll is the timerfd's: a sleep's deadline,
/// with no readiness to record and no waker to fire, so step 2 is done once
/// the fd is marked fired. The simple version sends it through the loop over
/// the events, with the wakers' vector taken, drained empty and put back.
#[inline(always)]
pub(super) fn woken_by_the_timer_alone(events: &mio::Events) -> bool {
    let mut events = events.iter();
    matches!((events.next(), events.next()), (Some(event), None) if event.token() == super::TIMER_TOKEN)
}

impl Shortcuts {
    pub(super) fn new(timer_fd: TimerFd) -> Shortcuts {
        Shortcuts {
            timer_fd,
            idle_announced: Cell::new(true), // `Shared` starts idle
            busy_turns_without_io: Cell::new(0),
            polls_at_last_io: Cell::new(0),
            io_wakers: RefCell::new(Vec::new()),
            injected: RefCell::new(Vec::new()),
            task_ids: Cell::new((0, 0)),
        }
    }
}
