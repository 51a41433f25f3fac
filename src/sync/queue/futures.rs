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

/// A getter's place: its entry in `getters` while it waits in line, or in
/// `watchers` while a stream waits through `poll_next`. The logic of
/// [`Get`], kept apart from the queue reference so that
/// [`QueueStream`](super::QueueStream), which owns its queue handle and gets
/// one item after another, waits and cancels exactly as a `Get` does.
///
/// Whoever holds one must call [`cancel`](Getter::cancel) when it is dropped
/// (both owners do it in their `Drop`).
#[derive(Debug, Default)]
pub(super) struct Getter {
    /// Where we wait, if we do; `None` between items.
    place: Option<Place>,
}

/// Which list a [`Getter`] waits in, and its key there.
#[derive(Clone, Copy, Debug)]
enum Place {
    /// In line (`getters`): served first-in first-out, a notification
    /// reserves an item.
    InLine(usize),
    /// Watching (`watchers`): woken by free items, reserving none.
    Watching(usize),
}

impl Getter {
    /// One poll of a get on `queue`, in line: an item, `None` once the queue
    /// is closed and drained, or a place in line. Once it has returned
    /// `Ready`, the next call starts a new get.
    pub(super) fn poll<T>(&mut self, queue: &Queue<T>, cx: &Context<'_>) -> Poll<Option<T>> {
        if self.place.is_none()
            && let Some(item) = queue.with_state_quietly(State::take_without_waking)
        {
            return Poll::Ready(Some(item));
        }
        queue.with_state(|state, wakeups| {
            if let Some(Place::Watching(_)) = self.place {
                self.leave(state, wakeups);
            }
            self.poll_in_line(state, cx, wakeups)
        })
    }

    /// One poll of a get that holds no place in line (a stream's
    /// `poll_next`; see "As a stream" in `mod.rs`): a free item, `None` once
    /// the queue is closed and drained, or a watcher's entry.
    pub(super) fn poll_watching<T>(&mut self, queue: &Queue<T>, cx: &Context<'_>) -> Poll<Option<T>> {
        queue.with_state(|state, wakeups| {
            match self.place {
                Some(Place::InLine(_)) => self.leave(state, wakeups),
                // Still waiting, not woken: nothing can be free (the
                // invariant), so just keep the latest waker.
                Some(Place::Watching(key)) if !state.watchers.poll_notified(key, cx.waker(), wakeups) => {
                    return Poll::Pending;
                }
                Some(Place::Watching(_)) => self.leave(state, wakeups), // woken: look again
                None => {}
            }
            if state.unreserved_items() > 0 {
                Poll::Ready(Some(state.remove_front(wakeups)))
            } else if state.closed && state.items.is_empty() {
                Poll::Ready(None)
            } else {
                self.place = Some(Place::Watching(state.watchers.push(cx.waker())));
                Poll::Pending
            }
        })
    }

    fn poll_in_line<T>(
        &mut self,
        state: &mut State<T>,
        cx: &Context<'_>,
        wakeups: &mut Wakeups,
    ) -> Poll<Option<T>> {
        match self.place {
            // Notified: an item is reserved for us and still buffered.
            Some(Place::InLine(key)) if state.getters.poll_notified(key, cx.waker(), wakeups) => {
                state.getters.remove(key, wakeups);
                self.place = None;
                Poll::Ready(Some(state.remove_front(wakeups)))
            }
            Some(Place::InLine(key)) if state.closed && state.items.is_empty() => {
                state.getters.remove(key, wakeups);
                self.place = None;
                Poll::Ready(None)
            }
            Some(_) => Poll::Pending,
            None if state.unreserved_items() > 0 => Poll::Ready(Some(state.remove_front(wakeups))),
            None if state.closed && state.items.is_empty() => Poll::Ready(None),
            None => {
                self.place = Some(Place::InLine(state.getters.push(cx.waker())));
                Poll::Pending
            }
        }
    }

    /// Leaves the line, or stops watching, if we wait at all. Woken in line
    /// but cancelled before we ran: the item we were promised is still
    /// buffered, and it is offered on — to the next getter in line, or to
    /// the watchers — so a cancelled getter never swallows an item. A
    /// watcher's wake-up promised nothing: there is nothing to pass on.
    ///
    /// Inline, and the leaving itself out of line, so that the drop of
    /// every get that completed stays one test.
    #[inline]
    pub(super) fn cancel<T>(&mut self, queue: &Queue<T>) {
        if self.place.is_some() {
            self.cancel_waiting(queue);
        }
    }

    /// As [`cancel`](Getter::cancel), but only a place in line: what a
    /// [`Next`](super::Next) future gives up when dropped. A wait through
    /// `poll_next` is the stream's, not the future's: an unpolled `next()`
    /// that is dropped leaves it in place.
    #[inline]
    pub(super) fn cancel_in_line<T>(&mut self, queue: &Queue<T>) {
        if let Some(Place::InLine(_)) = self.place {
            self.cancel_waiting(queue);
        }
    }

    #[inline(never)]
    fn cancel_waiting<T>(&mut self, queue: &Queue<T>) {
        queue.with_state(|state, wakeups| self.leave(state, wakeups));
    }

    fn leave<T>(&mut self, state: &mut State<T>, wakeups: &mut Wakeups) {
        match self.place.take() {
            Some(Place::InLine(key)) => {
                let notified = state.getters.remove(key, wakeups);
                if notified {
                    state.offer(wakeups); // a reservation unused: the item is free again
                }
            }
            Some(Place::Watching(key)) => {
                state.watchers.remove(key, wakeups);
            }
            None => {}
        }
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
                state.putters.remove(key, wakeups);
            }
            return Poll::Ready(Err(Closed(self.take_item())));
        }
        match self.key {
            // Notified: a free slot is reserved for us.
            Some(key) if state.putters.poll_notified(key, cx.waker(), wakeups) => {
                state.putters.remove(key, wakeups);
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

    /// A put dropped while in line, at `key`, leaves it. Out of line, so that
    /// the drop of every put that completed stays one test.
    #[inline(never)]
    fn leave_line(&self, key: usize) {
        self.queue.with_state(|state, wakeups| {
            // Granted a slot but dropped before it ran: the slot goes to the
            // next putter in line (after a close, nobody may use it).
            if state.putters.remove(key, wakeups) && !state.closed {
                wakeups.extend(state.putters.notify_one());
            }
        });
    }
}

impl<T> Future for Put<'_, T> {
    type Output = Result<(), Closed<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Closed<T>>> {
        let this = self.get_mut();
        let queue = this.queue;
        if this.key.is_none() {
            let item = this.take_item();
            match queue.with_state_quietly(|state| state.put_without_waking(item)) {
                Ok(()) => return Poll::Ready(Ok(())),
                Err(item) => this.item = Some(item),
            }
        }
        queue.with_state(|state, wakeups| this.poll_state(state, cx, wakeups))
    }
}

impl<T> Drop for Put<'_, T> {
    /// Leaves the queue as if this put never happened; the item, if not
    /// inserted, is dropped with the future, after the state is released.
    fn drop(&mut self) {
        if let Some(key) = self.key {
            self.leave_line(key);
        }
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
        this.queue.with_state(|state, wakeups| {
            // Notified: the count reached zero after we started waiting, even
            // if a new item has been put since.
            let done = match this.key {
                Some(key) => state.joiners.poll_notified(key, cx.waker(), wakeups) || state.unfinished == 0,
                None => state.unfinished == 0,
            };
            if done {
                if let Some(key) = this.key.take() {
                    state.joiners.remove(key, wakeups);
                }
                Poll::Ready(())
            } else {
                if this.key.is_none() {
                    this.key = Some(state.joiners.push(cx.waker()));
                }
                Poll::Pending
            }
        })
    }
}

impl<T> Drop for Join<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            // Joiners are all notified together: nothing to pass on.
            self.queue.with_state(|state, wakeups| state.joiners.remove(key, wakeups));
        }
    }
}
