//! [`OwnedReadHalf`] and [`OwnedWriteHalf`]: a [`TcpStream`](super::TcpStream)
//! split in two, so that one task can read while another writes.
//!
//! Both halves hold the one registration (`Rc<Evented<_>>`); the reactor
//! keeps separate waiters for reading and writing, so neither half's wait
//! disturbs the other's. Each half has the methods of its direction, with
//! the same meaning as on the whole stream, whose docs carry the examples.

use std::future::Future;
use std::io::{self, IoSlice};
use std::mem::MaybeUninit;
use std::net::{Shutdown, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::rc::Rc;
use std::task::{Context, Poll};

use crate::net::evented::Evented;
use crate::runtime::reactor::Direction;

/// The reading half of a [`TcpStream`](super::TcpStream), from
/// [`TcpStream::into_split`](super::TcpStream::into_split).
pub struct OwnedReadHalf {
    pub(super) io: Rc<Evented<mio::net::TcpStream>>,
}

impl OwnedReadHalf {
    /// As [`TcpStream::read`](super::TcpStream::read).
    pub fn read<'a>(&'a mut self, buf: &'a mut [u8]) -> impl Future<Output = io::Result<usize>> + 'a {
        self.io.read(buf)
    }

    /// As [`TcpStream::read_exact`](super::TcpStream::read_exact).
    pub fn read_exact<'a>(&'a mut self, buf: &'a mut [u8]) -> impl Future<Output = io::Result<()>> + 'a {
        self.io.read_exact(buf)
    }

    /// As [`TcpStream::poll_read_ready`](super::TcpStream::poll_read_ready).
    /// Each direction has its own poll slot, so this half's polls and the
    /// write half's never replace each other's waker.
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready(cx, Direction::Read)
    }

    /// As [`TcpStream::try_read`](super::TcpStream::try_read).
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_read(buf)
    }

    /// As [`TcpStream::poll_read`](super::TcpStream::poll_read).
    pub fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.io.poll_read(cx, buf)
    }

    /// As [`TcpStream::poll_read_uninit`](super::TcpStream::poll_read_uninit):
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

/// The writing half of a [`TcpStream`](super::TcpStream), from
/// [`TcpStream::into_split`](super::TcpStream::into_split).
///
/// Dropping it shuts down the writing side of the connection (the peer reads
/// end-of-file), as dropping a whole stream would.
pub struct OwnedWriteHalf {
    pub(super) io: Rc<Evented<mio::net::TcpStream>>,
}

impl OwnedWriteHalf {
    /// As [`TcpStream::write`](super::TcpStream::write).
    pub fn write<'a>(&'a mut self, buf: &'a [u8]) -> impl Future<Output = io::Result<usize>> + 'a {
        self.io.write(buf)
    }

    /// As [`TcpStream::write_all`](super::TcpStream::write_all).
    pub fn write_all<'a>(&'a mut self, buf: &'a [u8]) -> impl Future<Output = io::Result<()>> + 'a {
        self.io.write_all(buf)
    }

    /// As [`TcpStream::write_vectored`](super::TcpStream::write_vectored):
    /// the buffers in order, in one system call.
    pub fn write_vectored<'a>(
        &'a mut self,
        bufs: &'a [IoSlice<'_>],
    ) -> impl Future<Output = io::Result<usize>> + 'a {
        self.io.write_vectored(bufs)
    }

    /// As [`TcpStream::flush`](super::TcpStream::flush): nothing to do.
    pub async fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// As [`TcpStream::poll_write_ready`](super::TcpStream::poll_write_ready).
    pub fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready(cx, Direction::Write)
    }

    /// As [`TcpStream::try_write`](super::TcpStream::try_write).
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.try_write(buf)
    }

    /// As [`TcpStream::poll_write`](super::TcpStream::poll_write).
    pub fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io.poll_write(cx, buf)
    }

    /// As [`TcpStream::poll_write_vectored`](super::TcpStream::poll_write_vectored).
    pub fn poll_write_vectored(&self, cx: &mut Context<'_>, bufs: &[IoSlice<'_>]) -> Poll<io::Result<usize>> {
        self.io.poll_write_vectored(cx, bufs)
    }

    /// Shuts down the writing side now. As for
    /// [`TcpStream::shutdown`](super::TcpStream::shutdown), a connection the
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
