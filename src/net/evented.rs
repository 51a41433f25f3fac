//! A mio socket registered with the runtime: [`Evented`], and the one future
//! every socket operation is, [`Io`] (or, for a stream's bytes, [`Transfer`]).
//!
//! `Evented` owns a mio source and its [`Registration`]: it registers once,
//! when the socket is created, and deregisters when dropped, before the
//! socket closes. Each operation (`accept`, `send_to`, ...) is an [`Io`]
//! future: "when the socket is ready in this direction, try this
//! non-blocking call; on `WouldBlock` forget that readiness and wait again".
//! A stream's reads and writes are the same step with two rules for byte
//! counts, a [`Transfer`]: an empty buffer is done at once, and a short
//! transfer clears readiness.
//!
//! Either owns its own entry in the registration's waiter list while it
//! waits, and gives it back when it completes or is dropped — a read
//! cancelled by a timeout, say — so that no stale waker stays behind, the
//! socket stays usable by the next operation, and other operations waiting
//! on the same socket, even in the same task, keep their own entries.
//!
//! The poll-level forms (`poll_io`, `poll_ready`) are the same step without
//! a future: they wait in the direction's poll slot, which keeps only the
//! latest poll's waker. The try forms (`try_io`) never wait.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::runtime::reactor::registration::Registration;
use crate::runtime::reactor::{Direction, WaitSlot};

/// A mio source registered with the current runtime's reactor.
pub(crate) struct Evented<S: mio::event::Source> {
    /// `None` only after [`into_source`](Evented::into_source) took it out,
    /// on the way to being dropped (tokio's `PollEvented` does the same).
    source: Option<S>,
    registration: Registration,
}

impl<S: mio::event::Source> Evented<S> {
    /// Registers `source` for `interest`.
    ///
    /// # Panics
    /// Outside a runtime (`what` names the caller in the message).
    #[track_caller]
    pub(crate) fn new(what: &str, mut source: S, interest: mio::Interest) -> io::Result<Evented<S>> {
        let registration = Registration::new(what, &mut source, interest)?;
        Ok(Evented { source: Some(source), registration })
    }

    pub(crate) fn source(&self) -> &S {
        self.source.as_ref().expect("only into_source takes the source out, and it consumes the Evented")
    }

    /// Deregisters the source and hands it back (for `into_std`).
    pub(crate) fn into_source(mut self) -> S {
        let mut source = self.source.take().expect("the source is there until this takes it");
        self.registration.deregister(&mut source);
        source
    }

    /// `op` on the source, once it is ready in `direction`; see [`Io`].
    pub(crate) fn io<R, F>(&self, direction: Direction, op: F) -> Io<'_, S, F>
    where
        F: FnMut(&S) -> io::Result<R>,
    {
        Io { evented: self, direction, op, entry: None }
    }

    /// Like [`io`](Self::io) for a read or write of `len` bytes: a result
    /// shorter than `len` means the kernel buffer was drained (or filled),
    /// so readiness is cleared without another system call (the reactor's
    /// essay says why that is sound on epoll). The simple version is `io`,
    /// which waits for a `WouldBlock` to clear it. An empty buffer
    /// completes at once with `Ok(0)`, ready or not (see [`Transfer`]).
    pub(crate) fn io_bytes<F>(&self, direction: Direction, len: usize, op: F) -> Transfer<'_, S, F>
    where
        F: FnMut(&S) -> io::Result<usize>,
    {
        Transfer { evented: self, direction, op, len, entry: None }
    }

    /// One step of a byte transfer of `len` (non-zero) bytes that owns
    /// `entry` in `direction`'s waiter list: a [`Transfer`]'s poll, and each
    /// step of futures that loop over several transfers
    /// ([`WriteAll`](super::byte_stream::WriteAll)).
    pub(crate) fn poll_entry_bytes(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        entry: &mut Option<u64>,
        len: usize,
        op: impl FnOnce(&S) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        self.registration.poll_io(
            cx,
            direction,
            WaitSlot::Entry(entry),
            || op(self.source()),
            |n| *n > 0 && *n < len,
        )
    }

    /// Gives back `entry` in `direction`'s waiter list, if it holds one:
    /// what a future that owns an entry does when it is dropped.
    pub(crate) fn forget(&self, direction: Direction, entry: &mut Option<u64>) {
        self.registration.forget(direction, entry);
    }

    // The poll-level forms, for `poll_read`, `poll_accept` and the like, and
    // for `AsyncRead`/`AsyncWrite`. Having no future to own an entry in the
    // waiter list, they wait in the direction's poll slot, where only the
    // latest poll's waker is kept.

    /// The poll form of [`io`](Self::io).
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        op: impl FnOnce(&S) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.registration.poll_io(cx, direction, WaitSlot::Poll, || op(self.source()), |_| false)
    }

    /// The poll form of [`io_bytes`](Self::io_bytes).
    pub(crate) fn poll_io_bytes(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        len: usize,
        op: impl FnOnce(&S) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        self.registration.poll_io(cx, direction, WaitSlot::Poll, || op(self.source()), |n| *n > 0 && *n < len)
    }

    /// Ready once the reactor has recorded readiness in `direction`, which
    /// stays recorded: `poll_io` with an operation that does nothing.
    pub(crate) fn poll_ready(&self, cx: &mut Context<'_>, direction: Direction) -> Poll<io::Result<()>> {
        self.registration.poll_io(cx, direction, WaitSlot::Poll, || Ok(()), |()| false)
    }

    /// `op` if the source is ready in `direction`, else `WouldBlock` at
    /// once: the try form of [`io`](Self::io), which never waits.
    pub(crate) fn try_io<R>(
        &self,
        direction: Direction,
        op: impl FnOnce(&S) -> io::Result<R>,
    ) -> io::Result<R> {
        self.registration.try_io(direction, || op(self.source()), |_| false)
    }

    /// The try form of [`io_bytes`](Self::io_bytes).
    pub(crate) fn try_io_bytes(
        &self,
        direction: Direction,
        len: usize,
        op: impl FnOnce(&S) -> io::Result<usize>,
    ) -> io::Result<usize> {
        self.registration.try_io(direction, || op(self.source()), |n| *n > 0 && *n < len)
    }
}

impl<S: mio::event::Source> Drop for Evented<S> {
    fn drop(&mut self) {
        // Before the source (and its descriptor) is dropped, just after this.
        if let Some(source) = &mut self.source {
            self.registration.deregister(source);
        }
    }
}

/// A read or write of `len` bytes as one future: [`Io`] with the transfer's
/// two rules built in — done at once (`Ok(0)`) for an empty buffer, as a
/// transfer of nothing needs no readiness; and a result shorter than `len`
/// clears readiness ([`Evented::io_bytes`] makes it).
///
/// A named future rather than an `async fn`, so that the stream methods hand
/// back the reactor's future itself. The simple version is an `async fn`
/// that returns `Ok(0)` for an empty buffer and otherwise awaits an `Io`
/// with the short-transfer rule: a state machine around the reactor's
/// future, which each poll passes through and which moves the `Io` in and
/// out of its state.
#[must_use = "futures do nothing unless awaited"]
pub(crate) struct Transfer<'a, S: mio::event::Source, F> {
    evented: &'a Evented<S>,
    direction: Direction,
    op: F,
    /// The buffer's length: zero completes at once.
    len: usize,
    /// As [`Io`]'s.
    entry: Option<u64>,
}

impl<S, F> Future for Transfer<'_, S, F>
where
    S: mio::event::Source,
    F: FnMut(&S) -> io::Result<usize> + Unpin,
{
    type Output = io::Result<usize>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.len == 0 {
            return Poll::Ready(Ok(0));
        }
        let op = &mut this.op;
        this.evented.poll_entry_bytes(cx, this.direction, &mut this.entry, this.len, |socket| op(socket))
    }
}

impl<S: mio::event::Source, F> Drop for Transfer<'_, S, F> {
    fn drop(&mut self) {
        self.evented.registration.forget(self.direction, &mut self.entry);
    }
}

/// One socket operation: waits for readiness in `direction`, runs `op`, and
/// waits again after `WouldBlock`.
#[must_use = "futures do nothing unless awaited"]
pub(crate) struct Io<'a, S: mio::event::Source, F> {
    evented: &'a Evented<S>,
    direction: Direction,
    op: F,
    /// This operation's entry in the registration's waiter list, while it
    /// waits.
    entry: Option<u64>,
}

impl<S, R, F> Future for Io<'_, S, F>
where
    S: mio::event::Source,
    F: FnMut(&S) -> io::Result<R> + Unpin,
{
    type Output = io::Result<R>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<R>> {
        let this = &mut *self;
        let evented = this.evented;
        evented.registration.poll_io(
            cx,
            this.direction,
            WaitSlot::Entry(&mut this.entry),
            || (this.op)(evented.source()),
            |_| false,
        )
    }
}

impl<S: mio::event::Source, F> Drop for Io<'_, S, F> {
    fn drop(&mut self) {
        self.evented.registration.forget(self.direction, &mut self.entry);
    }
}
