//! Waiting until a point in time: [`sleep`] and [`Sleep`].
//!
//! A `Sleep` is just a deadline and, once it has been polled, the key of its
//! timer in its runtime's queue. Building one needs no runtime: it binds to
//! the runtime that polls it first (so `rt.block_on(kettle::sleep(d))` works,
//! as asyncio's `run_until_complete(asyncio.sleep(1))` does). It registers on
//! its first `Pending` poll (a sleep that is never awaited costs nothing),
//! updates the stored waker when polled from a different task, and removes
//! the timer the moment it completes, is reset or is dropped. Completion is
//! decided by the clock: the sleep's own read, or — when its timer has fired
//! in the runtime polling it — the loop's, which pops a timer only once that
//! read has passed the deadline. So a sleep can never end early.
//!
//! A sleep has at most one timer, wherever it goes: polled in another
//! runtime than the one holding its timer, it removes that timer before
//! registering in the new one; dropped on another thread than its runtime's,
//! it sends the removal to that runtime's loop (`runtime/registry.rs`).
//! Otherwise the old runtime would keep the timer — and the waker in it —
//! until the deadline, which for `Duration::MAX` is never.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::deadline_after;
use super::queue::TimerKey;
use crate::runtime::context;
use crate::runtime::core::Action;
use crate::runtime::registry;
use crate::runtime::shared::Remote;

/// Waits until `duration` has passed (asyncio's `asyncio.sleep`).
///
/// Never completes early. `Duration::MAX` sleeps forever, without overflow.
/// The deadline is counted from this call; the sleep may be built anywhere
/// and binds to the runtime that first polls it:
///
/// ```
/// use std::time::Duration;
/// let rt = kettle::Runtime::new().unwrap();
/// rt.block_on(kettle::sleep(Duration::from_millis(5)));
/// ```
///
/// # Panics
/// When polled outside a runtime before its deadline (a `Sleep` can only
/// wait inside one).
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
    Sleep::new(deadline_after(duration))
}

/// Waits until `deadline`. A deadline in the past completes on the first poll.
/// Like [`sleep`], it may be built anywhere and binds when first polled.
///
/// # Panics
/// When polled outside a runtime before its deadline.
pub fn sleep_until(deadline: Instant) -> Sleep {
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
    /// all (a footprint figure, checked in `time/mod.rs`).
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

    /// Whether the deadline has passed (by [`kettle::time::now`](fn@super::now)).
    pub fn is_elapsed(&self) -> bool {
        super::now() >= self.deadline
    }

    /// Moves the deadline. A timer already registered moves with it and
    /// keeps its waker, so the waiting task is woken by the new deadline
    /// even when the reset comes from elsewhere (host code, another task);
    /// a sleep not yet polled registers when it is.
    ///
    /// (Reset on another thread than its runtime's, the timer is removed
    /// and the sleep registers again when next polled.)
    pub fn reset(&mut self, deadline: Instant) {
        self.deadline = deadline;
        if let Some(timer) = self.timer.take() {
            self.timer = move_timer(timer, deadline);
        }
    }

    /// Removes this sleep's timer from its runtime's queue, if it is there.
    pub(crate) fn cancel_timer(&mut self) {
        if let Some(timer) = self.timer.take() {
            remove_timer(timer);
        }
    }

    /// Whether this sleep's timer has fired in the runtime running here: it
    /// was registered in this runtime (ids are never reused) and is no
    /// longer pending there. The loop pops a timer only once its own clock
    /// read has passed the deadline (step 4), so the sleep is due — the
    /// answer a clock read would give, with the same clock (a paused one
    /// included). The simple version reads the clock again (29 ns, and more
    /// on a wake from idle, on the way from the timerfd to the task), then
    /// looks for the timer to remove it.
    fn fired_here(&self) -> bool {
        let Some(key) = self.timer else { return false };
        context::with_current(|core| {
            core.is_some_and(|core| core.id() == key.owner() && !core.timer_is_pending(key))
        })
    }

    /// The pending half of [`poll`](Future::poll), once the clock has said
    /// the deadline is still ahead: registers the timer in the current
    /// runtime, or refreshes its waker if it is registered there already.
    pub(crate) fn register(&mut self, cx: &Context<'_>) {
        let Sleep { deadline, timer } = self;
        context::expect_current("polling a kettle Sleep", |core| {
            match *timer {
                // Still pending in this runtime's queue: just refresh the
                // waker. (A key of another runtime's queue matches nothing.)
                Some(key) if core.update_timer_waker(key, cx.waker()) => {}
                previous => {
                    *timer = Some(core.insert_timer(*deadline, Action::Wake(cx.waker().clone())));
                    // Registered in another runtime before: that timer goes.
                    if let Some(old) = previous.filter(|old| old.owner() != core.id()) {
                        remove_timer(old);
                    }
                }
            }
        });
    }
}

/// Moves `timer` to `deadline` in its runtime's queue if that runtime lives
/// on this thread (running or not); elsewhere, removes it. Returns the key
/// of the moved timer.
fn move_timer(timer: TimerKey, deadline: Instant) -> Option<TimerKey> {
    let here = context::with_runtime(timer.owner(), |core| core.map(|core| core.move_timer(timer, deadline)));
    match here {
        Some(moved) => moved,
        None => {
            registry::push_to(timer.owner(), Remote::CancelTimer(timer));
            None
        }
    }
}

/// Removes `timer` from its runtime's queue, if it is still pending there,
/// whichever thread that runtime lives on.
fn remove_timer(timer: TimerKey) {
    // Found whether or not the runtime is running right now (the sleep may
    // be dropped between two runs), as long as it lives on this thread.
    let here = context::with_runtime(timer.owner(), |core| core.map(|core| core.remove_timer(timer)));
    if here.is_none() {
        // The runtime lives on another thread (or is gone): its loop removes
        // the timer when it takes this request.
        registry::push_to(timer.owner(), Remote::CancelTimer(timer));
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.fired_here() {
            self.timer = None; // popped by the loop: nothing left to remove
            return Poll::Ready(());
        }
        if super::now() >= self.deadline {
            self.cancel_timer();
            return Poll::Ready(());
        }
        self.register(cx);
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.cancel_timer();
    }
}
