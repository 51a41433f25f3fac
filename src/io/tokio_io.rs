//! tokio's `AsyncRead` and `AsyncWrite` for [`Async<T>`] and `&Async<T>`
//! (cargo feature `tokio-io`), with the same bounds as the `futures-io`
//! impls beside them:
//!
//! - `Async<T>` is `AsyncRead` for every `T: Read` and `AsyncWrite` for
//!   every `T: Write` (and `Unpin`): the impls reach `T` through `&mut`
//!   (`Async` owns it), so a type that reads only through `&mut self` —
//!   `std::process::ChildStdout`, a serial port's handle — works as well as
//!   the standard library's descriptor types (`File`, `UnixStream`,
//!   `PipeReader`, ...);
//! - `&Async<T>` is `AsyncRead` when `&T: Read`, and `AsyncWrite` when
//!   `&T: Write`: a shared reference can only reach `T` through `&T`, and
//!   lets one task read while another writes.
//!
//! Each method is one step of the reactor's rule ([`Async::poll_read_with`]):
//! ready in that direction → one call of `T`'s own `read` or `write` → on
//! `WouldBlock`, clear that readiness and wait in the direction's poll slot.
//!
//! # Initialising the buffer
//!
//! Unlike kettle's sockets, which `recv` into tokio's `ReadBuf` without
//! initialising it (`src/net/tokio_io.rs`), `Async<T>` reads through `T`'s
//! `Read`, which takes a `&mut [u8]`: `T` may be something that does more
//! than `read(2)` on its descriptor, so calling the descriptor directly would
//! bypass it. The unfilled part is therefore initialised first, with
//! `ReadBuf::initialize_unfilled`, which zeroes only the bytes never
//! initialised before: a caller that reuses its buffer (tokio-util's codecs,
//! `BufReader`) pays for it once, not on every read.
//!
//! Writes go through `T`'s `write_vectored` too, but `is_write_vectored`
//! says `false`: whether `T`'s is a real `writev` or std's default (the first
//! non-empty buffer) cannot be known from here, and callers that see `false`
//! gather small buffers themselves. `poll_flush` flushes `T`; `poll_shutdown`
//! flushes too, and does not close the descriptor — dropping the `Async`
//! does (a pipe's reader sees end of file only then).
//!
//! ```
//! use std::future::poll_fn;
//! use std::pin::Pin;
//! use std::process::{Command, Stdio};
//! use tokio::io::{AsyncRead, ReadBuf};
//!
//! let mut child = Command::new("echo").arg("hello").stdout(Stdio::piped()).spawn()?;
//! let stdout = child.stdout.take().unwrap(); // reads through `&mut self` only
//! kettle::run(async {
//!     let mut stdout = kettle::io::Async::new(stdout)?;
//!     let mut storage = [0; 64];
//!     let mut buf = ReadBuf::new(&mut storage);
//!     while poll_fn(|cx| {
//!         let before = buf.filled().len();
//!         Pin::new(&mut stdout).poll_read(cx, &mut buf).map_ok(|()| buf.filled().len() > before)
//!     })
//!     .await?
//!     {}
//!     assert_eq!(buf.filled(), b"hello\n");
//!     Ok::<_, std::io::Error>(())
//! })?;
//! child.wait()?;
//! # Ok::<_, std::io::Error>(())
//! ```

use std::io::{self, IoSlice, Read, Write};
use std::os::fd::AsFd;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::Async;
use crate::runtime::reactor::Direction;

/// `buf`'s unfilled part as initialised bytes (zeroing only those never
/// initialised), read into by `read`; on `Ok(n)`, `buf` is advanced by `n`.
fn read_initialised(
    buf: &mut ReadBuf<'_>,
    read: impl FnOnce(&mut [u8]) -> Poll<io::Result<usize>>,
) -> Poll<io::Result<()>> {
    if buf.remaining() == 0 {
        return Poll::Ready(Ok(())); // nothing to wait for
    }
    let n = ready!(read(buf.initialize_unfilled()))?;
    debug_assert!(n <= buf.remaining(), "Read::read reports no more bytes than it was given");
    buf.advance(n);
    Poll::Ready(Ok(()))
}

impl<T: AsFd + Read + Unpin> AsyncRead for Async<T> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        read_initialised(buf, |bytes| this.poll_with_mut(cx, Direction::Read, |inner| inner.read(bytes)))
    }
}

impl<T: AsFd + Write + Unpin> AsyncWrite for Async<T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        self.get_mut().poll_with_mut(cx, Direction::Write, |inner| inner.write(buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if bufs.iter().all(|buf| buf.is_empty()) {
            return Poll::Ready(Ok(0));
        }
        self.get_mut().poll_with_mut(cx, Direction::Write, |inner| inner.write_vectored(bufs))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_with_mut(cx, Direction::Write, |inner| inner.flush())
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

impl<T: AsFd> AsyncRead for &Async<T>
where
    for<'a> &'a T: Read,
{
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        read_initialised(buf, |bytes| self.poll_read_with(cx, |mut inner| inner.read(bytes)))
    }
}

impl<T: AsFd> AsyncWrite for &Async<T>
where
    for<'a> &'a T: Write,
{
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        self.poll_write_with(cx, |mut inner| inner.write(buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if bufs.iter().all(|buf| buf.is_empty()) {
            return Poll::Ready(Ok(0));
        }
        self.poll_write_with(cx, |mut inner| inner.write_vectored(bufs))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_write_with(cx, |mut inner| inner.flush())
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}
