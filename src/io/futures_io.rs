//! `futures_io::AsyncRead` and `AsyncWrite` for [`Async<T>`] and `&Async<T>`
//! (cargo feature `futures-io`), for every `T` that reads or writes through a
//! shared reference, as the standard library's descriptor types do (`File`,
//! `UnixStream`, `PipeReader`, `PipeWriter`, ...).
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

fn poll_read<T: AsFd>(io: &Async<T>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>>
where
    for<'a> &'a T: Read,
{
    if buf.is_empty() {
        return Poll::Ready(Ok(0)); // nothing to wait for
    }
    io.poll_read_with(cx, |mut inner| inner.read(buf))
}

fn poll_write<T: AsFd>(io: &Async<T>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>>
where
    for<'a> &'a T: Write,
{
    if buf.is_empty() {
        return Poll::Ready(Ok(0));
    }
    io.poll_write_with(cx, |mut inner| inner.write(buf))
}

fn poll_flush<T: AsFd>(io: &Async<T>, cx: &mut Context<'_>) -> Poll<io::Result<()>>
where
    for<'a> &'a T: Write,
{
    io.poll_write_with(cx, |mut inner| inner.flush())
}

impl<T: AsFd> AsyncRead for Async<T>
where
    for<'a> &'a T: Read,
{
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        poll_read(&self, cx, buf)
    }
}

impl<T: AsFd> AsyncRead for &Async<T>
where
    for<'a> &'a T: Read,
{
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        poll_read(&self, cx, buf)
    }
}

impl<T: AsFd> AsyncWrite for Async<T>
where
    for<'a> &'a T: Write,
{
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        poll_write(&self, cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        poll_flush(&self, cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        poll_flush(&self, cx)
    }
}

impl<T: AsFd> AsyncWrite for &Async<T>
where
    for<'a> &'a T: Write,
{
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        poll_write(&self, cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        poll_flush(&self, cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        poll_flush(&self, cx)
    }
}
