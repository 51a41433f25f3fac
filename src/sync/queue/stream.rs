//! A queue's items one after another: [`QueueStream`] (asyncio's
//! `async for item in queue`, with `shutdown` ending the loop).
//!
//! A stream owns a handle to the queue and one [`Getter`], the place a
//! `Get` waits in, so nothing about waiting is written twice. It waits in
//! one of two ways, depending on who asks:
//!
//! - **Through [`QueueStream::next`]**, a future of its own: in line, as a
//!   `get` does — served first-in first-out, an item reserved for it when
//!   its turn comes, and the place given up (the reservation passed on)
//!   when the future is dropped.
//! - **Through [`QueueStream::poll_next`]** — what `StreamExt::next`, a
//!   `select`, and every generic stream helper call: as a *watcher*,
//!   holding no place in line. `poll_next` has no future of its own to
//!   drop, so the stream cannot tell when its caller stops waiting (a
//!   `timeout` around `StreamExt::next` that expires); a reservation kept
//!   for it could then sit unclaimed for ever while another consumer's
//!   `get` waits. A watcher is woken by every item no getter in line
//!   claims, takes one if it is still free when polled, and reserves
//!   nothing meanwhile ("As a stream" in `mod.rs`). Getters in line come
//!   first.
//!
//! With `StreamExt` in scope, `stream.next()` still names the inherent
//! [`QueueStream::next`] (inherent methods win); `StreamExt::next(&mut
//! stream)` spells out the other. Dropping the stream leaves the line, or
//! stops watching, whichever it was doing.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::Queue;
use super::futures::Getter;

/// The items of a [`Queue`], in order, until it is closed and drained; from
/// [`Queue::stream`].
///
/// It owns a handle to the queue (a clone, which changes nothing about the
/// queue: closing stays explicit), so it may outlive the `Queue` it came
/// from and be moved into a task. Several streams, and `get`s, may share a
/// queue: each item goes to one of them, first come first served.
///
/// ```
/// use kettle::sync::Queue;
///
/// kettle::run(async {
///     let queue = Queue::new();
///     let mut items = queue.stream();
///     let consumer = kettle::spawn(async move {
///         let mut seen = Vec::new();
///         while let Some(item) = items.next().await {
///             seen.push(item);
///         }
///         seen // ends once the queue is closed and empty
///     });
///     for i in 1..=3 {
///         queue.put(i).await.unwrap();
///     }
///     queue.close();
///     assert_eq!(consumer.await.unwrap(), [1, 2, 3]);
/// });
/// ```
///
/// With the `futures-core` cargo feature it is a `futures_core::Stream`,
/// so the ecosystem's stream combinators apply.
///
/// # Cancel safety
/// Dropping a [`next`](QueueStream::next) future, or the stream, takes
/// nothing: an item that was reserved for it goes to the next getter in
/// line. A stream polled through [`poll_next`](QueueStream::poll_next) and
/// then left alone holds nothing back: it reserves no item.
#[must_use = "streams do nothing unless polled"]
pub struct QueueStream<T> {
    queue: Queue<T>,
    getter: Getter,
}

impl<T> QueueStream<T> {
    pub(super) fn new(queue: Queue<T>) -> QueueStream<T> {
        QueueStream { queue, getter: Getter::default() }
    }

    /// Waits for the next item, in line with the queue's other getters;
    /// `None` once the queue is closed and drained (and again on every later
    /// call).
    ///
    /// ```
    /// use kettle::sync::Queue;
    ///
    /// kettle::run(async {
    ///     let queue = Queue::new();
    ///     queue.try_put("tea").unwrap();
    ///     queue.close();
    ///     let mut items = queue.stream();
    ///     assert_eq!(items.next().await, Some("tea"));
    ///     assert_eq!(items.next().await, None);
    /// });
    /// ```
    ///
    /// # Cancel safety
    /// Dropping the future before it completes takes nothing, and gives up
    /// the stream's place in line.
    #[expect(
        clippy::should_implement_trait,
        reason = "an async next, as StreamExt's is; Iterator's would have to block the loop"
    )]
    pub fn next(&mut self) -> Next<'_, T> {
        Next { stream: self }
    }

    /// Polls for the next item, for hand-written futures and streams: an
    /// item, `Ready(None)` once the queue is closed and drained, or
    /// `Pending` with `cx`'s waker registered.
    ///
    /// It waits without a place in line (see the module docs): `cx` is
    /// woken by each item that no `get` or [`next`](QueueStream::next)
    /// waiting in line claims, and the item goes to whoever asks first. A
    /// caller that stops polling therefore keeps no item from anyone.
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use kettle::sync::Queue;
    ///
    /// kettle::run(async {
    ///     let queue = Queue::new();
    ///     queue.try_put(1).unwrap();
    ///     let mut items = queue.stream();
    ///     assert_eq!(poll_fn(|cx| items.poll_next(cx)).await, Some(1));
    /// });
    /// ```
    pub fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.getter.poll_watching(&self.queue, cx)
    }

    /// The queue this stream takes its items from.
    pub fn queue(&self) -> &Queue<T> {
        &self.queue
    }
}

impl<T> Drop for QueueStream<T> {
    fn drop(&mut self) {
        self.getter.cancel(&self.queue);
    }
}

impl<T> std::fmt::Debug for QueueStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueueStream").field("queue", &self.queue).field("getter", &self.getter).finish()
    }
}

/// The future returned by [`QueueStream::next`].
#[must_use = "futures do nothing unless awaited"]
pub struct Next<'a, T> {
    stream: &'a mut QueueStream<T>,
}

impl<T> Future for Next<'_, T> {
    type Output = Option<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let stream = &mut *self.get_mut().stream;
        stream.getter.poll(&stream.queue, cx)
    }
}

impl<T> Drop for Next<'_, T> {
    /// A `next` cancelled mid-wait leaves the line like a dropped `get`
    /// (after it completed, there is no place to give up). A wait the
    /// stream holds through `poll_next` is not the future's to give up: a
    /// `next` dropped before its first poll leaves it alone.
    fn drop(&mut self) {
        let stream = &mut *self.stream;
        stream.getter.cancel_in_line(&stream.queue);
    }
}

impl<T> std::fmt::Debug for Next<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Next").field("stream", &self.stream).finish()
    }
}
