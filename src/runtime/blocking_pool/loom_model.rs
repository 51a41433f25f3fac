//! Model-checked: the blocking pool's accounting ("The accounting" in
//! `blocking_pool.rs`).
//!
//! Each model runs the pool's real code — `Pool::submit`, the workers'
//! `work_loop` on loom threads, `Pool::shutdown` — under every interleaving
//! loom can build (`--cfg loom`, see `src/loom.rs`). loom has no clock, so a
//! keep-alive running out is played by a "clock" thread that notifies the
//! pool's condition variable: under loom every wake-up of a timed wait
//! reports a time-out, so a notified idle worker may leave, exactly as a
//! real one whose keep-alive runs out at that moment may.
//!
//! The property: **an accepted job runs** (or, after a shutdown, is
//! dropped) — never left in the queue with no worker to take it. A job that
//! no worker will ever run leaves the model's main thread waiting for it
//! for ever, which loom reports as a deadlock. Each critical section also
//! asserts `idle <= threads <= max_threads` (`PoolState::check`).
//!
//! Run with `scripts/loom` (or `RUSTFLAGS="--cfg loom" cargo test --lib
//! --release loom_model`).

use std::sync::Arc;
use std::time::Duration;

use loom::sync::mpsc;

use super::{Job, Pool};

/// A job that reports on `done` when it runs, and `"dropped"` if it is
/// dropped unrun (a shutdown's queued jobs).
fn job(done: &mpsc::Sender<&'static str>, name: &'static str) -> Job {
    struct Report(mpsc::Sender<&'static str>, &'static str);
    impl Drop for Report {
        fn drop(&mut self) {
            let _ = self.0.send(self.1);
        }
    }
    let report = Report(done.clone(), "dropped");
    Box::new(move || {
        let mut report = report; // moved in whole, then reports `name`
        report.1 = name;
    })
}

/// A keep-alive running out: every idle worker's wait ends, and each one
/// that finds the queue empty leaves.
fn expire_keep_alive(pool: &Pool) -> loom::thread::JoinHandle<()> {
    let shared = Arc::clone(&pool.shared);
    loom::thread::spawn(move || shared.work.notify_all())
}

#[test]
fn loom_model_a_job_submitted_while_the_only_worker_retires_still_runs() {
    // Issue 17's stranded job: one worker allowed, its keep-alive running
    // out while the next job is submitted.
    loom::model(|| {
        let pool = Pool::new(1, Duration::from_secs(10));
        let (done, finished) = mpsc::channel();
        pool.submit(job(&done, "a")).unwrap();
        assert_eq!(finished.recv().unwrap(), "a");
        let clock = expire_keep_alive(&pool);
        pool.submit(job(&done, "b")).unwrap();
        assert_eq!(finished.recv().unwrap(), "b", "the job ran: some worker was there to take it");
        clock.join().unwrap();
        pool.shutdown();
    });
}

#[test]
fn loom_model_jobs_submitted_around_a_retiring_worker_in_a_pool_of_two_all_run() {
    // Two workers allowed: a second job may start a second worker, or wait
    // for the first; either way both run, whoever retires when.
    loom::model(|| {
        let pool = Pool::new(2, Duration::from_secs(10));
        let (done, finished) = mpsc::channel();
        pool.submit(job(&done, "a")).unwrap();
        let clock = expire_keep_alive(&pool);
        pool.submit(job(&done, "b")).unwrap();
        let mut ran = [finished.recv().unwrap(), finished.recv().unwrap()];
        ran.sort_unstable();
        assert_eq!(ran, ["a", "b"]);
        clock.join().unwrap();
        pool.shutdown();
    });
}

#[test]
fn loom_model_a_shutdown_racing_a_submit_runs_or_drops_the_job_never_strands_it() {
    // A submit on another thread against the runtime's drop: the job is
    // refused (an error, dropped at once), run, or dropped by the shutdown
    // — reported exactly once in every case.
    loom::model(|| {
        let pool = Arc::new(Pool::new(1, Duration::from_secs(10)));
        let (done, finished) = mpsc::channel();
        pool.submit(job(&done, "a")).unwrap();
        let submitter = {
            let (pool, done) = (Arc::clone(&pool), done.clone());
            loom::thread::spawn(move || {
                let _ = pool.submit(job(&done, "b"));
            })
        };
        pool.shutdown();
        submitter.join().unwrap();
        let mut seen = [finished.recv().unwrap(), finished.recv().unwrap()];
        seen.sort_unstable();
        assert!(
            matches!(seen, ["a", "b"] | ["a", "dropped"] | ["b", "dropped"] | ["dropped", "dropped"]),
            "{seen:?}"
        );
        assert!(finished.try_recv().is_err(), "each job reported once");
    });
}
