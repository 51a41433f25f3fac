//! [`Child`]: a running (or exited, not yet forgotten) child process — its
//! pipes, waiting for it, killing it, and what happens when it is dropped.
//!
//! # Dropping a `Child`
//!
//! Dropping the handle does not wait for the child (std's does not either),
//! but it must not leave a zombie: a child that exited and was never reaped
//! keeps its process-table entry until the parent exits. So the handle's
//! [`Guard`] hands a still-unreaped child to a background task on the
//! current runtime, which waits for it on the reactor as [`Child::wait`]
//! would and then ends. With [`kill_on_drop(true)`](super::Command::kill_on_drop)
//! the child gets `SIGKILL` first. Where no runtime is running (the handle
//! dropped after `block_on` returned), or if that runtime is dropped before
//! the child exits, the pid goes on a process-wide orphan list instead,
//! which every later [`spawn`](super::Command::spawn) sweeps with
//! `waitpid(pid, WNOHANG)`: until then (or if nothing is ever spawned
//! again) the exited child stays a zombie, as with tokio's orphan queue.

use std::future::poll_fn;
use std::io;
use std::process::{ExitStatus, Output};
use std::task::Poll;

use super::reap::Process;
use super::stdin::ChildStdin;
use super::stdout::{ChildStderr, ChildStdout};
use crate::runtime::context;

/// A child process spawned by [`Command::spawn`](super::Command::spawn):
/// asyncio's `Process`, tokio's `Child`.
///
/// ```
/// use kettle::process::Command;
///
/// kettle::run(async {
///     let mut child = Command::new("sleep").arg("10").spawn()?;
///     assert!(child.try_wait()?.is_none()); // still running
///     child.kill().await?;                  // SIGKILL, then reaped
///     let status = child.wait().await?;     // the same status again
///     assert!(!status.success());
///     Ok::<_, std::io::Error>(())
/// })?;
/// # Ok::<_, std::io::Error>(())
/// ```
///
/// A `Child` is `!Send`, like kettle's sockets: its pipes and its exit
/// watch are registered with the runtime it was spawned on.
///
/// ```compile_fail
/// kettle::run(async {
///     let child = kettle::process::Command::new("true").spawn().unwrap();
///     std::thread::spawn(move || drop(child)); // error: `Child` is not `Send`
/// });
/// ```
#[derive(Debug)]
pub struct Child {
    /// The child's stdin, if it was [`piped`](std::process::Stdio::piped);
    /// take it (`child.stdin.take()`) to write to it, drop it to close it.
    pub stdin: Option<ChildStdin>,
    /// The child's stdout, if it was [`piped`](std::process::Stdio::piped).
    pub stdout: Option<ChildStdout>,
    /// The child's stderr, if it was [`piped`](std::process::Stdio::piped).
    pub stderr: Option<ChildStderr>,
    guard: Guard,
}

/// The child's process while the handle (or `wait_with_output`'s future)
/// lives; dropping it kills (if asked) and reaps in the background (module
/// docs).
#[derive(Debug)]
struct Guard {
    /// `None` only inside `drop`.
    process: Option<Process>,
    kill_on_drop: bool,
}

impl Child {
    /// Takes over `child`: its pipes go on the reactor, its exit is
    /// watched. On error the child is killed and reaped first.
    #[track_caller]
    pub(super) fn new(mut child: std::process::Child, kill_on_drop: bool) -> io::Result<Child> {
        let (stdin, stdout, stderr) = (child.stdin.take(), child.stdout.take(), child.stderr.take());
        // Until the handle exists, an error anywhere kills the child: the
        // caller never saw it, so nobody else would.
        let mut guard = Guard { process: Some(Process::new(child)?), kill_on_drop: true };
        let stdin = stdin.map(ChildStdin::from_std).transpose()?;
        let stdout = stdout.map(ChildStdout::from_std).transpose()?;
        let stderr = stderr.map(ChildStderr::from_std).transpose()?;
        guard.kill_on_drop = kill_on_drop;
        Ok(Child { stdin, stdout, stderr, guard })
    }

    /// The child's process id, or `None` once it has been reaped (the
    /// number may belong to another process by then).
    #[doc(alias = "pid")]
    pub fn id(&self) -> Option<u32> {
        let process = self.guard.process();
        process.status().is_none().then(|| process.id())
    }

    /// Waits for the child to exit and returns its status (asyncio's
    /// `proc.wait()`). Closes the child's stdin first, if it is still
    /// here, so a child that reads until end-of-file can finish. After the
    /// first success, returns the same status again at once.
    ///
    /// Cancel-safe: dropping the future loses nothing, the next `wait` (or
    /// [`try_wait`](Self::try_wait)) picks up where it left off. No thread
    /// is used: the wait is a pidfd on the reactor (or `SIGCHLD`).
    ///
    /// # Errors
    /// What `waitpid` says (`ECHILD` if other code reaped the child, or if
    /// `SIGCHLD` is set to be ignored, which makes the kernel reap children
    /// itself); an error when the runtime is gone.
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        self.stdin = None;
        self.guard.process_mut().wait().await
    }

    /// The exit status if the child has exited (reaping it then), else
    /// `None` at once.
    ///
    /// # Errors
    /// What `waitpid` says.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        self.guard.process_mut().try_wait()
    }

    /// Sends the child `SIGKILL` and waits for it to exit (asyncio's
    /// `proc.kill()` followed by `await proc.wait()`). A child that has
    /// already exited and been reaped is left alone: `Ok(())` (there is
    /// nothing left to kill, and its pid may be another process's now).
    ///
    /// # Errors
    /// As for [`start_kill`](Self::start_kill) and [`wait`](Self::wait).
    pub async fn kill(&mut self) -> io::Result<()> {
        self.start_kill()?;
        self.wait().await.map(drop)
    }

    /// Sends the child `SIGKILL` and returns at once, without reaping it:
    /// follow it with [`wait`](Self::wait). `Ok(())` if the child was
    /// reaped already.
    ///
    ///
    /// ```
    /// # kettle::run(async {
    /// let mut child = kettle::process::Command::new("sleep").arg("10").spawn()?;
    /// child.start_kill()?;
    /// // ... other work, then reap it:
    /// let status = child.wait().await?;
    /// # use std::os::unix::process::ExitStatusExt;
    /// assert_eq!(status.signal(), Some(9));
    /// # Ok::<_, std::io::Error>(())
    /// # })?;
    /// # Ok::<_, std::io::Error>(())
    /// ```
    ///
    /// # Errors
    /// What `kill(2)` says.
    pub fn start_kill(&mut self) -> io::Result<()> {
        self.guard.process_mut().start_kill()
    }

    /// Closes stdin, then reads all of stdout and stderr (those that are
    /// piped) while waiting for the child to exit (asyncio's
    /// `proc.communicate()`). All three go on at once, so a child that
    /// fills one pipe while the parent reads the other cannot deadlock.
    ///
    /// Dropped before it finishes (a timeout), the future drops the child
    /// handle: with `kill_on_drop(true)` the child is killed, and either
    /// way it is reaped in the background.
    ///
    ///
    /// ```
    /// use kettle::process::{Command, Stdio};
    ///
    /// # kettle::run(async {
    /// let child = Command::new("sh")
    ///     .args(["-c", "echo out; echo err >&2; exit 1"])
    ///     .stdout(Stdio::piped())
    ///     .stderr(Stdio::piped())
    ///     .spawn()?;
    /// let output = child.wait_with_output().await?;
    /// assert_eq!((output.status.code(), &output.stdout[..], &output.stderr[..]), (Some(1), &b"out\n"[..], &b"err\n"[..]));
    /// # Ok::<_, std::io::Error>(())
    /// # })?;
    /// # Ok::<_, std::io::Error>(())
    /// ```
    ///
    /// # Errors
    /// A read error, or as for [`wait`](Self::wait).
    #[doc(alias = "communicate")]
    pub async fn wait_with_output(self) -> io::Result<Output> {
        let Child { stdin, stdout, stderr, mut guard } = self;
        drop(stdin);
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let (mut out_done, mut err_done) = (stdout.is_none(), stderr.is_none());
        let mut status = None;
        poll_fn(|cx| {
            if let (false, Some(pipe)) = (out_done, &stdout) {
                out_done = pipe.poll_read_to_end(cx, &mut out)?.is_ready();
            }
            if let (false, Some(pipe)) = (err_done, &stderr) {
                err_done = pipe.poll_read_to_end(cx, &mut err)?.is_ready();
            }
            if status.is_none()
                && let Poll::Ready(exit) = guard.process_mut().poll_wait(cx)
            {
                status = Some(exit?);
            }
            match status {
                Some(status) if out_done && err_done => Poll::Ready(Ok(status)),
                _ => Poll::Pending,
            }
        })
        .await
        .map(|status| Output { status, stdout: out, stderr: err })
    }
}

impl Guard {
    fn process(&self) -> &Process {
        self.process.as_ref().expect("only drop takes the process out")
    }

    fn process_mut(&mut self) -> &mut Process {
        self.process.as_mut().expect("only drop takes the process out")
    }
}

/// What becomes of a child whose handle is dropped (the module docs): the
/// decision, apart from carrying it out in `Drop for Guard`.
#[derive(Debug, PartialEq, Eq)]
enum Fate {
    /// Reaped, now or before (or no longer ours to reap: `ECHILD`).
    Gone,
    /// Not yet exited: a task on the running runtime waits for it.
    ReaperTask,
    /// Not yet exited, and no runtime running: the orphan list.
    Orphan,
}

impl Fate {
    fn of(still_there: bool, runtime_running: bool) -> Fate {
        match (still_there, runtime_running) {
            (false, _) => Fate::Gone,
            (true, true) => Fate::ReaperTask,
            (true, false) => Fate::Orphan,
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let Some(mut process) = self.process.take() else { return };
        if process.status().is_some() {
            return;
        }
        if self.kill_on_drop {
            let _ = process.start_kill();
        }
        let still_there = matches!(process.try_wait(), Ok(None));
        match Fate::of(still_there, context::current_id().is_some()) {
            Fate::Gone => {}
            Fate::ReaperTask => {
                let reap = async move {
                    let _ = process.wait().await;
                };
                crate::task::Builder::new().name("kettle::process reaper").spawn(reap).detach();
            }
            // Dropping it puts its pid on the list (`reap.rs`).
            Fate::Orphan => drop(process),
        }
    }
}
