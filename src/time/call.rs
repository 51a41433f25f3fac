//! Callbacks on the loop: [`call_soon`], [`call_later`], [`call_at`].
//!
//! A callback is a plain `FnOnce()` run by the loop between tasks — asyncio's
//! `Handle`s. It never runs inside the call that schedules it: `call_soon`
//! queues it for the next turn, `call_later`/`call_at` insert a timer that
//! queues it when due. Callbacks run in deadline order, first-in first-out
//! among equal deadlines. A panicking callback does not stop the loop.

use std::fmt;
use std::rc::Weak;
use std::time::{Duration, Instant};

use super::deadline_after;
use super::queue::TimerKey;
use crate::runtime::context;
use crate::runtime::core::Core;
use crate::runtime::core::{Action, Callback};
use std::panic::Location;

/// Runs `callback` on the loop's next turn (asyncio's `loop.call_soon`).
///
/// # Panics
/// Outside a runtime; from another thread use
/// [`Handle::call_soon`](crate::Handle::call_soon).
#[doc(alias = "loop.call_soon")]
#[track_caller]
pub fn call_soon<F: FnOnce() + 'static>(callback: F) {
    let location = Location::caller();
    context::expect_current("kettle::call_soon", |core| core.call_soon(Callback::new(callback, location)));
}

/// Runs `callback` on the loop once `delay` has passed (asyncio's
/// `loop.call_later`). `Duration::MAX` means never (but see
/// [`TimerHandle::cancel`] to free it).
///
/// # Panics
/// Outside a runtime.
///
/// ```
/// use std::{cell::Cell, rc::Rc, time::Duration};
/// kettle::run(async {
///     let fired = Rc::new(Cell::new(false));
///     let flag = fired.clone();
///     kettle::call_later(Duration::from_millis(5), move || flag.set(true));
///     kettle::sleep(Duration::from_millis(10)).await;
///     assert!(fired.get());
/// });
/// ```
#[doc(alias = "loop.call_later")]
#[track_caller]
pub fn call_later<F: FnOnce() + 'static>(delay: Duration, callback: F) -> TimerHandle {
    call_at(deadline_after(delay), callback)
}

/// Runs `callback` on the loop at `when` (asyncio's `loop.call_at`). A time in
/// the past means the next turn.
///
/// # Panics
/// Outside a runtime.
#[doc(alias = "loop.call_at")]
#[track_caller]
pub fn call_at<F: FnOnce() + 'static>(when: Instant, callback: F) -> TimerHandle {
    let location = Location::caller();
    context::expect_current("kettle::call_at", |core| {
        let key = core.insert_timer(when, Action::Call(Callback::new(callback, location)));
        TimerHandle { core: std::rc::Rc::downgrade(core), key, when }
    })
}

/// A scheduled callback (asyncio's `TimerHandle`).
///
/// Dropping it does **not** cancel the callback, as in asyncio; only
/// [`cancel`](TimerHandle::cancel) does.
pub struct TimerHandle {
    core: Weak<Core>,
    key: TimerKey,
    when: Instant,
}

impl TimerHandle {
    /// Cancels the callback, dropping it. Returns `true` if it was still
    /// pending, `false` if it already ran (or was queued to run this turn),
    /// was cancelled, or its runtime is gone.
    ///
    /// Dropping the callback drops its captures, which may schedule more
    /// (that works) or panic (the panic is reported and contained, as
    /// wherever kettle drops user values).
    pub fn cancel(&self) -> bool {
        let Some(core) = self.core.upgrade() else { return false };
        core.remove_timer(self.key)
    }

    /// Whether the callback is still waiting for its time.
    pub fn is_pending(&self) -> bool {
        self.core.upgrade().is_some_and(|core| core.timer_is_pending(self.key))
    }

    /// When the callback is due.
    pub fn when(&self) -> Instant {
        self.when
    }
}

impl fmt::Debug for TimerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimerHandle").field("when", &self.when).finish_non_exhaustive()
    }
}
