//! Specifies submitting work from other threads: `Handle::spawn` / `spawn_with` and
//! `RemoteJoinHandle` (blocking waits, cancellation, and awaiting it from any executor).

use std::future::pending;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use kettle::{Handle, RemoteJoinHandle, Runtime, sleep};

mod common;
use common::{DropGuard, block_on_thread, drive};

const LIMIT: Duration = Duration::from_secs(2);

#[test]
fn handle_is_clone_send_and_sync() {
    fn assert_traits<T: Clone + Send + Sync + 'static>() {}
    assert_traits::<Handle>();
}

#[test]
fn handle_current_names_the_running_runtime() {
    assert!(Handle::try_current().is_none());
    let rt = Runtime::new().unwrap();
    let out = rt.block_on(async {
        assert!(Handle::try_current().is_some());
        let handle = Handle::current();
        assert!(!handle.is_closed());
        handle.spawn(async { 5 }).await.unwrap()
    });
    assert_eq!(out, 5);
    assert_eq!(rt.metrics().remote_spawns, 1, "the task went through that runtime's injector");
}

#[test]
#[should_panic(expected = "kettle::Handle::current called outside a kettle runtime")]
fn handle_current_outside_a_runtime_panics() {
    let _ = Handle::current();
}

#[test]
fn a_task_spawned_from_another_thread_can_be_waited_for_by_blocking() {
    let rt = Runtime::new().unwrap();
    let (out, took) = drive(&rt, |handle| {
        let start = Instant::now();
        let task = handle.spawn(async {
            kettle::sleep(Duration::from_millis(10)).await;
            42
        });
        (task.wait().unwrap(), start.elapsed())
    });
    assert_eq!(out, 42);
    assert!(took >= Duration::from_millis(10));
    assert!(took < Duration::from_millis(500));
}

#[test]
fn wait_timeout_returns_none_while_the_task_runs_then_its_result() {
    let rt = Runtime::new().unwrap();
    drive(&rt, |handle| {
        let mut task = handle.spawn(async {
            sleep(Duration::from_millis(100)).await;
            "slept"
        });
        let start = Instant::now();
        assert!(task.wait_timeout(Duration::from_millis(10)).is_none());
        assert!(start.elapsed() >= Duration::from_millis(10), "wait_timeout waited its time");
        assert!(!task.is_finished());
        let out = task.wait_timeout(LIMIT).expect("finished in time");
        assert_eq!(out.unwrap(), "slept");
        assert!(task.is_finished());
    });
}

#[test]
fn cancel_from_another_thread_drops_the_future_once_and_wait_reports_it() {
    let drops = Arc::new(AtomicUsize::new(0));
    let rt = Runtime::new().unwrap();
    let guard = DropGuard(drops.clone());
    drive(&rt, move |handle| {
        let (started_tx, started) = mpsc::channel();
        let task = handle.spawn(async move {
            let _guard = guard;
            started_tx.send(()).unwrap();
            pending::<()>().await;
        });
        started.recv_timeout(LIMIT).expect("the task started");
        assert!(!task.is_finished());
        task.cancel();
        let err = task.wait().unwrap_err();
        assert!(err.is_cancelled());
    });
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    assert_eq!(rt.metrics().tasks_alive, 0);
}

#[test]
fn a_remote_join_handle_can_be_awaited_inside_kettle() {
    let rt = Runtime::new().unwrap();
    let handle = rt.handle();
    let task = handle.spawn(async {
        sleep(Duration::from_millis(5)).await;
        "awaited"
    });
    assert_eq!(rt.block_on(task).unwrap(), "awaited");
}

#[test]
fn a_remote_join_handle_can_be_awaited_by_a_hand_written_executor_on_another_thread() {
    let rt = Runtime::new().unwrap();
    let out = drive(&rt, |handle| {
        let task: RemoteJoinHandle<u32> = handle.spawn(async {
            sleep(Duration::from_millis(10)).await;
            7
        });
        block_on_thread(task)
    });
    assert_eq!(out.unwrap(), 7);
}

#[test]
fn spawn_with_builds_a_non_send_future_on_the_loop_thread() {
    let loop_thread = thread::current().id();
    let rt = Runtime::new().unwrap();
    let (built_on, out) = drive(&rt, |handle| {
        let (tx, rx) = mpsc::channel();
        let task = handle.spawn_with(move || {
            tx.send(thread::current().id()).unwrap();
            let shared = Rc::new(20); // not Send: may only exist on the loop thread
            async move {
                sleep(Duration::from_millis(1)).await;
                *shared + 22
            }
        });
        let out = task.wait().unwrap();
        (rx.recv().unwrap(), out)
    });
    assert_eq!(built_on, loop_thread);
    assert_eq!(out, 42);
}

#[test]
fn metrics_count_remote_spawns() {
    let rt = Runtime::new().unwrap();
    let _local = rt.spawn(async {});
    let sum = drive(&rt, |handle| {
        let tasks: Vec<_> = (0..5u32).map(|i| handle.spawn(async move { i })).collect();
        tasks.into_iter().map(|t| t.wait().unwrap()).sum::<u32>()
    });
    assert_eq!(sum, 10);
    let m = rt.metrics();
    assert_eq!(m.remote_spawns, 5);
    assert_eq!(m.tasks_spawned, 6, "remote spawns count as spawns too");
    assert_eq!(m.tasks_alive, 0);
}

#[test]
fn a_panicking_remote_task_reports_a_panic() {
    let rt = Runtime::new().unwrap();
    let err = drive(&rt, |handle| {
        let task = handle.spawn(async {
            if true {
                panic!("remote boom");
            }
        });
        task.wait().unwrap_err()
    });
    assert!(err.is_panic());
    assert!(!err.is_cancelled());
    assert!(err.to_string().contains("remote boom"));
    let payload = err.into_panic();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"remote boom"));
}

#[test]
#[should_panic(expected = "called on the runtime's own thread")]
fn waiting_on_the_loop_thread_panics_instead_of_deadlocking() {
    let rt = Runtime::new().unwrap();
    let task = rt.handle().spawn(async { 1 });
    let _ = task.wait();
}

#[test]
fn waiting_on_the_loop_thread_for_a_finished_task_is_fine() {
    let rt = Runtime::new().unwrap();
    let mut task = rt.handle().spawn(async { 1 });
    rt.turn(Some(Duration::ZERO));
    assert!(task.is_finished());
    assert_eq!(task.wait_timeout(Duration::ZERO).unwrap().unwrap(), 1);
}

#[test]
fn a_task_cancelled_before_the_loop_adopts_it_never_runs() {
    let drops = Arc::new(AtomicUsize::new(0));
    let polled = Arc::new(AtomicUsize::new(0));
    let rt = Runtime::new().unwrap();
    let (guard, count) = (DropGuard(drops.clone()), polled.clone());
    let task = rt.handle().spawn(async move {
        let _guard = guard;
        count.fetch_add(1, Ordering::SeqCst);
    });
    task.cancel(); // still sitting in the injector
    rt.turn(Some(Duration::ZERO));
    assert!(task.is_finished());
    assert_eq!(polled.load(Ordering::SeqCst), 0, "a task cancelled before its first poll never runs");
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    let err = thread::spawn(move || task.wait()).join().unwrap().unwrap_err();
    assert!(err.is_cancelled());
}

#[test]
#[should_panic(expected = "already returned the task's output")]
fn waiting_again_after_the_result_was_returned_panics() {
    let rt = Runtime::new().unwrap();
    let mut task = rt.handle().spawn(async { 1 });
    rt.turn(Some(Duration::ZERO));
    assert_eq!(task.wait_timeout(Duration::ZERO).unwrap().unwrap(), 1);
    let _ = task.wait_timeout(Duration::ZERO);
}
