//! `futures_io::AsyncRead` and `AsyncWrite` for [`Async<T>`] and `&Async<T>`
//! (cargo feature `futures-io`).
//!
//! - `Async<T>` is `AsyncRead` for every `T: Read` and `AsyncWrite` for
//!   every `T: Write` (and `Unpin`, as I/O objects are): the impls reach
//!   `T` through `&mut`, so a type that reads only through `&mut self` —
//!   `std::process::ChildStdout`, a serial port's handle — works as well as
//!   the standard library's descriptor types (`File`, `UnixStream`,
//!   `PipeReader`, ...).
//! - `&Async<T>` is `AsyncRead` when `&T: Read`, and `AsyncWrite` when
//!   `&T: Write`: a shared reference can only reach `T` through `&T`, and
//!   it lets one task read while another writes.
//!
//! Each method is one step of the reactor's rule ([`Async::poll_read_with`]):
//! ready in that direction → one non-blocking call → on `WouldBlock`, clear
//! that readiness and wait in the direction's poll slot. `poll_flush` and
//! `poll_close` flush `T` the same way; neither closes the descriptor, which
//! dropping the `Async` does.

use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use super::Async;
use crate::runtime::reactor::Direction;

impl<T: AsFd + Read + Unpin> AsyncRead for Async<T> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0)); // nothing to wait for
        }
        self.get_mut().poll_with_mut(cx, Direction::Read, |inner| inner.read(buf))
    }
}

impl<T: AsFd + Write + Unpin> AsyncWrite for Async<T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        self.get_mut().poll_with_mut(cx, Direction::Write, |inner| inner.write(buf))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_with_mut(cx, Direction::Write, |inner| inner.flush())
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

impl<T: AsFd> AsyncRead for &Async<T>
where
    for<'a> &'a T: Read,
{
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        self.poll_read_with(cx, |mut inner| inner.read(buf))
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

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_write_with(cx, |mut inner| inner.flush())
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}
