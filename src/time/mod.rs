//! Time: sleeping, deadlines, intervals, and callbacks at a time.
//!
//! # How a timer works
//!
//! Every timer — a [`Sleep`] (and so a [`Timeout`] or an [`Interval`]), or a
//! callback from [`call_later`]/[`call_at`] — is one entry in the runtime's
//! timer queue (`queue.rs`), an indexed binary heap ordered by deadline, then
//! by insertion order. The queue is a plain data structure, generic over what
//! it holds; the runtime's holds an `Action` per timer — a waker to wake or
//! a callback to queue, defined beside the loop in `runtime/core/requests.rs`
//! — and the loop (`runtime/core.rs`) carries it out. Each turn the loop blocks in
//! `epoll_wait` no longer than until the earliest deadline, then fires every
//! timer that is due: sleeps wake their task, callbacks join the callback
//! queue.
//!
//! A `Sleep` registers itself lazily, on its first `Pending` poll, and
//! removes its entry as soon as it completes or is dropped, so a finished or
//! cancelled timeout frees its timer at once.
//!
//! # Never early
//!
//! A sleep completes only when `now() >= deadline` — checked by the
//! sleep itself, or by the loop's timer step, which pops a timer only when
//! its own clock read has passed the deadline (a sleep whose timer that step
//! popped needs no second read: `Sleep::fired_here`). The loop's blocking
//! wait ends at the deadline by way of a `timerfd` armed for the deadline
//! itself (`runtime/timerfd.rs`); mio's millisecond timeout, rounded *up*,
//! is the safety net only when no timerfd is armed (a failed arming) or a
//! caller's shorter wait ends the poll first. So kettle's sleeps end
//! microseconds to tens of microseconds after their deadline (plus
//! scheduling noise on a busy machine), never before it.
//!
//! # Whose clock
//!
//! Every timer reads the time through [`now`], which is `Instant::now()`
//! unless the runtime was built with
//! [`start_paused`](crate::Builder::start_paused): then it is the runtime's
//! paused clock, which stands still while anything can run and jumps to the
//! next deadline when nothing can (`runtime/clock.rs`), and [`advance`]
//! moves it by hand. That is how a test sleeps an hour in no time.
//!
//! # Every deadline exactly, or never
//!
//! A deadline is kept exactly, however far in the past or the future:
//! the timer queue orders deadlines within 292 years of the runtime's start
//! by their nanoseconds, and those beyond by their exact `Instant`s
//! (`queue.rs`, "Every deadline, exactly"), so one from before the runtime
//! existed still fires in its order among the other past ones, and one 600
//! years ahead — a duration added to now, or an instant given to
//! [`sleep_until`], [`call_at`], [`timeout_at`] or [`interval_at`] — is
//! neither early nor, under a paused clock, a jump to a moment that is not
//! yet due.
//!
//! A duration too large to add to now — `Duration::MAX`, the usual way to
//! say "forever" — gives the deadline *never*: the last instant `Instant`
//! can hold, billions of years on. No clock reaches it (a paused clock's
//! [`advance`] stops short of it), and the loop treats a timer due then as
//! no timer at all: it does not wait for one, nor does a paused clock jump
//! to one. So `sleep(Duration::MAX)` sleeps for ever, even on a paused
//! clock, and a `timeout(Duration::MAX, f)` is `f` alone. Nothing
//! overflows, and nothing but that one comparison needs a special case.
//!
//! # Where a timer lives
//!
//! A `Sleep` (and so a `Timeout` or `Interval`) can be built anywhere: it
//! binds to the runtime that polls it first, and a timer entry belongs to
//! that runtime. A sleep has at most one entry, wherever it goes: polled by
//! another runtime, it removes the old entry before inserting a new one;
//! dropped on a thread other than its runtime's, it sends the removal to
//! that runtime's loop, which carries it out on its next turn.
//!
//! [`now`]: fn@now

mod call;
mod interval;
mod now;
pub(crate) mod queue;
mod sleep;
mod timeout;

pub use call::{TimerHandle, call_at, call_later, call_soon};
pub use interval::{Interval, Tick, interval, interval_at};
pub use now::{advance, now};
pub use sleep::{Sleep, sleep, sleep_until};
pub use timeout::{Elapsed, Timeout, timeout, timeout_at};

use std::time::{Duration, Instant};

pub(crate) use queue::never;

/// `now() + delay`, or [`never`](fn@never) if that is past what `Instant`
/// can hold.
pub(crate) fn deadline_after(delay: Duration) -> Instant {
    add_or_never(now(), delay)
}

/// `at + delay`, or [`never`](fn@never) if that is past what `Instant` can
/// hold.
pub(crate) fn add_or_never(at: Instant, delay: Duration) -> Instant {
    at.checked_add(delay).unwrap_or_else(never)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_is_the_last_instant_there_is_and_what_every_overflowing_deadline_becomes() {
        let last = never();
        assert!(last.checked_add(Duration::from_nanos(1)).is_none(), "nothing comes after it");
        assert!(last > Instant::now() + Duration::from_secs(1_000 * 365 * 24 * 3600));
        assert_eq!(add_or_never(Instant::now(), Duration::MAX), last);
        assert_eq!(add_or_never(last, Duration::from_nanos(1)), last);
        assert_eq!(deadline_after(Duration::MAX), last);
        let far = Duration::from_secs(600 * 365 * 24 * 3600);
        let exact = add_or_never(Instant::now(), far);
        assert!(exact < last, "600 years is a deadline like any other, kept exactly");
    }

    #[test]
    fn actions_and_sleeps_keep_their_footprint() {
        // With the queue's 16 bytes of bookkeeping, a 40-byte entry per
        // timer, beside its 16-byte slot in the heap (`queue.rs`, "Size").
        assert_eq!(size_of::<crate::runtime::core::Action>(), 24, "a waker or a callback, and which");
        assert_eq!(size_of::<Sleep>(), 32, "a deadline and an optional key");
    }
}
