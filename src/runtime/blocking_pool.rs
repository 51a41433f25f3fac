//! A runtime's blocking thread pool: the threads behind
//! [`spawn_blocking`](crate::spawn_blocking).
//!
//! The pool knows nothing about tasks: it runs boxed closures on worker
//! threads. `spawn_blocking` (in `src/blocking.rs`, where users look for it)
//! wraps the user's function in a job that sends its result back through a
//! oneshot channel, and submits it with [`Core::submit_blocking`].
//!
//! [`Core::submit_blocking`]: super::core::Core::submit_blocking
//!
//! # Workers
//!
//! Each runtime has its own pool, created empty. A job goes into a queue under
//! a mutex; if no worker is idle and the pool is below its cap
//! ([`Builder::max_blocking_threads`](crate::Builder::max_blocking_threads),
//! default 64), a new worker thread is started. A worker that finds no job for
//! [`Builder::blocking_keep_alive`](crate::Builder::blocking_keep_alive)
//! (default 10 s) exits, so an idle program holds no threads. Above the cap,
//! jobs wait in the queue.
//!
//! # Shutdown
//!
//! Dropping the runtime tells the pool to stop: idle workers exit at once,
//! busy ones when their job returns (they are not waited for — a job may block
//! forever — and their results go nowhere). Queued jobs that never started are
//! dropped.
//!
//! # The accounting
//!
//! Everything the pool knows is in [`PoolState`], under one mutex: the
//! queue, how many workers exist (`threads`) and how many of them wait for
//! work (`idle`). A submit reads the counts to decide whether to wake an
//! idle worker, start a new one, or leave the job to a busy one; so the
//! counts must never promise a worker that will not come. The rule that
//! keeps them honest: **a worker stops counting in the same critical
//! section in which it decides to leave.** Were the decision and the count
//! taken under two acquisitions of the lock, a submit in between would see
//! the leaving worker as one that will come back for the job, start no
//! thread, and strand the job with no worker at all. The loom model in
//! `blocking_pool/loom_model.rs` runs submits against a worker's keep-alive
//! running out, under every interleaving, and fails on such a stranded job.

use std::collections::VecDeque;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use crate::contain;
use crate::loom::sync::{Condvar, Mutex, MutexGuard};
use crate::loom::thread;

/// A job: a closure run once on some worker thread.
pub(crate) type Job = Box<dyn FnOnce() + Send>;

/// Starts a worker thread running `PoolShared::work_loop`. A plain function
/// pointer, so that tests can make thread creation fail.
type StartThread = fn(Arc<PoolShared>) -> io::Result<()>;

/// A runtime's blocking thread pool.
pub(crate) struct Pool {
    shared: Arc<PoolShared>,
    start_thread: StartThread,
}

struct PoolShared {
    state: Mutex<PoolState>,
    /// Signalled when a job is queued or the pool shuts down.
    work: Condvar,
    max_threads: usize,
    keep_alive: Duration,
}

/// The pool's bookkeeping. Invariants: `threads` counts exactly the workers
/// that have started and not yet decided to leave `work_loop` (by any exit,
/// unwinding included), and `idle` those of them waiting on `work`; so
/// `idle <= threads <= max_threads`.
struct PoolState {
    queue: VecDeque<Job>,
    /// Workers that will look at the queue again (busy or idle).
    threads: usize,
    /// Workers waiting for a job.
    idle: usize,
    shutdown: bool,
}

impl PoolState {
    /// The invariants above, checked in debug builds and loom models (which
    /// build in release mode).
    fn check(&self, max_threads: usize) {
        if cfg!(any(debug_assertions, loom)) {
            assert!(
                self.idle <= self.threads && self.threads <= max_threads,
                "idle <= threads <= max_threads: {} idle, {} threads, at most {max_threads}",
                self.idle,
                self.threads,
            );
        }
    }
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
            start_thread: start_worker_thread,
        }
    }

    /// Worker threads alive right now, and how many of them are idle.
    pub(crate) fn threads(&self) -> (usize, usize) {
        let state = self.shared.lock();
        (state.threads, state.idle)
    }

    /// Queues `job`, starting a worker if none is free and the cap allows.
    ///
    /// # Errors
    /// If the pool has shut down, or if it has no worker at all and the
    /// operating system refuses a thread. The job is then dropped, never run:
    /// an error means "this job will not start". (If some worker exists and
    /// only the extra thread was refused, the job waits for that worker, as
    /// it would above the cap.)
    pub(crate) fn submit(&self, job: Job) -> io::Result<()> {
        let mut state = self.shared.lock();
        if state.shutdown {
            drop(state);
            contain::drop_value(job);
            return Err(io::Error::other("the runtime's blocking pool has shut down"));
        }
        state.queue.push_back(job);
        if state.idle >= state.queue.len() {
            // Woken after the lock is released: a worker woken under it
            // would only block again on the lock we hold. (An idle worker
            // whose wait runs out meanwhile takes the job first anyway.)
            drop(state);
            self.shared.work.notify_one();
            return Ok(());
        }
        if state.threads < self.shared.max_threads {
            match (self.start_thread)(self.shared.clone()) {
                Ok(()) => state.threads += 1,
                Err(e) if state.threads == 0 => {
                    // Nobody could ever run it: take it back before anyone
                    // sees it. The lock was held since the push, so it is
                    // still the last in the queue.
                    let job = state.queue.pop_back();
                    drop(state);
                    contain::drop_value(job);
                    return Err(e);
                }
                Err(_) => {} // a busy worker will take it, as above the cap
            }
        }
        // Otherwise the job waits for a busy worker to come back.
        state.check(self.shared.max_threads);
        Ok(())
    }

    /// Stops the pool: idle workers leave now, busy ones after their job;
    /// queued jobs are dropped (outside the lock: their captures may do
    /// anything when dropped, panic included).
    pub(crate) fn shutdown(&self) {
        let dropped = {
            let mut state = self.shared.lock();
            state.shutdown = true;
            std::mem::take(&mut state.queue)
        };
        self.shared.work.notify_all();
        dropped.into_iter().for_each(contain::drop_value);
    }
}

/// The real [`StartThread`].
fn start_worker_thread(shared: Arc<PoolShared>) -> io::Result<()> {
    thread::Builder::new().name("kettle-blocking".into()).spawn(move || shared.work_loop())?;
    Ok(())
}

/// Gives a worker's place in `threads` back if it leaves `work_loop` by
/// unwinding — a panic in the bookkeeping itself, since jobs are contained:
/// the count must never name a thread that is gone. A worker that leaves
/// normally gives its place back itself, in the critical section where it
/// decides to leave, and disarms this.
struct LeavePool<'a> {
    pool: &'a PoolShared,
    counted: bool,
}

impl Drop for LeavePool<'_> {
    fn drop(&mut self) {
        if self.counted {
            self.pool.lock().threads -= 1;
        }
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
        let mut leave = LeavePool { pool: self, counted: true };
        let mut state = self.lock();
        let mut timed_out = false;
        loop {
            // A job first, even after a time-out: a submit may have queued
            // it, counting on this worker, while the wait was running out.
            if let Some(job) = state.queue.pop_front() {
                drop(state);
                // A job is user code, and so is whatever it leaves to drop:
                // contained, so the worker and its count survive it.
                contain::call(job);
                state = self.lock();
                timed_out = false;
                continue;
            }
            if state.shutdown || timed_out {
                // Leaving, and no longer counted, in one critical section
                // ("The accounting"): from the moment the lock is released,
                // a submit sees one thread fewer and starts another.
                state.threads -= 1;
                leave.counted = false;
                state.check(self.max_threads);
                return;
            }
            state.idle += 1;
            state.check(self.max_threads);
            let (next, wait) =
                self.work.wait_timeout(state, self.keep_alive).unwrap_or_else(|e| e.into_inner());
            state = next;
            state.idle -= 1;
            timed_out = wait.timed_out();
        }
    }
}

#[cfg(all(test, loom))]
mod loom_model;

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::thread;

    fn refuse_threads(_: Arc<PoolShared>) -> io::Result<()> {
        Err(io::Error::new(io::ErrorKind::WouldBlock, "no thread for you"))
    }

    /// Waits (really, up to 5 s) until the job counted by `drops` is gone.
    fn eventually_dropped(drops: &AtomicUsize, what: &str) {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while drops.load(Ordering::SeqCst) == 0 {
            assert!(std::time::Instant::now() < deadline, "{what}");
            thread::sleep(Duration::from_millis(1));
        }
    }

    /// A job that counts its runs and its drops.
    fn counted_job(runs: &Arc<AtomicUsize>, drops: &Arc<AtomicUsize>) -> Job {
        struct CountDrop(Arc<AtomicUsize>);
        impl Drop for CountDrop {
            fn drop(&mut self) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let (runs, guard) = (runs.clone(), CountDrop(drops.clone()));
        Box::new(move || {
            let _guard = guard;
            runs.fetch_add(1, Ordering::SeqCst);
        })
    }

    #[test]
    fn a_job_refused_for_want_of_a_thread_is_dropped_and_never_runs() {
        let mut pool = Pool::new(4, Duration::from_secs(10));
        pool.start_thread = refuse_threads;
        let (runs, drops) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let refused = pool.submit(counted_job(&runs, &drops));
        assert_eq!(refused.unwrap_err().kind(), io::ErrorKind::WouldBlock, "the OS's error is passed on");
        assert_eq!(drops.load(Ordering::SeqCst), 1, "the refused job was dropped at once");
        assert_eq!(pool.threads(), (0, 0));

        // Threads can be had again: the next job runs, the refused one never does.
        pool.start_thread = start_worker_thread;
        let (later_runs, later_drops) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        pool.submit(counted_job(&later_runs, &later_drops)).unwrap();
        eventually_dropped(&later_drops, "the later job never ran");
        assert_eq!(later_runs.load(Ordering::SeqCst), 1);
        assert_eq!(runs.load(Ordering::SeqCst), 0, "a job reported as not started never runs");
        pool.shutdown();
    }

    #[test]
    fn a_refused_extra_thread_leaves_the_job_to_the_existing_worker() {
        let mut pool = Pool::new(4, Duration::from_secs(10));
        let (gate_tx, gate_rx) = std::sync::mpsc::channel::<()>();
        pool.submit(Box::new(move || {
            let _ = gate_rx.recv(); // keeps the only worker busy until released
        }))
        .unwrap();
        pool.start_thread = refuse_threads;
        let (runs, drops) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        pool.submit(counted_job(&runs, &drops)).expect("accepted: a worker exists to run it");
        gate_tx.send(()).unwrap();
        eventually_dropped(&drops, "the queued job never ran");
        assert_eq!(runs.load(Ordering::SeqCst), 1, "accepted means it runs");
        pool.shutdown();
    }

    #[test]
    fn a_worker_survives_a_panicking_job_and_a_panicking_leftover() {
        let pool = Pool::new(1, Duration::from_secs(10));
        struct PanicOnDrop;
        impl Drop for PanicOnDrop {
            fn drop(&mut self) {
                panic!("a job's leftovers panicked on drop");
            }
        }
        pool.submit(Box::new(|| panic!("a job panicked"))).unwrap();
        let leftover = PanicOnDrop;
        pool.submit(Box::new(move || drop(leftover))).unwrap();
        let (runs, drops) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        pool.submit(counted_job(&runs, &drops)).unwrap();
        eventually_dropped(&drops, "the pool wedged after a panic");
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert_eq!(pool.threads().0, 1, "still the one worker, counted once");
        pool.shutdown();
    }
}
