//! [`Command`]: std's process builder, whose `spawn` hands the child to the
//! runtime. Every builder method is std's own, forwarded; what kettle adds
//! is [`kill_on_drop`](Command::kill_on_drop), async `status` and `output`,
//! and an error that names the program.

use std::ffi::OsStr;
use std::io;
use std::path::Path;
use std::process::{ExitStatus, Output, Stdio};

use super::child::Child;
use super::reap;
use crate::runtime::context;

/// A process builder, as `std::process::Command`, whose children are
/// waited for on the loop: asyncio's `create_subprocess_exec`, tokio's
/// `Command`.
///
/// ```
/// use kettle::process::Command;
///
/// kettle::run(async {
///     let output = Command::new("echo").arg("hello").output().await?;
///     assert!(output.status.success());
///     assert_eq!(output.stdout, b"hello\n");
///
///     let status = Command::new("sh").args(["-c", "exit 3"]).status().await?;
///     assert_eq!(status.code(), Some(3));
///     Ok::<_, std::io::Error>(())
/// })?;
/// # Ok::<_, std::io::Error>(())
/// ```
///
/// asyncio's `create_subprocess_shell(cmd)` is
/// `Command::new("sh").arg("-c").arg(cmd)`.
#[doc(alias = "create_subprocess_exec", alias = "create_subprocess_shell")]
#[derive(Debug)]
pub struct Command {
    std: std::process::Command,
    kill_on_drop: bool,
    /// Which of stdin, stdout and stderr were set through this builder;
    /// [`output`](Command::output) chooses its own defaults for the others.
    stdio_set: [bool; 3],
}

impl Command {
    /// A builder for running `program` (looked up in `PATH` if it has no
    /// `/`), with no arguments, this process's environment and directory,
    /// and stdin, stdout and stderr inherited (for `spawn` and `status`).
    pub fn new(program: impl AsRef<OsStr>) -> Command {
        Command::from(std::process::Command::new(program))
    }

    /// Adds one argument.
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Command {
        self.std.arg(arg);
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.std.args(args);
        self
    }

    /// Sets an environment variable for the child.
    pub fn env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Command {
        self.std.env(key, value);
        self
    }

    /// Sets environment variables for the child.
    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Command
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.std.envs(vars);
        self
    }

    /// Removes an environment variable from the child's environment.
    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Command {
        self.std.env_remove(key);
        self
    }

    /// Starts the child with an empty environment (plus what
    /// [`env`](Self::env) adds afterwards).
    pub fn env_clear(&mut self) -> &mut Command {
        self.std.env_clear();
        self
    }

    /// Sets the child's working directory.
    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Command {
        self.std.current_dir(dir);
        self
    }

    /// The child's stdin: [`Stdio::piped`] for a [`ChildStdin`](super::ChildStdin)
    /// in [`Child::stdin`], [`Stdio::null`], [`Stdio::inherit`] (the default
    /// for `spawn` and `status`), or a file.
    pub fn stdin(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdin(cfg);
        self.stdio_set[0] = true;
        self
    }

    /// The child's stdout; see [`stdin`](Self::stdin).
    pub fn stdout(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdout(cfg);
        self.stdio_set[1] = true;
        self
    }

    /// The child's stderr; see [`stdin`](Self::stdin).
    pub fn stderr(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stderr(cfg);
        self.stdio_set[2] = true;
        self
    }

    /// Whether dropping the [`Child`] (or the future of [`status`](Self::status)
    /// or [`output`](Self::output), cancelled by a timeout, say) kills the
    /// child with `SIGKILL`. Off by default, as in std and tokio: a dropped
    /// child runs on, and is reaped in the background when it exits.
    ///
    /// ```
    /// use std::time::Duration;
    /// use kettle::process::Command;
    ///
    /// # kettle::run(async {
    /// let mut slow = Command::new("sleep");
    /// slow.arg("10").kill_on_drop(true);
    /// // Gives up after 50 ms; the dropped `output()` kills `sleep`.
    /// assert!(kettle::timeout(Duration::from_millis(50), slow.output()).await.is_err());
    /// # });
    /// ```
    pub fn kill_on_drop(&mut self, kill_on_drop: bool) -> &mut Command {
        self.kill_on_drop = kill_on_drop;
        self
    }

    /// The std builder inside, for the settings this one does not forward
    /// (`std::os::unix::process::CommandExt`'s `uid`, `process_group`, ...).
    pub fn as_std_mut(&mut self) -> &mut std::process::Command {
        &mut self.std
    }

    /// The std builder inside.
    pub fn as_std(&self) -> &std::process::Command {
        &self.std
    }

    /// Starts the child and returns its handle at once.
    ///
    /// # Errors
    /// std's spawn error — `NotFound` for a program that does not exist,
    /// `PermissionDenied` for one that may not be run, `EMFILE` when the
    /// process is out of descriptors — with the program's name added to the
    /// message, keeping its kind. A child that started but could not be
    /// watched (no descriptor left for its pidfd or its pipes' epoll
    /// entries) is killed and reaped before the error returns, which names
    /// the program too.
    ///
    /// # Panics
    /// Outside a runtime: the child's pipes and exit watch register with
    /// the runtime running on this thread.
    ///
    /// ```
    /// use kettle::process::{Command, Stdio};
    ///
    /// # kettle::run(async {
    /// let mut child = Command::new("echo").arg("hi").stdout(Stdio::piped()).spawn()?;
    /// let mut text = String::new();
    /// child.stdout.take().unwrap().read_to_string(&mut text).await?;
    /// assert_eq!(text, "hi\n");
    /// assert!(child.wait().await?.success());
    /// # Ok::<_, std::io::Error>(())
    /// # })?;
    /// # Ok::<_, std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn spawn(&mut self) -> io::Result<Child> {
        // Checked before the child exists: a panic after std's spawn would
        // leave it running, unwatched.
        context::expect_current("kettle::process::Command::spawn", |_| ());
        reap::sweep_orphans();
        let child = self.std.spawn().map_err(|e| self.spawn_error(e))?;
        Child::new(child, self.kill_on_drop).map_err(|e| self.spawn_error(e))
    }

    /// Runs the child to its end and returns its exit status (stdin,
    /// stdout and stderr inherited unless set). The child is killed on
    /// cancellation only with [`kill_on_drop`](Self::kill_on_drop)`(true)`.
    ///
    /// # Errors
    /// As for [`spawn`](Self::spawn) and [`Child::wait`].
    pub async fn status(&mut self) -> io::Result<ExitStatus> {
        self.spawn()?.wait().await
    }

    /// Runs the child to its end and collects its output (asyncio's
    /// `communicate()`): stdout and stderr are piped and read, and stdin
    /// reads from `/dev/null`, unless they were set. As tokio's, this sets
    /// those defaults on the builder, where a later `spawn` sees them.
    ///
    /// With [`kill_on_drop`](Self::kill_on_drop)`(true)`, a `timeout` around
    /// it kills the child when it expires.
    ///
    /// # Errors
    /// As for [`spawn`](Self::spawn) and [`Child::wait_with_output`].
    pub async fn output(&mut self) -> io::Result<Output> {
        if !self.stdio_set[0] {
            self.stdin(Stdio::null());
        }
        if !self.stdio_set[1] {
            self.stdout(Stdio::piped());
        }
        if !self.stdio_set[2] {
            self.stderr(Stdio::piped());
        }
        self.spawn()?.wait_with_output().await
    }

    /// std's spawn error, with the program named (std's message does not).
    fn spawn_error(&self, error: io::Error) -> io::Error {
        let program = Path::new(self.std.get_program()).display();
        io::Error::new(error.kind(), format!("could not run {program}: {error}"))
    }
}

impl From<std::process::Command> for Command {
    /// Takes over a std builder. Its stdin, stdout and stderr settings are
    /// kept, but kettle cannot see them: [`output`](Command::output) sets
    /// its own defaults over them.
    fn from(std: std::process::Command) -> Command {
        Command { std, kill_on_drop: false, stdio_set: [false; 3] }
    }
}
