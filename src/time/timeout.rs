//! Bounding how long a future may take: [`timeout`].
//!
//! A `Timeout` is the inner future plus a [`Sleep`]. Each poll tries the inner
//! future first (so a future that is ready in time always wins, even when the
//! deadline has also passed), then the sleep. Whichever finishes first ends
//! the other at once: a finished future removes the timer, an expired timer
//! drops the future in place — its destructors are asyncio's `CancelledError`
//! cleanup.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use pin_project_lite::pin_project;

use super::sleep::{Sleep, sleep, sleep_until};

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
/// Like [`sleep`](crate::sleep), it may be built anywhere and binds to the
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
#[track_caller]
pub fn timeout<F: IntoFuture>(duration: Duration, future: F) -> Timeout<F::IntoFuture> {
    Timeout { future: Some(future.into_future()), sleep: sleep(duration) }
}

/// Like [`timeout`], with an absolute deadline.
///
/// # Panics
/// As [`timeout`]: when polled outside a runtime before it is decided.
#[track_caller]
pub fn timeout_at<F: IntoFuture>(deadline: Instant, future: F) -> Timeout<F::IntoFuture> {
    Timeout { future: Some(future.into_future()), sleep: sleep_until(deadline) }
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
        sleep: Sleep,
    }
}

impl<F> Timeout<F> {
    /// When the time runs out.
    pub fn deadline(&self) -> Instant {
        self.sleep.deadline()
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let future = this.future.as_mut().as_pin_mut().expect("Timeout polled after it completed");
        if let Poll::Ready(output) = future.poll(cx) {
            this.future.set(None);
            this.sleep.cancel_timer();
            return Poll::Ready(Ok(output));
        }
        if Pin::new(&mut *this.sleep).poll(cx).is_ready() {
            this.future.set(None);
            return Poll::Ready(Err(Elapsed(())));
        }
        Poll::Pending
    }
}
