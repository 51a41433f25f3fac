//! `futures_core::Stream` for kettle's types that yield one item after
//! another (cargo feature `futures-core`), so the ecosystem's stream
//! combinators — `StreamExt::next`, `map`, `take`, `collect`, `select` —
//! work on them.
//!
//! # One poll method, two doors
//!
//! Every type here already has an inherent poll method, usable without the
//! feature: [`Interval::poll_tick`], [`QueueStream::poll_next`]. Each
//! `Stream` impl is one line that calls it, so the feature adds a trait and
//! no behaviour: what the inherent method documents (when a tick is due,
//! when the queue's stream ends, what a cancelled wait gives back) is what
//! the stream does.
//!
//! | type             | item      | ends                               |
//! |------------------|-----------|------------------------------------|
//! | [`Interval`]     | `Instant`, the tick's scheduled time | never     |
//! | [`QueueStream`]  | `T`       | when the queue is closed and drained |
//!
//! Every impl is also a `FusedStream`: an interval is never terminated, a
//! queue's stream is once its queue is closed and drained (polling it again
//! returns `None` again, it does not panic).
//!
//! # To come
//!
//! Two more streams belong here, each added with the work on its type
//! (the issue "Streams and conveniences" lists all four):
//!
//! - the connections of a listener, `TcpListener::incoming()` and
//!   `UnixListener::incoming()` — added with `TcpListener::poll_accept` and
//!   Unix sockets in `net/`; one item per accepted connection (or accept
//!   error), never ending;
//! - `Signal` — added with `Signal::poll_recv` in `signal.rs`; one item per
//!   delivery `poll_recv` reports, never ending.
//!
//! Each will be, like the two above, a one-line impl over its type's poll
//! method, a row in the table, and a test in `tests/streams.rs` and in
//! `benches/tests/streams.rs`.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use futures_core::Stream;
use futures_core::stream::FusedStream;

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
