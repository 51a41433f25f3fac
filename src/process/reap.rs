//! One spawned child until it is reaped: [`Process`], which waits for the
//! exit on the reactor (a pidfd) or through `SIGCHLD` (`sigchld.rs`), and
//! the process-wide orphan list for children nobody can wait for any more.
//!
//! A child's life, and who moves it along:
//!
//! ```text
//!  Command::spawn ──> running ──(it exits)──> exited: a zombie ──(1)──> reaped
//!                        │                          ▲                     (status kept;
//!                        └── start_kill: SIGKILL ───┘                      pid never used)
//!  (1) try_wait, or a wait woken by the pidfd (or SIGCHLD): waitpid(pid, WNOHANG);
//!      for a dropped handle, the background task's wait, or the orphan sweep at
//!      the next spawn.
//! ```
//!
//! Reaping is std's: `std::process::Child::try_wait` calls
//! `waitpid(pid, WNOHANG)` and, once it has an exit status, keeps it and
//! never calls `waitpid` again. So each child is reaped exactly once, and
//! its pid is never signalled after that (it may belong to a new process
//! by then).

use std::future::poll_fn;
use std::io;
use std::os::fd::OwnedFd;
use std::process::ExitStatus;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::task::{Context, Poll};

use super::sigchld::{self, Listed, SigchldWatch};
use super::sys;
use crate::io::Async;

/// Set once `pidfd_open` has been refused (`ENOSYS`, `EPERM`): every later
/// child of the process waits through `SIGCHLD` without asking again. The
/// unit tests set it to test the fallback.
pub(crate) static PIDFD_REFUSED: AtomicBool = AtomicBool::new(false);

/// Children dropped unreaped where no runtime could reap them: their pids,
/// tried again (`waitpid(pid, WNOHANG)`) at every spawn.
static ORPHANS: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// A spawned child, not yet known to be reaped, and how to wait for it.
pub(super) struct Process {
    child: std::process::Child,
    /// The exit status, once reaped.
    status: Option<ExitStatus>,
    watch: Watch,
}

/// How a child's exit is awaited.
enum Watch {
    /// A pidfd on the reactor: readable once the child has exited.
    Pidfd(Async<OwnedFd>),
    /// The thread's `SIGCHLD` list (`sigchld.rs`).
    Sigchld { watch: Rc<SigchldWatch>, listed: Listed },
}

impl Process {
    /// Watches `child` (its pipes already taken out). If that fails, the
    /// child is killed and reaped before the error returns, so nothing is
    /// left behind: a `SIGKILL`ed child exits at once, so the blocking
    /// `wait` is short.
    pub(super) fn new(mut child: std::process::Child) -> io::Result<Process> {
        match watch(child.id()) {
            Ok(watch) => Ok(Process { child, status: None, watch }),
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                Err(e)
            }
        }
    }

    /// The child's pid (stays its number after reaping, when it is stale).
    pub(super) fn id(&self) -> u32 {
        self.child.id()
    }

    /// The exit status, if the child has been reaped.
    pub(super) fn status(&self) -> Option<ExitStatus> {
        self.status
    }

    /// Reaps the child if it has exited (`waitpid(pid, WNOHANG)`, at most
    /// once with a result).
    pub(super) fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        if let Some(status) = self.status {
            debug_assert_eq!(
                self.child.try_wait().ok().flatten(),
                Some(status),
                "a child is reaped exactly once: std keeps the status it got, and it is ours"
            );
            return Ok(Some(status));
        }
        self.status = self.child.try_wait()?;
        if self.status.is_some()
            && let Watch::Sigchld { watch, listed } = &mut self.watch
        {
            watch.unlist(listed);
        }
        Ok(self.status)
    }

    /// Ready with the exit status once the child has exited and been reaped.
    pub(super) fn poll_wait(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<ExitStatus>> {
        if let Some(status) = self.status {
            return Poll::Ready(Ok(status));
        }
        match &mut self.watch {
            Watch::Pidfd(pidfd) => {
                let child = &mut self.child;
                // The reactor's rule: a `WouldBlock` (readable, yet not
                // exited: never expected) clears readiness and waits again.
                let reaped = pidfd.poll_read_with(cx, |_| match child.try_wait()? {
                    Some(status) => Ok(status),
                    None => Err(io::ErrorKind::WouldBlock.into()),
                });
                if let Poll::Ready(Ok(status)) = reaped {
                    self.status = Some(status);
                }
                reaped
            }
            Watch::Sigchld { .. } => self.poll_wait_sigchld(cx),
        }
    }

    /// The fallback's poll; `sigchld.rs` says why this order loses nothing.
    fn poll_wait_sigchld(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<ExitStatus>> {
        loop {
            let Watch::Sigchld { watch, listed } = &mut self.watch else {
                unreachable!("called for Sigchld")
            };
            let watch = watch.clone();
            watch.list(listed, cx.waker());
            if let Some(status) = self.try_wait()? {
                return Poll::Ready(Ok(status));
            }
            if watch.poll_delivery().is_pending() {
                return Poll::Pending;
            }
        }
    }

    /// Waits for the exit status.
    pub(super) async fn wait(&mut self) -> io::Result<ExitStatus> {
        poll_fn(|cx| self.poll_wait(cx)).await
    }

    /// Sends `SIGKILL`, unless the child is reaped already (then there is
    /// nothing to kill, and its pid may be another process's now): `Ok`.
    pub(super) fn start_kill(&mut self) -> io::Result<()> {
        if self.status.is_some() {
            return Ok(());
        }
        sys::kill(self.id())
    }
}

impl std::fmt::Debug for Process {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let how = match self.watch {
            Watch::Pidfd(_) => "pidfd",
            Watch::Sigchld { .. } => "SIGCHLD",
        };
        f.debug_struct("Process")
            .field("pid", &self.id())
            .field("status", &self.status)
            .field("watch", &how)
            .finish()
    }
}

impl Drop for Process {
    /// Not reaped yet (and no background task took it over, `child.rs`):
    /// one last try, then the orphan list.
    fn drop(&mut self) {
        if let Watch::Sigchld { watch, listed } = &mut self.watch {
            watch.unlist(listed);
        }
        if matches!(self.try_wait(), Ok(None)) {
            ORPHANS.lock().unwrap_or_else(PoisonError::into_inner).push(self.id());
        }
    }
}

/// A pidfd for `pid` on the current runtime's reactor, or the `SIGCHLD`
/// list if `pidfd_open` is refused.
fn watch(pid: u32) -> io::Result<Watch> {
    if !PIDFD_REFUSED.load(Ordering::Relaxed) {
        match sys::pidfd_open(pid) {
            Ok(pidfd) => return Ok(Watch::Pidfd(Async::new(pidfd)?)),
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOSYS | libc::EPERM)) => {
                PIDFD_REFUSED.store(true, Ordering::Relaxed);
            }
            Err(e) => return Err(e),
        }
    }
    Ok(Watch::Sigchld { watch: sigchld::watch()?, listed: Listed::default() })
}

/// Reaps every orphan that has exited since the last sweep; called at each
/// spawn, so orphans cost nothing until then.
pub(super) fn sweep_orphans() {
    let mut orphans = ORPHANS.lock().unwrap_or_else(PoisonError::into_inner);
    if !orphans.is_empty() {
        orphans.retain(|&pid| !sys::reap_if_exited(pid));
    }
}

/// How many orphans wait to be reaped (for tests).
#[cfg(test)]
pub(crate) fn orphans() -> usize {
    ORPHANS.lock().unwrap_or_else(PoisonError::into_inner).len()
}
