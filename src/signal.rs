//! Waiting for Ctrl+C: [`ctrl_c`].
//!
//! A signal handler may do almost nothing: no locks, no allocation, no waking
//! of wakers. The classic way out is the *self-pipe*: the handler writes one
//! byte into a pipe, and the pipe's read end is an ordinary file descriptor
//! the event loop can watch. kettle's version has three parts:
//!
//! - **One pipe per process**, created by the first `ctrl_c()` and never
//!   closed. The handler writes to a descriptor number that therefore can
//!   never be recycled into some unrelated file between the handler loading
//!   it and writing to it.
//! - **A counter of SIGINTs**, bumped by the handler before it writes. A
//!   waiter notes the count when it is created and is done once the count has
//!   moved on — so stale bytes in the pipe, or a byte another waiter drained
//!   first, can never resolve or stall the wrong waiter.
//! - **One `dup` of the read end per waiter**, registered with the waiter's
//!   own runtime. Every epoll watching the pipe sees each write's edge, so any
//!   number of waiters on any number of runtimes all wake.
//!
//! The handler is installed when the first waiter appears, and the previous
//! disposition of SIGINT (usually: terminate the process) is restored when the
//! last waiter is gone — completed or dropped.
//!
//! # Limits
//!
//! The pipe's two descriptors stay open for the life of the process once
//! `ctrl_c` has been used. Only SIGINT is supported. A waiter installs its
//! handler even if SIGINT was ignored when the process started (as for
//! background jobs of a non-interactive shell, or under `nohup`), against the
//! usual convention of leaving an ignored SIGINT alone; the ignore
//! disposition comes back with the last waiter. Another library that
//! installs its own SIGINT handler while a kettle waiter exists will be
//! overridden when the last waiter restores the earlier disposition.

use std::future::Future;
use std::io;
use std::os::fd::RawFd;
use std::pin::Pin;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::task::{Context, Poll};

use mio::unix::SourceFd;

use crate::runtime::reactor::{Direction, Registration, WaitSlot};

/// SIGINTs received since the process started (bumped by the handler).
static SIGINT_COUNT: AtomicU64 = AtomicU64::new(0);
/// The self-pipe's write end, for the handler; `-1` before the first use.
static PIPE_WRITE: AtomicI32 = AtomicI32::new(-1);
/// The self-pipe's read end, or the error that prevented creating it.
static PIPE_READ: OnceLock<Result<RawFd, i32>> = OnceLock::new();
/// Live waiters, and the disposition to restore when they are all gone.
static INSTALLED: Mutex<Installed> = Mutex::new(Installed { waiters: 0, previous: None });

struct Installed {
    waiters: usize,
    previous: Option<libc::sigaction>,
}

/// Completes when the process receives SIGINT (Ctrl+C in a terminal).
///
/// While at least one such future exists, SIGINT no longer terminates the
/// process; when the last one completes or is dropped, the previous
/// disposition is restored. Every waiter — on any runtime — resolves on the
/// same signal.
///
/// The handler is installed when the future is created, so a SIGINT from
/// then on is caught; the future binds to a runtime only when first polled
/// (so it may be built anywhere, like [`sleep`](crate::sleep)).
///
/// # Panics
/// When polled outside a runtime.
///
/// ```no_run
/// kettle::run(async {
///     println!("press Ctrl+C");
///     kettle::signal::ctrl_c().await.expect("could not wait for Ctrl+C");
///     println!("bye");
/// });
/// ```
#[doc(alias = "add_signal_handler")]
pub fn ctrl_c() -> CtrlC {
    match Waiter::new() {
        Ok(waiter) => CtrlC { state: State::Waiting(waiter) },
        Err(error) => CtrlC { state: State::Failed(error) },
    }
}

/// The future returned by [`ctrl_c`].
#[must_use = "futures do nothing unless awaited"]
pub struct CtrlC {
    state: State,
}

enum State {
    Waiting(Waiter),
    /// Setting up failed; the error is returned by the first poll.
    Failed(io::Error),
    /// Returned its result; the waiter is gone (and the handler, if it was
    /// the last).
    Done,
}

impl std::fmt::Debug for CtrlC {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match self.state {
            State::Waiting(_) => "waiting",
            State::Failed(_) => "failed",
            State::Done => "done",
        };
        f.debug_struct("CtrlC").field("state", &state).finish()
    }
}

impl Future for CtrlC {
    type Output = io::Result<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let result = match &mut self.state {
            State::Waiting(waiter) => match waiter.poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(result) => result,
            },
            State::Failed(_) => Ok(()), // replaced by the error below
            State::Done => panic!("CtrlC polled after it completed"),
        };
        // Done (or failed): drop the waiter now, so that the previous SIGINT
        // disposition comes back as soon as no one waits any more.
        match std::mem::replace(&mut self.state, State::Done) {
            State::Failed(error) => Poll::Ready(Err(error)),
            _ => Poll::Ready(result),
        }
    }
}

/// One waiter: its own duplicate of the pipe's read end, registered with
/// the runtime that first polls it.
struct Waiter {
    fd: RawFd,
    registration: Option<Registration>,
    /// `SIGINT_COUNT` when the waiter was created.
    seen: u64,
}

impl Waiter {
    fn new() -> io::Result<Waiter> {
        let read = pipe_read_end()?;
        install()?;
        // From here on `Drop` uninstalls, whatever fails next.
        let mut waiter = Waiter { fd: -1, registration: None, seen: SIGINT_COUNT.load(Ordering::SeqCst) };
        // SAFETY: `dup` on a descriptor this module keeps open for the life
        // of the process; the result is checked below.
        waiter.fd = unsafe { libc::fcntl(read, libc::F_DUPFD_CLOEXEC, 0) };
        if waiter.fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(waiter)
    }

    /// Ready once a SIGINT has arrived since this waiter was created.
    ///
    /// # Panics
    /// Outside a runtime (the first poll registers the descriptor with the
    /// runtime polling it).
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.registration.is_none() {
            let registration = Registration::new(
                "polling kettle::signal::ctrl_c",
                &mut SourceFd(&self.fd),
                mio::Interest::READABLE,
            );
            match registration {
                Ok(registration) => self.registration = Some(registration),
                Err(error) => return Poll::Ready(Err(error)),
            }
        }
        let registration = self.registration.as_ref().expect("registered above");
        // At most two rounds: a drain clears the readiness it saw.
        loop {
            if SIGINT_COUNT.load(Ordering::SeqCst) > self.seen {
                return Poll::Ready(Ok(()));
            }
            let Poll::Ready(observed) = registration.poll_ready(cx, Direction::Read, WaitSlot::Poll) else {
                return Poll::Pending;
            };
            // Drain what is there (any waiter may; the count decides), then
            // look at the count again before waiting for the next edge.
            drain(self.fd);
            registration.clear_readiness(observed);
        }
    }
}

impl Drop for Waiter {
    fn drop(&mut self) {
        if let Some(registration) = self.registration.take() {
            registration.deregister(&mut SourceFd(&self.fd));
        }
        if self.fd >= 0 {
            // SAFETY: `fd` is our own duplicate, closed exactly once, here.
            unsafe { libc::close(self.fd) };
        }
        uninstall();
    }
}

/// Reads and discards everything in the pipe (non-blocking).
fn drain(fd: RawFd) {
    let mut buf = [0u8; 64];
    loop {
        // SAFETY: reads into a local buffer of the length given.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if n <= 0 {
            return; // empty (EAGAIN), or an error that a later read repeats
        }
    }
}

/// The process-wide pipe's read end, created on first use.
fn pipe_read_end() -> io::Result<RawFd> {
    let created = PIPE_READ.get_or_init(|| {
        let mut fds = [0 as RawFd; 2];
        // SAFETY: `pipe2` writes two descriptors into the array on success.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) } < 0 {
            return Err(io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO));
        }
        PIPE_WRITE.store(fds[1], Ordering::SeqCst);
        Ok(fds[0])
    });
    created.map_err(io::Error::from_raw_os_error)
}

/// The SIGINT handler: async-signal-safe operations only.
extern "C" fn on_sigint(_: libc::c_int) {
    SIGINT_COUNT.fetch_add(1, Ordering::SeqCst);
    let fd = PIPE_WRITE.load(Ordering::SeqCst);
    if fd >= 0 {
        // SAFETY: `write` is async-signal-safe; errno is saved and restored so
        // the interrupted code does not see ours. A full pipe (EAGAIN) is fine:
        // the count already records the signal, and the pipe is readable.
        unsafe {
            let errno = *libc::__errno_location();
            libc::write(fd, [1u8].as_ptr().cast(), 1);
            *libc::__errno_location() = errno;
        }
    }
}

/// One more waiter; installs the handler for the first.
fn install() -> io::Result<()> {
    let mut installed = INSTALLED.lock().unwrap_or_else(|e| e.into_inner());
    if installed.waiters == 0 {
        // SAFETY: a zeroed `sigaction` is a valid "no handler, empty mask"
        // value that we then fill in; `sigaction` reads `action` and writes
        // the previous disposition into `previous`.
        let previous = unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_sigint as *const () as usize;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            let mut previous: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(libc::SIGINT, &action, &mut previous) < 0 {
                return Err(io::Error::last_os_error());
            }
            previous
        };
        installed.previous = Some(previous);
    }
    installed.waiters += 1;
    Ok(())
}

/// One waiter fewer; the last restores the previous disposition.
fn uninstall() {
    let mut installed = INSTALLED.lock().unwrap_or_else(|e| e.into_inner());
    installed.waiters -= 1;
    if installed.waiters == 0
        && let Some(previous) = installed.previous.take()
    {
        // SAFETY: restores a disposition `sigaction` itself returned.
        unsafe { libc::sigaction(libc::SIGINT, &previous, std::ptr::null_mut()) };
    }
}
