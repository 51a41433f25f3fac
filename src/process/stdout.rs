//! [`ChildStdout`] and [`ChildStderr`]: the read ends of a child's output
//! pipes. The two are the same thing under two names (as in std), both over
//! one private reader; the module docs of `stdin.rs` say how a pipe waits.

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::task::{Context, Poll};

use super::sys;
use crate::io::Async;

/// The parent's end of a child's stdout pipe
/// (`Command::stdout(Stdio::piped())`): asyncio's `proc.stdout`.
///
/// ```
/// use kettle::process::{Command, Stdio};
///
/// kettle::run(async {
///     let mut child = Command::new("echo").arg("steam").stdout(Stdio::piped()).spawn()?;
///     let mut text = String::new();
///     child.stdout.take().unwrap().read_to_string(&mut text).await?;
///     assert_eq!(text, "steam\n");
///     assert!(child.wait().await?.success());
///     Ok::<_, std::io::Error>(())
/// })?;
/// # Ok::<_, std::io::Error>(())
/// ```
pub struct ChildStdout {
    pipe: PipeReader,
}

/// The parent's end of a child's stderr pipe
/// (`Command::stderr(Stdio::piped())`): asyncio's `proc.stderr`. The same
/// methods as [`ChildStdout`].
///
/// ```
/// use kettle::process::{Command, Stdio};
///
/// kettle::run(async {
///     let mut child = Command::new("sh").args(["-c", "echo oops >&2"]).stderr(Stdio::piped()).spawn()?;
///     let mut text = String::new();
///     child.stderr.take().unwrap().read_to_string(&mut text).await?;
///     assert_eq!(text, "oops\n");
///     Ok::<_, std::io::Error>(())
/// })?;
/// # Ok::<_, std::io::Error>(())
/// ```
pub struct ChildStderr {
    pipe: PipeReader,
}

/// The methods, the descriptor and the `Debug` of [`ChildStdout`] and
/// [`ChildStderr`], which are the same reader under two names (as in std).
macro_rules! pipe_reader_methods {
    ($name:ident, $std:ty) => {
        impl $name {
            /// Wraps std's handle (from a `std::process::Child`) for the current
            /// runtime: non-blocking, on the reactor.
            ///
            /// # Errors
            /// What registering the descriptor with epoll or `fcntl` says.
            ///
            /// # Panics
            /// Outside a runtime.
            #[track_caller]
            pub fn from_std(pipe: $std) -> io::Result<$name> {
                Ok($name { pipe: PipeReader::new(OwnedFd::from(pipe))? })
            }

            /// Reads what the child has written so far, up to `buf.len()` bytes,
            /// waiting for something if nothing is there; `Ok(0)` is end-of-file
            /// (the child closed it, or exited). Cancel-safe: a read dropped before
            /// it finishes has read nothing.
            ///
            /// # Errors
            /// What `read(2)` says; an error when the runtime is gone.
            pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                self.pipe.read(buf).await
            }

            /// Reads until end-of-file, appending to `buf`; returns how many bytes
            /// it appended. Cancelled mid-way, what was read so far is in `buf`.
            ///
            /// # Errors
            /// As for [`read`](Self::read).
            pub async fn read_to_end(&mut self, buf: &mut Vec<u8>) -> io::Result<usize> {
                self.pipe.read_to_end(buf).await
            }

            /// Reads until end-of-file and appends it to `buf` as text; returns how
            /// many bytes it appended. Cancelled mid-way, what was read so far is
            /// lost (it may end inside a character).
            ///
            /// # Errors
            /// `InvalidData` if the output is not UTF-8 (`buf` is left as it was);
            /// otherwise as for [`read`](Self::read).
            pub async fn read_to_string(&mut self, buf: &mut String) -> io::Result<usize> {
                self.pipe.read_to_string(buf).await
            }

            /// One step of [`read`](Self::read), for adapters: reads if the pipe
            /// has data (or is closed), else leaves `cx`'s waker to be woken when
            /// it has. Only the latest poll's waker is kept.
            ///
            /// # Errors
            /// As for [`read`](Self::read).
            pub fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
                self.pipe.poll_read(cx, buf)
            }

            /// [`poll_read`](Self::poll_read) into memory that need not be
            /// initialised (tokio's `ReadBuf`, hyper's); returns how many bytes it
            /// initialised, from the start of `buf`.
            ///
            /// # Errors
            /// As for [`read`](Self::read).
            pub fn poll_read_uninit(
                &self,
                cx: &mut Context<'_>,
                buf: &mut [MaybeUninit<u8>],
            ) -> Poll<io::Result<usize>> {
                self.pipe.poll_read_uninit(cx, buf)
            }

            /// Ready once the pipe has data (or is closed), without reading and
            /// without clearing that readiness.
            ///
            /// # Errors
            /// When the runtime is gone.
            pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                self.pipe.0.poll_readable(cx)
            }

            /// One read now, never waiting: `WouldBlock` if the pipe is empty.
            ///
            /// # Errors
            /// `WouldBlock`, or as for [`read`](Self::read).
            pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
                self.pipe.try_read(buf)
            }

            /// Reads until end-of-file into `buf`, as far as the pipe allows now.
            pub(super) fn poll_read_to_end(
                &self,
                cx: &mut Context<'_>,
                buf: &mut Vec<u8>,
            ) -> Poll<io::Result<()>> {
                self.pipe.poll_read_to_end(cx, buf)
            }
        }

        impl AsFd for $name {
            fn as_fd(&self) -> BorrowedFd<'_> {
                self.pipe.0.as_fd()
            }
        }

        impl AsRawFd for $name {
            fn as_raw_fd(&self) -> RawFd {
                self.pipe.0.as_raw_fd()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name)).field("fd", &self.as_raw_fd()).finish()
            }
        }
    };
}

pipe_reader_methods!(ChildStdout, std::process::ChildStdout);
pipe_reader_methods!(ChildStderr, std::process::ChildStderr);

/// What [`ChildStdout`] and [`ChildStderr`] share: a pipe's read end.
struct PipeReader(Async<File>);

impl PipeReader {
    #[track_caller]
    fn new(fd: OwnedFd) -> io::Result<PipeReader> {
        Ok(PipeReader(Async::new(File::from(fd))?))
    }

    /// A read straight on the non-blocking descriptor. Its `WouldBlock`
    /// leaves the reactor's readiness as it was: a stale "readable" costs
    /// the next poll one attempt, which clears it.
    fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        (&mut self.0.get_ref()).read(buf)
    }

    async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.0.read_with(|mut file| file.read(buf)).await
    }

    async fn read_to_end(&self, buf: &mut Vec<u8>) -> io::Result<usize> {
        let start = buf.len();
        loop {
            match self.0.read_with(|file| sys::read_appending(file.as_fd(), buf)).await? {
                0 => return Ok(buf.len() - start),
                _ => continue,
            }
        }
    }

    async fn read_to_string(&self, buf: &mut String) -> io::Result<usize> {
        let mut bytes = Vec::new();
        self.read_to_end(&mut bytes).await?;
        let text = String::from_utf8(bytes).map_err(|e| {
            io::Error::new(io::ErrorKind::InvalidData, format!("the child's output is not UTF-8: {e}"))
        })?;
        buf.push_str(&text);
        Ok(text.len())
    }

    fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        self.0.poll_read_with(cx, |mut file| file.read(buf))
    }

    fn poll_read_uninit(&self, cx: &mut Context<'_>, buf: &mut [MaybeUninit<u8>]) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        self.0.poll_read_with(cx, |file| sys::read_uninit(file.as_fd(), buf))
    }

    /// One read appended to `buf` (for `wait_with_output`).
    fn poll_read_appending(&self, cx: &mut Context<'_>, buf: &mut Vec<u8>) -> Poll<io::Result<usize>> {
        self.0.poll_read_with(cx, |file| sys::read_appending(file.as_fd(), buf))
    }

    /// Reads until end-of-file into `buf`, as far as the pipe allows now.
    pub(super) fn poll_read_to_end(&self, cx: &mut Context<'_>, buf: &mut Vec<u8>) -> Poll<io::Result<()>> {
        loop {
            match self.poll_read_appending(cx, buf) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Ok(())),
                Poll::Ready(Ok(_)) => continue,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}
