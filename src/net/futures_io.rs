//! `futures_io::AsyncRead` and `AsyncWrite` for TCP streams and their halves
//! (cargo feature `futures-io`), so codecs, TLS wrappers and other code
//! written against those traits run on kettle.
//!
//! Each method is one step of the reactor's edge-triggered loop
//! (`Evented::poll_io`): ready in that direction → try the non-blocking call
//! → on `WouldBlock`, forget the readiness and register the waker. Writes are
//! not buffered, so `poll_flush` has nothing to do; `poll_close` shuts down
//! the writing side.

use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use super::evented::Evented;
use super::tcp::{OwnedReadHalf, OwnedWriteHalf, TcpStream};
use crate::runtime::reactor::Direction;

type Stream = Evented<mio::net::TcpStream>;

fn poll_read(io: &Stream, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
    if buf.is_empty() {
        return Poll::Ready(Ok(0));
    }
    let len = buf.len();
    io.poll_io(cx, Direction::Read, len, |mut socket| socket.read(buf))
}

fn poll_write(io: &Stream, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
    if buf.is_empty() {
        return Poll::Ready(Ok(0));
    }
    io.poll_io(cx, Direction::Write, buf.len(), |mut socket| socket.write(buf))
}

/// Shuts the writing side; a connection the peer already reset counts as
/// shut (see [`TcpStream::shutdown`]).
fn close(io: &Stream) -> Poll<io::Result<()>> {
    Poll::Ready(super::tcp::shutdown(io, Shutdown::Write))
}

impl AsyncRead for TcpStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        poll_read(&self.io, cx, buf)
    }
}

impl AsyncWrite for TcpStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        poll_write(&self.io, cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        close(&self.io)
    }
}

impl AsyncRead for OwnedReadHalf {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        poll_read(&self.io, cx, buf)
    }
}

impl AsyncWrite for OwnedWriteHalf {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        poll_write(&self.io, cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        close(&self.io)
    }
}
