//! The process-wide half of `kettle::signal`: what the C signal handler
//! touches, and the bookkeeping that installs the handler and takes it away.
//! Every `unsafe` block of the module is in this file.
//!
//! - [`DELIVERIES`]: one counter per signal number, bumped by the handler.
//! - The self-pipe ([`PIPE_READ`], [`PIPE_WRITE`]): created on first use,
//!   never closed; the handler writes one byte after bumping a counter. A
//!   failure to create it (no descriptors left: `EMFILE`) is returned to that
//!   caller and not kept: only the pipe, once made, is remembered, so the
//!   next listener tries again.
//! - [`on_signal`]: the handler itself, the same function for every signal.
//! - [`DISPOSITIONS`]: per signal, how many listeners exist and what to put
//!   back when the last one goes.
//!
//! The handler runs on whatever thread the kernel picks, between any two
//! instructions of that thread: it may only use async-signal-safe operations
//! — atomics and `write(2)` here, never a lock or an allocation.

use std::fs::File;
use std::io;
use std::os::fd::{BorrowedFd, RawFd};
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

/// The highest signal number with a counter: Linux's SIGRTMAX.
pub(super) const MAX_SIGNAL: usize = 64;

/// Deliveries of each signal since the process started, indexed by signal
/// number (0 is unused). Only [`on_signal`] writes them; they only grow.
static DELIVERIES: [AtomicU64; MAX_SIGNAL + 1] = [const { AtomicU64::new(0) }; MAX_SIGNAL + 1];

/// The self-pipe's write end, for the handler; `-1` before the first use.
static PIPE_WRITE: AtomicI32 = AtomicI32::new(-1);

/// The self-pipe's read end; `-1` until the pipe has been created.
/// Written once, under [`CREATING`], after [`PIPE_WRITE`].
static PIPE_READ: AtomicI32 = AtomicI32::new(-1);

/// Held while the pipe is created, so that two first listeners on two
/// threads make one pipe.
static CREATING: Mutex<()> = Mutex::new(());

/// One signal's listeners, and the disposition their handler replaced.
struct Disposition {
    listeners: usize,
    /// What `sigaction` returned when the first listener installed the
    /// handler; `Some` exactly while `listeners > 0`.
    previous: Option<libc::sigaction>,
}

/// Every signal's [`Disposition`], indexed by signal number.
static DISPOSITIONS: Mutex<[Disposition; MAX_SIGNAL + 1]> =
    Mutex::new([const { Disposition { listeners: 0, previous: None } }; MAX_SIGNAL + 1]);

/// How many times signal `signo` has been delivered since the process
/// started (counted only while kettle's handler was installed for it).
pub(super) fn deliveries(signo: usize) -> u64 {
    DELIVERIES[signo].load(Ordering::SeqCst)
}

/// A descriptor of its own for the pipe's read end, creating the pipe on
/// first use: close-on-exec, and non-blocking like the original (that flag
/// belongs to the pipe, which every duplicate shares).
pub(super) fn dup_read_end() -> io::Result<File> {
    let read = read_end()?;
    // SAFETY: `borrow_raw` needs the descriptor to stay open while it is
    // borrowed; the pipe's read end is never closed.
    let read = unsafe { BorrowedFd::borrow_raw(read) };
    Ok(File::from(read.try_clone_to_owned()?))
}

/// The pipe's read end, creating the pipe if no caller has yet. An error is
/// this caller's alone: nothing is stored, and the next call tries again.
fn read_end() -> io::Result<RawFd> {
    let read = PIPE_READ.load(Ordering::Acquire);
    if read >= 0 {
        return Ok(read);
    }
    let _creating = CREATING.lock().unwrap_or_else(|e| e.into_inner());
    let read = PIPE_READ.load(Ordering::Acquire);
    if read >= 0 {
        return Ok(read); // another thread made it while we waited
    }
    let (read, write) = create_pipe()?;
    PIPE_WRITE.store(write, Ordering::SeqCst);
    PIPE_READ.store(read, Ordering::Release);
    Ok(read)
}

/// Creates the pipe: its read and write ends.
fn create_pipe() -> io::Result<(RawFd, RawFd)> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: `pipe2` writes two descriptors into the array on success.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((fds[0], fds[1]))
}

/// The handler, for every signal kettle listens for: async-signal-safe
/// operations only.
extern "C" fn on_signal(signo: libc::c_int) {
    // First the counter, the truth a listener compares against...
    if let Some(count) = usize::try_from(signo).ok().and_then(|i| DELIVERIES.get(i)) {
        count.fetch_add(1, Ordering::SeqCst);
    }
    // ...then the byte that makes the pipe readable, so that whoever wakes
    // for the byte finds the counter already moved.
    let fd = PIPE_WRITE.load(Ordering::SeqCst);
    if fd >= 0 {
        // SAFETY: `write` is async-signal-safe; errno is saved and restored
        // so the interrupted code does not see ours. A full pipe (EAGAIN) is
        // fine: the counter records the delivery, and the pipe is readable.
        unsafe {
            let errno = *libc::__errno_location();
            libc::write(fd, [1u8].as_ptr().cast(), 1);
            *libc::__errno_location() = errno;
        }
    }
}

fn dispositions() -> MutexGuard<'static, [Disposition; MAX_SIGNAL + 1]> {
    DISPOSITIONS.lock().unwrap_or_else(|e| e.into_inner())
}

/// One more listener for `signo` (checked by `SignalKind::check`); the
/// first installs the handler. The pipe must exist already
/// ([`dup_read_end`]), or a delivery would be counted without a wake-up.
///
/// On success the caller owes one [`remove_listener`].
pub(super) fn add_listener(signo: usize) -> io::Result<()> {
    debug_assert!(PIPE_WRITE.load(Ordering::SeqCst) >= 0, "the pipe exists before the handler");
    let mut dispositions = dispositions();
    let slot = &mut dispositions[signo];
    if slot.listeners == 0 {
        slot.previous = Some(install(signo)?);
    }
    slot.listeners += 1;
    Ok(())
}

/// One listener of `signo` fewer; the last puts back the disposition the
/// first one found.
pub(super) fn remove_listener(signo: usize) {
    let mut dispositions = dispositions();
    let slot = &mut dispositions[signo];
    slot.listeners -= 1;
    if slot.listeners == 0
        && let Some(previous) = slot.previous.take()
    {
        // SAFETY: restores a disposition `sigaction` itself returned, for
        // the signal it was returned for.
        unsafe { libc::sigaction(signo as libc::c_int, &previous, std::ptr::null_mut()) };
    }
}

/// Installs [`on_signal`] for `signo`; returns the disposition it replaced.
///
/// `SA_RESTART`: a system call that the signal interrupts elsewhere in the
/// program (a blocking read on another thread, say) resumes instead of
/// failing with `EINTR`. The mask is empty: while the handler runs, only the
/// signal it handles is blocked (the kernel's default).
fn install(signo: usize) -> io::Result<libc::sigaction> {
    // SAFETY: a zeroed `sigaction` is a valid "no handler, empty mask" value
    // that we then fill in; `sigaction` reads `action` and writes the
    // previous disposition into `previous`.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_signal as *const () as usize;
        action.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut action.sa_mask);
        let mut previous: libc::sigaction = std::mem::zeroed();
        if libc::sigaction(signo as libc::c_int, &action, &mut previous) < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(previous)
    }
}
