//! Waiting until a point in time: [`sleep`] and [`Sleep`].
//!
//! A `Sleep` is just a deadline and, once it has been polled, the key of its
//! timer in its runtime's queue. It registers on its first `Pending` poll (a
//! sleep that is never awaited costs nothing), updates the stored waker when
//! polled from a different task, and removes the timer the moment it
//! completes, is reset or is dropped. Completion is decided by the clock, not
//! by the timer having fired, so a sleep can never end early.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::deadline_after;
use super::queue::{Action, TimerKey};
use crate::runtime::context;

/// Waits until `duration` has passed (asyncio's `asyncio.sleep`).
///
/// Never completes early. `Duration::MAX` sleeps forever, without overflow.
///
/// # Panics
/// Outside a runtime.
///
/// ```
/// use std::time::{Duration, Instant};
/// kettle::run(async {
///     let start = Instant::now();
///     kettle::sleep(Duration::from_millis(10)).await;
///     assert!(start.elapsed() >= Duration::from_millis(10));
/// });
/// ```
#[doc(alias = "asyncio.sleep")]
#[track_caller]
pub fn sleep(duration: Duration) -> Sleep {
    context::expect_current("kettle::sleep", |_| ());
    Sleep::new(deadline_after(duration))
}

/// Waits until `deadline`. A deadline in the past completes on the first poll.
///
/// # Panics
/// Outside a runtime.
#[track_caller]
pub fn sleep_until(deadline: Instant) -> Sleep {
    context::expect_current("kettle::sleep_until", |_| ());
    Sleep::new(deadline)
}

/// The future returned by [`sleep`] and [`sleep_until`].
///
/// `Unpin` and `Send`: it holds only its deadline and the key of its timer.
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Sleep {
    deadline: Instant,
    /// The registered timer; the key also names its runtime. 32 bytes in
    /// all (a footprint figure: see `time/queue.rs`).
    timer: Option<TimerKey>,
}

impl Sleep {
    pub(crate) fn new(deadline: Instant) -> Sleep {
        Sleep { deadline, timer: None }
    }

    /// When this sleep completes.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Whether the deadline has passed.
    pub fn is_elapsed(&self) -> bool {
        Instant::now() >= self.deadline
    }

    /// Moves the deadline, removing the current timer; the sleep registers
    /// again when next polled.
    pub fn reset(&mut self, deadline: Instant) {
        self.cancel_timer();
        self.deadline = deadline;
    }

    /// Removes this sleep's timer from its runtime's queue, if it is there.
    pub(crate) fn cancel_timer(&mut self) {
        let Some(timer) = self.timer.take() else { return };
        // Found whether or not the runtime is running right now (the sleep
        // may be dropped between two runs), as long as we are on its thread.
        let action = context::with_runtime(timer.runtime(), |core| {
            core.and_then(|core| core.timers.borrow_mut().remove(timer))
        });
        // Dropped outside the borrow: a waker's destructor may free a task.
        drop(action);
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.deadline {
            self.cancel_timer();
            return Poll::Ready(());
        }
        let deadline = self.deadline;
        let previous = self.timer;
        self.timer = Some(context::expect_current("polling a kettle Sleep", |core| {
            let mut timers = core.timers.borrow_mut();
            match previous {
                // Still pending in this runtime's queue (a key of another
                // runtime's queue is not): just refresh the waker.
                Some(timer) if timers.set_waker(timer, cx.waker()) => timer,
                _ => timers.insert(deadline, Action::Wake(cx.waker().clone())),
            }
        }));
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.cancel_timer();
    }
}
