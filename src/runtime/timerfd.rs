//! Waking on time, to the microsecond: a `timerfd` beside `epoll_wait`.
//!
//! `epoll_wait` takes its timeout in whole milliseconds, and mio rounds up so
//! that a timer never fires early. A loop that only used that timeout would
//! wake up to a millisecond late for every sleep. So before blocking on a
//! timer, the loop arms a Linux `timerfd` — a file descriptor that becomes
//! readable at a given time, with nanosecond resolution — registered with
//! the same epoll, and the fd ends the wait within microseconds of the
//! deadline; epoll's millisecond timeout is the safety net when nothing is
//! armed.
//!
//! Three choices shorten the way from the firing to the sleeping task's
//! poll, each a section below: the fd is armed for the deadline itself, its
//! count is never read, and epoll gets no timer of its own behind an armed
//! fd (PERFORMANCE.md, "Round 3, second pass: timer lateness").
//!
//! # Re-arming only for an earlier deadline
//!
//! The contract the loop relies on: after [`arm_if_earlier(d)`], the fd
//! fires **no later than** `d`. Not *at* `d`: earlier is allowed.
//!
//! The invariant behind it, on `armed`: while it is `Some(t)`, the fd is
//! either armed to fire at `t`, or has fired and its event waits in epoll
//! for the loop to collect it. Only [`arm`] sets it, and only after a
//! successful `timerfd_settime`; only [`fired`], which the loop calls when
//! it collects the fd's event, clears it. (A failed `timerfd_settime`
//! leaves it `None`.)
//!
//! So asked to arm for `d`, with `t` armed:
//!
//! - **Nothing armed**: arm for `d`.
//! - **`d` earlier than `t`**: arm for `d`. Not re-arming here would be the
//!   one real mistake: the loop would sleep past `d`, until `t`.
//! - **`d` equal to or later than `t`**: nothing to do; the fd fires by
//!   `t`, which is no later than `d`. If `t` was the deadline of a timer
//!   that has since gone (a finished timeout, a request whose 30 s timer was
//!   replaced by a new one), the fd fires early: the wait ends at `t`, step 4
//!   finds nothing due, [`fired`] has cleared `armed`, and the next blocking
//!   wait arms for the deadline that is then the earliest. One spurious turn,
//!   never a late one. If `t` has already passed and its event is not yet
//!   collected (turns that skipped the I/O poll), the wait returns at once
//!   with that stale event — the same spurious turn, just sooner.
//!
//! An early timerfd can only cost an extra turn, never an early timer: step
//! 4 decides what is due by the clock, and a sleep by its own clock read
//! (`time/mod.rs`, "Never early").
//!
//! What this saves: a server that wraps every read in a timeout — hyper's
//! header-read timeout, say — replaces a 30 s timer per request, so the
//! earliest deadline moves *later* before nearly every blocking wait. Re-arming
//! on every change cost one `timerfd_settime` per `epoll_wait`; re-arming only
//! for an earlier deadline costs one per stale firing, about one per 30 s
//! (figures in PERFORMANCE.md, "Timers under request churn").
//!
//! The fd is never disarmed. When the last timer goes, a stale arming fires
//! once, later, for nothing: the same spurious turn as above (and, between
//! runs, a poll fd that an embedder sees readable once; its turn finds
//! nothing to do). Disarming would cost the syscall this file exists to save.
//!
//! # Armed for the deadline itself
//!
//! The fd is armed with an absolute time (`TFD_TIMER_ABSTIME`) on
//! `CLOCK_MONOTONIC`, the clock `Instant` reads on Linux (std's
//! documentation says so). `Instant` keeps its clock value private, so
//! [`new`](TimerFd::new) takes an epoch: an `Instant`, then the clock read
//! just after it. A deadline becomes the epoch's clock reading plus the
//! deadline's distance from the epoch's `Instant` ([`kernel_time`]). The
//! second read comes after the first, so the kernel's deadline is never
//! earlier than the `Instant`: late, if at all, by the few tens of
//! nanoseconds between the two reads, and by the same amount for every
//! deadline.
//!
//! Arming relative to now (`deadline - Instant::now()`) would need no
//! epoch, but costs a clock read per arming, and the kernel counts from
//! when the system call gets there, not from that read: every timer would
//! fire late by the time in between (about 1.5 µs on the machine of the
//! figures).
//!
//! # An expiry is never read
//!
//! A timerfd counts its expiries, and stays readable until the count is
//! read. kettle never reads it: mio registers every fd *edge-triggered*, so
//! a count left standing makes no further event. What does make one is
//! each expiry itself — the kernel wakes the fd's waiters, which queues it
//! on epoll's ready list — so a firing is never lost, read or not. And the
//! next [`arm`] (`timerfd_settime`) sets the count back to zero.
//!
//! The cases, with the count left unread:
//!
//! - **Fired, collected, re-armed**: the loop collects the event, [`fired`]
//!   clears `armed`, the next blocking wait arms again; the new expiry makes
//!   a new event.
//! - **Fired, not collected, re-armed** (for a deadline earlier than `t`,
//!   so one that has passed too): the count goes back to zero, and epoll,
//!   which asks the fd when it hands events out, drops the stale event if
//!   the new expiry has not come yet, or hands both over as one if it has.
//!   At most one turn for the two, as before.
//! - **Fired, collected, never re-armed** (the last timer went): the fd
//!   stays readable with its count, but an edge-triggered fd that has given
//!   its event is quiet, and so is the epoll fd an embedder watches: epoll
//!   reports itself readable only while an event waits on its ready list.
//!   Nothing in kettle asks the timerfd itself whether it is readable.
//!
//! Reading the count cost a system call between the wake and the sleeping
//! task's poll, on every firing.
//!
//! # No epoll timeout behind an armed fd
//!
//! Given a timeout, `epoll_wait` arms a kernel timer of its own, and a wake
//! that comes from the timerfd first has to cancel it on the way back to
//! the loop: about 2 µs of the lateness on the machine of the figures, a
//! virtual machine (where reprogramming the CPU's timer, most likely the
//! cost, goes through the hypervisor). By the invariant above, an `armed` of `Some(t)` means the fd
//! ends the wait by `t`, and right after arming for the next deadline `d`,
//! `t` is `d` or earlier. So when the wait's timeout is the time to `d`
//! (the loop's plan says so: `PollPlan::Wait`'s `for_timer`), it adds
//! nothing, and [`wait_timeout`] drops it — with no clock read, the plan
//! having made the one that measured it. It stays when nothing is armed (a
//! failed `timerfd_settime`: the millisecond safety net), and when a
//! caller's `max_wait` is shorter (an embedder's `turn(Some(…))`): that
//! wait's end is the caller's, and the fd may or may not come first.
//!
//! Direct system calls are kept to this file, `signal/handler.rs`,
//! `net/sys.rs` and one `fcntl` in `io/async_fd.rs`; here every `unsafe`
//! block is a libc call on a descriptor this type owns, or a clock read.
//!
//! [`arm_if_earlier(d)`]: TimerFd::arm_if_earlier
//! [`arm`]: TimerFd::arm
//! [`fired`]: TimerFd::fired
//! [`kernel_time`]: TimerFd::kernel_time
//! [`wait_timeout`]: TimerFd::wait_timeout

use std::cell::Cell;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use mio::unix::SourceFd;

/// A `CLOCK_MONOTONIC` timerfd registered with the loop's epoll.
pub(crate) struct TimerFd {
    fd: OwnedFd,
    /// The deadline the fd is armed for, if any (the invariant is in the
    /// module docs).
    armed: Cell<Option<Instant>>,
    /// An `Instant`, and `CLOCK_MONOTONIC` read just after it: how
    /// [`kernel_time`] turns a deadline into the kernel's clock.
    ///
    /// [`kernel_time`]: TimerFd::kernel_time
    epoch: (Instant, Duration),
}

impl TimerFd {
    pub(crate) fn new(registry: &mio::Registry, token: mio::Token) -> io::Result<TimerFd> {
        // SAFETY: plain system call; the result is checked before use.
        let raw =
            unsafe { libc::timerfd_create(libc::CLOCK_MONOTONIC, libc::TFD_NONBLOCK | libc::TFD_CLOEXEC) };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        registry.register(&mut SourceFd(&fd.as_raw_fd()), token, mio::Interest::READABLE)?;
        let at = Instant::now();
        let epoch = (at, monotonic_now()?);
        Ok(TimerFd { fd, armed: Cell::new(None), epoch })
    }

    /// Makes the fd readable no later than `deadline`, re-arming only if it
    /// is not armed already for `deadline` or earlier (see "Re-arming only
    /// for an earlier deadline" above).
    ///
    /// The simple version would re-arm before every blocking wait (or every
    /// time the earliest deadline changes).
    pub(crate) fn arm_if_earlier(&self, deadline: Instant) {
        if needs_rearm(self.armed.get(), deadline) {
            self.arm(deadline);
        }
    }

    /// Makes the fd readable at `deadline` (at once if it has passed): one
    /// `timerfd_settime` for that absolute time, which also discards an
    /// expiry not yet read. No clock read (see "Armed for the deadline
    /// itself").
    ///
    /// The simple version would arm relative to now, `deadline -
    /// Instant::now()`: a clock read, and a timer that starts counting only
    /// once the system call has begun, late by the time in between.
    fn arm(&self, deadline: Instant) {
        let spec = libc::itimerspec {
            it_interval: libc::timespec { tv_sec: 0, tv_nsec: 0 },
            it_value: self.kernel_time(deadline),
        };
        let fd = self.fd.as_raw_fd();
        // Failure (impossible for valid arguments) only costs precision: the
        // epoll timeout, kept when nothing is armed, still ends the wait.
        // SAFETY: `fd` is our timerfd; `spec` is a valid itimerspec; no old
        // value is requested.
        let result =
            unsafe { libc::timerfd_settime(fd, libc::TFD_TIMER_ABSTIME, &spec, std::ptr::null_mut()) };
        self.armed.set((result == 0).then_some(deadline));
    }

    /// `deadline` on the kernel's `CLOCK_MONOTONIC`, never before it: the
    /// epoch's clock reading plus the deadline's distance from the epoch's
    /// `Instant`. A deadline before the epoch becomes the epoch, which has
    /// passed: the fd fires at once.
    fn kernel_time(&self, deadline: Instant) -> libc::timespec {
        let (at, clock) = self.epoch;
        let time = clock.checked_add(deadline.saturating_duration_since(at));
        let (secs, nanos) = time.map_or((libc::time_t::MAX, 0), |time| {
            (libc::time_t::try_from(time.as_secs()).unwrap_or(libc::time_t::MAX), time.subsec_nanos())
        });
        // An all-zero value would disarm the timer (and cannot be a reading
        // taken after boot): one nanosecond instead.
        let nanos = if secs == 0 && nanos == 0 { 1 } else { nanos };
        libc::timespec { tv_sec: secs, tv_nsec: libc::c_long::from(nanos as i32) }
    }

    /// The timeout to give an `epoll_wait` that would otherwise end after
    /// `timeout`, right after [`arm_if_earlier`](Self::arm_if_earlier) for
    /// the next deadline: none at all if `timeout` runs to that deadline
    /// (`for_timer`) and the fd is armed, since the fd, armed for it or
    /// earlier, ends the wait itself; `timeout` otherwise (nothing armed,
    /// or a caller's shorter `max_wait`). No clock read: the caller's
    /// plan already knows whose timeout it is.
    ///
    /// The simple version would pass `timeout` always: epoll then arms a
    /// kernel timer of its own, which the wake that the timerfd brings must
    /// cancel, on the way from the firing to the sleeping task
    /// (PERFORMANCE.md, "Round 3, second pass: timer lateness").
    pub(crate) fn wait_timeout(&self, timeout: Option<Duration>, for_timer: bool) -> Option<Duration> {
        if for_timer && self.armed.get().is_some() { None } else { timeout }
    }

    /// The fd's event was collected: it is no longer armed. Its expiry count
    /// is left unread (see "An expiry is never read").
    ///
    /// The simple version would `read` the count, a system call between the
    /// wake and the task it wakes.
    pub(crate) fn fired(&self) {
        self.armed.set(None);
    }
}

/// `CLOCK_MONOTONIC` now, as a `Duration` since the clock's zero.
fn monotonic_now() -> io::Result<Duration> {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `now` is a valid, writable timespec.
    if unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let secs = u64::try_from(now.tv_sec).unwrap_or(0);
    Ok(Duration::new(secs, u32::try_from(now.tv_nsec).unwrap_or(0)))
}

/// Whether the fd, armed for `armed`, must be re-armed to be readable by
/// `deadline`: only if nothing is armed or `deadline` is earlier.
fn needs_rearm(armed: Option<Instant>, deadline: Instant) -> bool {
    armed.is_none_or(|armed| deadline < armed)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const TOKEN: mio::Token = mio::Token(7);

    fn timer_fd() -> (mio::Poll, TimerFd) {
        let poll = mio::Poll::new().unwrap();
        let fd = TimerFd::new(poll.registry(), TOKEN).unwrap();
        (poll, fd)
    }

    /// How long until the fd fires, as the kernel has it (zero: disarmed).
    fn kernel_time_left(fd: &TimerFd) -> Duration {
        let mut spec = libc::itimerspec {
            it_interval: libc::timespec { tv_sec: 0, tv_nsec: 0 },
            it_value: libc::timespec { tv_sec: 0, tv_nsec: 0 },
        };
        // SAFETY: `fd` is a timerfd; `spec` is a valid, writable itimerspec.
        let result = unsafe { libc::timerfd_gettime(fd.fd.as_raw_fd(), &mut spec) };
        assert_eq!(result, 0, "timerfd_gettime: {}", io::Error::last_os_error());
        Duration::new(spec.it_value.tv_sec as u64, spec.it_value.tv_nsec as u32)
    }

    /// Blocks until the fd fires (or `limit` passes); whether it did.
    fn wait_for_firing(poll: &mut mio::Poll, limit: Duration) -> bool {
        let mut events = mio::Events::with_capacity(4);
        poll.poll(&mut events, Some(limit)).unwrap();
        events.iter().any(|event| event.token() == TOKEN)
    }

    #[test]
    fn the_decision_re_arms_only_when_nothing_is_armed_or_the_deadline_is_earlier() {
        let t = Instant::now() + Duration::from_secs(30);
        let second = Duration::from_secs(1);
        assert!(needs_rearm(None, t), "nothing armed");
        assert!(needs_rearm(Some(t), t - second), "an earlier deadline");
        assert!(!needs_rearm(Some(t), t), "the same deadline");
        assert!(!needs_rearm(Some(t), t + second), "a later deadline: the fd fires early, harmlessly");
    }

    #[test]
    fn a_later_deadline_leaves_the_kernel_timer_alone() {
        let (_poll, fd) = timer_fd();
        let now = Instant::now();
        fd.arm_if_earlier(now + Duration::from_secs(10));
        fd.arm_if_earlier(now + Duration::from_secs(20));
        fd.arm_if_earlier(now + Duration::from_secs(30));
        let left = kernel_time_left(&fd);
        assert!(left > Duration::ZERO && left <= Duration::from_secs(10), "re-armed for later: {left:?}");
        assert_eq!(fd.armed.get(), Some(now + Duration::from_secs(10)));
    }

    #[test]
    fn an_earlier_deadline_re_arms_the_kernel_timer() {
        let (_poll, fd) = timer_fd();
        let now = Instant::now();
        fd.arm_if_earlier(now + Duration::from_secs(30));
        fd.arm_if_earlier(now + Duration::from_secs(2));
        let left = kernel_time_left(&fd);
        assert!(left > Duration::ZERO && left <= Duration::from_secs(2), "not re-armed: {left:?}");
        assert_eq!(fd.armed.get(), Some(now + Duration::from_secs(2)));
    }

    #[test]
    fn the_fd_fires_no_earlier_than_its_deadline() {
        let (mut poll, fd) = timer_fd();
        let deadline = Instant::now() + Duration::from_millis(5);
        fd.arm_if_earlier(deadline);
        assert!(wait_for_firing(&mut poll, Duration::from_secs(2)), "the timerfd fired");
        assert!(Instant::now() >= deadline, "never early");
        fd.fired();
        assert_eq!(fd.armed.get(), None, "a firing forgets the armed deadline");
    }

    #[test]
    fn a_stale_early_firing_is_consumed_and_the_next_arming_is_exact() {
        // Armed for a timer that went away; the next earliest is later.
        let (mut poll, fd) = timer_fd();
        let stale = Instant::now() + Duration::from_millis(2);
        fd.arm_if_earlier(stale);
        let real = Instant::now() + Duration::from_secs(20);
        fd.arm_if_earlier(real);
        assert_eq!(fd.armed.get(), Some(stale), "the later deadline made no syscall");
        // The early firing: one spurious wake, after which the fd is quiet.
        assert!(wait_for_firing(&mut poll, Duration::from_secs(2)));
        fd.fired();
        assert!(!wait_for_firing(&mut poll, Duration::ZERO), "the event was collected: no second wake");
        // The next wait arms for the real deadline.
        fd.arm_if_earlier(real);
        let left = kernel_time_left(&fd);
        assert!(left > Duration::from_secs(19) && left <= Duration::from_secs(20), "{left:?}");
    }

    #[test]
    fn a_fired_but_uncollected_expiry_ends_the_next_wait_at_once() {
        // Turns that skip the I/O poll leave an expiry's event in epoll;
        // `armed` still names it, so a later deadline does not re-arm, and
        // the wait that follows returns at once with the stale event.
        let (mut poll, fd) = timer_fd();
        fd.arm_if_earlier(Instant::now() + Duration::from_millis(1));
        std::thread::sleep(Duration::from_millis(5));
        fd.arm_if_earlier(Instant::now() + Duration::from_secs(20));
        let start = Instant::now();
        assert!(wait_for_firing(&mut poll, Duration::from_secs(2)));
        assert!(start.elapsed() < Duration::from_secs(1), "a spurious turn, not a wait");
        fd.fired();
        assert_eq!(fd.armed.get(), None);
    }

    /// Whether `poll(2)` finds `poll`'s epoll fd readable right now: what a
    /// level-triggered embedder watching kettle's poll fd sees.
    fn epoll_fd_is_readable(poll: &mio::Poll) -> bool {
        let mut pollfd = libc::pollfd { fd: poll.as_raw_fd(), events: libc::POLLIN, revents: 0 };
        // SAFETY: one valid pollfd on the stack.
        unsafe { libc::poll(&mut pollfd, 1, 0) == 1 }
    }

    /// Whether the timerfd itself is readable right now (its count unread).
    fn timer_fd_is_readable(fd: &TimerFd) -> bool {
        let mut pollfd = libc::pollfd { fd: fd.fd.as_raw_fd(), events: libc::POLLIN, revents: 0 };
        // SAFETY: one valid pollfd on the stack.
        unsafe { libc::poll(&mut pollfd, 1, 0) == 1 }
    }

    #[test]
    fn a_firing_is_never_lost_though_no_expiry_is_ever_read() {
        let (mut poll, fd) = timer_fd();
        for round in 0..5 {
            let deadline = Instant::now() + Duration::from_micros(300);
            fd.arm_if_earlier(deadline);
            assert_eq!(fd.armed.get(), Some(deadline), "round {round}: collected, so armed again");
            assert!(wait_for_firing(&mut poll, Duration::from_secs(2)), "round {round}: the fd fired");
            assert!(Instant::now() >= deadline, "round {round}: never early");
            fd.fired();
            assert!(timer_fd_is_readable(&fd), "round {round}: the count is left unread");
            assert!(!wait_for_firing(&mut poll, Duration::ZERO), "round {round}: no second event");
        }
    }

    #[test]
    fn a_stale_event_that_a_re_arming_overtakes_costs_at_most_one_spurious_wake() {
        // Fired, not collected, then re-armed: the reset count makes epoll
        // drop the stale event, or at worst hand it over once.
        let (mut poll, fd) = timer_fd();
        fd.arm_if_earlier(Instant::now() + Duration::from_micros(100));
        std::thread::sleep(Duration::from_millis(5)); // it fires meanwhile; nobody collects it
        let real = Instant::now() + Duration::from_secs(20);
        fd.arm(real);
        assert!(!timer_fd_is_readable(&fd), "re-arming reset the count");
        let spurious = usize::from(wait_for_firing(&mut poll, Duration::ZERO));
        let again = usize::from(wait_for_firing(&mut poll, Duration::ZERO));
        assert!(spurious + again <= 1, "at most one spurious wake: {spurious} + {again}");
        assert_eq!(again, 0, "then quiet");
        let left = kernel_time_left(&fd);
        assert!(left > Duration::from_secs(19) && left <= Duration::from_secs(20), "still armed: {left:?}");
    }

    #[test]
    fn an_earlier_deadline_after_an_uncollected_firing_makes_one_event_for_both() {
        // The essay's case: fired, not collected, and re-armed for a deadline
        // earlier still (so past too): it fires at once, and epoll hands the
        // stale event and the new one over as one.
        let (mut poll, fd) = timer_fd();
        let stale = Instant::now() + Duration::from_millis(1);
        fd.arm_if_earlier(stale);
        std::thread::sleep(Duration::from_millis(5)); // fired; nobody collects it
        let earlier = stale - Duration::from_micros(500);
        fd.arm_if_earlier(earlier);
        assert_eq!(fd.armed.get(), Some(earlier), "an earlier deadline re-arms");
        let mut events = mio::Events::with_capacity(4);
        poll.poll(&mut events, Some(Duration::from_secs(2))).unwrap();
        assert_eq!(events.iter().filter(|event| event.token() == TOKEN).count(), 1, "one event for both");
        fd.fired();
        assert!(!wait_for_firing(&mut poll, Duration::ZERO), "then quiet");
    }

    #[test]
    fn an_embedders_poll_fd_goes_quiet_once_the_event_is_collected() {
        let (mut poll, fd) = timer_fd();
        fd.arm_if_earlier(Instant::now() + Duration::from_millis(1));
        std::thread::sleep(Duration::from_millis(5));
        assert!(epoll_fd_is_readable(&poll), "the firing makes the poll fd readable");
        assert!(wait_for_firing(&mut poll, Duration::ZERO));
        fd.fired();
        // No timer left to arm: the count stays unread, for good.
        assert!(timer_fd_is_readable(&fd));
        assert!(!epoll_fd_is_readable(&poll), "collected: the poll fd is quiet again");
        // And the next arming gives it a new edge.
        fd.arm_if_earlier(Instant::now() + Duration::from_millis(1));
        assert!(wait_for_firing(&mut poll, Duration::from_secs(2)), "fired again");
    }

    #[test]
    fn the_kernel_deadline_is_the_instant_itself_never_earlier() {
        let (_poll, fd) = timer_fd();
        let as_time = |ts: libc::timespec| Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32);
        for _ in 0..100 {
            let before = monotonic_now().unwrap();
            let now = Instant::now();
            let after = monotonic_now().unwrap();
            let kernel = as_time(fd.kernel_time(now));
            assert!(kernel >= before, "never earlier than the instant: {kernel:?} < {before:?}");
            assert!(kernel <= after + Duration::from_millis(1), "and not noticeably later: {kernel:?}");
        }
        // A deadline before the epoch has passed: the epoch's own reading.
        assert_eq!(as_time(fd.kernel_time(fd.epoch.0 - Duration::from_secs(1))), fd.epoch.1);
        // A deadline too far to represent saturates instead of wrapping.
        assert_eq!(fd.kernel_time(crate::time::never()).tv_sec, libc::time_t::MAX);
    }

    #[test]
    fn a_deadline_already_passed_fires_at_once() {
        let (mut poll, fd) = timer_fd();
        let past = Instant::now() - Duration::from_millis(1);
        fd.arm_if_earlier(past);
        assert_eq!(fd.armed.get(), Some(past));
        assert!(wait_for_firing(&mut poll, Duration::from_secs(1)), "fired at once");
    }

    #[test]
    fn the_fd_fires_no_earlier_than_sub_millisecond_deadlines_with_no_epoll_timeout() {
        let (mut poll, fd) = timer_fd();
        for micros in [50, 200, 700] {
            let deadline = Instant::now() + Duration::from_micros(micros);
            fd.arm_if_earlier(deadline);
            assert_eq!(fd.wait_timeout(Some(Duration::from_secs(1)), true), None, "the fd ends the wait");
            let mut events = mio::Events::with_capacity(4);
            poll.poll(&mut events, None).unwrap();
            assert!(events.iter().any(|event| event.token() == TOKEN));
            assert!(Instant::now() >= deadline, "{micros} µs: never early");
            fd.fired();
        }
    }

    #[test]
    fn an_armed_fd_replaces_the_timeout_of_a_wait_for_its_timer_and_never_a_shorter_max_wait() {
        let (_poll, fd) = timer_fd();
        let second = Duration::from_secs(1);
        assert_eq!(fd.wait_timeout(Some(second), true), Some(second), "nothing armed: the safety net stays");
        assert_eq!(fd.wait_timeout(None, false), None);
        fd.arm_if_earlier(Instant::now() + Duration::from_millis(10));
        assert_eq!(fd.wait_timeout(Some(second), true), None, "the wait is the timer's: the fd ends it");
        let max_wait = Duration::from_micros(10);
        assert_eq!(
            fd.wait_timeout(Some(max_wait), false),
            Some(max_wait),
            "a caller's shorter max_wait stays"
        );
        assert_eq!(fd.wait_timeout(None, false), None);
        fd.fired();
        assert_eq!(fd.wait_timeout(Some(second), true), Some(second), "collected: nothing armed");
    }
}
