//! A lock that holds its data: [`Mutex`] (asyncio's `Lock`).
//!
//! # How it works
//!
//! A mutex is a semaphore with one permit, next to the value: the permit is
//! the lock. Waiting in line, handing the permit on, and passing it on when a
//! waiter is cancelled are all the semaphore's (`Permits`, in
//! `semaphore.rs`), so the hand-off that fairness and cancel safety rest on
//! is written, and tested, once. tokio builds its `Mutex` on its semaphore
//! for the same reason.
//!
//! The value sits in a `RefCell<T>`. A guard holds its `RefMut`; there is
//! one permit, so only one guard exists at a time, that borrow never fails,
//! and `RefCell` gives us `&mut T` without `unsafe`.
//!
//! **Hand-off, not release.** When a guard is dropped and tasks wait, the
//! permit does not go back to the count: it is handed to the first waiter,
//! which owns the lock from that moment, even though it runs only on a later
//! turn. So nobody can barge in between — not a `try_lock`, not a new
//! `lock()` — and waiters get the lock strictly in the order they asked for
//! it.
//!
//! ```text
//!   unlocked ──lock()/try_lock()──▶ locked ──guard dropped, nobody waits──▶ unlocked
//!   (1 permit free)                 (0 free)                                (1 free)
//!                                    │   ▲
//!                                    │   └── guard dropped, someone waits: the permit
//!                                    │       goes to the first waiter (stays locked)
//!                                    └── lock() while locked: wait in the FIFO
//! ```
//!
//! Invariants: tasks wait only while the permit is out (the semaphore's,
//! `debug_assert`ed there), and only the holder unlocks, so there is never
//! more than one permit (`debug_assert`ed when a guard gives it back).
//!
//! # Cancel safety
//!
//! A [`Lock`] future dropped while waiting leaves the FIFO. One dropped after
//! the lock was handed to it, before it ran, passes the lock on exactly as a
//! guard would: to the next waiter, or unlocked.
//!
//! Fairness has asyncio's cost: a task that unlocks and immediately locks
//! again goes to the back of the line if anyone waits.

use std::cell::{RefCell, RefMut};
use std::fmt;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use super::semaphore::{AcquirePermit, Permits};

/// A first-in first-out fair lock around a value (asyncio's `Lock`, holding
/// its data like `std::sync::Mutex`).
///
/// [`lock`](Mutex::lock) waits for the lock and returns a [`MutexGuard`]
/// that unlocks when dropped. To share a mutex between tasks, put it in an
/// `Rc` as you would put a `std::sync::Mutex` in an `Arc`. It is not
/// thread-safe (`!Sync`), like asyncio's.
///
/// ```
/// use std::rc::Rc;
/// use kettle::sync::Mutex;
///
/// let log = kettle::run(async {
///     let log = Rc::new(Mutex::new(Vec::new()));
///     let tasks: Vec<_> = (0..3)
///         .map(|i| {
///             let log = log.clone();
///             kettle::spawn(async move {
///                 let mut log = log.lock().await;
///                 log.push(i);
///                 kettle::yield_now().await; // still holding the lock
///                 log.push(i);
///             })
///         })
///         .collect();
///     for task in tasks {
///         task.await.unwrap();
///     }
///     Rc::try_unwrap(log).unwrap().into_inner()
/// });
/// assert_eq!(log, [0, 0, 1, 1, 2, 2]);
/// ```
#[doc(alias = "asyncio.Lock")]
pub struct Mutex<T> {
    /// A semaphore with one permit: whoever holds the permit holds the lock
    /// (a guard, or a waiter it was handed to that has not run yet).
    semaphore: Permits,
    value: RefCell<T>,
}

impl<T> Mutex<T> {
    /// A new, unlocked mutex holding `value`.
    pub const fn new(value: T) -> Mutex<T> {
        Mutex { semaphore: Permits::new(1), value: RefCell::new(value) }
    }

    /// Waits for the lock (asyncio's `async with lock`), in first-in
    /// first-out order with the other waiters.
    ///
    /// # Cancel safety
    /// Dropping the future gives up its place; if the lock had already been
    /// handed to it, it passes to the next waiter.
    #[doc(alias = "acquire")]
    pub fn lock(&self) -> Lock<'_, T> {
        Lock { mutex: self, permit: self.semaphore.acquire() }
    }

    /// Takes the lock if it is free now and nobody waits for it.
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        self.semaphore.try_acquire().then(|| self.guard())
    }

    /// Consumes the mutex, returning the value.
    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }

    /// The value, through a unique borrow of the mutex: no lock needed.
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }

    /// Builds the guard of a lock we now hold.
    fn guard(&self) -> MutexGuard<'_, T> {
        let value = self.value.try_borrow_mut().expect("the lock holder is the only one borrowing the value");
        MutexGuard { value, _unlock: Unlock { mutex: self } }
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Mutex<T> {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(value: T) -> Mutex<T> {
        Mutex::new(value)
    }
}

impl<T: fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.try_lock() {
            Some(guard) => d.field("data", &&*guard),
            None => d.field("data", &format_args!("<locked>")),
        };
        d.finish_non_exhaustive()
    }
}

/// The future returned by [`Mutex::lock`].
#[must_use = "futures do nothing unless awaited"]
pub struct Lock<'a, T> {
    mutex: &'a Mutex<T>,
    /// Waits for the permit; passes it on if dropped after it was handed one.
    permit: AcquirePermit<'a>,
}

impl<'a, T> Future for Lock<'a, T> {
    type Output = MutexGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<MutexGuard<'a, T>> {
        let this = self.get_mut();
        ready!(Pin::new(&mut this.permit).poll(cx));
        Poll::Ready(this.mutex.guard())
    }
}

/// Access to the data of a locked [`Mutex`]; unlocks it when dropped, handing
/// the lock to the first waiting task.
#[must_use = "the mutex unlocks as soon as the guard is dropped"]
pub struct MutexGuard<'a, T> {
    // Fields drop in declaration order: the borrow of the value ends before
    // the lock is handed on, so the next holder always finds it free.
    value: RefMut<'a, T>,
    _unlock: Unlock<'a, T>,
}

/// Unlocks when dropped, by giving the permit back: to the first waiter if
/// any, else to the count. The part of a guard that outlives its borrow.
struct Unlock<'a, T> {
    mutex: &'a Mutex<T>,
}

impl<T> Drop for Unlock<'_, T> {
    fn drop(&mut self) {
        let semaphore = &self.mutex.semaphore;
        debug_assert_eq!(semaphore.available(), 0, "only the holder unlocks");
        semaphore.release(1);
    }
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.value
    }
}

impl<T: fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.value, f)
    }
}

impl<T: fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.value, f)
    }
}
