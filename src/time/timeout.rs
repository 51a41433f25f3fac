//! Bounding how long a future may take: [`timeout`].
//!
//! A `Timeout` is the inner future plus a [`Sleep`] (made at the first
//! `Pending`, below). Each poll tries the inner future first (so a future
//! that is ready in time always wins, even when the deadline has also
//! passed), then the sleep. Whichever finishes first ends the other at once:
//! a finished future removes the timer, an expired timer drops the future in
//! place — its destructors are asyncio's `CancelledError` cleanup.
//!
//! # The clock starts at the first `Pending`
//!
//! The commonest timeout is around a future that is ready at once — a read
//! that finds data waiting, a lock that is free — and for it the time limit
//! never matters. So `timeout(duration, future)` stores the duration and
//! reads the clock only when the future first returns `Pending`: that poll
//! computes the deadline and makes the sleep, which registers its timer as
//! any sleep does. A future ready at its first poll costs no clock read, no
//! `Sleep` and no timer. (`timeout_at` has its deadline already, and needs
//! no clock read until the sleep is polled either.) The simple version
//! would read the clock and make the sleep at construction (as `sleep`
//! does), so the time allowed would count from the call.
//!
//! This is also the semantics asyncio users expect: `wait_for`'s time limit
//! counts from when it is awaited, and a timeout built early and awaited
//! later still allows its whole duration. The moment is the end of the first
//! poll of the inner future rather than its start; a future that blocks the
//! thread in a poll gets that time on top, as it would in any poll — a
//! timeout is only checked between polls. It is never early: the sleep still
//! ends only when its own clock read says the deadline has passed.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use pin_project_lite::pin_project;

use super::sleep::{Sleep, sleep_until};

/// Runs `future`, giving up after `duration` (asyncio's `wait_for`).
///
/// Resolves to `Ok(output)` if the future finishes in time — its timer is then
/// removed at once — or to `Err(Elapsed)` when the time is up, in which case
/// the future is dropped right there (its destructors are its cleanup).
///
/// **Unlike asyncio's `wait_for(task)`, a timeout around a
/// [`JoinHandle`](crate::JoinHandle) does not cancel the task**: dropping a
/// join handle only detaches it, so on expiry the waiting stops and the task
/// runs on. To cancel it, time out on `&mut handle` and call
/// [`cancel`](crate::JoinHandle::cancel) on `Err(Elapsed)`:
///
/// ```
/// use std::time::Duration;
/// kettle::run(async {
///     let mut task = kettle::spawn(kettle::sleep(Duration::from_secs(10)));
///     if kettle::timeout(Duration::from_millis(5), &mut task).await.is_err() {
///         task.cancel();
///     }
///     assert!(task.await.unwrap_err().is_cancelled());
/// });
/// ```
///
/// **The time allowed counts from the first await**, not from this call, as
/// with asyncio's `wait_for`: precisely, from the first poll at which
/// `future` is still pending. (A [`sleep`](crate::sleep())'s deadline, by
/// contrast, counts from its call.) A future that is ready at its first poll
/// costs no clock read and no timer:
///
/// ```
/// use std::time::Duration;
/// kettle::run(async {
///     let work = async {
///         kettle::sleep(Duration::from_millis(20)).await;
///         "done"
///     };
///     let limited = kettle::timeout(Duration::from_millis(50), work);
///     kettle::sleep(Duration::from_millis(40)).await; // not yet counting
///     // The 50 ms count from here: the work's 20 ms fit.
///     assert_eq!(limited.await, Ok("done"));
/// });
/// ```
///
/// Like [`sleep`](crate::sleep()), it may be built anywhere and binds to the
/// runtime that first polls it.
///
/// # Panics
/// When polled outside a runtime before it is decided (the inner future
/// is polled first, so one that is ready at once needs no runtime).
///
/// ```
/// use std::time::Duration;
/// kettle::run(async {
///     let slow = kettle::sleep(Duration::from_secs(10));
///     assert!(kettle::timeout(Duration::from_millis(5), slow).await.is_err());
///     assert_eq!(kettle::timeout(Duration::from_secs(10), async { 7 }).await, Ok(7));
/// });
/// ```
#[doc(alias = "wait_for")]
pub fn timeout<F: IntoFuture>(duration: Duration, future: F) -> Timeout<F::IntoFuture> {
    Timeout { future: Some(future.into_future()), clock: Clock::NotStarted(duration) }
}

/// Like [`timeout`], with an absolute deadline. A deadline that has passed
/// still lets a future that is ready at its first poll finish; one that is
/// pending elapses at once.
///
/// # Panics
/// As [`timeout`]: when polled outside a runtime before it is decided.
pub fn timeout_at<F: IntoFuture>(deadline: Instant, future: F) -> Timeout<F::IntoFuture> {
    Timeout { future: Some(future.into_future()), clock: Clock::Started(sleep_until(deadline)) }
}

/// The error of a [`timeout`] whose time ran out.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Elapsed(());

impl fmt::Debug for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Elapsed")
    }
}

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl std::error::Error for Elapsed {}

pin_project! {
    /// The future returned by [`timeout`] and [`timeout_at`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless awaited"]
    pub struct Timeout<F> {
        #[pin]
        future: Option<F>,
        clock: Clock,
    }
}

/// A timeout's time limit: a duration whose clock has not started, or a
/// deadline, as a sleep (registered as a timer once it is polled).
///
/// The simple version would be a `Sleep` made at construction, reading the
/// clock there (see "The clock starts at the first `Pending`" above).
#[derive(Debug)]
enum Clock {
    /// `timeout(duration, …)` whose future has not been pending yet.
    NotStarted(Duration),
    /// The deadline is known: counted from the first `Pending`, or given.
    Started(Sleep),
}

impl Clock {
    /// Starts the clock if it has not started (see [`start`](Self::start)),
    /// else polls the sleep: `Ready` once the deadline has passed.
    fn poll_elapsed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        match self {
            Clock::Started(sleep) => Pin::new(sleep).poll(cx),
            &mut Clock::NotStarted(duration) => self.start(duration, cx),
        }
    }

    /// The first `Pending`: reads the clock once, for the deadline and for
    /// whether it has passed — which it has only for a zero `duration` —
    /// then registers the sleep's timer. The simple version makes
    /// `sleep(duration)` and polls it, which reads the clock a second time to
    /// learn what the first read already says (29 ns a read here).
    fn start(&mut self, duration: Duration, cx: &mut Context<'_>) -> Poll<()> {
        let deadline = super::add_or_never(super::now(), duration);
        *self = Clock::Started(sleep_until(deadline));
        let Clock::Started(sleep) = self else { unreachable!("just started") };
        if duration.is_zero() {
            return Poll::Ready(());
        }
        sleep.register(cx);
        Poll::Pending
    }

    /// The future finished first: removes the timer, if there is one.
    /// Inlined: a future ready at its first poll — the commonest timeout —
    /// pays one comparison here, not a call.
    #[inline(always)]
    fn stop(&mut self) {
        if let Clock::Started(sleep) = self {
            sleep.cancel_timer();
        }
    }
}

impl<F> Timeout<F> {
    /// When the time runs out.
    ///
    /// Before the clock has started (a [`timeout`] whose future has not yet
    /// been pending), the deadline it would have if it started now: later
    /// calls return later instants until the first `Pending` poll fixes it.
    pub fn deadline(&self) -> Instant {
        match &self.clock {
            Clock::NotStarted(duration) => super::deadline_after(*duration),
            Clock::Started(sleep) => sleep.deadline(),
        }
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let future = this.future.as_mut().as_pin_mut().expect("Timeout polled after it completed");
        if let Poll::Ready(output) = future.poll(cx) {
            this.future.set(None);
            this.clock.stop();
            return Poll::Ready(Ok(output));
        }
        if this.clock.poll_elapsed(cx).is_ready() {
            this.future.set(None);
            return Poll::Ready(Err(Elapsed(())));
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clock_that_has_not_started_costs_no_space() {
        assert_eq!(size_of::<Clock>(), size_of::<Sleep>(), "the duration fits in the sleep's niche");
    }
}
