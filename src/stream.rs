//! `futures_core::Stream` for kettle's types that yield one item after
//! another (cargo feature `futures-core`), so the ecosystem's stream
//! combinators — `StreamExt::next`, `map`, `take`, `collect`, `select` —
//! work on them.
//!
//! # One poll method, two doors
//!
//! Every type here already has an inherent poll method, usable without the
//! feature: [`Interval::poll_tick`], [`QueueStream::poll_next`],
//! [`Incoming::poll_next`], [`Signal::poll_recv`]. Each
//! `Stream` impl is one line that calls it, so the feature adds a trait and
//! no behaviour: what the inherent method documents (when a tick is due,
//! when the queue's stream ends, what a cancelled wait gives back) is what
//! the stream does.
//!
//! | type             | item      | ends                               |
//! |------------------|-----------|------------------------------------|
//! | [`Interval`]     | `Instant`, the tick's scheduled time | never     |
//! | [`QueueStream`]  | `T`       | when the queue is closed and drained |
//! | [`Incoming`] (`TcpListener::incoming()`), [`UnixIncoming`] | `io::Result` of a connection | never |
//! | [`Signal`]       | `()`, once per batch of deliveries | never |
//! | [`ReadDir`]      | `io::Result<DirEntry>` | after the last entry |
//!
//! Every impl is also a `FusedStream`: an interval, a listener's
//! connections and a signal's deliveries are never terminated, a queue's
//! stream is once its queue is closed and drained (polling it again returns
//! `None` again, it does not panic).
//!
//! The listeners' and the signal's poll methods keep only the waker of the
//! latest poll, as every poll-level method of kettle does: one task should
//! drive each such stream. (Their inherent `next`/`recv`, which wait with an
//! entry of their own, may be raced freely.)
//!
//! [`UnixIncoming`]: crate::net::unix::Incoming

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use futures_core::Stream;
use futures_core::stream::FusedStream;

use std::io;

use crate::fs::{DirEntry, ReadDir};
use crate::net::unix::Incoming as UnixIncoming;
use crate::net::{Incoming, TcpStream, UnixStream};
use crate::signal::Signal;
use crate::sync::QueueStream;
use crate::time::Interval;

impl Stream for Interval {
    type Item = Instant;

    /// [`Interval::poll_tick`]; never `None`.
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Instant>> {
        self.get_mut().poll_tick(cx).map(Some)
    }
}

impl FusedStream for Interval {
    /// An interval ticks forever.
    fn is_terminated(&self) -> bool {
        false
    }
}

impl<T> Stream for QueueStream<T> {
    type Item = T;

    /// [`QueueStream::poll_next`]: `None` once the queue is closed and
    /// drained.
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        QueueStream::poll_next(self.get_mut(), cx)
    }
}

impl<T> FusedStream for QueueStream<T> {
    /// Whether the queue is closed and drained: no item will ever come.
    fn is_terminated(&self) -> bool {
        self.queue().is_closed() && self.queue().is_empty()
    }
}

impl Stream for Incoming<'_> {
    type Item = io::Result<TcpStream>;

    /// [`Incoming::poll_next`]: each accepted connection, or an accept
    /// error; never `None`.
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<io::Result<TcpStream>>> {
        Incoming::poll_next(self, cx)
    }
}

impl FusedStream for Incoming<'_> {
    /// A listener accepts for as long as it lives.
    fn is_terminated(&self) -> bool {
        false
    }
}

impl Stream for UnixIncoming<'_> {
    type Item = io::Result<UnixStream>;

    /// [`UnixIncoming::poll_next`]: each accepted connection, or an accept
    /// error; never `None`.
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<io::Result<UnixStream>>> {
        UnixIncoming::poll_next(self, cx)
    }
}

impl FusedStream for UnixIncoming<'_> {
    /// A listener accepts for as long as it lives.
    fn is_terminated(&self) -> bool {
        false
    }
}

impl Stream for Signal {
    type Item = ();

    /// [`Signal::poll_recv`]: one `()` per batch of deliveries since the
    /// last item. `None` only if the runtime refused to register the
    /// signal's pipe; the next poll tries again.
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<()>> {
        self.get_mut().poll_recv(cx)
    }
}

impl FusedStream for Signal {
    /// A signal can always come again.
    fn is_terminated(&self) -> bool {
        false
    }
}

impl Stream for ReadDir {
    type Item = io::Result<DirEntry>;

    /// [`ReadDir::poll_next_entry`]; `None` after the last entry.
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<io::Result<DirEntry>>> {
        self.get_mut().poll_next_entry(cx).map(Result::transpose)
    }
}

impl FusedStream for ReadDir {
    /// After the last entry was handed out.
    fn is_terminated(&self) -> bool {
        self.is_exhausted()
    }
}
