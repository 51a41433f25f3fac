//! Ticking at a steady rate: [`interval`].
//!
//! An `Interval` is a [`Sleep`] that is reset to the next tick each time it
//! completes. Ticks stay on the grid `start + k × period` while the consumer
//! keeps up; when it falls more than a period behind, the missed ticks are
//! skipped and the grid restarts one period after the late tick, so a slow
//! consumer never receives a burst of catch-up ticks.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::add_or_never;
use super::sleep::{Sleep, sleep_until};

/// A stream of ticks `period` apart, the first one at once.
///
/// `while` over [`tick`](Interval::tick) is the async-for:
///
/// ```
/// use std::time::Duration;
/// kettle::run(async {
///     let mut ticks = kettle::interval(Duration::from_millis(2));
///     for _ in 0..3 {
///         ticks.tick().await;
///     }
/// });
/// ```
///
/// Missed ticks are skipped, not burst: if a tick is taken more than a whole
/// period late, the next one comes one period after it, rather than
/// immediately making up for lost ones.
///
/// Like [`sleep`](crate::sleep), it may be built anywhere and binds to the
/// runtime that first polls it.
///
/// With the `futures-core` cargo feature, [`Interval`] is also a
/// `futures_core::Stream` of the same ticks (item: their scheduled
/// `Instant`), which never ends.
///
/// # Panics
/// If `period` is zero; when a tick is awaited outside a runtime.
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    interval_at(super::now(), period)
}

/// Like [`interval`], with the first tick at `start`.
///
/// # Panics
/// If `period` is zero; when a tick is awaited outside a runtime.
#[track_caller]
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(!period.is_zero(), "kettle::interval: the period must be non-zero");
    Interval { period, sleep: sleep_until(start) }
}

/// The ticker returned by [`interval`]. `Send` and `Unpin`.
#[derive(Debug)]
pub struct Interval {
    period: Duration,
    /// Sleeps until the next tick.
    sleep: Sleep,
}

impl Interval {
    /// Waits for the next tick and returns its scheduled time.
    pub fn tick(&mut self) -> Tick<'_> {
        Tick { interval: self }
    }

    /// Polls for the next tick, for hand-written futures and streams: the
    /// tick's scheduled time once it is due, else `Pending` with `cx`'s
    /// waker registered. [`tick`](Interval::tick) is this in a future, and
    /// so is the `Stream` impl of the `futures-core` feature.
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use std::time::Duration;
    ///
    /// kettle::run(async {
    ///     let mut ticks = kettle::interval(Duration::from_millis(2));
    ///     let first = poll_fn(|cx| ticks.poll_tick(cx)).await;
    ///     let second = poll_fn(|cx| ticks.poll_tick(cx)).await;
    ///     assert!(second - first >= Duration::from_millis(2)); // a period apart, or more if late
    /// });
    /// ```
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        if Pin::new(&mut self.sleep).poll(cx).is_pending() {
            return Poll::Pending;
        }
        let tick = self.sleep.deadline();
        let now = super::now();
        let mut next = add_or_never(tick, self.period);
        if next <= now {
            next = add_or_never(now, self.period);
        }
        self.sleep.reset(next);
        Poll::Ready(tick)
    }

    /// The time between ticks.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// Restarts the ticks: the next one comes one period from now.
    pub fn reset(&mut self) {
        self.sleep.reset(add_or_never(super::now(), self.period));
    }
}

/// The future returned by [`Interval::tick`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Tick<'a> {
    interval: &'a mut Interval,
}

impl Future for Tick<'_> {
    type Output = Instant;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Instant> {
        self.interval.poll_tick(cx)
    }
}
