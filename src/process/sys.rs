//! The system calls std does not make for us: `pidfd_open`, `kill`, a read
//! into uninitialised memory, and a pipe write that cannot raise `SIGPIPE`.
//! Every `unsafe` block of `kettle::process` is here, but for the two
//! `ReadBuf` calls of `tokio_io.rs`.
//!
//! # Writing to a pipe without `SIGPIPE`
//!
//! A write to a pipe whose reader has gone fails with `EPIPE`, and the
//! kernel also sends the writing thread `SIGPIPE`, whose default action ends
//! the process. Sockets avoid it per call (`send` with `MSG_NOSIGNAL`);
//! pipes have no such flag. A Rust binary does not see it: before `main`,
//! std sets `SIGPIPE` to "ignore" (unless built with
//! `-Zon-broken-pipe=inherit`). A library cannot count on that — kettle may
//! run in a C program, or in a Rust one that restored the default — so
//! [`write()`] asks first: if `SIGPIPE` is ignored, a plain `write(2)`;
//! otherwise the signal is blocked on this thread around the write, and an
//! `EPIPE`'s `SIGPIPE`, now pending, is taken back with a zero-timeout
//! `sigtimedwait` before the mask is restored. A thread that had blocked
//! `SIGPIPE` itself keeps its pending signal: it chose to handle it.

use std::io::{self, IoSlice};
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// The `-1`-means-`errno` convention of the C library, as a `Result`.
fn check(result: isize) -> io::Result<usize> {
    if result < 0 { Err(io::Error::last_os_error()) } else { Ok(result as usize) }
}

/// `pidfd_open(2)` (Linux 5.3+): a descriptor that turns readable when the
/// process `pid` exits, opened close-on-exec and, from Linux 5.10, already
/// non-blocking (which saves `Async::new` its `fcntl`). `ENOSYS` on older
/// kernels, `EPERM` where a seccomp filter refuses it.
pub(super) fn pidfd_open(pid: u32) -> io::Result<OwnedFd> {
    let open = |flags: libc::c_int| {
        // SAFETY: pidfd_open takes two integers and touches no memory of ours.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, flags as libc::c_uint) };
        check(fd as isize)
    };
    // PIDFD_NONBLOCK is O_NONBLOCK; kernels before 5.10 refuse it (EINVAL).
    let fd = match open(libc::O_NONBLOCK) {
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => open(0),
        result => result,
    }?;
    // SAFETY: on success the kernel returned a new descriptor that nothing
    // else owns; the `OwnedFd` becomes its only owner and closes it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// `kill(pid, SIGKILL)`. The caller guarantees `pid` is its child and not
/// yet reaped, so the number cannot have been reused by another process.
pub(super) fn kill(pid: u32) -> io::Result<()> {
    // SAFETY: kill takes two integers and touches no memory of ours.
    let result = unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
    check(result as isize).map(drop)
}

/// One `read(2)` into `buf`, which may be uninitialised; returns how many
/// bytes it initialised (from the start).
pub(super) fn read_uninit(fd: BorrowedFd<'_>, buf: &mut [MaybeUninit<u8>]) -> io::Result<usize> {
    // SAFETY: read(2) writes at most `buf.len()` bytes at `buf`'s pointer and
    // never reads them; an exclusive slice is valid for writes of its whole
    // length, initialised or not. `fd` is borrowed, so open for the call.
    let read = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
    check(read)
}

/// One `write(2)` of `buf`; a reader that has gone is `BrokenPipe` and
/// never a `SIGPIPE` for this process (module docs).
pub(super) fn write(fd: BorrowedFd<'_>, buf: &[u8]) -> io::Result<usize> {
    without_sigpipe(|| write_raw(fd, buf))
}

/// One `writev(2)` of the first [`MAX_IOVECS`] slices of `bufs`, in order;
/// no `SIGPIPE`, as for [`write()`].
pub(super) fn write_vectored(fd: BorrowedFd<'_>, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
    let bufs = &bufs[..bufs.len().min(MAX_IOVECS)];
    let (iovecs, count) = (bufs.as_ptr().cast(), bufs.len() as libc::c_int);
    without_sigpipe(|| {
        // SAFETY: `IoSlice` is documented to be ABI-compatible with `iovec`
        // on Unix; writev reads `count` of them, each describing a live
        // `&[u8]`, and writes no memory of ours. `fd` is borrowed, so open.
        let written = unsafe { libc::writev(fd.as_raw_fd(), iovecs, count) };
        check(written)
    })
}

/// How many slices one vectored write passes at most (Linux's `IOV_MAX`).
pub(super) const MAX_IOVECS: usize = 1024;

/// Runs one pipe write, `write`, so that an `EPIPE` cannot end the process
/// with `SIGPIPE` (module docs).
fn without_sigpipe(write: impl FnOnce() -> io::Result<usize>) -> io::Result<usize> {
    if sigpipe_is_ignored() {
        return write();
    }
    let pipe_only = sigpipe_set();
    let mut previous = empty_set();
    // SAFETY: both sets are initialised `sigset_t`s that live across the
    // call; pthread_sigmask reads the first and writes the second.
    unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &pipe_only, &mut previous) };
    // SAFETY: `previous` was initialised by sigemptyset and then filled in.
    let was_blocked = unsafe { libc::sigismember(&previous, libc::SIGPIPE) } == 1;
    let written = write();
    if !was_blocked {
        if matches!(&written, Err(e) if e.raw_os_error() == Some(libc::EPIPE)) {
            let zero = libc::timespec { tv_sec: 0, tv_nsec: 0 };
            // SAFETY: `pipe_only` and `zero` are initialised and live across
            // the call; a null siginfo pointer is allowed. It takes the
            // SIGPIPE this write raised, which is pending while blocked.
            unsafe { libc::sigtimedwait(&pipe_only, std::ptr::null_mut(), &zero) };
        }
        // SAFETY: as for the first call; a null old-set pointer is allowed.
        unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &previous, std::ptr::null_mut()) };
    }
    written
}

fn write_raw(fd: BorrowedFd<'_>, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: write(2) reads at most `buf.len()` bytes from a live slice and
    // writes no memory of ours. `fd` is borrowed, so open for the call.
    let written = unsafe { libc::write(fd.as_raw_fd(), buf.as_ptr().cast(), buf.len()) };
    check(written)
}

/// Whether this process ignores `SIGPIPE` right now (std's start-up code
/// makes it so in Rust binaries).
fn sigpipe_is_ignored() -> bool {
    let mut current = MaybeUninit::<libc::sigaction>::zeroed();
    // SAFETY: a null new action only reads the disposition, which the kernel
    // writes into `current`, a live and suitably sized `sigaction`.
    let result = unsafe { libc::sigaction(libc::SIGPIPE, std::ptr::null(), current.as_mut_ptr()) };
    // SAFETY: zeroed is a valid `sigaction` (plain integers and pointers),
    // and on success the kernel has filled it in.
    result == 0 && unsafe { current.assume_init() }.sa_sigaction == libc::SIG_IGN
}

fn empty_set() -> libc::sigset_t {
    let mut set = MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: sigemptyset initialises the whole set it is given.
    unsafe {
        libc::sigemptyset(set.as_mut_ptr());
        set.assume_init()
    }
}

fn sigpipe_set() -> libc::sigset_t {
    let mut set = empty_set();
    // SAFETY: `set` is an initialised set; SIGPIPE is a valid signal number.
    unsafe { libc::sigaddset(&mut set, libc::SIGPIPE) };
    set
}

/// One `read(2)` into `vec`'s spare capacity (at least 8 KiB of it, grown
/// as `Vec` grows), appending what it read; returns how many bytes.
pub(super) fn read_appending(fd: BorrowedFd<'_>, vec: &mut Vec<u8>) -> io::Result<usize> {
    if vec.capacity() - vec.len() < 8192 {
        vec.reserve(8192);
    }
    let spare = vec.capacity() - vec.len();
    let read = read_uninit(fd, vec.spare_capacity_mut())?;
    debug_assert!(read <= spare, "read(2) returns at most the length it was given");
    // SAFETY: read(2) initialised the first `read` bytes of the spare
    // capacity, which follow the `len` initialised ones; `read` is at most
    // the spare capacity's length, so the new length is within capacity.
    unsafe { vec.set_len(vec.len() + read) };
    Ok(read)
}

/// `waitpid(pid, WNOHANG)`, for the orphan list: whether the child `pid`
/// is gone (reaped now, or not ours to reap any more: `ECHILD`).
pub(super) fn reap_if_exited(pid: u32) -> bool {
    let mut status = 0;
    // SAFETY: waitpid writes one integer into `status`, a live local.
    let result = unsafe { libc::waitpid(pid as libc::pid_t, &mut status, libc::WNOHANG) };
    result != 0
}
