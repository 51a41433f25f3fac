//! What the bridges to other crates' I/O traits share: [`ReadSide`] and
//! [`WriteSide`], the poll-level methods of kettle's streams as two traits,
//! implemented once here for [`TcpStream`], [`UnixStream`] and their halves.
//!
//! Two bridges need them (cargo features `hyper` and `tokio-io`): hyper's
//! `rt::Read`/`rt::Write` (src/hyper.rs) and tokio's `AsyncRead`/`AsyncWrite`
//! (`tokio_io.rs`). Each is a generic adapter over "a kettle stream that can
//! read" or "one that can write", and the six stream types differ only in
//! which directions they have and what "shut down the writing side" is
//! called on them (`shutdown(Shutdown::Write)` on a whole stream,
//! `shutdown()` on a write half). Saying that once here keeps the two
//! bridges to one line per method.
//!
//! # Reading into memory nobody has zeroed
//!
//! Both traits hand a read a buffer that may be uninitialised (hyper's
//! `ReadBufCursor`, tokio's `ReadBuf`). A `&mut [u8]` over such memory is
//! undefined behaviour, so a bridge that had only `read(&mut [u8])` would
//! have to zero the buffer first — a `memset` of 8 KiB or more before every
//! read. kettle's streams have `poll_read_uninit`, a `recv` into
//! `&mut [MaybeUninit<u8>]`: [`ReadSide::poll_read_spare`] reads into the
//! buffer's spare capacity as it is, and returns how many bytes the kernel
//! wrote, which the bridge then marks initialised in its buffer type — the
//! only `unsafe` each bridge has, two lines against its own type's contract.
//!
//! # Sealed
//!
//! The traits are `pub` inside a module that is not: hyper's public
//! `PollRead`/`PollWrite` have them as supertraits, and no other crate can
//! name, and so implement, them.

use std::io::{self, IoSlice};
use std::mem::MaybeUninit;
use std::net::Shutdown;
use std::task::{Context, Poll};

use super::{OwnedReadHalf, OwnedWriteHalf, TcpStream, UnixStream, unix};

/// A kettle stream that can read: [`TcpStream`], [`UnixStream`],
/// [`OwnedReadHalf`], [`unix::OwnedReadHalf`].
pub trait ReadSide {
    /// The stream's own `poll_read_uninit`: one step of a read into `spare`,
    /// which need not be initialised.
    fn poll_read_uninit(
        &self,
        cx: &mut Context<'_>,
        spare: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>>;

    /// Reads into a bridge's spare capacity: `Ready(Ok(n))` means `spare`'s
    /// first `n` bytes now hold data (and `n == 0`, with a non-empty
    /// `spare`, end of file).
    fn poll_read_spare(
        &self,
        cx: &mut Context<'_>,
        spare: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        let len = spare.len();
        let read = self.poll_read_uninit(cx, spare);
        if let Poll::Ready(Ok(n)) = read {
            debug_assert!(n <= len, "poll_read_uninit reports no more bytes than it was given");
        }
        read
    }
}

/// A kettle stream that can write: [`TcpStream`], [`UnixStream`],
/// [`OwnedWriteHalf`], [`unix::OwnedWriteHalf`].
pub trait WriteSide {
    /// The stream's own `poll_write`.
    fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>>;
    /// The stream's own `poll_write_vectored`: one `sendmsg` of every buffer.
    fn poll_write_vectored(&self, cx: &mut Context<'_>, bufs: &[IoSlice<'_>]) -> Poll<io::Result<usize>>;
    /// Shuts down the writing side; `Ok` if the peer has already reset the
    /// connection (the side is as shut as it will ever be).
    fn shutdown_write(&self) -> io::Result<()>;
}

impl ReadSide for TcpStream {
    fn poll_read_uninit(
        &self,
        cx: &mut Context<'_>,
        spare: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        TcpStream::poll_read_uninit(self, cx, spare)
    }
}

impl ReadSide for UnixStream {
    fn poll_read_uninit(
        &self,
        cx: &mut Context<'_>,
        spare: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        UnixStream::poll_read_uninit(self, cx, spare)
    }
}

impl ReadSide for OwnedReadHalf {
    fn poll_read_uninit(
        &self,
        cx: &mut Context<'_>,
        spare: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        OwnedReadHalf::poll_read_uninit(self, cx, spare)
    }
}

impl ReadSide for unix::OwnedReadHalf {
    fn poll_read_uninit(
        &self,
        cx: &mut Context<'_>,
        spare: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        unix::OwnedReadHalf::poll_read_uninit(self, cx, spare)
    }
}

impl WriteSide for TcpStream {
    fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        TcpStream::poll_write(self, cx, buf)
    }
    fn poll_write_vectored(&self, cx: &mut Context<'_>, bufs: &[IoSlice<'_>]) -> Poll<io::Result<usize>> {
        TcpStream::poll_write_vectored(self, cx, bufs)
    }
    fn shutdown_write(&self) -> io::Result<()> {
        self.shutdown(Shutdown::Write)
    }
}

impl WriteSide for UnixStream {
    fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        UnixStream::poll_write(self, cx, buf)
    }
    fn poll_write_vectored(&self, cx: &mut Context<'_>, bufs: &[IoSlice<'_>]) -> Poll<io::Result<usize>> {
        UnixStream::poll_write_vectored(self, cx, bufs)
    }
    fn shutdown_write(&self) -> io::Result<()> {
        self.shutdown(Shutdown::Write)
    }
}

impl WriteSide for OwnedWriteHalf {
    fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        OwnedWriteHalf::poll_write(self, cx, buf)
    }
    fn poll_write_vectored(&self, cx: &mut Context<'_>, bufs: &[IoSlice<'_>]) -> Poll<io::Result<usize>> {
        OwnedWriteHalf::poll_write_vectored(self, cx, bufs)
    }
    fn shutdown_write(&self) -> io::Result<()> {
        self.shutdown()
    }
}

impl WriteSide for unix::OwnedWriteHalf {
    fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        unix::OwnedWriteHalf::poll_write(self, cx, buf)
    }
    fn poll_write_vectored(&self, cx: &mut Context<'_>, bufs: &[IoSlice<'_>]) -> Poll<io::Result<usize>> {
        unix::OwnedWriteHalf::poll_write_vectored(self, cx, bufs)
    }
    fn shutdown_write(&self) -> io::Result<()> {
        self.shutdown()
    }
}
