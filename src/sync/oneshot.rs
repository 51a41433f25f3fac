//! A single value from one place to another, across threads: [`channel`]
//! (in asyncio, a `Future` whose result another party sets, or
//! `run_coroutine_threadsafe`'s `concurrent.futures.Future` the other way
//! round).
//!
//! # How it works
//!
//! Sender and receiver share an `Arc` of three things: a **state word** of
//! four flags, the **value slot**, and the receiver's **waker slot**. This
//! is the one primitive of `sync` that is thread-safe — the others live on
//! the loop's thread in `Rc<RefCell<_>>` — because its job is to let another
//! thread complete a task on the loop: `send` from any thread wakes the
//! waiting task, and kettle's waker carries that wake across threads
//! (through the runtime's injector, waking the loop out of `epoll_wait` if
//! it sleeps).
//!
//! | flag    | set by                        | means                                              |
//! |---------|-------------------------------|----------------------------------------------------|
//! | `SENT`  | `send`, with `DONE`           | the value slot holds the value                     |
//! | `DONE`  | `send`, or the sender's drop  | the sender is finished: the value slot is the receiver's |
//! | `WAKER` | a pending poll                | the waker slot holds the receiver's waker, for the sender to wake |
//! | `GONE`  | the receiver's drop           | a send would go nowhere                            |
//!
//! ```text
//!   Sender                                   Receiver (a future)
//!   send(v): write value; DONE|SENT ──▶ wake ──▶ poll: DONE seen → take value → Ok(v)
//!   drop:    DONE                   ──▶ wake ──▶ poll: DONE seen, no value   → Err(RecvError)
//!   send(v) after GONE → Err(v)          ◀── drop: GONE (and the value, if one was sent)
//! ```
//!
//! **Who may touch a slot** is decided by the flags, one read-modify-write
//! of the state word at a time, never by a lock:
//!
//! - *The value slot* is the sender's until it sets `DONE`, and the
//!   receiver's once it has seen `DONE` (an acquire load, or its own
//!   read-modify-write). The one exception: a receiver that set `GONE`
//!   before `DONE` will never look at the value, so a sender that finds
//!   `GONE` in the word it replaced takes its value back.
//! - *The waker slot* is the receiver's while `WAKER` is clear. While
//!   `WAKER` is set it is only read: by the receiver (is the stored waker
//!   still the right one?) and, once it has set `DONE`, by the sender,
//!   which wakes it by reference. To store another waker the receiver first
//!   clears `WAKER`; if the word it replaced had `DONE`, the sender may be
//!   reading the slot, so it leaves it alone and returns the result instead.
//!   A waker still in the slot at the end is dropped with the channel.
//!
//! This is tokio's oneshot, minus the sender's own waker (kettle's sender
//! cannot wait for the receiver to go). The simple version is one
//! `Mutex<State>` holding the value, the waker and the flags, locked by
//! every operation, as kettle-mini would write it; it takes two atomic
//! read-modify-writes per lock where the flags take one or none
//! (`Sender::send`, `Receiver::poll`). The loom model in
//! `sync/oneshot/loom_model.rs` runs the protocol under every interleaving
//! with another thread.
//!
//! Wakers are woken, and values dropped, with nothing held: a waker may run
//! arbitrary code, and a value's destructor could be anything, including
//! code that touches this very channel.
//!
//! # Safety
//!
//! The `unsafe` here is the two slots' `UnsafeCell` accesses, one function
//! per kind of access (`Inner::write_value`, `take_value`,
//! `wake_receiver`, `stored_waker_will_wake`, `replace_waker`,
//! `take_waker`), each stating which
//! flags make it the caller's, and `Send`/`Sync` for the shared part, which
//! hands a `T` from one thread to another exactly once.
//!
//! # Cancel safety
//!
//! The receiver may be dropped at any time: a value sent before or after
//! that is dropped (on the receiver's side, or handed back by `send`), never
//! lost silently inside the channel. Polling the receiver takes the value
//! only when it returns it.

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use crate::loom::cell::UnsafeCell;
use crate::loom::sync::atomic::{AtomicUsize, Ordering};

#[cfg(all(test, loom))]
mod loom_model;

/// Creates a channel for one value: the [`Sender`] sends it, the
/// [`Receiver`] is a future that resolves to it.
///
/// Both halves are `Send` (when `T` is), so a thread can complete a task
/// waiting on the loop:
///
/// ```
/// use kettle::sync::oneshot;
///
/// let answer = kettle::run(async {
///     let (tx, rx) = oneshot::channel();
///     std::thread::spawn(move || {
///         let _ = tx.send(6 * 7); // computed on another thread
///     });
///     rx.await.unwrap()
/// });
/// assert_eq!(answer, 42);
/// ```
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let inner = Arc::new(Inner {
        state: AtomicUsize::new(0),
        value: UnsafeCell::new(None),
        waker: UnsafeCell::new(None),
    });
    (Sender { inner: Some(inner.clone()) }, Receiver { inner, done: false })
}

/// The value slot holds the value (set with [`DONE`], by `send`).
const SENT: usize = 1;
/// The sender is finished — it sent, or was dropped: the value slot is the
/// receiver's. Never cleared.
const DONE: usize = 2;
/// The waker slot holds the receiver's waker, for the sender to wake; set
/// and cleared only by the receiver.
const WAKER: usize = 4;
/// The receiver was dropped. Never cleared.
const GONE: usize = 8;

/// What the two halves share; see the module docs for who may touch which
/// slot when.
struct Inner<T> {
    /// [`SENT`], [`DONE`], [`WAKER`], [`GONE`].
    state: AtomicUsize,
    /// The value sent, until the receiver takes it.
    value: UnsafeCell<Option<T>>,
    /// The waker of the task awaiting the receiver.
    waker: UnsafeCell<Option<Waker>>,
}

// SAFETY: the slots are shared between threads only as the flags allow (the
// module docs): the value slot is accessed by one side at a time, handed
// over by a release/acquire pair on `state`, so a `T` moves from the
// sender's thread to the receiver's once — `T: Send` is all that needs;
// the waker slot holds a `Waker`, which is `Send + Sync`, and is only read
// by both sides at once.
unsafe impl<T: Send> Send for Inner<T> {}
// SAFETY: as for `Send`: no `&T` is ever shared, only `T` moved.
unsafe impl<T: Send> Sync for Inner<T> {}

impl<T> Inner<T> {
    /// Stores the value. Only the sender, before it sets [`DONE`].
    fn write_value(&self, value: T) {
        // SAFETY: the value slot is the sender's until it sets `DONE`, and
        // it has not: the receiver does not touch it (module docs).
        self.value.with_mut(|slot| unsafe { *slot = Some(value) });
    }

    /// Takes the value, if the slot holds one. Only the receiver once it
    /// has seen [`DONE`], or the sender that found [`GONE`] set before its
    /// `DONE`.
    fn take_value(&self) -> Option<T> {
        // SAFETY: by the callers' contract the slot is theirs alone: after
        // `DONE` the sender never touches it again; a receiver that set
        // `GONE` before `DONE` never touches it at all.
        self.value.with_mut(|slot| unsafe { (*slot).take() })
    }

    /// Wakes the stored waker, by reference. Only the sender, after it set
    /// [`DONE`] in a word that had [`WAKER`].
    fn wake_receiver(&self) {
        self.waker.with(|slot| {
            // SAFETY: with `WAKER` set when `DONE` was set, the receiver only
            // reads the slot from now on (it writes only after clearing
            // `WAKER` in a word without `DONE`): shared reads only.
            let waker = unsafe { &*slot };
            if let Some(waker) = waker {
                waker.wake_by_ref();
            }
        });
    }

    /// Whether the stored waker wakes the same task as `waker`. Only the
    /// receiver, while [`WAKER`] is set (it is then read-only).
    fn stored_waker_will_wake(&self, waker: &Waker) -> bool {
        // SAFETY: while `WAKER` is set nobody writes the slot; the sender
        // may be reading it too.
        self.waker.with(|slot| unsafe { &*slot }.as_ref().is_some_and(|stored| stored.will_wake(waker)))
    }

    /// Stores `waker`, returning the one it replaces. Only the receiver,
    /// while [`WAKER`] is clear and [`DONE`] was clear when it cleared it.
    fn replace_waker(&self, waker: &Waker) -> Option<Waker> {
        // SAFETY: with `WAKER` clear the sender does not read the slot (it
        // reads it only after setting `DONE` in a word with `WAKER`).
        self.waker.with_mut(|slot| unsafe { (*slot).replace(waker.clone()) })
    }

    /// Takes the stored waker. Only the receiver, having cleared [`WAKER`]
    /// in a word without [`DONE`].
    fn take_waker(&self) -> Option<Waker> {
        // SAFETY: as for `replace_waker`.
        self.waker.with_mut(|slot| unsafe { (*slot).take() })
    }
}

/// The sending half of a [`channel`]: sends one value, from any thread.
pub struct Sender<T> {
    /// The channel; `None` once [`send`](Sender::send) has taken it, so
    /// that the drop which follows a send knows that it has nothing to say
    /// ([`Sender::take_after_send`]).
    inner: Option<Arc<Inner<T>>>,
}

impl<T> Sender<T> {
    /// Sends `value` and wakes the receiver's task (asyncio's
    /// `future.set_result`).
    ///
    /// # Errors
    /// `Err(value)` if the receiver was dropped: nobody would ever read it.
    #[doc(alias = "set_result")]
    pub fn send(mut self, value: T) -> Result<(), T> {
        let inner = self.take_after_send();
        if inner.state.load(Ordering::Acquire) & GONE != 0 {
            return Err(value);
        }
        inner.write_value(value);
        // Release: the receiver that sees `DONE` sees the value.
        let prev = inner.state.fetch_or(SENT | DONE, Ordering::AcqRel);
        if prev & GONE != 0 {
            // The receiver went between our look and our `DONE`; it saw no
            // `DONE`, so it left the value alone: hand it back.
            return Err(inner.take_value().expect("the value was just written"));
        }
        if prev & WAKER != 0 {
            inner.wake_receiver();
        }
        Ok(())
    }

    /// Takes the channel out of a sender that is sending: whatever the send
    /// does, it finishes the sender's part, so the drop that follows has
    /// nothing to tell anyone and skips the state word. The simple version
    /// keeps the channel and lets the drop look at the word once more to
    /// find `DONE` set.
    fn take_after_send(&mut self) -> Arc<Inner<T>> {
        self.inner.take().expect("a sender is consumed by its send")
    }

    /// Whether the receiver was dropped, so that [`send`](Sender::send) would
    /// fail.
    pub fn is_closed(&self) -> bool {
        self.inner.as_ref().is_none_or(|inner| inner.state.load(Ordering::Acquire) & GONE != 0)
    }
}

impl<T> Drop for Sender<T> {
    /// Without a send, tells the receiver that no value will come.
    fn drop(&mut self) {
        let Some(inner) = &self.inner else { return }; // sent
        let prev = inner.state.fetch_or(DONE, Ordering::AcqRel);
        if prev & (WAKER | GONE) == WAKER {
            inner.wake_receiver();
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").field("is_closed", &self.is_closed()).finish()
    }
}

/// The receiving half of a [`channel`]: a future that resolves to the value
/// sent, or to [`RecvError`] if the sender was dropped without sending.
///
/// # Panics
/// If polled again after it returned.
#[must_use = "futures do nothing unless awaited"]
pub struct Receiver<T> {
    inner: Arc<Inner<T>>,
    /// The value (or the error) was returned; it cannot be returned twice.
    done: bool,
}

impl<T> Receiver<T> {
    /// Takes the value if it has been sent, without waiting.
    ///
    /// # Errors
    /// [`TryRecvError::Empty`] if nothing was sent yet;
    /// [`TryRecvError::Closed`] if the sender was dropped without sending, or
    /// the value was already taken.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        if self.inner.state.load(Ordering::Acquire) & DONE == 0 {
            return Err(TryRecvError::Empty);
        }
        match self.inner.take_value() {
            Some(value) => {
                self.done = true;
                Ok(value)
            }
            None => Err(TryRecvError::Closed),
        }
    }

    /// The result, once [`DONE`] has been seen: the value, or `RecvError`
    /// if the sender went without sending.
    fn finish(&mut self) -> Poll<Result<T, RecvError>> {
        self.done = true;
        Poll::Ready(self.inner.take_value().ok_or(RecvError))
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T, RecvError>> {
        let this = self.get_mut();
        assert!(!this.done, "oneshot::Receiver polled after it returned its result");
        let inner = &this.inner;
        let state = inner.state.load(Ordering::Acquire);
        if state & DONE != 0 {
            return this.finish();
        }
        if state & WAKER != 0 {
            // Polled again by the same task: the stored waker will do.
            if inner.stored_waker_will_wake(cx.waker()) {
                return Poll::Pending;
            }
            // Another task: take the slot back before writing it, unless the
            // sender finished meanwhile (it may be reading the slot).
            if inner.state.fetch_and(!WAKER, Ordering::AcqRel) & DONE != 0 {
                return this.finish();
            }
        }
        let replaced = inner.replace_waker(cx.waker());
        // Release: the sender that sees `WAKER` sees the waker.
        let prev = inner.state.fetch_or(WAKER, Ordering::AcqRel);
        drop(replaced); // another executor's code: with nothing held
        if prev & DONE != 0 {
            // The sender finished before it could see our waker.
            return this.finish();
        }
        Poll::Pending
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        if self.done {
            return self.forget_after_done();
        }
        // Set `GONE`; and, while the sender is not done, take the waker slot
        // back too, so that the task's waker is released now, not when the
        // sender goes.
        let update =
            |state: usize| Some(if state & DONE == 0 { (state | GONE) & !WAKER } else { state | GONE });
        let prev = match self.inner.state.fetch_update(Ordering::AcqRel, Ordering::Acquire, update) {
            Ok(prev) | Err(prev) => prev,
        };
        if prev & DONE != 0 {
            drop(self.inner.take_value()); // sent and never read
        } else if prev & WAKER != 0 {
            drop(self.inner.take_waker());
        }
    }
}

impl<T> Receiver<T> {
    /// The drop of a receiver that returned its result: nothing is left to
    /// clean up, so the state word is not touched. The value was taken; the
    /// sender is done; a waker left in its slot goes with the channel; and
    /// `GONE` would tell nobody anything, since a sender that is done never
    /// looks. The simple version sets `GONE` and looks for a value to drop.
    #[inline]
    fn forget_after_done(&mut self) {
        debug_assert!(
            self.inner.state.load(Ordering::Acquire) & DONE != 0,
            "a receiver is done only after the sender"
        );
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver").field("done", &self.done).finish_non_exhaustive()
    }
}

/// The sender was dropped without sending a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecvError;

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the oneshot sender was dropped without sending a value")
    }
}

impl Error for RecvError {}

/// Why [`Receiver::try_recv`] returned no value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TryRecvError {
    /// Nothing was sent yet.
    Empty,
    /// No value will come: the sender was dropped without sending, or the
    /// value was already taken.
    Closed,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("no value was sent yet"),
            TryRecvError::Closed => f.write_str("no value will come: the sender is gone, or it was taken"),
        }
    }
}

impl Error for TryRecvError {}
