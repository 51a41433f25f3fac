//! Child processes: [`Command`] starts one, [`Child`] waits for it, kills
//! it and holds its pipes — asyncio's `create_subprocess_exec` and
//! `Process`, tokio's `tokio::process`.
//!
//! ```
//! use kettle::process::Command;
//!
//! kettle::run(async {
//!     let output = Command::new("sh").args(["-c", "echo out; echo err >&2"]).output().await?;
//!     assert!(output.status.success());
//!     assert_eq!(output.stdout, b"out\n");
//!     assert_eq!(output.stderr, b"err\n");
//!     Ok::<_, std::io::Error>(())
//! })?;
//! # Ok::<_, std::io::Error>(())
//! ```
//!
//! # Waiting without a thread
//!
//! std's `Child::wait` blocks a thread until the child exits; a runtime
//! that used it would tie up one pool thread per running child. kettle
//! waits on the reactor instead:
//!
//! - **pidfd** (Linux 5.3+): right after the spawn, `pidfd_open(pid)` gives
//!   a descriptor that turns readable when the child exits, and it goes on
//!   the reactor like a socket. Readable → `waitpid(pid, WNOHANG)` → the
//!   exit status. epoll reports a descriptor that is ready when it is
//!   added, so a child that exits before its pidfd is registered is not
//!   missed.
//! - **SIGCHLD**, where `pidfd_open` is refused (`ENOSYS` on older kernels,
//!   `EPERM` under some seccomp filters): one [`signal`](crate::signal)
//!   listener per thread, and on each delivery every waiting child tries
//!   `waitpid` on its own pid (`sigchld.rs`). Never `waitpid(-1)`, which
//!   would reap other code's children.
//!
//! Either way each child is reaped exactly once (`reap.rs`): std's
//! `try_wait` keeps the status it got, and kettle never signals a pid after
//! that. A dropped [`Child`] that is still running is reaped by a
//! background task, and killed first with
//! [`kill_on_drop(true)`](Command::kill_on_drop) (`child.rs` says what
//! happens when no runtime is left to do it).
//!
//! # Pipes
//!
//! [`ChildStdin`], [`ChildStdout`] and [`ChildStderr`] are std's pipes made
//! non-blocking and registered with the reactor, with async methods, poll
//! methods for adapters, and the `futures-io` and `tokio-io` traits behind
//! those features. Writing to a child that is gone is a `BrokenPipe`
//! error, never a `SIGPIPE` (`sys.rs`).
//!
//! # Limits
//!
//! - A `Child` belongs to the runtime it was spawned on (`!Send`), and
//!   [`Command::spawn`] panics outside a runtime.
//! - Linux only, as the rest of kettle: pidfds and `SIGCHLD`'s `waitpid`
//!   loop are what it knows.
//! - With `SIGCHLD` set to "ignore" somewhere in the program, the kernel
//!   reaps children itself and `wait` fails with `ECHILD`.
//!
//! The files: [`Command`] in `command.rs`; [`Child`] and dropping it in
//! `child.rs`; the pipes in `stdin.rs` and `stdout.rs`; waiting and
//! reaping in `reap.rs`, with the `SIGCHLD` fallback in `sigchld.rs`; the
//! system calls in `sys.rs`.

mod child;
mod command;
#[cfg(feature = "futures-io")]
mod futures_io;
mod reap;
mod sigchld;
mod stdin;
mod stdout;
mod sys;
#[cfg(test)]
mod tests;
#[cfg(feature = "tokio-io")]
mod tokio_io;

pub use child::Child;
pub use command::Command;
pub use std::process::{ExitStatus, Output, Stdio};
pub use stdin::ChildStdin;
pub use stdout::{ChildStderr, ChildStdout};
