//! tokio's `AsyncRead` and `AsyncWrite` for TCP and Unix streams, their
//! halves, and `&TcpStream` / `&UnixStream` (cargo feature `tokio-io`), so
//! crates written against tokio's traits — tokio-util's codecs, tokio-rustls,
//! `AsyncBufReadExt::lines` — run on kettle's streams with no compat layer.
//!
//! kettle depends on tokio with no features at all: that is the traits and
//! `ReadBuf`, and none of tokio's runtime. Nothing here waits on tokio; every
//! method is the stream's own poll-level method (`poll_read_uninit`,
//! `poll_write`, `poll_write_vectored`), one step of the reactor's
//! edge-triggered rule: ready in that direction → one non-blocking call → on
//! `WouldBlock`, forget that readiness and leave the waker in the
//! direction's poll slot (only the latest poll's waker per direction is
//! kept, as for tokio's own `poll_` methods).
//!
//! - **Reads** go straight into the `ReadBuf`'s unfilled part, initialised
//!   or not: `poll_io::ReadSide::poll_read_spare` (the code hyper's bridge
//!   uses too) is a `recv` into `&mut [MaybeUninit<u8>]`, and [`read_buf`]
//!   then tells the `ReadBuf` how many bytes the kernel wrote. No `memset`
//!   of the caller's buffer, ever. End of file is a read that fills nothing.
//! - **Writes** are not buffered, so `poll_flush` has nothing to do.
//!   `is_write_vectored` is true: `poll_write_vectored` is one `sendmsg` of
//!   every buffer (up to the kernel's `IOV_MAX`), not the trait's default of
//!   the first non-empty one.
//! - **`poll_shutdown`** is `shutdown(Write)` — the peer reads end of file —
//!   and `Ok` on a connection the peer has already reset, as for the
//!   `futures-io` and hyper bridges.
//!
//! `&TcpStream` and `&UnixStream` implement both traits as std's
//! `&TcpStream` implements `Read` and `Write`: kettle's streams do all their
//! I/O through `&self`, so a shared reference is the borrowed form of
//! tokio's `split` — one task (or one branch of a `join`) reads while another
//! writes. Two readers of one stream would share its one read poll slot;
//! use the `async` methods for that.
//!
//! kettle's tokio has no `io-util` feature, so the example drives the
//! traits by hand; with tokio's `AsyncReadExt`/`AsyncWriteExt` (or a codec)
//! in your own dependencies, the same streams work with those:
//!
//! ```
//! use std::future::poll_fn;
//! use std::mem::MaybeUninit;
//! use std::pin::Pin;
//! use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
//!
//! kettle::run(async {
//!     let (mut a, mut b) = kettle::net::UnixStream::pair()?;
//!     poll_fn(|cx| Pin::new(&mut a).poll_write(cx, b"tea")).await?;
//!     poll_fn(|cx| Pin::new(&mut a).poll_shutdown(cx)).await?;
//!     let mut storage = [MaybeUninit::uninit(); 1024]; // never zeroed
//!     let mut buf = ReadBuf::uninit(&mut storage);
//!     poll_fn(|cx| Pin::new(&mut b).poll_read(cx, &mut buf)).await?;
//!     assert_eq!(buf.filled(), b"tea");
//!     assert_eq!(buf.initialized().len(), 3, "only what recv wrote");
//!     Ok::<_, std::io::Error>(())
//! })?;
//! # Ok::<_, std::io::Error>(())
//! ```

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::poll_io::{ReadSide, WriteSide};
use super::{OwnedReadHalf, OwnedWriteHalf, TcpStream, UnixStream, unix};

/// One read of `stream` into `buf`'s unfilled part, without initialising it
/// first; on `Ok`, `buf.filled()` has grown by what was read (not at all at
/// end of file, or when `buf` had no room).
fn read_buf<S: ReadSide>(stream: &S, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
    // SAFETY: `unfilled_mut`'s contract is that no initialised byte is made
    // uninitialised again: only `recv` writes the slice, and it stores bytes.
    let spare = unsafe { buf.unfilled_mut() };
    let n = ready!(stream.poll_read_spare(cx, spare))?;
    // SAFETY: `assume_init(n)` requires the first `n` unfilled bytes to be
    // initialised: `poll_read_spare`'s `Ok(n)` says the kernel wrote them.
    unsafe { buf.assume_init(n) };
    buf.advance(n);
    Poll::Ready(Ok(()))
}

/// tokio's `AsyncRead` for each type: one [`read_buf`] of the stream that
/// `|this| stream` finds behind the pinned `self` (`&*this` for an owned
/// stream or half, `*this` for a shared reference).
macro_rules! async_read {
    ($($ty:ty: |$this:ident| $stream:expr;)*) => {$(
        impl AsyncRead for $ty {
            fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
                let $this = self;
                read_buf($stream, cx, buf)
            }
        }
    )*};
}

/// tokio's `AsyncWrite` for each type, over the stream `|this| stream`
/// finds: writes and vectored writes are the stream's own (one `send`, one
/// `sendmsg`), flushing has nothing to do, shutdown is `shutdown(Write)`.
macro_rules! async_write {
    ($($ty:ty: |$this:ident| $stream:expr;)*) => {$(
        impl AsyncWrite for $ty {
            fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
                let $this = self;
                WriteSide::poll_write($stream, cx, buf)
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                let $this = self;
                WriteSide::poll_write_vectored($stream, cx, bufs)
            }

            fn is_write_vectored(&self) -> bool {
                true
            }

            fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }

            fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                let $this = self;
                Poll::Ready(WriteSide::shutdown_write($stream))
            }
        }
    )*};
}

async_read! {
    TcpStream: |this| &*this;
    &TcpStream: |this| *this;
    OwnedReadHalf: |this| &*this;
    UnixStream: |this| &*this;
    &UnixStream: |this| *this;
    unix::OwnedReadHalf: |this| &*this;
}

async_write! {
    TcpStream: |this| &*this;
    &TcpStream: |this| *this;
    OwnedWriteHalf: |this| &*this;
    UnixStream: |this| &*this;
    &UnixStream: |this| *this;
    unix::OwnedWriteHalf: |this| &*this;
}
