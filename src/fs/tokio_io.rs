//! tokio's `AsyncRead`, `AsyncWrite` and `AsyncSeek` for [`File`] (cargo
//! feature `tokio-io`; tokio without default features is its traits and
//! `ReadBuf` only, no runtime).
//!
//! Each method is `File`'s own poll-level step (`file/poll.rs`). Reads copy
//! from the read-ahead straight into the caller's `ReadBuf`, initialised or
//! not: nothing is zeroed first. `poll_shutdown` flushes.
//!
//! tokio's seek is two calls: `start_seek` only records the target, and
//! `poll_complete` starts the trip (after any in flight) and waits for it.
//! `poll_complete` with no seek asked for returns the current position,
//! which costs a trip of its own (a seek by 0); `AsyncSeekExt::seek` calls
//! it once before starting, so a seek through tokio's traits is two trips
//! where `File::seek` is one.

use std::io::{self, SeekFrom};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncSeek, AsyncWrite, ReadBuf};

use super::File;

impl AsyncRead for File {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_read_ahead(cx, buf.remaining()))?;
        let ahead = &mut this.idle().buf;
        let n = ahead.unread().len().min(buf.remaining());
        buf.put_slice(&ahead.unread()[..n]);
        ahead.consume(n);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for File {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.get_mut().poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_flush(cx)
    }
}

impl AsyncSeek for File {
    fn start_seek(self: Pin<&mut Self>, position: SeekFrom) -> io::Result<()> {
        self.get_mut().start_seek(position);
        Ok(())
    }

    fn poll_complete(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        self.get_mut().poll_complete(cx)
    }
}
