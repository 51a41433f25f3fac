//! What TCP and Unix streams have in common: every byte-stream operation,
//! written once over [`ByteStream`], a private trait the two mio stream
//! types implement.
//!
//! The public types (`TcpStream` and its halves, `UnixStream` and its
//! halves) stay distinct, each with its own documented methods; each method
//! is one line that calls the generic one here on its `Evented`. There are
//! three families, one per way of waiting:
//!
//! - **async** (`read`, `write_all`, `write_vectored`, ...): a `Transfer`
//!   future (an `Io` with the byte-count rules) that owns its entry in the
//!   waiter list (`evented.rs`);
//! - **poll** (`poll_read`, `poll_read_uninit`, `poll_write_vectored`, ...),
//!   for hand-written futures and adapters: one step, waiting in the
//!   direction's poll slot, where only the latest poll's waker is kept;
//! - **try** (`try_read`, `try_write`): one step that never waits —
//!   `WouldBlock` instead.
//!
//! All three clear readiness by the reactor's rules: on `WouldBlock`, and
//! on a transfer shorter than its buffer.
//!
//! Writes never raise `SIGPIPE`: plain writes are `send` with
//! `MSG_NOSIGNAL` ([`sys::send`], the call std's own socket writes make),
//! vectored ones `sendmsg` with it ([`sys::send_vectored`]; `send` again
//! for a list of one), because std's `write_vectored` is a `writev` that
//! would raise it.

use std::future::Future;
use std::io::{self, IoSlice};
use std::mem::MaybeUninit;
use std::net::Shutdown;
use std::os::fd::AsFd;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use super::evented::Evented;
#[cfg(doc)]
use super::evented::Transfer;
use super::sys;
use crate::runtime::reactor::Direction;

/// A connected, non-blocking byte-stream socket: mio's `TcpStream` or
/// `UnixStream`.
pub(crate) trait ByteStream: mio::event::Source + AsFd {
    /// One non-blocking read: `recv(2)`, called directly ([`sys::recv`]).
    fn read_now(&self, buf: &mut [u8]) -> io::Result<usize> {
        sys::recv(self.as_fd(), buf)
    }
    /// One non-blocking write: `send(2)` with `MSG_NOSIGNAL`, called
    /// directly ([`sys::send`]).
    fn write_now(&self, buf: &[u8]) -> io::Result<usize> {
        sys::send(self.as_fd(), buf)
    }
    fn shutdown(&self, how: Shutdown) -> io::Result<()>;
    /// The pending socket error (`SO_ERROR`), which clears it.
    fn take_error(&self) -> io::Result<Option<io::Error>>;
    /// `Ok` once connected; `NotConnected` while a connect is under way.
    fn check_connected(&self) -> io::Result<()>;
}

impl ByteStream for mio::net::TcpStream {
    fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        mio::net::TcpStream::shutdown(self, how)
    }

    fn take_error(&self) -> io::Result<Option<io::Error>> {
        mio::net::TcpStream::take_error(self)
    }

    fn check_connected(&self) -> io::Result<()> {
        self.peer_addr().map(drop)
    }
}

impl ByteStream for mio::net::UnixStream {
    fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        mio::net::UnixStream::shutdown(self, how)
    }

    fn take_error(&self) -> io::Result<Option<io::Error>> {
        mio::net::UnixStream::take_error(self)
    }

    fn check_connected(&self) -> io::Result<()> {
        self.peer_addr().map(drop)
    }
}

/// How many bytes one vectored write offers: the slices it will pass, at
/// most [`sys::MAX_IOVECS`] of them. A write shorter than this filled the
/// kernel buffer.
fn vectored_len(bufs: &[IoSlice<'_>]) -> usize {
    bufs.iter().take(sys::MAX_IOVECS).map(|buf| buf.len()).sum()
}

impl<S: ByteStream> Evented<S> {
    /// Waits for a non-blocking connect to finish. It has finished when the
    /// socket turns writable; its outcome is then in `SO_ERROR`. Until the
    /// handshake is done the socket says `NotConnected`: keep waiting.
    pub(crate) async fn connected(&self) -> io::Result<()> {
        self.io(Direction::Write, |socket| {
            if let Some(error) = socket.take_error()? {
                return Err(error);
            }
            match socket.check_connected() {
                Err(e) if e.kind() == io::ErrorKind::NotConnected => Err(io::ErrorKind::WouldBlock.into()),
                result => result,
            }
        })
        .await
    }

    /// One read into `buf`: the reactor's future itself, not an `async fn`
    /// around it ([`Transfer`]); so are `write` and `write_vectored`.
    pub(crate) fn read<'a>(&'a self, buf: &'a mut [u8]) -> impl Future<Output = io::Result<usize>> + 'a {
        let len = buf.len();
        self.io_bytes(Direction::Read, len, move |socket| socket.read_now(buf))
    }

    pub(crate) async fn read_exact(&self, mut buf: &mut [u8]) -> io::Result<()> {
        while !buf.is_empty() {
            match self.read(buf).await? {
                0 => return Err(io::ErrorKind::UnexpectedEof.into()),
                n => buf = &mut buf[n..],
            }
        }
        Ok(())
    }

    pub(crate) fn write<'a>(&'a self, buf: &'a [u8]) -> impl Future<Output = io::Result<usize>> + 'a {
        self.io_bytes(Direction::Write, buf.len(), move |socket| socket.write_now(buf))
    }

    /// All of `buf`, written in as many sends as the kernel needs: a
    /// [`WriteAll`], which is one poll-level loop. The simple version is an
    /// `async fn` that loops over [`write`](Self::write)'s futures, a state
    /// machine around each of them.
    pub(crate) fn write_all<'a>(&'a self, buf: &'a [u8]) -> WriteAll<'a, S> {
        WriteAll { evented: self, buf, entry: None }
    }

    pub(crate) fn write_vectored<'a>(
        &'a self,
        bufs: &'a [IoSlice<'_>],
    ) -> impl Future<Output = io::Result<usize>> + 'a {
        self.io_bytes(Direction::Write, vectored_len(bufs), move |socket| {
            sys::send_vectored(socket.as_fd(), bufs)
        })
    }

    pub(crate) fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let len = buf.len();
        self.poll_io_bytes(cx, Direction::Read, len, |socket| socket.read_now(buf))
    }

    pub(crate) fn poll_read_uninit(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let len = buf.len();
        self.poll_io_bytes(cx, Direction::Read, len, |socket| sys::recv_uninit(socket.as_fd(), buf))
    }

    pub(crate) fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        self.poll_io_bytes(cx, Direction::Write, buf.len(), |socket| socket.write_now(buf))
    }

    pub(crate) fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let len = vectored_len(bufs);
        if len == 0 {
            return Poll::Ready(Ok(0));
        }
        self.poll_io_bytes(cx, Direction::Write, len, |socket| sys::send_vectored(socket.as_fd(), bufs))
    }

    pub(crate) fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let len = buf.len();
        self.try_io_bytes(Direction::Read, len, |socket| socket.read_now(buf))
    }

    pub(crate) fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.try_io_bytes(Direction::Write, buf.len(), |socket| socket.write_now(buf))
    }

    /// `shutdown(2)`, with "not connected" — the peer reset or closed the
    /// connection first — meaning done, not failed: the direction is as
    /// shut as it will ever be.
    pub(crate) fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        match self.source().shutdown(how) {
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
            result => result,
        }
    }
}

/// The future of [`Evented::write_all`]: sends what is left of `buf` each
/// time the socket is writable, keeping one entry in the waiter list while
/// it waits.
///
/// Each poll makes at most one send that can succeed: a send that takes
/// all that is left finishes, and a shorter one clears "writable" (the
/// kernel buffer is full), so the loop's next turn parks without a system
/// call. So, like every operation, it cannot spin inside a poll.
#[must_use = "futures do nothing unless awaited"]
pub(crate) struct WriteAll<'a, S: ByteStream> {
    evented: &'a Evented<S>,
    /// What is left to send.
    buf: &'a [u8],
    /// As `Io`'s: this operation's entry in the waiter list, while it waits.
    entry: Option<u64>,
}

impl<S: ByteStream> Future for WriteAll<'_, S> {
    type Output = io::Result<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        while !this.buf.is_empty() {
            let buf = this.buf;
            let sent =
                this.evented.poll_entry_bytes(cx, Direction::Write, &mut this.entry, buf.len(), |socket| {
                    socket.write_now(buf)
                });
            match ready!(sent)? {
                0 => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                n => this.buf = &buf[n..],
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: ByteStream> Drop for WriteAll<'_, S> {
    fn drop(&mut self) {
        self.evented.forget(Direction::Write, &mut self.entry);
    }
}
