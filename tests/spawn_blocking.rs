//! Specifies `kettle::spawn_blocking` (asyncio's `run_in_executor`): blocking
//! work runs on a pool that grows on demand up to a cap and shrinks when idle,
//! the loop keeps turning meanwhile, panics become `JoinError`s, and dropping
//! the runtime mid-job is safe.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use kettle::{JoinHandle, Runtime};

mod common;
use common::DropGuard;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Starts `f` on `rt`'s pool from inside the runtime and hands back the
/// handle unawaited, to be cancelled, outlive the runtime, or awaited later.
#[allow(clippy::async_yields_async)] // the handle is meant to leave `block_on` unawaited
fn start_blocking<T: Send + 'static>(rt: &Runtime, f: impl FnOnce() -> T + Send + 'static) -> JoinHandle<T> {
    rt.block_on(async { kettle::spawn_blocking(f) })
}

/// Waits (really) until `condition` holds, failing after a generous bound.
fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !condition() {
        assert!(Instant::now() < deadline, "never happened: {what}");
        thread::sleep(ms(2));
    }
}

#[test]
fn the_job_runs_on_another_thread_and_its_value_comes_back() {
    let loop_thread = thread::current().id();
    let (value, job_thread) =
        kettle::run(async { kettle::spawn_blocking(|| (6 * 7, thread::current().id())).await.unwrap() });
    assert_eq!(value, 42);
    assert_ne!(job_thread, loop_thread);
}

#[test]
fn the_loop_keeps_running_while_a_job_blocks() {
    kettle::run(async {
        let release = Arc::new(AtomicBool::new(false));
        let flag = release.clone();
        let job = kettle::spawn_blocking(move || {
            while !flag.load(Ordering::SeqCst) {
                thread::sleep(ms(1));
            }
            "released"
        });
        // A timer on the loop fires while the job is still blocked, and
        // it is the loop that releases the job.
        kettle::sleep(ms(10)).await;
        assert!(!job.is_finished());
        release.store(true, Ordering::SeqCst);
        assert_eq!(job.await.unwrap(), "released");
    });
}

#[test]
fn jobs_overlap_on_several_threads() {
    // Four jobs that can only finish together: each waits for all four.
    let rt = Runtime::new().unwrap();
    let barrier = Arc::new(Barrier::new(4));
    let start = Instant::now();
    rt.block_on(async {
        let jobs: Vec<_> = (0..4)
            .map(|i| {
                let barrier = barrier.clone();
                kettle::spawn_blocking(move || {
                    barrier.wait();
                    i
                })
            })
            .collect();
        let mut sum = 0;
        for job in jobs {
            sum +=
                kettle::timeout(Duration::from_secs(5), job).await.expect("jobs ran side by side").unwrap();
        }
        assert_eq!(sum, 6);
    });
    assert!(start.elapsed() < Duration::from_secs(5));
    assert!(rt.metrics().blocking_threads >= 4, "the pool grew to run them together");
}

#[test]
fn the_pool_never_exceeds_its_cap_and_queues_the_rest() {
    let rt = Runtime::builder().max_blocking_threads(2).build().unwrap();
    let running = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    rt.block_on(async {
        let jobs: Vec<_> = (0..6)
            .map(|_| {
                let (running, most) = (running.clone(), most.clone());
                kettle::spawn_blocking(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    thread::sleep(ms(10));
                    running.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for job in jobs {
            job.await.unwrap();
        }
    });
    assert_eq!(most.load(Ordering::SeqCst), 2, "at most two at once, and both used");
    assert!(rt.metrics().blocking_threads <= 2);
}

#[test]
fn idle_threads_exit_after_the_keep_alive() {
    let rt = Runtime::builder().blocking_keep_alive(ms(20)).build().unwrap();
    rt.block_on(async { kettle::spawn_blocking(|| ()).await.unwrap() });
    assert_eq!(rt.metrics().blocking_threads, 1);
    eventually("the idle worker exits", || rt.metrics().blocking_threads == 0);
}

#[test]
fn an_idle_thread_is_reused_rather_than_a_new_one_started() {
    let rt = Runtime::new().unwrap();
    let first = rt.block_on(async { kettle::spawn_blocking(|| thread::current().id()).await.unwrap() });
    eventually("the worker is idle again", || rt.metrics().blocking_idle_threads == 1);
    let second = rt.block_on(async { kettle::spawn_blocking(|| thread::current().id()).await.unwrap() });
    assert_eq!(first, second);
    assert_eq!(rt.metrics().blocking_threads, 1);
}

#[test]
fn a_panicking_job_gives_a_panic_join_error() {
    let err =
        kettle::run(async { kettle::spawn_blocking(|| -> u8 { panic!("disk on fire") }).await.unwrap_err() });
    assert!(err.is_panic());
    assert_eq!(*err.into_panic().downcast::<&str>().unwrap(), "disk on fire");
}

#[test]
fn cancelling_the_handle_stops_waiting_but_the_job_runs_to_its_end() {
    let finished = Arc::new(AtomicBool::new(false));
    let rt = Runtime::new().unwrap();
    let flag = finished.clone();
    let job = start_blocking(&rt, move || {
        thread::sleep(ms(20));
        flag.store(true, Ordering::SeqCst);
    });
    job.cancel();
    assert!(rt.block_on(job).unwrap_err().is_cancelled());
    eventually("the job finished anyway", || finished.load(Ordering::SeqCst));
}

#[test]
fn dropping_the_runtime_while_a_job_runs_is_safe() {
    let started = Arc::new(AtomicBool::new(false));
    let finished = Arc::new(AtomicBool::new(false));
    let rt = Runtime::new().unwrap();
    let (start_flag, finish_flag) = (started.clone(), finished.clone());
    let job = start_blocking(&rt, move || {
        start_flag.store(true, Ordering::SeqCst);
        thread::sleep(ms(20));
        finish_flag.store(true, Ordering::SeqCst);
        vec![1, 2, 3] // a result that will have nowhere to go
    });
    eventually("the job started", || started.load(Ordering::SeqCst));
    drop(rt);
    assert!(Runtime::new().unwrap().block_on(job).unwrap_err().is_cancelled());
    eventually("the orphaned job completed without harm", || finished.load(Ordering::SeqCst));
}

#[test]
fn queued_jobs_that_never_started_are_dropped_with_the_runtime() {
    let drops = Arc::new(AtomicUsize::new(0));
    let rt = Runtime::builder().max_blocking_threads(1).build().unwrap();
    let release = Arc::new(Barrier::new(2));
    let started = Arc::new(AtomicBool::new(false));
    let (gate, flag) = (release.clone(), started.clone());
    let running = start_blocking(&rt, move || {
        flag.store(true, Ordering::SeqCst);
        gate.wait();
    });
    eventually("the only worker is busy", || started.load(Ordering::SeqCst));
    let guard = DropGuard(drops.clone());
    let queued = start_blocking(&rt, move || {
        let _guard = guard;
        panic!("a queued job must not run after its runtime is gone");
    });
    drop(rt);
    assert_eq!(drops.load(Ordering::SeqCst), 1, "the queued job was dropped, unrun");
    release.wait(); // let the running job end
    let rt = Runtime::new().unwrap();
    assert!(rt.block_on(running).unwrap_err().is_cancelled());
    assert!(rt.block_on(queued).unwrap_err().is_cancelled());
}

/// Panics when dropped: a result nobody collects.
#[derive(Debug)]
struct PanicOnDrop;

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("a blocking job's result panicked on drop");
    }
}

#[test]
fn a_cancelled_job_whose_result_panics_on_drop_does_not_wedge_the_pool() {
    // The result has nowhere to go and is dropped on the worker; its panic
    // must not kill the worker with its slot still taken.
    let rt = Runtime::builder().max_blocking_threads(1).build().unwrap();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let started = Arc::new(AtomicBool::new(false));
    let flag = started.clone();
    let job = start_blocking(&rt, move || {
        flag.store(true, Ordering::SeqCst);
        let _ = release_rx.recv();
        PanicOnDrop
    });
    eventually("the job started", || started.load(Ordering::SeqCst));
    job.cancel();
    assert!(rt.block_on(job).unwrap_err().is_cancelled());
    release_tx.send(()).unwrap();

    let next =
        rt.block_on(async { kettle::timeout(Duration::from_secs(5), kettle::spawn_blocking(|| 42)).await });
    assert_eq!(next.expect("the pool took the next job").unwrap(), 42);
    assert_eq!(rt.metrics().blocking_threads, 1, "one worker, alive and counted once");
}

#[test]
fn a_job_whose_own_result_panics_on_drop_after_being_awaited_is_fine_too() {
    // Delivered: the result is the handle's to drop, in the awaiting task.
    let rt = Runtime::builder().max_blocking_threads(1).build().unwrap();
    let outcome = rt.block_on(async {
        let value = kettle::spawn_blocking(|| PanicOnDrop).await.unwrap();
        std::mem::forget(value);
        kettle::spawn_blocking(|| 7).await
    });
    assert_eq!(outcome.unwrap(), 7);
}

#[test]
fn the_thread_count_follows_the_threads_that_really_exist() {
    let rt = Runtime::builder().max_blocking_threads(2).blocking_keep_alive(ms(20)).build().unwrap();
    rt.block_on(async {
        let a = kettle::spawn_blocking(|| panic!("a job panicked"));
        let b = kettle::spawn_blocking(|| PanicOnDrop);
        assert!(a.await.unwrap_err().is_panic());
        b.cancel();
        if let Ok(delivered) = b.await {
            std::mem::forget(delivered); // it beat the cancel: ours to drop, and we won't
        }
    });
    assert!(rt.metrics().blocking_threads <= 2);
    eventually("idle workers exited and were counted out", || rt.metrics().blocking_threads == 0);
    assert_eq!(rt.metrics().blocking_idle_threads, 0);
}

#[test]
#[should_panic(expected = "kettle::spawn_blocking called outside a kettle runtime")]
fn spawn_blocking_outside_a_runtime_panics() {
    drop(kettle::spawn_blocking(|| ()));
}
