//! Running blocking code off the loop: [`spawn_blocking`] (asyncio's
//! `run_in_executor`).
//!
//! A blocking call — a synchronous file read, a DNS lookup, a long
//! computation — would freeze the loop and every task on it. `spawn_blocking`
//! runs it on a thread pool instead and gives back an ordinary
//! [`JoinHandle`], so the loop keeps turning meanwhile.
//!
//! # The pool
//!
//! Each runtime has its own pool, created empty. A job goes into a queue under
//! a mutex; if no worker is idle and the pool is below its cap
//! ([`Builder::max_blocking_threads`](crate::Builder::max_blocking_threads),
//! default 64), a new worker thread is started. A worker that finds no job for
//! [`Builder::blocking_keep_alive`](crate::Builder::blocking_keep_alive)
//! (default 10 s) exits, so an idle program holds no threads. Above the cap,
//! jobs wait in the queue.
//!
//! # The way back
//!
//! The job's result travels to the loop through a
//! [`oneshot`](crate::sync::oneshot) channel: the worker sends, which wakes
//! the waiting task from another thread — through the runtime's injector, like
//! any remote wake. The waiting task is a small local task that the returned
//! `JoinHandle` belongs to, so cancelling the handle drops that task at once;
//! the job itself cannot be stopped (threads cannot be cancelled), runs to its
//! end, and its result is dropped. A job that panics has its panic caught on
//! the worker and resumed in that task, so the handle gives a panic
//! [`JoinError`](crate::JoinError).
//!
//! # Shutdown
//!
//! Dropping the runtime tells the pool to stop: idle workers exit at once,
//! busy ones when their job returns (they are not waited for — a job may block
//! forever — and their results go nowhere). Queued jobs that never started are
//! dropped.

use std::collections::VecDeque;
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::Duration;

use crate::runtime::context;
use crate::sync::oneshot;
use crate::task::JoinHandle;

type Job = Box<dyn FnOnce() + Send>;

/// A runtime's blocking thread pool.
pub(crate) struct Pool {
    shared: Arc<PoolShared>,
}

struct PoolShared {
    state: Mutex<PoolState>,
    /// Signalled when a job is queued or the pool shuts down.
    work: Condvar,
    max_threads: usize,
    keep_alive: Duration,
}

struct PoolState {
    queue: VecDeque<Job>,
    /// Workers alive (busy or idle).
    threads: usize,
    /// Workers waiting for a job.
    idle: usize,
    shutdown: bool,
}

impl Pool {
    pub(crate) fn new(max_threads: usize, keep_alive: Duration) -> Pool {
        Pool {
            shared: Arc::new(PoolShared {
                state: Mutex::new(PoolState { queue: VecDeque::new(), threads: 0, idle: 0, shutdown: false }),
                work: Condvar::new(),
                max_threads: max_threads.max(1),
                keep_alive,
            }),
        }
    }

    /// Worker threads alive right now, and how many of them are idle.
    pub(crate) fn threads(&self) -> (usize, usize) {
        let state = self.shared.lock();
        (state.threads, state.idle)
    }

    /// Queues `job`, starting a worker if none is free and the cap allows.
    fn submit(&self, job: Job) -> io::Result<()> {
        let mut state = self.shared.lock();
        if state.shutdown {
            return Err(io::Error::other("the runtime's blocking pool has shut down"));
        }
        state.queue.push_back(job);
        if state.idle >= state.queue.len() {
            self.shared.work.notify_one();
            return Ok(());
        }
        if state.threads < self.shared.max_threads {
            let shared = self.shared.clone();
            thread::Builder::new().name("kettle-blocking".into()).spawn(move || shared.work_loop())?;
            state.threads += 1;
        }
        // Otherwise the job waits for a busy worker to come back.
        Ok(())
    }

    /// Stops the pool: idle workers leave now, busy ones after their job;
    /// queued jobs are dropped (outside the lock: their captures may do
    /// anything when dropped).
    pub(crate) fn shutdown(&self) {
        let dropped = {
            let mut state = self.shared.lock();
            state.shutdown = true;
            std::mem::take(&mut state.queue)
        };
        self.shared.work.notify_all();
        drop(dropped);
    }
}

impl PoolShared {
    fn lock(&self) -> MutexGuard<'_, PoolState> {
        // Jobs run outside the lock, so a poisoned lock means a panic in this
        // module's few lines of bookkeeping, which leave the state consistent.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A worker: run jobs until idle for `keep_alive`, or shut down.
    fn work_loop(&self) {
        let mut state = self.lock();
        loop {
            if let Some(job) = state.queue.pop_front() {
                drop(state);
                job(); // never panics: `spawn_blocking` wraps it in catch_unwind
                state = self.lock();
                continue;
            }
            if state.shutdown {
                break;
            }
            state.idle += 1;
            let (next, wait) =
                self.work.wait_timeout(state, self.keep_alive).unwrap_or_else(|e| e.into_inner());
            state = next;
            state.idle -= 1;
            if wait.timed_out() && state.queue.is_empty() {
                break;
            }
        }
        state.threads -= 1;
    }
}

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
    context::expect_current("kettle::spawn_blocking", |core| {
        let (tx, rx) = oneshot::channel::<thread::Result<T>>();
        let submitted = core.blocking.submit(Box::new(move || {
            let result = panic::catch_unwind(AssertUnwindSafe(f));
            // The receiver is gone if the handle was cancelled or the
            // runtime dropped; the result is then dropped here.
            let _ = tx.send(result);
        }));
        core.spawn(async move {
            if let Err(e) = submitted {
                panic!("kettle::spawn_blocking could not start a worker thread: {e}");
            }
            match rx.await {
                Ok(Ok(value)) => value,
                Ok(Err(payload)) => panic::resume_unwind(payload),
                Err(_) => {
                    panic!("kettle::spawn_blocking: the job was dropped before it ran (pool shut down)")
                }
            }
        })
    })
}
