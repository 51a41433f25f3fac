//! tokio's `AsyncRead` for [`ChildStdout`] and [`ChildStderr`] and
//! `AsyncWrite` for [`ChildStdin`] (cargo feature `tokio-io`; tokio without
//! its default features is these traits and `ReadBuf`, no runtime).
//!
//! A read goes straight into the `ReadBuf`'s unfilled part, initialised or
//! not ([`ChildStdout::poll_read_uninit`]), then marks what `read(2)` wrote
//! as initialised and filled, as `src/hyper.rs`'s reads do: no zeroing, no
//! copy. `poll_shutdown` closes the pipe, so the child reads end-of-file.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::stdin::ChildStdin;
use super::stdout::{ChildStderr, ChildStdout};

/// One read into `buf`'s unfilled part by `read_uninit`, which returns how
/// many bytes from its start it initialised.
fn read_into(
    buf: &mut ReadBuf<'_>,
    read_uninit: impl FnOnce(&mut [std::mem::MaybeUninit<u8>]) -> Poll<io::Result<usize>>,
) -> Poll<io::Result<()>> {
    // SAFETY: `unfilled_mut` asks us not to de-initialise any byte; the
    // read only writes bytes into it (read(2) never un-writes memory).
    let n = ready!(read_uninit(unsafe { buf.unfilled_mut() }))?;
    // SAFETY: the read initialised the first `n` bytes of the unfilled part
    // (its contract); `advance` also marks them initialised.
    unsafe { buf.assume_init(n) };
    buf.advance(n);
    Poll::Ready(Ok(()))
}

impl AsyncRead for ChildStdout {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        read_into(buf, |unfilled| self.poll_read_uninit(cx, unfilled))
    }
}

impl AsyncRead for ChildStderr {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        read_into(buf, |unfilled| self.poll_read_uninit(cx, unfilled))
    }
}

impl AsyncWrite for ChildStdin {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        ChildStdin::poll_write(&self, cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        ChildStdin::poll_write_vectored(&self, cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ChildStdin::poll_shutdown(self.get_mut(), cx)
    }
}
