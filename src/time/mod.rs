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
//! sleep itself, not assumed from the timer having fired. The loop's blocking
//! wait ends at the deadline by way of a `timerfd` (`runtime/timerfd.rs`),
//! with mio's millisecond timeout, rounded *up*, as a safety net. So kettle's
//! sleeps end tens of microseconds after their deadline (plus scheduling
//! noise on a busy machine), never before it.
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
//! # Forever
//!
//! `Duration::MAX` (or any deadline past what `Instant` can represent) means
//! "never": such deadlines are clamped to about thirty years from now, which
//! needs no special case anywhere and cannot overflow.
//!
//! # Where a timer lives
//!
//! A `Sleep` (and so a `Timeout` or `Interval`) can be built anywhere: it
//! binds to the runtime that polls it first, and a timer entry belongs to
//! that runtime. A sleep has at most one entry, wherever it goes: polled by
//! another runtime, it removes the old entry before inserting a new one;
//! dropped on a thread other than its runtime's, it sends the removal to
//! that runtime's loop, which carries it out on its next turn.

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

/// How far away "forever" is: far enough never to come, near enough that
/// `Instant` arithmetic on it cannot overflow.
const FOREVER: Duration = Duration::from_secs(60 * 60 * 24 * 365 * 30);

/// `now + delay`, or about thirty years from now if that cannot be represented.
pub(crate) fn deadline_after(delay: Duration) -> Instant {
    let now = now();
    now.checked_add(delay.min(FOREVER)).unwrap_or_else(|| far_future(now))
}

/// `at + delay` without overflow (clamped like [`deadline_after`]).
pub(crate) fn add_clamped(at: Instant, delay: Duration) -> Instant {
    at.checked_add(delay.min(FOREVER)).unwrap_or_else(|| far_future(at))
}

fn far_future(from: Instant) -> Instant {
    from.checked_add(FOREVER).unwrap_or(from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_and_sleeps_keep_their_footprint() {
        // With the queue's 16 bytes of bookkeeping, a 40-byte entry per timer
        // (`queue.rs`, "Size").
        assert_eq!(size_of::<crate::runtime::core::Action>(), 24, "a waker or a callback, and which");
        assert_eq!(size_of::<Sleep>(), 32, "a deadline and an optional key");
    }
}
