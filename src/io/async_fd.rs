//! [`Async`]: a descriptor and its registration — creating one, getting the
//! descriptor back, and the poll-level API. Its futures live in `ops.rs`.

use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::task::{Context, Poll};

use mio::unix::SourceFd;

use super::ops::{IoWith, IoWithMut, Ready};
use crate::runtime::reactor::registration::Registration;
use crate::runtime::reactor::{Direction, WaitSlot};

/// A non-blocking file descriptor registered with the current runtime's
/// reactor: kettle's `loop.add_reader` and `loop.add_writer`.
///
/// Wrap anything that is [`AsFd`] and that epoll can watch — a pipe, a Unix
/// or foreign socket, an eventfd, inotify, a serial port — and wait for it
/// with [`read_with`](Async::read_with) and [`write_with`](Async::write_with),
/// which run your non-blocking operation when the descriptor is ready and
/// again after each `WouldBlock`, or with [`readable`](Async::readable) and
/// [`writable`](Async::writable). The [module docs](crate::io) explain the
/// readiness rules, what `O_NONBLOCK` touches, and what happens when the
/// runtime goes away first.
///
/// ```
/// use std::io::{Read, Write};
/// use kettle::io::Async;
///
/// kettle::run(async {
///     let (reader, writer) = std::io::pipe()?;
///     let (reader, writer) = (Async::new(reader)?, Async::new(writer)?);
///     let tea = kettle::spawn(async move {
///         writer.write_with(|mut pipe| pipe.write(b"tea")).await
///     });
///     let mut buf = [0; 8];
///     let n = reader.read_with(|mut pipe| pipe.read(&mut buf)).await?;
///     assert_eq!(&buf[..n], b"tea");
///     assert_eq!(tea.await.unwrap()?, 3);
///     Ok::<_, std::io::Error>(())
/// })?;
/// # Ok::<_, std::io::Error>(())
/// ```
///
/// An `Async` belongs to the runtime it was registered with, so it stays on
/// that runtime's thread:
///
/// ```compile_fail
/// let (reader, _writer) = std::io::pipe().unwrap();
/// kettle::run(async move {
///     let reader = kettle::io::Async::new(reader).unwrap();
///     std::thread::spawn(move || drop(reader)); // error: `Async` is not `Send`
/// });
/// ```
#[doc(alias = "add_reader", alias = "add_writer", alias = "AsyncFd")]
pub struct Async<T: AsFd> {
    // Fields drop in declaration order: the registration takes the
    // descriptor out of epoll first, then `io` closes it (if `T` owns it).
    registered: Registered,
    io: T,
}

/// A descriptor number in a runtime's epoll. Dropping it takes the number
/// out of epoll (the module docs say why that must come before the close);
/// it never closes the descriptor.
struct Registered {
    fd: RawFd,
    registration: Registration,
    /// Whether `fd` is still in epoll: [`Async::into_inner`] takes it out
    /// before this is dropped.
    in_epoll: bool,
}

impl Registered {
    fn deregister(&mut self) -> io::Result<()> {
        if !std::mem::replace(&mut self.in_epoll, false) {
            return Ok(());
        }
        self.registration.try_deregister(&mut SourceFd(&self.fd))
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        // An error means the descriptor was closed already, which took it
        // out of epoll anyway.
        let _ = self.deregister();
    }
}

impl<T: AsFd> Async<T> {
    /// Registers `io` with the runtime running on this thread, for reading
    /// and writing, and makes it non-blocking (`O_NONBLOCK`, on the open file
    /// description: every `dup` of it sees that too).
    ///
    /// # Errors
    /// What epoll says when it cannot watch the descriptor — `EPERM` for a
    /// regular file or a directory, `AlreadyExists` if this number is already
    /// registered with this runtime (wrap a `dup` instead) — or what `fcntl`
    /// says. `io` is dropped then; a descriptor epoll refused is left as it
    /// was (it is registered before its flags are changed).
    ///
    /// # Panics
    /// Outside a runtime, as creating a socket does: call it from code
    /// running inside `Runtime::block_on`, `run_forever` or `turn` (or a task
    /// they run).
    #[track_caller]
    pub fn new(io: T) -> io::Result<Async<T>> {
        let fd = io.as_fd().as_raw_fd();
        let interest = mio::Interest::READABLE | mio::Interest::WRITABLE;
        let registration = Registration::new("kettle::io::Async::new", &mut SourceFd(&fd), interest)?;
        let this = Async { registered: Registered { fd, registration, in_epoll: true }, io };
        // On error, dropping `this` takes the descriptor out of epoll again.
        set_nonblocking(this.io.as_fd())?;
        Ok(this)
    }

    /// The wrapped I/O object.
    pub fn get_ref(&self) -> &T {
        &self.io
    }

    /// The wrapped I/O object, mutably.
    ///
    /// Do not replace the descriptor through it (with `std::mem::replace`,
    /// say): the registration stays with the old descriptor number, so the
    /// new one would never be reported ready. It is not unsafe, only wrong.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.io
    }

    /// Takes the descriptor out of the runtime's epoll and gives the I/O
    /// object back, still open and still non-blocking (clear `O_NONBLOCK`
    /// yourself if blocking reads should follow). After the runtime is
    /// dropped there is no epoll left to leave, and this just returns it.
    ///
    /// # Errors
    /// epoll's refusal to remove the descriptor, which happens only if it is
    /// no longer the one registered (replaced through
    /// [`get_mut`](Self::get_mut), or closed behind this `Async`'s back);
    /// the I/O object is dropped then.
    pub fn into_inner(self) -> io::Result<T> {
        let Async { mut registered, io } = self;
        registered.deregister()?;
        Ok(io)
    }

    /// Waits until the descriptor is readable (or closed for reading, or in
    /// error), without trying to read and without clearing that readiness:
    /// follow it with [`read_with`](Self::read_with), whose `WouldBlock`
    /// clears it. A read that ignores `WouldBlock` after this would be
    /// called again and again without waiting.
    ///
    /// Dropping the future before it finishes (a timeout) leaves the
    /// descriptor as it was.
    ///
    /// # Errors
    /// When the runtime is gone, or (instead of waiting) when another runtime
    /// is running on this thread.
    #[doc(alias = "add_reader")]
    pub fn readable(&self) -> Ready<'_> {
        Ready::new(&self.registered.registration, Direction::Read)
    }

    /// Waits until the descriptor is writable (or closed for writing, or in
    /// error), without writing and without clearing that readiness; see
    /// [`readable`](Self::readable).
    ///
    /// # Errors
    /// As for [`readable`](Self::readable).
    #[doc(alias = "add_writer")]
    pub fn writable(&self) -> Ready<'_> {
        Ready::new(&self.registered.registration, Direction::Write)
    }

    /// Runs the non-blocking read `op` once the descriptor is readable, and
    /// again each time it becomes readable after `op` returned `WouldBlock`;
    /// returns `op`'s first other result. `WouldBlock` clears the read
    /// readiness `op` was tried on (never the write side's), so `op` is not
    /// called again until the kernel reports a new edge.
    ///
    /// ```
    /// # use std::io::Read;
    /// # kettle::run(async {
    /// # let (reader, mut writer) = std::io::pipe()?;
    /// # std::io::Write::write_all(&mut writer, b"x")?;
    /// let reader = kettle::io::Async::new(reader)?;
    /// let mut buf = [0; 64];
    /// let n = reader.read_with(|mut pipe| pipe.read(&mut buf)).await?;
    /// # assert_eq!(n, 1);
    /// # Ok::<_, std::io::Error>(())
    /// # })?;
    /// # Ok::<_, std::io::Error>(())
    /// ```
    ///
    /// # Errors
    /// What `op` returns other than `WouldBlock`; an error without calling
    /// `op` when the runtime is gone; an error instead of waiting when
    /// another runtime is running on this thread.
    pub fn read_with<R, F>(&self, op: F) -> IoWith<'_, T, F>
    where
        F: FnMut(&T) -> io::Result<R>,
    {
        IoWith::new(&self.io, &self.registered.registration, Direction::Read, op)
    }

    /// [`read_with`](Self::read_with) for writing: runs the non-blocking
    /// write `op` once the descriptor is writable, and again after each
    /// `WouldBlock` and the next edge.
    ///
    /// # Errors
    /// As for [`read_with`](Self::read_with).
    pub fn write_with<R, F>(&self, op: F) -> IoWith<'_, T, F>
    where
        F: FnMut(&T) -> io::Result<R>,
    {
        IoWith::new(&self.io, &self.registered.registration, Direction::Write, op)
    }

    /// [`read_with`](Self::read_with) for an `op` that needs `&mut T` (a
    /// type that reads through `&mut self` only).
    ///
    /// # Errors
    /// As for [`read_with`](Self::read_with).
    pub fn read_with_mut<R, F>(&mut self, op: F) -> IoWithMut<'_, T, F>
    where
        F: FnMut(&mut T) -> io::Result<R>,
    {
        IoWithMut::new(&mut self.io, &self.registered.registration, Direction::Read, op)
    }

    /// [`write_with`](Self::write_with) for an `op` that needs `&mut T`.
    ///
    /// # Errors
    /// As for [`read_with`](Self::read_with).
    pub fn write_with_mut<R, F>(&mut self, op: F) -> IoWithMut<'_, T, F>
    where
        F: FnMut(&mut T) -> io::Result<R>,
    {
        IoWithMut::new(&mut self.io, &self.registered.registration, Direction::Write, op)
    }

    /// One step of [`read_with`](Self::read_with), for code that implements
    /// a poll method (an `AsyncRead`): if the descriptor is readable, calls
    /// `op` once and returns its result — unless it is `WouldBlock`, which
    /// clears that readiness; then, or if the descriptor was not readable,
    /// returns `Pending`, to be woken at the next edge.
    ///
    /// Only the waker of the latest `poll_read_with` or
    /// [`poll_readable`](Self::poll_readable) call is kept: use one poller
    /// per direction, or the futures, which each keep their own.
    ///
    /// # Errors
    /// As for [`read_with`](Self::read_with).
    pub fn poll_read_with<R>(
        &self,
        cx: &mut Context<'_>,
        op: impl FnOnce(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_with(cx, Direction::Read, op)
    }

    /// One step of [`write_with`](Self::write_with); see
    /// [`poll_read_with`](Self::poll_read_with).
    ///
    /// # Errors
    /// As for [`read_with`](Self::read_with).
    pub fn poll_write_with<R>(
        &self,
        cx: &mut Context<'_>,
        op: impl FnOnce(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_with(cx, Direction::Write, op)
    }

    /// [`readable`](Self::readable) as a poll method: `Ready(Ok(()))` while
    /// the descriptor is readable, readiness left set. An adapter that reads
    /// after it must clear that readiness when the read returns
    /// `WouldBlock`, which only [`poll_read_with`](Self::poll_read_with)
    /// does; this one is for code that only needs to know.
    ///
    /// # Errors
    /// As for [`readable`](Self::readable).
    pub fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_with(cx, Direction::Read, |_| Ok(()))
    }

    /// [`writable`](Self::writable) as a poll method; see
    /// [`poll_readable`](Self::poll_readable).
    ///
    /// # Errors
    /// As for [`readable`](Self::readable).
    pub fn poll_writable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_with(cx, Direction::Write, |_| Ok(()))
    }

    /// [`poll_with`](Self::poll_with) for an `op` that needs `&mut T`: what
    /// the `futures-io` and `tokio-io` traits use for a `T` that reads or
    /// writes through `&mut self` only (`ChildStdout`, say).
    #[cfg_attr(not(any(feature = "futures-io", feature = "tokio-io")), allow(dead_code))]
    pub(super) fn poll_with_mut<R>(
        &mut self,
        cx: &mut Context<'_>,
        direction: Direction,
        op: impl FnOnce(&mut T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        let Async { registered, io } = self;
        let drained = |_: &R| false; // as in `poll_with`
        registered.registration.poll_io(cx, direction, WaitSlot::Poll, || op(io), drained)
    }

    /// One step of the reactor's rule, waiting in the direction's poll slot.
    fn poll_with<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        op: impl FnOnce(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        // A success never clears readiness here: the sockets' short-read
        // shortcut proves nothing for an arbitrary descriptor (module docs).
        let drained = |_: &R| false;
        self.registered.registration.poll_io(cx, direction, WaitSlot::Poll, || op(&self.io), drained)
    }
}

/// Sets `O_NONBLOCK` on `fd`'s open file description, unless it is set.
fn set_nonblocking(fd: BorrowedFd<'_>) -> io::Result<()> {
    let fd = fd.as_raw_fd();
    // SAFETY: `fcntl` with `F_GETFL` and `F_SETFL` reads and writes integer
    // flags only, no memory of ours; `fd` comes from a `BorrowedFd`, so it
    // is open for the duration of both calls.
    let set = unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags < 0 || flags & libc::O_NONBLOCK != 0 {
            flags
        } else {
            libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK)
        }
    };
    if set < 0 { Err(io::Error::last_os_error()) } else { Ok(()) }
}

impl<T: AsFd> AsFd for Async<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

impl<T: AsFd> AsRawFd for Async<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_fd().as_raw_fd()
    }
}

impl<T: AsFd + fmt::Debug> fmt::Debug for Async<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Async").field("io", &self.io).finish()
    }
}
