//! Time. A timer is an entry `(deadline, sequence) → Timer` in the loop's
//! `BTreeMap`, popped in key order by step 3 of a turn. A sleep inserts its
//! timer at its first `Pending` poll, keeps that entry (and so its place among
//! equal deadlines) while it waits, and removes it when it completes or is
//! dropped. It ends when the clock says so, not when its timer fires: never early.

use std::future::{Future, IntoFuture};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use std::{pin::Pin, rc::Rc, rc::Weak, sync::Arc};

use crate::{Core, Shared, Timer, contain, current, expect_current};

impl Core {
    fn insert_timer(&self, at: Instant, timer: Timer) -> (Instant, u64) {
        let mut state = self.state.borrow_mut();
        state.timer_seq += 1;
        let key = (at, state.timer_seq);
        state.timers.insert(key, timer);
        key
    }
    /// Removes a pending timer; its waker or callback is dropped after the borrow (user code).
    fn remove_timer(&self, key: (Instant, u64)) -> bool {
        let timer = self.state.borrow_mut().timers.remove(&key);
        let was_pending = timer.is_some();
        contain(|| drop(timer));
        was_pending
    }
}

/// `now + delay`; if that overflows (`Duration::MAX`), a deadline so far off it never comes.
// kettle: "never" kept exactly, never offered as a next deadline — `never`, src/time/queue.rs.
fn deadline_after(delay: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(delay).unwrap_or_else(|| now + Duration::from_secs(1 << 40))
}

pub fn sleep(duration: Duration) -> Sleep {
    sleep_until(deadline_after(duration))
}

pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep { deadline, timer: None }
}

/// The future of [`sleep`]: built anywhere, bound to the runtime that polls it.
#[must_use = "futures do nothing unless awaited"]
pub struct Sleep {
    deadline: Instant,
    /// The runtime holding our timer, and its key there.
    timer: Option<(Arc<Shared>, (Instant, u64))>,
}

impl Future for Sleep {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // kettle: a timer the loop fired here is due, no second read — Sleep::fired_here, src/time/sleep.rs.
        if Instant::now() >= self.deadline {
            remove(self.timer.take());
            return Poll::Ready(());
        }
        let core = expect_current("polling a kettle-mini Sleep");
        // Still pending in this runtime: keep the entry, with the latest poll's waker.
        if let Some((shared, key)) = &self.timer
            && Arc::ptr_eq(shared, &core.shared)
            && let Some(Timer::Wake(waker)) = core.state.borrow_mut().timers.get_mut(key)
        {
            waker.clone_from(cx.waker());
            return Poll::Pending;
        }
        remove(self.timer.take()); // fired meanwhile, or another runtime's
        let key = core.insert_timer(self.deadline, Timer::Wake(cx.waker().clone()));
        self.timer = Some((core.shared.clone(), key));
        Poll::Pending
    }
}

/// Removes a sleep's timer: at once if its runtime runs here, else through its injector.
fn remove(timer: Option<(Arc<Shared>, (Instant, u64))>) {
    let Some((shared, key)) = timer else { return };
    match current() {
        Some(core) if Arc::ptr_eq(&core.shared, &shared) => _ = core.remove_timer(key),
        _ => _ = shared.push(Box::new(move |core| _ = core.remove_timer(key))),
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        remove(self.timer.take());
    }
}

/// Runs `future`, giving up after `duration` (asyncio's `wait_for`).
pub fn timeout<F: IntoFuture>(duration: Duration, future: F) -> Timeout<F::IntoFuture> {
    Timeout { future: Some(Box::pin(future.into_future())), duration, sleep: None }
}

/// The future of [`timeout`]: the future first (ready in time wins, even with
/// the deadline passed too), then the sleep, made at the first `Pending`.
// kettle: the same rule — Clock::poll_elapsed, src/time/timeout.rs; the future pinned in place, not boxed;
// one clock read at the first `Pending`, not two (here `sleep`, then its poll) — Clock::start.
#[must_use = "futures do nothing unless awaited"]
pub struct Timeout<F> {
    future: Option<Pin<Box<F>>>,
    duration: Duration,
    sleep: Option<Sleep>,
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let future = this.future.as_mut().expect("Timeout polled after it completed");
        if let Poll::Ready(output) = future.as_mut().poll(cx) {
            (this.future, this.sleep) = (None, None);
            return Poll::Ready(Ok(output));
        }
        if Pin::new(this.sleep.get_or_insert_with(|| sleep(this.duration))).poll(cx).is_pending() {
            return Poll::Pending;
        }
        this.future = None; // dropped in place: its destructors are the cleanup
        Poll::Ready(Err(Elapsed(())))
    }
}

/// The error of a [`timeout`] whose deadline came first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Elapsed(());

crate::error_text!(Elapsed, self => "deadline has elapsed");

/// Queues `callback` to run on the loop next turn (asyncio's `call_soon`).
#[track_caller]
pub fn call_soon<F: FnOnce() + 'static>(callback: F) {
    expect_current("kettle_mini::call_soon").state.borrow_mut().callbacks.push_back(Box::new(callback));
}

/// Runs `callback` on the loop once `delay` has passed (asyncio's `call_later`).
#[track_caller]
pub fn call_later<F: FnOnce() + 'static>(delay: Duration, callback: F) -> TimerHandle {
    let core = expect_current("kettle_mini::call_later");
    let key = core.insert_timer(deadline_after(delay), Timer::Call(Box::new(callback)));
    TimerHandle { core: Rc::downgrade(&core), key }
}

/// A [`call_later`] callback not yet run.
pub struct TimerHandle {
    core: Weak<Core>,
    key: (Instant, u64),
}

impl TimerHandle {
    /// Cancels the callback; `true` if it was still pending (not once it fired into the callback queue).
    pub fn cancel(&self) -> bool {
        self.core.upgrade().is_some_and(|core| core.remove_timer(self.key))
    }
}
