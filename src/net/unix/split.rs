//! [`OwnedReadHalf`] and [`OwnedWriteHalf`]: a [`UnixStream`](crate::net::UnixStream)
//! split in two, so that one task can read while another writes — the
//! twins of TCP's halves (`net/tcp/split.rs`).
//!
//! Both halves hold the one registration (`Rc<Evented<_>>`); the reactor
//! keeps separate waiters for reading and writing, so neither half's wait
//! disturbs the other's. Each half has the methods of its direction, with
//! the same meaning as on the whole stream, whose docs carry the examples.

use std::future::Future;
use std::io::{self, IoSlice};
use std::mem::MaybeUninit;
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::net::SocketAddr;
use std::rc::Rc;
use std::task::{Context, Poll};

use crate::net::evented::Evented;
use crate::runtime::reactor::Direction;

/// The reading half of a [`UnixStream`](crate::net::UnixStream), from
/// [`UnixStream::into_split`](crate::net::UnixStream::into_split).
pub struct OwnedReadHalf {
    pub(super) io: Rc<Evented<mio::net::UnixStream>>,
}

impl OwnedReadHalf {
    /// As [`UnixStream::read`](crate::net::UnixStream::read).
    pub fn read<'a>(&'a mut self, buf: &'a mut [u8]) -> impl Future<Output = io::Result<usize>> + 'a {
        self.io.read(buf)
    }

    /// As [`UnixStream::read_exact`](crate::net::UnixStream::read_exact).
    pub fn read_exact<'a>(&'a mut self, buf: &'a mut [u8]) -> impl Future<Output = io::Result<()>> + 'a {
        self.io.read_exact(buf)
    }

    /// As [`UnixStream::poll_read_ready`](crate::net::UnixStream::poll_read_ready).
    /// Each direction has its own poll slot, so this half's polls and the
    /// write half's never replace each other's waker.
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready(cx, Direction::Read)
    }

    /// As [`UnixStream::try_read`](crate::net::UnixStream::try_read).
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_read(buf)
    }

    /// As [`UnixStream::poll_read`](crate::net::UnixStream::poll_read).
    pub fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.io.poll_read(cx, buf)
    }

    /// As [`UnixStream::poll_read_uninit`](crate::net::UnixStream::poll_read_uninit):
    /// on `Ready(Ok(n))` the first `n` bytes of `buf` are initialised.
    pub fn poll_read_uninit(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        self.io.poll_read_uninit(cx, buf)
    }

    /// The remote address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.source().peer_addr()
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.source().local_addr()
    }
}

/// The writing half of a [`UnixStream`](crate::net::UnixStream), from
/// [`UnixStream::into_split`](crate::net::UnixStream::into_split).
///
/// Dropping it shuts down the writing side of the connection (the peer reads
/// end-of-file), as dropping a whole stream would.
pub struct OwnedWriteHalf {
    pub(super) io: Rc<Evented<mio::net::UnixStream>>,
}

impl OwnedWriteHalf {
    /// As [`UnixStream::write`](crate::net::UnixStream::write).
    pub fn write<'a>(&'a mut self, buf: &'a [u8]) -> impl Future<Output = io::Result<usize>> + 'a {
        self.io.write(buf)
    }

    /// As [`UnixStream::write_all`](crate::net::UnixStream::write_all).
    pub fn write_all<'a>(&'a mut self, buf: &'a [u8]) -> impl Future<Output = io::Result<()>> + 'a {
        self.io.write_all(buf)
    }

    /// As [`UnixStream::write_vectored`](crate::net::UnixStream::write_vectored):
    /// the buffers in order, in one system call.
    pub fn write_vectored<'a>(
        &'a mut self,
        bufs: &'a [IoSlice<'_>],
    ) -> impl Future<Output = io::Result<usize>> + 'a {
        self.io.write_vectored(bufs)
    }

    /// As [`UnixStream::flush`](crate::net::UnixStream::flush): nothing to do.
    pub async fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// As [`UnixStream::poll_write_ready`](crate::net::UnixStream::poll_write_ready).
    pub fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready(cx, Direction::Write)
    }

    /// As [`UnixStream::try_write`](crate::net::UnixStream::try_write).
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.try_write(buf)
    }

    /// As [`UnixStream::poll_write`](crate::net::UnixStream::poll_write).
    pub fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io.poll_write(cx, buf)
    }

    /// As [`UnixStream::poll_write_vectored`](crate::net::UnixStream::poll_write_vectored).
    pub fn poll_write_vectored(&self, cx: &mut Context<'_>, bufs: &[IoSlice<'_>]) -> Poll<io::Result<usize>> {
        self.io.poll_write_vectored(cx, bufs)
    }

    /// Shuts down the writing side now. As for
    /// [`UnixStream::shutdown`](crate::net::UnixStream::shutdown), a connection the
    /// peer already reset counts as shut: `Ok(())`.
    pub fn shutdown(&self) -> io::Result<()> {
        self.io.shutdown(Shutdown::Write)
    }

    /// The remote address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.source().peer_addr()
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.source().local_addr()
    }
}

impl Drop for OwnedWriteHalf {
    fn drop(&mut self) {
        // The peer may already be gone; nothing to report from a destructor.
        let _ = self.io.shutdown(Shutdown::Write);
    }
}

impl AsFd for OwnedReadHalf {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.source().as_fd()
    }
}

impl AsRawFd for OwnedReadHalf {
    fn as_raw_fd(&self) -> RawFd {
        self.io.source().as_raw_fd()
    }
}

impl AsFd for OwnedWriteHalf {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.source().as_fd()
    }
}

impl AsRawFd for OwnedWriteHalf {
    fn as_raw_fd(&self) -> RawFd {
        self.io.source().as_raw_fd()
    }
}
