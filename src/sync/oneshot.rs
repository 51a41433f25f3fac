//! A single value from one place to another, across threads: [`channel`]
//! (in asyncio, a `Future` whose result another party sets, or
//! `run_coroutine_threadsafe`'s `concurrent.futures.Future` the other way
//! round).
//!
//! # How it works
//!
//! Sender and receiver share an `Arc<std::sync::Mutex<State>>`: the value
//! slot, a flag per side saying it is done, and the receiver's waker. This is
//! the one primitive of `sync` that is thread-safe — the others live on the
//! loop's thread in `Rc<RefCell<_>>` — because its job is to let another
//! thread complete a task on the loop: `send` from any thread wakes the
//! waiting task, and kettle's waker carries that wake across threads (through
//! the runtime's injector, waking the loop out of `epoll_wait` if it sleeps).
//!
//! ```text
//!   Sender                       State (locked)                 Receiver (a future)
//!   send(v) ──▶ value = v; sender_done; take waker ──▶ wake ──▶ poll: take value → Ok(v)
//!   drop    ──▶ sender_done; take waker           ──▶ wake ──▶ poll: no value   → Err(RecvError)
//!                                                            ◀── drop: receiver_gone; take value
//!   send(v) after that ──▶ Err(v)
//! ```
//!
//! Every operation is a few field moves under the lock. Wakers are woken and
//! dropped, and values dropped, only after the lock is released: a waker may
//! run arbitrary code, and a value's destructor could be anything, including
//! code that touches this very channel.
//!
//! Two drops skip the lock, because they have nothing left to say: the
//! sender's after a send (`sender_done` is already set, and the send took
//! the channel out of the sender: `Sender::take_after_send`), and the
//! receiver's after it returned its result (the sender is done and took the
//! waker; nobody will read `receiver_gone`: `Receiver::forget_after_done`).
//! In a request–reply exchange that halves the locks a channel takes.
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
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

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
    let state = State { value: None, sender_done: false, receiver_gone: false, waker: None };
    let inner = Arc::new(Mutex::new(state));
    (Sender { inner: Some(inner.clone()) }, Receiver { inner, done: false })
}

struct State<T> {
    /// The value sent, until the receiver takes it.
    value: Option<T>,
    /// The sender sent, or was dropped: nothing more will come.
    sender_done: bool,
    /// The receiver was dropped: a send would go nowhere.
    receiver_gone: bool,
    /// The waker of the task awaiting the receiver, while it waits.
    waker: Option<Waker>,
}

/// Locks the state. No code panics while holding the lock, so it is never
/// poisoned in practice; if it were, the state would still be consistent.
fn lock<T>(inner: &Mutex<State<T>>) -> MutexGuard<'_, State<T>> {
    inner.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The sending half of a [`channel`]: sends one value, from any thread.
pub struct Sender<T> {
    /// The channel; `None` once [`send`](Sender::send) has taken it, so
    /// that the drop which follows a send knows, without the lock, that it
    /// has nothing to say ([`Sender::take_after_send`]).
    inner: Option<Arc<Mutex<State<T>>>>,
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
        let waker = {
            let mut state = lock(&inner);
            if state.receiver_gone {
                return Err(value);
            }
            state.value = Some(value);
            state.sender_done = true;
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// Takes the channel out of a sender that is sending: whatever the send
    /// does, it leaves the channel `sender_done` (sent, or the receiver is
    /// gone and nobody will look), so the sender's drop that follows has
    /// nothing to tell anyone and skips the lock. The simple version keeps
    /// the channel and lets the drop lock it once more to find
    /// `sender_done` set.
    fn take_after_send(&mut self) -> Arc<Mutex<State<T>>> {
        self.inner.take().expect("a sender is consumed by its send")
    }

    /// Whether the receiver was dropped, so that [`send`](Sender::send) would
    /// fail.
    pub fn is_closed(&self) -> bool {
        self.inner.as_ref().is_none_or(|inner| lock(inner).receiver_gone)
    }
}

impl<T> Drop for Sender<T> {
    /// Without a send, tells the receiver that no value will come.
    fn drop(&mut self) {
        let Some(inner) = &self.inner else { return }; // sent
        let waker = {
            let mut state = lock(inner);
            if state.sender_done {
                return;
            }
            state.sender_done = true;
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
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
    inner: Arc<Mutex<State<T>>>,
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
        let mut state = lock(&self.inner);
        match state.value.take() {
            Some(value) => {
                self.done = true;
                Ok(value)
            }
            None if state.sender_done || self.done => Err(TryRecvError::Closed),
            None => Err(TryRecvError::Empty),
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T, RecvError>> {
        let this = self.get_mut();
        assert!(!this.done, "oneshot::Receiver polled after it returned its result");
        let mut state = lock(&this.inner);
        if let Some(value) = state.value.take() {
            this.done = true;
            return Poll::Ready(Ok(value));
        }
        if state.sender_done {
            this.done = true;
            return Poll::Ready(Err(RecvError));
        }
        // Keep the latest waker: the task awaiting us may have changed. The
        // one it replaces is dropped after the lock is released, like every
        // waker here (its drop may be code that touches this channel).
        let replaced = match &mut state.waker {
            Some(waker) if waker.will_wake(cx.waker()) => None,
            slot => slot.replace(cx.waker().clone()),
        };
        drop(state);
        drop(replaced);
        Poll::Pending
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        if self.done {
            return self.forget_after_done();
        }
        let (value, waker) = {
            let mut state = lock(&self.inner);
            state.receiver_gone = true;
            (state.value.take(), state.waker.take())
        };
        // Dropped after the lock is released.
        drop((value, waker));
    }
}

impl<T> Receiver<T> {
    /// The drop of a receiver that returned its result: nothing is left to
    /// clean up, so the lock is skipped. The value was taken; the sender is
    /// done (it sent, or was dropped), and took the waker as it finished;
    /// and `receiver_gone` would tell nobody anything, since a sender that
    /// is done never looks. The simple version locks, sets `receiver_gone`,
    /// and takes a value and a waker that are both `None`.
    #[inline]
    fn forget_after_done(&mut self) {
        debug_assert!({
            let state = lock(&self.inner);
            state.value.is_none() && state.waker.is_none() && state.sender_done
        });
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
