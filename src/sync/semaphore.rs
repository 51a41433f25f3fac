//! Limiting concurrency: [`Semaphore`] (asyncio's `Semaphore`).
//!
//! # How it works
//!
//! The state is a count of free permits and a [`WaitList`] of tasks waiting
//! for one:
//!
//! - `acquire` takes a free permit if there is one, else waits in the FIFO;
//! - a released permit (a dropped [`SemaphorePermit`], or one added by
//!   [`add_permits`](Semaphore::add_permits)) is **handed to the first
//!   waiter** by notifying it, and does not go back to the count. The waiter
//!   owns it from then on, though it runs only later, so a `try_acquire` in
//!   between finds no permit and cannot barge ahead of the line.
//!
//! Invariant: tasks wait only while no permit is free (`debug_assert`ed).
//!
//! # Two layers
//!
//! That logic lives in `Permits`, which is neither shared nor a guard: its
//! `acquire` resolves once a permit is the caller's, and the caller owes it
//! back through `release`. Two primitives wrap it:
//!
//! - [`Semaphore`] shares one through an `Rc`, so that a [`SemaphorePermit`]
//!   can own a handle and move into a task;
//! - [`Mutex`](super::Mutex) owns one with a single permit, next to its
//!   value: the permit is the lock. Owned in place, it keeps `Mutex::new` a
//!   `const fn` that allocates nothing.
//!
//! # Cancel safety
//!
//! An [`Acquire`] (or a mutex's [`Lock`](super::Lock)) dropped while waiting
//! leaves the FIFO. One dropped after a
//! permit was handed to it releases that permit as a dropped permit would: to
//! the next waiter, or back to the count. Permits are never lost or created.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, ready};

use super::waiters::{WaitList, Wakeups};

/// A counter of permits that tasks wait for (asyncio's `Semaphore`): at most
/// *n* permits are out at a time, handed out first-come first-served.
///
/// `Semaphore` is a cheap [`Clone`] handle: every clone names the same
/// semaphore, and a [`SemaphorePermit`] holds one, so a permit has no
/// lifetime and can move into a task. It is not thread-safe (`!Send`), like
/// asyncio's.
///
/// ```
/// use kettle::sync::Semaphore;
///
/// kettle::run(async {
///     let slots = Semaphore::new(2);
///     let first = slots.acquire().await;
///     let _second = slots.acquire().await;
///     assert!(slots.try_acquire().is_none(), "both permits are out");
///     drop(first);
///     assert_eq!(slots.available_permits(), 1);
/// });
/// ```
#[doc(alias = "asyncio.Semaphore")]
#[derive(Clone)]
pub struct Semaphore {
    permits: Rc<Permits>,
}

impl Semaphore {
    /// A semaphore with `permits` free permits (asyncio's `Semaphore(value)`).
    pub fn new(permits: usize) -> Semaphore {
        Semaphore { permits: Rc::new(Permits::new(permits)) }
    }

    /// Waits for a permit, in first-in first-out order with the other
    /// waiters (asyncio's `async with semaphore`). The permit is released when
    /// dropped.
    ///
    /// # Cancel safety
    /// Dropping the future gives up its place; if a permit had already been
    /// handed to it, the permit goes to the next waiter.
    pub fn acquire(&self) -> Acquire<'_> {
        Acquire { semaphore: self, permit: self.permits.acquire() }
    }

    /// Takes a permit if one is free now. A permit handed to a waiter that has
    /// not run yet is not free.
    pub fn try_acquire(&self) -> Option<SemaphorePermit> {
        self.permits.try_acquire().then(|| self.permit())
    }

    /// Permits free now (not held, and not handed to a waiter).
    pub fn available_permits(&self) -> usize {
        self.permits.available()
    }

    /// Adds `n` permits (asyncio's `release()`, `n` times, without a permit
    /// to give back): first to waiting tasks, in order, then to the count.
    ///
    /// # Panics
    /// If the count of free permits would overflow `usize`.
    #[doc(alias = "release")]
    #[track_caller]
    pub fn add_permits(&self, n: usize) {
        self.permits.release(n);
    }

    /// Wraps a permit we now hold in the guard that gives it back.
    fn permit(&self) -> SemaphorePermit {
        SemaphorePermit { semaphore: self.clone() }
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.permits.state.borrow();
        f.debug_struct("Semaphore")
            .field("available_permits", &state.permits)
            .field("waiters", &state.waiters.waiting())
            .finish()
    }
}

/// The future returned by [`Semaphore::acquire`].
#[must_use = "futures do nothing unless awaited"]
pub struct Acquire<'a> {
    semaphore: &'a Semaphore,
    permit: AcquirePermit<'a>,
}

impl Future for Acquire<'_> {
    type Output = SemaphorePermit;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<SemaphorePermit> {
        let this = self.get_mut();
        ready!(Pin::new(&mut this.permit).poll(cx));
        Poll::Ready(this.semaphore.permit())
    }
}

/// One permit of a [`Semaphore`]; released when dropped, to the first waiting
/// task if any.
#[must_use = "the permit is released as soon as it is dropped"]
pub struct SemaphorePermit {
    semaphore: Semaphore,
}

impl Drop for SemaphorePermit {
    fn drop(&mut self) {
        self.semaphore.permits.release(1);
    }
}

impl fmt::Debug for SemaphorePermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit").finish_non_exhaustive()
    }
}

/// A semaphore's permits and its line of waiters, unshared and without
/// guards (see "Two layers" in the module docs). Whoever acquires a permit
/// owes a [`release`](Permits::release).
pub(crate) struct Permits {
    state: RefCell<State>,
}

struct State {
    /// Free permits, not promised to anyone.
    permits: usize,
    /// Tasks waiting for a permit; a notified one owns a permit.
    waiters: WaitList,
}

impl Permits {
    pub(crate) const fn new(permits: usize) -> Permits {
        Permits { state: RefCell::new(State { permits, waiters: WaitList::new() }) }
    }

    /// Waits, first-in first-out, until a permit is the caller's.
    pub(crate) fn acquire(&self) -> AcquirePermit<'_> {
        AcquirePermit { permits: self, key: None }
    }

    /// Takes a permit if one is free now, and says whether it did.
    #[must_use = "a permit taken must be released"]
    pub(crate) fn try_acquire(&self) -> bool {
        let mut state = self.state.borrow_mut();
        if state.permits == 0 {
            return false;
        }
        debug_assert!(state.waiters.is_empty(), "tasks wait only while no permit is free");
        state.permits -= 1;
        true
    }

    /// Permits free now (not held, and not handed to a waiter).
    pub(crate) fn available(&self) -> usize {
        self.state.borrow().permits
    }

    /// Gives back `n` permits, or adds them: first to waiting tasks, in
    /// order, then to the count.
    ///
    /// # Panics
    /// If the count would overflow `usize`, which only
    /// [`Semaphore::add_permits`] can make happen.
    #[track_caller]
    pub(crate) fn release(&self, n: usize) {
        let mut wakeups = Wakeups::new();
        {
            let mut state = self.state.borrow_mut();
            let mut left = n;
            while left > 0
                && let Some(waker) = state.waiters.notify_one()
            {
                wakeups.push(waker);
                left -= 1;
            }
            state.permits = state
                .permits
                .checked_add(left)
                .expect("Semaphore::add_permits: the permit count overflowed usize");
        }
        wakeups.fire();
    }
}

/// The future returned by [`Permits::acquire`]: resolves once a permit is the
/// caller's, who then owes a [`release`](Permits::release).
#[must_use = "futures do nothing unless awaited"]
pub(crate) struct AcquirePermit<'a> {
    permits: &'a Permits,
    /// Our entry in the wait list, while we wait.
    key: Option<usize>,
}

impl Future for AcquirePermit<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        // Old wakers are retired into `wakeups` and dropped once the state
        // is no longer borrowed (`waiters.rs`).
        let mut wakeups = Wakeups::new();
        let poll = {
            let mut state = this.permits.state.borrow_mut();
            match this.key {
                // Notified: a permit was handed to us.
                Some(key) if state.waiters.poll_notified(key, cx.waker(), &mut wakeups) => {
                    state.waiters.remove(key, &mut wakeups);
                    this.key = None;
                    Poll::Ready(())
                }
                Some(_) => Poll::Pending,
                None if state.permits > 0 => {
                    debug_assert!(state.waiters.is_empty(), "tasks wait only while no permit is free");
                    state.permits -= 1;
                    Poll::Ready(())
                }
                None => {
                    this.key = Some(state.waiters.push(cx.waker()));
                    Poll::Pending
                }
            }
        };
        wakeups.fire();
        poll
    }
}

impl Drop for AcquirePermit<'_> {
    fn drop(&mut self) {
        let Some(key) = self.key else { return };
        let mut wakeups = Wakeups::new();
        let granted = self.permits.state.borrow_mut().waiters.remove(key, &mut wakeups);
        wakeups.fire(); // the borrow ended with the statement above
        if granted {
            // A permit was ours without ever being used: pass it on.
            self.permits.release(1);
        }
    }
}
