//! Specifies `JoinHandle::detach` and `RemoteJoinHandle::detach`: the task
//! goes on without its handle, runs to completion, and its output — or the
//! payload of its panic — is dropped exactly once, on the loop, whether the
//! task finished before or after the detach.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use kettle::Runtime;

mod common;
use common::{DropCounter, DropGuard};

const NOW: Option<Duration> = Some(Duration::ZERO);

/// Turns the loop until a turn runs no task.
fn settle(rt: &Runtime) {
    while rt.turn(NOW).tasks_run > 0 {}
}

#[test]
fn a_task_detached_before_it_finishes_runs_to_completion_and_its_output_is_dropped_once() {
    let rt = Runtime::new().unwrap();
    let (finished, drops) = (Rc::new(Cell::new(false)), Rc::new(Cell::new(0)));
    let task = rt.spawn({
        let (finished, drops) = (finished.clone(), drops.clone());
        async move {
            kettle::yield_now().await;
            kettle::sleep(Duration::from_millis(2)).await;
            finished.set(true);
            DropCounter(drops)
        }
    });
    settle(&rt); // started, now sleeping
    task.detach();
    assert!(!finished.get());
    rt.block_on(kettle::sleep(Duration::from_millis(20)));
    assert!(finished.get(), "the detached task ran to its end");
    assert_eq!(drops.get(), 1, "its output was dropped, once");
    assert_eq!(rt.metrics().tasks_alive, 0, "and the task was released");
    drop(rt);
    assert_eq!(drops.get(), 1, "not again at shutdown");
}

#[test]
fn a_task_detached_after_it_finished_has_its_output_dropped_once_at_the_detach() {
    let rt = Runtime::new().unwrap();
    let drops = Rc::new(Cell::new(0));
    let task = rt.spawn({
        let drops = drops.clone();
        async move { DropCounter(drops) }
    });
    settle(&rt);
    assert!(task.is_finished());
    assert_eq!(drops.get(), 0, "the output waits for its handle");
    task.detach();
    assert_eq!(drops.get(), 1, "dropped by the detach");
    settle(&rt);
    drop(rt);
    assert_eq!(drops.get(), 1);
}

#[test]
fn a_detached_task_that_panics_does_not_stop_the_loop() {
    let rt = Runtime::new().unwrap();
    rt.spawn(async { panic!("a detached task panics") }).detach();
    let after = rt.block_on(async {
        kettle::sleep(Duration::from_millis(2)).await;
        "the loop goes on"
    });
    assert_eq!(after, "the loop goes on");
    assert_eq!(rt.metrics().tasks_alive, 0);
}

#[test]
fn detached_tasks_still_run_their_done_callbacks() {
    let seen = kettle::run(async {
        let seen = Rc::new(Cell::new(0));
        let task = kettle::spawn(async { 21 });
        let log = seen.clone();
        task.add_done_callback(move |result| log.set(*result.as_ref().unwrap() * 2));
        task.detach();
        kettle::sleep(Duration::from_millis(2)).await;
        seen.get()
    });
    assert_eq!(seen, 42);
}

#[test]
fn a_detached_remote_task_runs_to_completion_and_its_output_is_dropped_once() {
    let rt = Runtime::new().unwrap();
    let (runs, drops) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let handle = rt.handle();
    let submitter = std::thread::spawn({
        let (runs, drops) = (runs.clone(), drops.clone());
        move || {
            handle
                .spawn(async move {
                    kettle::sleep(Duration::from_millis(2)).await;
                    runs.fetch_add(1, Ordering::SeqCst);
                    DropGuard(drops)
                })
                .detach();
        }
    });
    submitter.join().unwrap();
    rt.block_on(kettle::timeout(Duration::from_secs(5), async {
        while runs.load(Ordering::SeqCst) == 0 {
            kettle::sleep(Duration::from_millis(1)).await;
        }
    }))
    .expect("the detached remote task ran");
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(drops.load(Ordering::SeqCst), 1, "the output was dropped on the loop, once");
    drop(rt);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}
