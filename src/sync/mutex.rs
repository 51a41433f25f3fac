//! A lock that holds its data: [`Mutex`] (asyncio's `Lock`).
//!
//! # How it works
//!
//! Two cells: the data, in a `RefCell<T>`, and the lock's bookkeeping — a
//! `locked` flag and a [`WaitList`] of tasks waiting for it. A guard holds the
//! data's `RefMut`; the lock guarantees that only one guard exists at a
//! time, so that borrow never fails, and `RefCell` gives us `&mut T` without
//! `unsafe`.
//!
//! **Hand-off, not release.** When a guard is dropped and tasks wait, the
//! lock is not released: it is handed to the first waiter, by notifying it,
//! and `locked` stays `true`. The waiter owns the lock from that moment, even
//! though it runs only on a later turn. So nobody can barge in between — not
//! a `try_lock`, not a new `lock()` — and waiters get the lock strictly in
//! the order they asked for it.
//!
//! ```text
//!   unlocked ──lock()/try_lock()──▶ locked ──guard dropped, nobody waits──▶ unlocked
//!                                    │   ▲
//!                                    │   └── guard dropped, someone waits:
//!                                    │       notify the first waiter (stays locked)
//!                                    └── lock() while locked: wait in FIFO
//! ```
//!
//! Invariant: tasks wait only while the lock is held (`debug_assert`ed).
//!
//! # Cancel safety
//!
//! A [`Lock`] future dropped while waiting leaves the FIFO. One dropped after
//! it was notified — it already owned the lock, but never ran — passes the
//! lock on exactly as a guard would: to the next waiter, or unlocked.
//!
//! Fairness has asyncio's cost: a task that unlocks and immediately locks
//! again goes to the back of the line if anyone waits.

use std::cell::{RefCell, RefMut};
use std::fmt;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::waiters::WaitList;

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
    lock: RefCell<LockState>,
    value: RefCell<T>,
}

struct LockState {
    /// Held by a guard, or handed to a notified waiter that has not run yet.
    locked: bool,
    /// Tasks waiting for the lock; a notified one owns it.
    waiters: WaitList,
}

impl<T> Mutex<T> {
    /// A new, unlocked mutex holding `value`.
    pub const fn new(value: T) -> Mutex<T> {
        Mutex {
            lock: RefCell::new(LockState { locked: false, waiters: WaitList::new() }),
            value: RefCell::new(value),
        }
    }

    /// Waits for the lock (asyncio's `async with lock`), in first-in
    /// first-out order with the other waiters.
    ///
    /// # Cancel safety
    /// Dropping the future gives up its place; if the lock had already been
    /// handed to it, it passes to the next waiter.
    #[doc(alias = "acquire")]
    pub fn lock(&self) -> Lock<'_, T> {
        Lock { mutex: self, key: None }
    }

    /// Takes the lock if it is free now and nobody waits for it.
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        let mut lock = self.lock.borrow_mut();
        if lock.locked {
            return None;
        }
        debug_assert!(lock.waiters.is_empty(), "tasks wait only while the lock is held");
        lock.locked = true;
        drop(lock);
        Some(self.guard())
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

    /// Gives up a held lock: to the first waiter if any, else unlocked.
    fn unlock(&self) {
        let waiter = {
            let mut lock = self.lock.borrow_mut();
            debug_assert!(lock.locked, "only the holder unlocks");
            let waiter = lock.waiters.notify_one();
            lock.locked = waiter.is_some();
            waiter
        };
        if let Some(waiter) = waiter {
            waiter.wake();
        }
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
    /// Our entry in the wait list, while we wait.
    key: Option<usize>,
}

impl<'a, T> Future for Lock<'a, T> {
    type Output = MutexGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<MutexGuard<'a, T>> {
        let this = self.get_mut();
        let mut lock = this.mutex.lock.borrow_mut();
        match this.key {
            // Notified: the lock was handed to us; `locked` is still set.
            Some(key) if lock.waiters.poll_notified(key, cx.waker()) => {
                lock.waiters.remove(key);
                this.key = None;
            }
            Some(_) => return Poll::Pending,
            None if !lock.locked => {
                debug_assert!(lock.waiters.is_empty(), "tasks wait only while the lock is held");
                lock.locked = true;
            }
            None => {
                this.key = Some(lock.waiters.push(cx.waker()));
                return Poll::Pending;
            }
        }
        drop(lock);
        Poll::Ready(this.mutex.guard())
    }
}

impl<T> Drop for Lock<'_, T> {
    fn drop(&mut self) {
        let Some(key) = self.key else { return };
        let granted = self.mutex.lock.borrow_mut().waiters.remove(key);
        if granted {
            // We owned the lock without ever using it: pass it on.
            self.mutex.unlock();
        }
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

/// Unlocks when dropped; the part of a guard that outlives its borrow.
struct Unlock<'a, T> {
    mutex: &'a Mutex<T>,
}

impl<T> Drop for Unlock<'_, T> {
    fn drop(&mut self) {
        self.mutex.unlock();
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
