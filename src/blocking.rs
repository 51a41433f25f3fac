//! Running blocking code off the loop: [`spawn_blocking`] (asyncio's
//! `run_in_executor`).
//!
//! A blocking call — a synchronous file read, a DNS lookup, a long
//! computation — would freeze the loop and every task on it. `spawn_blocking`
//! runs it on a thread pool instead and gives back an ordinary
//! [`JoinHandle`], so the loop keeps turning meanwhile.
//!
//! The threads themselves — how many, when they start and stop, what
//! happens at shutdown — are the runtime's pool, in
//! `src/runtime/blocking_pool.rs`.
//!
//! # The way back
//!
//! The job's result travels to the loop through a
//! [`oneshot`] channel: the worker sends, which wakes
//! the waiting task from another thread — through the runtime's injector, like
//! any remote wake. The waiting task is a small local task that the returned
//! `JoinHandle` belongs to, so cancelling the handle drops that task at once;
//! the job itself cannot be stopped (threads cannot be cancelled), runs to its
//! end, and its result is dropped. A job that panics has its panic caught on
//! the worker and resumed in that task, so the handle gives a panic
//! [`JoinError`](crate::JoinError).

use std::sync::Arc;
use std::thread;

use crate::contain;
use crate::runtime::blocking_pool::Job;
use crate::runtime::context;
use crate::runtime::core::Core;
use crate::runtime::shared::{Remote, Shared};
use crate::sync::oneshot;
use crate::task::JoinHandle;

/// Runs `f` on the runtime's blocking thread pool and returns a handle to its
/// result (asyncio's `loop.run_in_executor(None, f)`). The loop keeps running
/// meanwhile.
///
/// If `f` panics, the handle gives a [`JoinError`](crate::JoinError) with
/// `is_panic()`. Cancelling the handle stops waiting for `f`, not `f`
/// itself, which runs to its end.
///
/// # Panics
/// Outside a runtime. The returned handle reports a panic if the pool could
/// not start a thread (the operating system refused one).
///
/// ```
/// kettle::run(async {
///     let sum = kettle::spawn_blocking(|| (1..=100u64).sum::<u64>());
///     assert_eq!(sum.await.unwrap(), 5050);
/// });
/// ```
#[doc(alias = "run_in_executor")]
#[doc(alias = "to_thread")]
#[track_caller]
pub fn spawn_blocking<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let location = std::panic::Location::caller();
    context::expect_current("kettle::spawn_blocking", |core| {
        let (tx, rx) = oneshot::channel::<thread::Result<T>>();
        let submitted = core.submit_blocking(hold_paused_clock(
            core,
            Box::new(move || {
                let result = contain::catch(f);
                // The receiver is gone if the handle was cancelled or the
                // runtime dropped; the result is then dropped here, where a
                // panicking destructor (of the value or of a panic payload)
                // cannot reach the worker.
                if let Err(unsent) = tx.send(result) {
                    match unsent {
                        Ok(value) => contain::drop_value(value),
                        Err(payload) => contain::drop_payload(payload),
                    }
                }
            }),
        ));
        let waiting = async move {
            if let Err(e) = submitted {
                panic!("kettle::spawn_blocking could not start a worker thread: {e}");
            }
            match rx.await {
                Ok(Ok(value)) => value,
                Ok(Err(payload)) => std::panic::resume_unwind(payload),
                Err(_) => {
                    panic!("kettle::spawn_blocking: the job was dropped before it ran (pool shut down)")
                }
            }
        };
        JoinHandle::new(core.spawn(waiting, location))
    })
}

/// With a paused clock, counts `job` as in flight — the clock holds still
/// while it runs (`runtime/clock.rs`, "Why a blocking job holds the clock")
/// — and wraps it so that its thread sends the release to the loop once the
/// job has run, or been dropped unrun. A real clock: `job` as it is.
pub(crate) fn hold_paused_clock(core: &Core, job: Job) -> Job {
    let Some(paused) = core.clock().paused() else { return job };
    paused.hold_for_blocking();
    let release = ReleaseOnDrop(core.shared().clone());
    Box::new(move || {
        let _release = release; // dropped after the job, even if it unwinds
        job();
    })
}

/// Sends a job's release to its loop when dropped, after the job (whose
/// result, if any, is already on its way).
struct ReleaseOnDrop(Arc<Shared>);

impl Drop for ReleaseOnDrop {
    fn drop(&mut self) {
        let release = Box::new(|| {
            context::with_current(|core| {
                if let Some(paused) = core.and_then(|core| core.clock().paused()) {
                    paused.release_blocking();
                }
            });
        });
        // Refused only if the runtime is gone, and its count with it.
        let _ = self.0.push(Remote::Call(release, std::panic::Location::caller()));
    }
}
