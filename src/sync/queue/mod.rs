//! A FIFO queue between tasks: [`Queue`] (asyncio's `Queue`).
//!
//! # How it works
//!
//! One `Rc<RefCell<State>>` per queue; a [`Queue`] is a handle to it. The
//! state holds the buffer of items and four [`WaitList`]s — getters waiting
//! for an item, putters waiting for room, joiners waiting for `task_done`,
//! and *watchers*: streams waiting through `poll_next`, which hold no place
//! in line ("As a stream", below).
//!
//! **Items always live in the buffer.** A `put` never hands its item to a
//! getter directly; it pushes it and *notifies* the first waiting getter,
//! which then holds a token meaning "one of the buffered items is reserved
//! for you". Likewise a `get` that frees a slot of a bounded queue notifies
//! the first waiting putter: "one free slot is reserved for you". So:
//!
//! ```text
//!   reserved items = getters.notified()     (≤ items.len())
//!   reserved slots = putters.notified()     (items.len() + reserved slots ≤ capacity)
//!   a newcomer may take an item   only if items.len()  >  reserved items
//!   a newcomer may put an item    only if free slots   >  0 (after reservations)
//! ```
//!
//! The reservations are what make the queue FIFO-fair: between a getter being
//! woken and it running, a `try_get` or a new `get` sees the item as taken and
//! cannot jump the line; the same holds for putters and free slots. And since
//! every put notifies a getter when one waits, getters only wait while every
//! buffered item is reserved — the invariant `debug_check` asserts.
//!
//! # The quiet path
//!
//! In a busy queue most puts and gets wake nobody: a put finds no getter
//! waiting (the consumer is busy, or already woken), a get frees a slot no
//! putter waits for. Those two go straight to the buffer under one borrow
//! (`State::put_without_waking`, `State::take_without_waking`) and never
//! build the list of wakers to fire; anything else — a waiter to notify, a
//! closed queue, a future already in line — takes the full path, which
//! decides as above. The quiet path is the full path with nobody to wake,
//! so it needs no rule of its own: `tests/queue_model.rs` checks the two
//! against a ledger in seeded random workloads.
//!
//! # Cancel safety
//!
//! A future can be dropped at any `.await` point; at each one, nothing is lost:
//!
//! - a `get` that waits and is dropped only leaves the FIFO;
//! - a `get` that was notified and is dropped before it ran took nothing — the
//!   item is still in the buffer — and passes its reservation on to the next
//!   waiting getter (or, if there is none, frees it for anyone);
//! - a `put` dropped while waiting never inserted its item: it is dropped with
//!   the future, the queue is unchanged;
//! - a `put` that was granted a slot and is dropped passes the slot on to the
//!   next waiting putter.
//!
//! # Closing
//!
//! [`Queue::close`] is asyncio's `shutdown()` (not `immediate`): from then on
//! every `put` fails and hands its item back, including putters already
//! waiting or granted a slot — their `put` had not returned yet. Getters
//! drain what is buffered, then get `None`. A getter waiting at close time
//! keeps its place: it is served from the buffer if a reservation is passed
//! to it, and gets `None` when the last item is gone.
//!
//! # As a stream
//!
//! [`Queue::stream`] gives a [`QueueStream`]: a `get` that starts again
//! after each item, ending — `None` — exactly where the `while let` loop
//! above ends, once the queue is closed and drained. Its
//! [`next`](QueueStream::next) future waits through the same getter code
//! as `get` (`futures.rs`), so all of the above holds for it too.
//!
//! Its `poll_next` — what `StreamExt::next` and every generic stream
//! combinator call — cannot hold a place in line: no future of its own is
//! dropped when its caller stops waiting (a `timeout` around
//! `StreamExt::next` that expires, say), so a reservation made for it could
//! sit unclaimed for ever while other getters wait. So a stream waiting
//! there is a *watcher*: it reserves nothing, and is woken — with every
//! other watcher — by each item no getter in line claims. A watcher that is
//! polled again takes such an item if one is still free, and otherwise
//! waits again. Getters in line are served first; an item goes to a
//! watcher only when no getter waits (async-channel treats its streams the
//! same way). So:
//!
//! ```text
//!   watchers only wait while every buffered item is reserved
//! ```
//!
//! and an item becomes free in three ways, each of which wakes the
//! watchers when no getter is in line to take it: a put, a notified getter
//! dropped with nobody after it in line, and the close of an empty queue
//! (`State::offer`).

mod error;
mod futures;
mod stream;

pub use error::{Closed, TryGetError, TryPutError};
pub use futures::{Get, Join, Put};
pub use stream::{Next, QueueStream};

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::rc::Rc;

use super::waiters::{WaitList, Wakeups};

/// A first-in first-out queue for passing items between tasks on one loop
/// (asyncio's `Queue`).
///
/// `Queue` is a cheap [`Clone`] handle: every clone names the same queue.
/// Like asyncio's, it is not thread-safe (`!Send`); to reach a loop from
/// another thread use a [`oneshot`](super::oneshot) channel or a
/// [`Handle`](crate::Handle).
///
/// ```
/// use kettle::sync::Queue;
///
/// let total = kettle::run(async {
///     let queue = Queue::bounded(2);
///     let producer = kettle::spawn({
///         let queue = queue.clone();
///         async move {
///             for i in 1..=10 {
///                 queue.put(i).await.unwrap(); // waits while two are buffered
///             }
///             queue.close();
///         }
///     });
///     let mut total = 0;
///     while let Some(i) = queue.get().await {
///         total += i;
///     }
///     producer.await.unwrap();
///     total
/// });
/// assert_eq!(total, 55);
/// ```
#[doc(alias = "asyncio.Queue")]
pub struct Queue<T> {
    state: Rc<RefCell<State<T>>>,
}

struct State<T> {
    items: VecDeque<T>,
    /// `None`: unbounded.
    capacity: Option<usize>,
    /// Set once by `close`; never cleared.
    closed: bool,
    /// Items put and not yet marked done with `task_done`.
    unfinished: usize,
    /// Waiting `get`s; a notified one holds a reserved item.
    getters: WaitList,
    /// Streams waiting through `poll_next`: woken, all of them, by an item
    /// no getter claims; a notification reserves nothing.
    watchers: WaitList,
    /// Waiting `put`s; a notified one holds a reserved free slot.
    putters: WaitList,
    /// Waiting `join`s; notified when `unfinished` reaches zero.
    joiners: WaitList,
}

impl<T> State<T> {
    /// Free slots not promised to a notified putter.
    fn free_slots(&self) -> usize {
        match self.capacity {
            None => usize::MAX,
            Some(capacity) => capacity - self.items.len() - self.putters.notified(),
        }
    }

    /// Buffered items not promised to a notified getter.
    fn unreserved_items(&self) -> usize {
        self.items.len() - self.getters.notified()
    }

    /// Buffers `item` at once when that wakes nobody — the queue is open, a
    /// slot is free, and no getter or stream waits for an item — and hands
    /// it back otherwise, for the full path. The common put of a busy queue.
    /// The simple version is [`insert`](State::insert) under
    /// [`Queue::with_state`], collecting wakers even when there are none.
    #[inline]
    fn put_without_waking(&mut self, item: T) -> Result<(), T> {
        if self.closed || self.free_slots() == 0 || !self.getters.is_empty() || !self.watchers.is_empty() {
            return Err(item);
        }
        self.items.push_back(item);
        self.unfinished += 1;
        Ok(())
    }

    /// Takes the front item at once when that wakes nobody — the queue is
    /// open, an unreserved item is buffered, and no putter waits for the
    /// slot it frees — and `None` otherwise, for the full path. The common
    /// get of a busy queue. The simple version is
    /// [`remove_front`](State::remove_front) under [`Queue::with_state`],
    /// collecting wakers even when there are none.
    #[inline]
    fn take_without_waking(&mut self) -> Option<T> {
        if self.closed || self.unreserved_items() == 0 || !self.putters.is_empty() {
            return None;
        }
        self.items.pop_front()
    }

    /// Buffers `item` and offers it ([`offer`](State::offer)).
    fn insert(&mut self, item: T, wakeups: &mut Wakeups) {
        self.items.push_back(item);
        self.unfinished += 1;
        self.offer(wakeups);
    }

    /// A buffered item has become free (put, or given up by a notified
    /// getter): the first getter in line gets a reservation for it; with
    /// nobody in line, every watching stream is woken to come and look.
    fn offer(&mut self, wakeups: &mut Wakeups) {
        match self.getters.notify_one() {
            Some(getter) => wakeups.push(getter),
            None => self.wake_watchers(wakeups),
        }
    }

    /// Wakes every stream waiting through `poll_next`, if any. Out of line:
    /// the common queue has none, and pays one test.
    #[inline]
    fn wake_watchers(&mut self, wakeups: &mut Wakeups) {
        if !self.watchers.is_empty() {
            self.wake_each_watcher(wakeups);
        }
    }

    #[cold]
    #[inline(never)]
    fn wake_each_watcher(&mut self, wakeups: &mut Wakeups) {
        self.watchers.notify_all(wakeups);
    }

    /// Takes the front item (for a getter holding a reservation, or a newcomer
    /// that found an unreserved one) and hands the freed slot to the first
    /// waiting putter.
    fn remove_front(&mut self, wakeups: &mut Wakeups) -> T {
        let item = self.items.pop_front().expect("a getter only takes an item that is buffered");
        if !self.closed {
            // Unbounded queues have no putters: this finds nobody.
            wakeups.extend(self.putters.notify_one());
        } else if self.items.is_empty() {
            // Closed and drained: getters still waiting will get `None`.
            self.getters.wake_all(wakeups);
            self.wake_watchers(wakeups);
        }
        item
    }

    /// The invariants of the module docs.
    fn debug_check(&self) {
        debug_assert!(self.getters.notified() <= self.items.len(), "reserved items are buffered");
        if let Some(capacity) = self.capacity {
            debug_assert!(
                self.items.len() + self.putters.notified() <= capacity,
                "buffered items and reserved slots fit in the capacity"
            );
        }
        debug_assert!(
            self.getters.is_empty() || self.unreserved_items() == 0,
            "getters only wait while every buffered item is reserved"
        );
        debug_assert!(
            self.watchers.is_empty() || self.unreserved_items() == 0,
            "watchers only wait while every buffered item is reserved"
        );
        debug_assert!(
            self.putters.is_empty() || self.closed || self.free_slots() == 0,
            "putters only wait while every free slot is reserved"
        );
    }
}

impl<T> Queue<T> {
    /// An unbounded queue: `put` never waits (asyncio's `Queue()`).
    pub fn new() -> Queue<T> {
        Queue::with_capacity(None)
    }

    /// A queue holding at most `capacity` items: `put` waits while it is full
    /// (asyncio's `Queue(maxsize)`).
    ///
    /// # Panics
    /// If `capacity` is 0, which could never hold an item.
    #[track_caller]
    pub fn bounded(capacity: usize) -> Queue<T> {
        assert!(
            capacity > 0,
            "Queue::bounded(0): a queue needs room for at least one item \
             (asyncio's maxsize=0 means unbounded: use Queue::new())"
        );
        Queue::with_capacity(Some(capacity))
    }

    fn with_capacity(capacity: Option<usize>) -> Queue<T> {
        let state = State {
            items: VecDeque::new(),
            capacity,
            closed: false,
            unfinished: 0,
            getters: WaitList::new(),
            watchers: WaitList::new(),
            putters: WaitList::new(),
            joiners: WaitList::new(),
        };
        Queue { state: Rc::new(RefCell::new(state)) }
    }

    /// Puts `item` at the back of the queue, waiting while it is full.
    ///
    /// Putters that wait are served in the order they started waiting.
    ///
    /// # Errors
    /// [`Closed`], holding `item`, if the queue is closed before the item
    /// could go in.
    ///
    /// # Cancel safety
    /// Dropping the future before it completes inserts nothing.
    pub fn put(&self, item: T) -> Put<'_, T> {
        Put::new(self, item)
    }

    /// Takes the item at the front of the queue, waiting while it is empty;
    /// `None` once the queue is closed and drained, so that
    /// `while let Some(item) = queue.get().await` is asyncio's `async for`.
    ///
    /// Getters that wait are served in the order they started waiting.
    ///
    /// # Cancel safety
    /// Dropping the future before it completes takes nothing: an item that
    /// was reserved for it goes to the next getter.
    pub fn get(&self) -> Get<'_, T> {
        Get::new(self)
    }

    /// The items of the queue, one after another, until it is
    /// [closed](Queue::close) and drained: asyncio's `async for item in
    /// queue` once the queue is shut down. The stream holds its own handle
    /// to the queue, so it may be moved into a task or returned.
    ///
    /// ```
    /// use kettle::sync::Queue;
    ///
    /// let total = kettle::run(async {
    ///     let queue = Queue::bounded(2);
    ///     let mut items = queue.stream();
    ///     let summer = kettle::spawn(async move {
    ///         let mut total = 0;
    ///         while let Some(i) = items.next().await {
    ///             total += i;
    ///         }
    ///         total
    ///     });
    ///     for i in 1..=10 {
    ///         queue.put(i).await.unwrap();
    ///     }
    ///     queue.close(); // the stream ends once the last item is taken
    ///     summer.await.unwrap()
    /// });
    /// assert_eq!(total, 55);
    /// ```
    ///
    /// With the `futures-core` cargo feature, [`QueueStream`] is a
    /// `futures_core::Stream`.
    ///
    /// # Cancel safety
    /// As [`get`](Queue::get)'s: dropping the stream, or a
    /// [`next`](QueueStream::next) future, takes nothing.
    #[doc(alias = "async for")]
    pub fn stream(&self) -> QueueStream<T> {
        QueueStream::new(self.clone())
    }

    /// Runs `f` on the queue's state, checks the invariants, releases the
    /// borrow, and only then fires the wakers `f` collected — the way this
    /// module changes its state (collect, release, then fire).
    fn with_state<R>(&self, f: impl FnOnce(&mut State<T>, &mut Wakeups) -> R) -> R {
        let mut wakeups = Wakeups::new();
        let result = {
            let mut state = self.state.borrow_mut();
            let result = f(&mut state, &mut wakeups);
            state.debug_check();
            result
        };
        wakeups.fire();
        result
    }

    /// Runs `f`, which wakes nobody, on the queue's state and checks the
    /// invariants: how the fast paths that wake nobody
    /// ([`State::put_without_waking`], [`State::take_without_waking`]) get
    /// in. The simple version is [`with_state`](Queue::with_state), and an
    /// empty `Wakeups` to fire.
    #[inline]
    fn with_state_quietly<R>(&self, f: impl FnOnce(&mut State<T>) -> R) -> R {
        let mut state = self.state.borrow_mut();
        let result = f(&mut state);
        state.debug_check();
        result
    }

    /// Puts `item` if there is room now (asyncio's `put_nowait`). Room that was
    /// promised to a waiting putter is not room.
    ///
    /// # Errors
    /// [`TryPutError::Full`] or [`TryPutError::Closed`], with `item`.
    #[doc(alias = "put_nowait")]
    pub fn try_put(&self, item: T) -> Result<(), TryPutError<T>> {
        self.with_state(|state, wakeups| {
            if state.closed {
                Err(TryPutError::Closed(item))
            } else if state.free_slots() == 0 {
                Err(TryPutError::Full(item))
            } else {
                state.insert(item, wakeups);
                Ok(())
            }
        })
    }

    /// Takes the front item if one is available now (asyncio's
    /// `get_nowait`). An item reserved for a waiting getter is not available.
    ///
    /// # Errors
    /// [`TryGetError::Empty`] if no item is available, [`TryGetError::Closed`]
    /// if the queue is closed and drained.
    #[doc(alias = "get_nowait")]
    pub fn try_get(&self) -> Result<T, TryGetError> {
        self.with_state(|state, wakeups| {
            if state.unreserved_items() > 0 {
                Ok(state.remove_front(wakeups))
            } else if state.closed && state.items.is_empty() {
                Err(TryGetError::Closed)
            } else {
                Err(TryGetError::Empty)
            }
        })
    }

    /// Number of items buffered, including items already reserved for a
    /// woken getter that has not run yet (asyncio's `qsize`).
    #[doc(alias = "qsize")]
    pub fn len(&self) -> usize {
        self.state.borrow().items.len()
    }

    /// Whether no item is buffered (asyncio's `empty`).
    #[doc(alias = "empty")]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the queue is bounded and holds `capacity` items (asyncio's
    /// `full`).
    #[doc(alias = "full")]
    pub fn is_full(&self) -> bool {
        let state = self.state.borrow();
        state.capacity.is_some_and(|capacity| state.items.len() >= capacity)
    }

    /// The bound given to [`Queue::bounded`]; `None` if unbounded (asyncio's
    /// `maxsize`).
    #[doc(alias = "maxsize")]
    pub fn capacity(&self) -> Option<usize> {
        self.state.borrow().capacity
    }

    /// Marks one item taken from the queue as processed (asyncio's
    /// `task_done`). When every item ever put has been marked done, every
    /// [`join`](Queue::join) waiting completes.
    ///
    /// # Panics
    /// If called more times than items were put.
    #[track_caller]
    pub fn task_done(&self) {
        self.with_state(|state, wakeups| {
            assert!(
                state.unfinished > 0,
                "Queue::task_done called more times than items were put into the queue"
            );
            state.unfinished -= 1;
            if state.unfinished == 0 {
                state.joiners.notify_all(wakeups);
            }
        });
    }

    /// Waits until every item put has been marked done with
    /// [`task_done`](Queue::task_done) (asyncio's `join`). Completes at once if
    /// there is none.
    ///
    /// A join that saw the count reach zero completes even if a new item is
    /// put before it runs, as asyncio's does.
    pub fn join(&self) -> Join<'_, T> {
        Join::new(self)
    }

    /// Closes the queue (asyncio's `shutdown()`): puts fail from now on and
    /// hand their item back, putters already waiting too; getters drain the
    /// remaining items, then get `None`. Closing twice does nothing.
    #[doc(alias = "shutdown")]
    pub fn close(&self) {
        self.with_state(|state, wakeups| {
            if state.closed {
                return;
            }
            state.closed = true;
            // Wake without notifying: no reservation is handed out, each
            // waiter looks at the closed queue and leaves.
            state.putters.wake_all(wakeups);
            if state.items.is_empty() {
                state.getters.wake_all(wakeups);
                state.wake_watchers(wakeups);
            }
        });
    }

    /// Whether [`close`](Queue::close) was called.
    #[doc(alias = "is_shutdown")]
    pub fn is_closed(&self) -> bool {
        self.state.borrow().closed
    }
}

impl<T> Clone for Queue<T> {
    /// Another handle to the same queue.
    fn clone(&self) -> Queue<T> {
        Queue { state: self.state.clone() }
    }
}

impl<T> Default for Queue<T> {
    /// An unbounded queue.
    fn default() -> Queue<T> {
        Queue::new()
    }
}

impl<T> fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.borrow();
        f.debug_struct("Queue")
            .field("len", &state.items.len())
            .field("capacity", &state.capacity)
            .field("closed", &state.closed)
            .field("unfinished", &state.unfinished)
            .field("waiting_getters", &state.getters.waiting())
            .field("waiting_streams", &state.watchers.waiting())
            .field("waiting_putters", &state.putters.waiting())
            .finish()
    }
}
