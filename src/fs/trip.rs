//! A trip to the blocking pool: one job that runs there, and a future on
//! the loop that waits for what it sends back.
//!
//! This is [`spawn_blocking`](crate::spawn_blocking) without the task:
//! `spawn_blocking` gives back a `JoinHandle`, so it spawns a small local
//! task to own the wait; a file operation already runs inside the caller's
//! task, which can wait on the oneshot receiver itself. One allocation and
//! one task fewer per operation — `kettle::fs` makes many.
//!
//! The paused clock holds still while a trip is in flight, exactly as for
//! `spawn_blocking` (the same `hold_paused_clock` wraps the job): a test that
//! awaits a file read under a paused clock does not see its timers fire
//! while the read runs.

use std::io;

use crate::blocking::hold_paused_clock;
use crate::contain;
use crate::runtime::blocking_pool::Job;
use crate::runtime::context;
use crate::sync::oneshot;

/// Submits `job` to the current runtime's pool.
///
/// # Errors
/// If the pool could not start a thread or has shut down: `job` was then
/// dropped, unrun.
///
/// # Panics
/// Outside a runtime, with the runtime's usual message naming `what`.
pub(crate) fn submit(what: &'static str, job: Job) -> io::Result<()> {
    context::expect_current(what, |core| core.submit_blocking(hold_paused_clock(core, job)))
}

/// Runs `f` on the pool and waits for its result. A panic in `f` is resumed
/// here, on the loop; a job dropped unrun (the pool shut down, or refused a
/// thread) is an error.
///
/// Cancelling the wait does not stop `f`: it runs to its end and its result
/// is dropped on the worker.
pub(crate) async fn run<T, F>(what: &'static str, f: F) -> io::Result<T>
where
    F: FnOnce() -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    let (tx, rx) = oneshot::channel();
    submit(
        what,
        Box::new(move || {
            if let Err(unsent) = tx.send(contain::catch(f)) {
                // The wait was cancelled: dropped here, contained.
                match unsent {
                    Ok(value) => contain::drop_value(value),
                    Err(payload) => contain::drop_payload(payload),
                }
            }
        }),
    )
    .map_err(|e| not_run(what, e))?;
    match rx.await {
        Ok(Ok(result)) => result,
        Ok(Err(payload)) => std::panic::resume_unwind(payload),
        Err(_) => Err(not_run(what, io::Error::other("the runtime's blocking pool has shut down"))),
    }
}

/// The error for a job that never ran.
pub(crate) fn not_run(what: &str, why: io::Error) -> io::Error {
    io::Error::new(why.kind(), format!("{what} did not run on the blocking pool: {why}"))
}
