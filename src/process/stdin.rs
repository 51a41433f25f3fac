//! The child's ends of its standard streams, seen from the parent:
//! [`ChildStdin`] to write to, [`ChildStdout`](super::ChildStdout) and
//! [`ChildStderr`](super::ChildStderr) to read.
//!
//! Each is a pipe descriptor std created (close-on-exec, so no other child
//! inherits it) wrapped in [`Async`]: made non-blocking and registered with
//! the runtime's reactor, so a read waits for the pipe to turn readable
//! instead of blocking the loop, and `WouldBlock` clears the readiness it
//! saw (the reactor's rule, `src/runtime/reactor.rs`). As for sockets, each
//! operation comes as an async method, and as a poll method for adapters
//! (the `futures-io` and `tokio-io` traits, hand-written futures), which
//! keeps only the latest poll's waker per direction.
//!
//! A write to a child that has closed its stdin, or exited, is an
//! `io::Error` of kind `BrokenPipe`, never a `SIGPIPE` that ends this
//! process (`sys.rs` says how). [`ChildStdin::shutdown`] closes the pipe, so
//! the child reads end-of-file; dropping it does the same.

use std::fmt;
use std::fs::File;
use std::io::{self, IoSlice};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::task::{Context, Poll};

use super::sys;
use crate::io::Async;

/// The parent's end of a child's stdin pipe (`Command::stdin(Stdio::piped())`):
/// asyncio's `proc.stdin`, a `StreamWriter`.
///
/// ```
/// use kettle::process::{Command, Stdio};
///
/// kettle::run(async {
///     let mut child = Command::new("cat").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn()?;
///     let mut stdin = child.stdin.take().unwrap();
///     stdin.write_all(b"tea\n").await?;
///     stdin.shutdown().await?; // cat sees end-of-file and exits
///     let output = child.wait_with_output().await?;
///     assert_eq!(output.stdout, b"tea\n");
///     Ok::<_, std::io::Error>(())
/// })?;
/// # Ok::<_, std::io::Error>(())
/// ```
pub struct ChildStdin {
    /// `None` once [`shutdown`](Self::shutdown) closed the pipe.
    pipe: Option<Async<File>>,
}

fn shut_down() -> io::Error {
    io::Error::new(
        io::ErrorKind::BrokenPipe,
        "ChildStdin was shut down: its pipe is closed, so nothing more can be written",
    )
}

impl ChildStdin {
    /// Wraps std's handle (from a `std::process::Child`) for the current
    /// runtime: non-blocking, on the reactor.
    ///
    /// # Errors
    /// What registering the descriptor with epoll or `fcntl` says.
    ///
    /// # Panics
    /// Outside a runtime.
    #[track_caller]
    pub fn from_std(stdin: std::process::ChildStdin) -> io::Result<ChildStdin> {
        Ok(ChildStdin { pipe: Some(Async::new(File::from(OwnedFd::from(stdin)))?) })
    }

    fn pipe(&self) -> io::Result<&Async<File>> {
        self.pipe.as_ref().ok_or_else(shut_down)
    }

    /// Writes some of `buf` once the pipe has room; returns how much.
    ///
    /// # Errors
    /// `BrokenPipe` if the child closed its stdin (or exited), or after
    /// [`shutdown`](Self::shutdown).
    pub async fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let pipe = self.pipe()?;
        if buf.is_empty() {
            return Ok(0);
        }
        pipe.write_with(|file| sys::write(file.as_fd(), buf)).await
    }

    /// Writes all of `buf`, waiting for room as often as needed (asyncio's
    /// `write` then `drain`). Cancelled mid-way, some prefix of `buf` has
    /// been written and the rest not.
    ///
    /// # Errors
    /// As for [`write`](Self::write).
    pub async fn write_all(&mut self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            match self.write(buf).await? {
                0 => return Err(io::ErrorKind::WriteZero.into()),
                n => buf = &buf[n..],
            }
        }
        Ok(())
    }

    /// Nothing to do: writes are not buffered, each goes straight to the
    /// pipe. (There for code written against tokio's or asyncio's writers.)
    ///
    /// # Errors
    /// Never.
    pub async fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// Closes the pipe, so the child reads end-of-file (asyncio's
    /// `write_eof`/`close`). Later writes fail with `BrokenPipe`; shutting
    /// down twice is fine. Dropping the `ChildStdin` closes it too.
    ///
    /// # Errors
    /// Never: closing a pipe cannot fail in a way worth reporting.
    #[doc(alias = "write_eof", alias = "close")]
    pub async fn shutdown(&mut self) -> io::Result<()> {
        self.pipe = None;
        Ok(())
    }

    /// One step of [`write`](Self::write), for adapters: writes if the pipe
    /// has room, else leaves `cx`'s waker to be woken when it has.
    ///
    /// # Errors
    /// As for [`write`](Self::write).
    pub fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let pipe = self.pipe()?;
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        pipe.poll_write_with(cx, |file| sys::write(file.as_fd(), buf))
    }

    /// One write now, never waiting: `WouldBlock` if the pipe is full. (Its
    /// `WouldBlock` leaves the reactor's readiness as it was: a stale
    /// "writable" costs the next poll one attempt, which clears it.)
    ///
    /// # Errors
    /// `WouldBlock`, or as for [`write`](Self::write).
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        let pipe = self.pipe()?;
        if buf.is_empty() {
            return Ok(0);
        }
        sys::write(pipe.get_ref().as_fd(), buf)
    }

    /// [`poll_write`](Self::poll_write) of several buffers in one
    /// `writev` (at most 1,024 of them), in order; returns how many bytes
    /// it wrote in all.
    ///
    /// # Errors
    /// As for [`write`](Self::write).
    pub fn poll_write_vectored(&self, cx: &mut Context<'_>, bufs: &[IoSlice<'_>]) -> Poll<io::Result<usize>> {
        let pipe = self.pipe()?;
        if bufs.iter().take(sys::MAX_IOVECS).all(|buf| buf.is_empty()) {
            return Poll::Ready(Ok(0));
        }
        pipe.poll_write_with(cx, |file| sys::write_vectored(file.as_fd(), bufs))
    }

    /// Ready once the pipe has room (or the child has closed it), without
    /// writing.
    ///
    /// # Errors
    /// After [`shutdown`](Self::shutdown), or when the runtime is gone.
    pub fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.pipe()?.poll_writable(cx)
    }

    /// [`shutdown`](Self::shutdown) as a poll method: closes the pipe now.
    ///
    /// # Errors
    /// Never.
    pub fn poll_shutdown(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.pipe = None;
        Poll::Ready(Ok(()))
    }
}

impl AsFd for ChildStdin {
    /// The pipe's descriptor.
    ///
    /// # Panics
    /// After [`shutdown`](ChildStdin::shutdown), which closed it: take the
    /// descriptor before shutting down, or drop the `ChildStdin` instead.
    fn as_fd(&self) -> BorrowedFd<'_> {
        match &self.pipe {
            Some(pipe) => pipe.as_fd(),
            None => panic!(
                "ChildStdin::as_fd called after shutdown closed the pipe: there is no descriptor \
                 left; use the descriptor before shutting down"
            ),
        }
    }
}

impl AsRawFd for ChildStdin {
    /// The pipe's descriptor.
    ///
    /// # Panics
    /// After [`shutdown`](ChildStdin::shutdown), as [`as_fd`](AsFd::as_fd).
    fn as_raw_fd(&self) -> RawFd {
        self.as_fd().as_raw_fd()
    }
}

impl fmt::Debug for ChildStdin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fd = self.pipe.as_ref().map(|pipe| pipe.as_raw_fd());
        f.debug_struct("ChildStdin").field("fd", &fd).finish()
    }
}
