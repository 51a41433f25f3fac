//! Specifies what handles and wakers do once their runtime is gone: fail fast and cleanly —
//! cancelled tasks, `RuntimeClosed`, no-op stops, harmless wakes — never a hang or a crash.

use std::future::pending;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

use kettle::{Runtime, RuntimeClosed};

mod common;
use common::DropGuard;

fn dropped_runtime_handle() -> kettle::Handle {
    let rt = Runtime::new().unwrap();
    let handle = rt.handle();
    assert!(!handle.is_closed());
    drop(rt);
    handle
}

#[test]
fn handle_spawn_after_drop_resolves_at_once_to_cancelled_without_running() {
    let handle = dropped_runtime_handle();
    let drops = Arc::new(AtomicUsize::new(0));
    let ran = Arc::new(AtomicBool::new(false));
    let (guard, flag) = (DropGuard(drops.clone()), ran.clone());
    let task = handle.spawn(async move {
        let _guard = guard;
        flag.store(true, Ordering::SeqCst);
        1
    });
    assert!(task.is_finished(), "already resolved when spawn returns");
    assert_eq!(drops.load(Ordering::SeqCst), 1, "the future was dropped by spawn itself");
    let start = Instant::now();
    let err = task.wait().unwrap_err();
    assert!(start.elapsed() < Duration::from_millis(100), "wait returns immediately");
    assert!(err.is_cancelled());
    assert!(!ran.load(Ordering::SeqCst));
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn spawn_with_after_drop_drops_the_closure_without_calling_it() {
    let handle = dropped_runtime_handle();
    let drops = Arc::new(AtomicUsize::new(0));
    let called = Arc::new(AtomicBool::new(false));
    let (guard, flag) = (DropGuard(drops.clone()), called.clone());
    let task = handle.spawn_with(move || {
        let _guard = guard;
        flag.store(true, Ordering::SeqCst);
        async { 1 }
    });
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    assert!(!called.load(Ordering::SeqCst));
    assert!(task.wait().unwrap_err().is_cancelled());
}

#[test]
fn call_soon_after_drop_returns_runtime_closed() {
    let handle = dropped_runtime_handle();
    let drops = Arc::new(AtomicUsize::new(0));
    let guard = DropGuard(drops.clone());
    assert_eq!(handle.call_soon(move || drop(guard)), Err(RuntimeClosed));
    assert_eq!(drops.load(Ordering::SeqCst), 1, "the closure is dropped, not leaked");
}

#[test]
fn stop_after_drop_is_a_no_op_and_is_closed_is_true() {
    let handle = dropped_runtime_handle();
    assert!(handle.is_closed());
    handle.stop();
    handle.stop();
    assert!(handle.is_closed());
    let clone = handle.clone();
    assert!(clone.is_closed(), "clones see the same runtime");
    thread::spawn(move || {
        clone.stop();
        assert!(clone.is_closed());
    })
    .join()
    .unwrap();
}

#[test]
fn is_closed_is_false_while_the_runtime_lives() {
    let rt = Runtime::new().unwrap();
    let handle = rt.handle();
    let remote = handle.clone();
    assert!(!thread::spawn(move || remote.is_closed()).join().unwrap());
    drop(rt);
    assert!(handle.is_closed());
}

/// Spawns a task that stashes its waker and then waits forever; returns the stash and a
/// counter of the task future's drops, with the runtime already dropped.
fn outlived_waker() -> (Arc<Mutex<Option<Waker>>>, Arc<AtomicUsize>) {
    let stash: Arc<Mutex<Option<Waker>>> = Arc::new(Mutex::new(None));
    let drops = Arc::new(AtomicUsize::new(0));
    let rt = Runtime::new().unwrap();
    let (slot, guard) = (stash.clone(), DropGuard(drops.clone()));
    let task = rt.spawn(async move {
        let _guard = guard;
        std::future::poll_fn(|cx| {
            *slot.lock().unwrap() = Some(cx.waker().clone());
            Poll::<()>::Pending
        })
        .await;
    });
    rt.turn(Some(Duration::ZERO));
    assert!(stash.lock().unwrap().is_some());
    assert!(!task.is_finished());
    drop(rt);
    assert!(task.is_finished(), "the runtime's drop cancelled the task");
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    (stash, drops)
}

#[test]
fn wakers_that_outlive_the_runtime_can_be_woken_and_dropped_on_the_same_thread() {
    let (stash, drops) = outlived_waker();
    let waker = stash.lock().unwrap().take().unwrap();
    waker.wake_by_ref();
    let clone = waker.clone();
    clone.wake();
    waker.wake();
    assert_eq!(drops.load(Ordering::SeqCst), 1, "nothing ran or dropped twice");
}

#[test]
fn wakers_that_outlive_the_runtime_can_be_woken_and_dropped_on_another_thread() {
    let (stash, drops) = outlived_waker();
    let waker = stash.lock().unwrap().take().unwrap();
    let clones: Vec<Waker> = (0..4).map(|_| waker.clone()).collect();
    let threads: Vec<_> = clones
        .into_iter()
        .map(|w| {
            thread::spawn(move || {
                for _ in 0..100 {
                    w.wake_by_ref();
                }
                w.wake();
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    thread::spawn(move || drop(waker)).join().unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn a_remote_task_still_queued_when_the_runtime_drops_is_cancelled() {
    let rt = Runtime::new().unwrap();
    let handle = rt.handle();
    let drops = Arc::new(AtomicUsize::new(0));
    let ran = Arc::new(AtomicBool::new(false));
    let (guard, flag) = (DropGuard(drops.clone()), ran.clone());
    let task = thread::spawn(move || {
        handle.spawn(async move {
            let _guard = guard;
            flag.store(true, Ordering::SeqCst);
            pending::<()>().await;
        })
    })
    .join()
    .unwrap();
    assert!(!task.is_finished(), "queued in the injector, not yet adopted");
    assert_eq!(rt.metrics().remote_spawns, 0);
    drop(rt);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    assert!(!ran.load(Ordering::SeqCst), "it never ran");
    let waiter = thread::spawn(move || task.wait());
    assert!(waiter.join().unwrap().unwrap_err().is_cancelled());
}

#[test]
fn a_remote_task_parked_in_a_running_loop_is_cancelled_when_the_runtime_drops() {
    let rt = Runtime::new().unwrap();
    let drops = Arc::new(AtomicUsize::new(0));
    let guard = DropGuard(drops.clone());
    let task = rt.handle().spawn(async move {
        let _guard = guard;
        pending::<()>().await;
    });
    rt.turn(Some(Duration::ZERO));
    assert_eq!(rt.metrics().tasks_alive, 1);
    assert!(!task.is_finished());
    drop(rt);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    let out = thread::spawn(move || {
        let mut task = task;
        task.wait_timeout(Duration::from_secs(2))
    })
    .join()
    .unwrap();
    assert!(out.expect("resolved").unwrap_err().is_cancelled());
}

#[test]
fn spawns_racing_with_the_runtimes_drop_all_resolve_and_drop_their_futures_once() {
    const THREADS: usize = 2;
    const PER_THREAD: usize = 500;
    let drops = Arc::new(AtomicUsize::new(0));
    let rt = Runtime::new().unwrap();
    let spawners: Vec<_> = (0..THREADS)
        .map(|_| {
            let (handle, drops) = (rt.handle(), drops.clone());
            thread::spawn(move || {
                let tasks: Vec<_> = (0..PER_THREAD)
                    .map(|i| {
                        let guard = DropGuard(drops.clone());
                        handle.spawn(async move {
                            let _guard = guard;
                            i
                        })
                    })
                    .collect();
                let (mut ok, mut cancelled) = (0, 0);
                for (i, mut task) in tasks.into_iter().enumerate() {
                    match task.wait_timeout(Duration::from_secs(2)).expect("every handle resolves") {
                        Ok(value) => {
                            assert_eq!(value, i);
                            ok += 1;
                        }
                        Err(e) => {
                            assert!(e.is_cancelled());
                            cancelled += 1;
                        }
                    }
                }
                (ok, cancelled)
            })
        })
        .collect();
    // Serve a few turns while the spawners are busy, then drop the runtime under them.
    for _ in 0..5 {
        rt.turn(Some(Duration::from_millis(1)));
    }
    drop(rt);
    let (mut ok, mut cancelled) = (0, 0);
    for s in spawners {
        let (o, c) = s.join().unwrap();
        ok += o;
        cancelled += c;
    }
    assert_eq!(ok + cancelled, THREADS * PER_THREAD, "no handle lost");
    assert_eq!(drops.load(Ordering::SeqCst), THREADS * PER_THREAD, "each future dropped exactly once");
}
