//! A mio socket registered with the runtime: [`Evented`], and the one future
//! every socket operation is, [`Io`].
//!
//! `Evented` owns a mio source and its [`Registration`]: it registers once,
//! when the socket is created, and deregisters when dropped, before the
//! socket closes. Each operation (`read`, `accept`, `send_to`, ...) is an
//! [`Io`] future: "when the socket is ready in this direction, try this
//! non-blocking call; on `WouldBlock` forget that readiness and wait again".
//!
//! `Io` remembers the waker it left in the registration's slot while it
//! waits, and takes it back out if it is dropped first — a read cancelled by
//! a timeout, say — so that no stale waker stays behind and the socket stays
//! usable by the next operation.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::runtime::reactor::{Direction, Registration};

/// A mio source registered with the current runtime's reactor.
pub(crate) struct Evented<S: mio::event::Source> {
    source: S,
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
        Ok(Evented { source, registration })
    }

    pub(crate) fn source(&self) -> &S {
        &self.source
    }

    /// `op` on the source, once it is ready in `direction`; see [`Io`].
    pub(crate) fn io<R, F>(&self, direction: Direction, op: F) -> Io<'_, S, F, impl Fn(&R) -> bool + Unpin>
    where
        F: FnMut(&S) -> io::Result<R>,
    {
        Io { evented: self, direction, op, drained: |_: &R| false, waiting: None }
    }

    /// Like [`io`](Self::io) for a read or write of `len` bytes: a result
    /// shorter than `len` means the kernel buffer was drained (or filled),
    /// so readiness is cleared without another system call.
    pub(crate) fn io_bytes<F>(
        &self,
        direction: Direction,
        len: usize,
        op: F,
    ) -> Io<'_, S, F, impl Fn(&usize) -> bool + Unpin>
    where
        F: FnMut(&S) -> io::Result<usize>,
    {
        Io { evented: self, direction, op, drained: move |n: &usize| *n > 0 && *n < len, waiting: None }
    }

    /// The poll form of [`io`](Self::io), for `AsyncRead`/`AsyncWrite`.
    #[cfg_attr(not(feature = "futures-io"), allow(dead_code))]
    pub(crate) fn poll_io(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        len: usize,
        mut op: impl FnMut(&S) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        self.registration.poll_io(cx, direction, || op(&self.source), |n| *n > 0 && *n < len)
    }
}

impl<S: mio::event::Source> Drop for Evented<S> {
    fn drop(&mut self) {
        // Before the source (and its descriptor) is dropped, just after this.
        self.registration.deregister(&mut self.source);
    }
}

/// One socket operation: waits for readiness in `direction`, runs `op`, and
/// retries after `WouldBlock`.
#[must_use = "futures do nothing unless awaited"]
pub(crate) struct Io<'a, S: mio::event::Source, F, D> {
    evented: &'a Evented<S>,
    direction: Direction,
    op: F,
    /// Whether a successful result means the kernel buffer was drained.
    drained: D,
    /// The waker left in the registration while waiting.
    waiting: Option<Waker>,
}

impl<S, R, F, D> Future for Io<'_, S, F, D>
where
    S: mio::event::Source,
    F: FnMut(&S) -> io::Result<R> + Unpin,
    D: Fn(&R) -> bool + Unpin,
{
    type Output = io::Result<R>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<R>> {
        let this = &mut *self;
        let evented = this.evented;
        let result =
            evented.registration.poll_io(cx, this.direction, || (this.op)(&evented.source), &this.drained);
        if result.is_pending() {
            if !this.waiting.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                this.waiting = Some(cx.waker().clone());
            }
        } else {
            this.waiting = None;
        }
        result
    }
}

impl<S: mio::event::Source, F, D> Drop for Io<'_, S, F, D> {
    fn drop(&mut self) {
        if let Some(waker) = self.waiting.take() {
            self.evented.registration.forget_waker(self.direction, &waker);
        }
    }
}
