//! The futures of a queue: [`Get`], [`Put`], [`Join`], and the [`Getter`]
//! that a `Get` and a [`QueueStream`](super::QueueStream) share.
//!
//! Each one registers in its wait list on its first pending poll, remembers
//! its key, and gives the entry back exactly once: when it completes, or in
//! `Drop`. Every `poll` and `drop` follows the same three steps — borrow the
//! state, decide and collect wakers, release the borrow, then fire — so a
//! woken waker that calls back into the queue finds it unborrowed.
//!
//! The decisions themselves live in `mod.rs` (`State::insert`,
//! `State::remove_front`); these futures only add *when* to wait.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::{Closed, Queue, State};
use crate::sync::waiters::Wakeups;

/// A getter's place in line: its entry in `getters`, while it waits. The
/// logic of [`Get`], kept apart from the queue reference so that
/// [`QueueStream`](super::QueueStream), which owns its queue handle and gets
/// one item after another, waits and cancels exactly as a `Get` does.
///
/// Whoever holds one must call [`cancel`](Getter::cancel) when it is dropped
/// (both owners do it in their `Drop`).
#[derive(Debug, Default)]
pub(super) struct Getter {
    /// Our entry in `getters`, while we wait; `None` between items.
    key: Option<usize>,
}

impl Getter {
    /// One poll of a get on `queue`: an item, `None` once the queue is
    /// closed and drained, or a place in line. Once it has returned
    /// `Ready`, the next call starts a new get.
    pub(super) fn poll<T>(&mut self, queue: &Queue<T>, cx: &Context<'_>) -> Poll<Option<T>> {
        queue.with_state(|state, wakeups| self.poll_state(state, cx, wakeups))
    }

    fn poll_state<T>(
        &mut self,
        state: &mut State<T>,
        cx: &Context<'_>,
        wakeups: &mut Wakeups,
    ) -> Poll<Option<T>> {
        match self.key {
            // Notified: an item is reserved for us and still buffered.
            Some(key) if state.getters.poll_notified(key, cx.waker()) => {
                state.getters.remove(key);
                self.key = None;
                Poll::Ready(Some(state.remove_front(wakeups)))
            }
            Some(key) if state.closed && state.items.is_empty() => {
                state.getters.remove(key);
                self.key = None;
                Poll::Ready(None)
            }
            Some(_) => Poll::Pending,
            None if state.unreserved_items() > 0 => Poll::Ready(Some(state.remove_front(wakeups))),
            None if state.closed && state.items.is_empty() => Poll::Ready(None),
            None => {
                self.key = Some(state.getters.push(cx.waker()));
                Poll::Pending
            }
        }
    }

    /// Leaves the line, if we are in it. Woken but cancelled before we ran:
    /// the item we were promised is still buffered, and the promise goes to
    /// the next getter in line — a cancelled getter never swallows an item.
    pub(super) fn cancel<T>(&mut self, queue: &Queue<T>) {
        let Some(key) = self.key.take() else { return };
        queue.with_state(|state, wakeups| {
            if state.getters.remove(key) {
                wakeups.extend(state.getters.notify_one());
            }
        });
    }
}

/// The future returned by [`Queue::get`].
#[must_use = "futures do nothing unless awaited"]
pub struct Get<'a, T> {
    queue: &'a Queue<T>,
    getter: Getter,
}

impl<'a, T> Get<'a, T> {
    pub(super) fn new(queue: &'a Queue<T>) -> Get<'a, T> {
        Get { queue, getter: Getter::default() }
    }
}

impl<T> Future for Get<'_, T> {
    type Output = Option<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut();
        this.getter.poll(this.queue, cx)
    }
}

impl<T> Drop for Get<'_, T> {
    fn drop(&mut self) {
        self.getter.cancel(self.queue);
    }
}

/// The future returned by [`Queue::put`].
#[must_use = "futures do nothing unless awaited"]
pub struct Put<'a, T> {
    queue: &'a Queue<T>,
    /// The item, until it goes into the queue or back to the caller.
    item: Option<T>,
    /// Our entry in `putters`, while we wait.
    key: Option<usize>,
}

// The item is never pinned: it is only moved in and out whole.
impl<T> Unpin for Put<'_, T> {}

impl<'a, T> Put<'a, T> {
    pub(super) fn new(queue: &'a Queue<T>, item: T) -> Put<'a, T> {
        Put { queue, item: Some(item), key: None }
    }

    fn take_item(&mut self) -> T {
        self.item.take().expect("Queue::put's future polled after it completed")
    }

    fn poll_state(
        &mut self,
        state: &mut State<T>,
        cx: &Context<'_>,
        wakeups: &mut Wakeups,
    ) -> Poll<Result<(), Closed<T>>> {
        if state.closed {
            // Even a slot granted before the close is void: the put has not
            // returned yet, so it fails like every later one (asyncio).
            if let Some(key) = self.key.take() {
                state.putters.remove(key);
            }
            return Poll::Ready(Err(Closed(self.take_item())));
        }
        match self.key {
            // Notified: a free slot is reserved for us.
            Some(key) if state.putters.poll_notified(key, cx.waker()) => {
                state.putters.remove(key);
                self.key = None;
            }
            Some(_) => return Poll::Pending,
            None if state.free_slots() > 0 => {}
            None => {
                self.key = Some(state.putters.push(cx.waker()));
                return Poll::Pending;
            }
        }
        let item = self.take_item();
        state.insert(item, wakeups);
        Poll::Ready(Ok(()))
    }
}

impl<T> Future for Put<'_, T> {
    type Output = Result<(), Closed<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Closed<T>>> {
        let this = self.get_mut();
        let queue = this.queue;
        queue.with_state(|state, wakeups| this.poll_state(state, cx, wakeups))
    }
}

impl<T> Drop for Put<'_, T> {
    /// Leaves the queue as if this put never happened; the item, if not
    /// inserted, is dropped with the future, after the state is released.
    fn drop(&mut self) {
        let Some(key) = self.key else { return };
        self.queue.with_state(|state, wakeups| {
            // Granted a slot but dropped before it ran: the slot goes to the
            // next putter in line (after a close, nobody may use it).
            if state.putters.remove(key) && !state.closed {
                wakeups.extend(state.putters.notify_one());
            }
        });
    }
}

/// The future returned by [`Queue::join`].
#[must_use = "futures do nothing unless awaited"]
pub struct Join<'a, T> {
    queue: &'a Queue<T>,
    /// Our entry in `joiners`, while we wait.
    key: Option<usize>,
}

impl<'a, T> Join<'a, T> {
    pub(super) fn new(queue: &'a Queue<T>) -> Join<'a, T> {
        Join { queue, key: None }
    }
}

impl<T> Future for Join<'_, T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let mut state = this.queue.state.borrow_mut();
        // Notified: the count reached zero after we started waiting, even if
        // a new item has been put since.
        let done = match this.key {
            Some(key) => state.joiners.poll_notified(key, cx.waker()) || state.unfinished == 0,
            None => state.unfinished == 0,
        };
        if done {
            if let Some(key) = this.key.take() {
                state.joiners.remove(key);
            }
            Poll::Ready(())
        } else {
            if this.key.is_none() {
                this.key = Some(state.joiners.push(cx.waker()));
            }
            Poll::Pending
        }
    }
}

impl<T> Drop for Join<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            // Joiners are all notified together: nothing to pass on.
            self.queue.state.borrow_mut().joiners.remove(key);
        }
    }
}
