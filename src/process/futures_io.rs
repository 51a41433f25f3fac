//! `futures_io::AsyncRead` for [`ChildStdout`] and [`ChildStderr`] and
//! `AsyncWrite` for [`ChildStdin`] (cargo feature `futures-io`). Each
//! method is the pipe's own poll method: one step of the reactor's rule,
//! waiting in the direction's poll slot. Writes are not buffered, so
//! `poll_flush` has nothing to do; `poll_close` closes the pipe, and the
//! child reads end-of-file.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use super::stdin::ChildStdin;
use super::stdout::{ChildStderr, ChildStdout};

impl AsyncRead for ChildStdout {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        ChildStdout::poll_read(&self, cx, buf)
    }
}

impl AsyncRead for ChildStderr {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        ChildStderr::poll_read(&self, cx, buf)
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

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ChildStdin::poll_shutdown(self.get_mut(), cx)
    }
}
