//! Specifies `sync::Mutex`: one holder at a time, the lock handed to waiters first-in
//! first-out with no barging by `try_lock` or new lockers, and cancel safety for a waiter
//! dropped after the lock was handed to it.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use kettle::sync::Mutex;
use kettle::{JoinHandle, Runtime, yield_now};

const NOW: Option<Duration> = Some(Duration::ZERO);

type Log = Rc<RefCell<Vec<usize>>>;

/// Spawns a task that takes the lock, pushes `id` into the data and the log,
/// and holds the lock for one more turn.
fn locker(rt: &Runtime, mutex: &Rc<Mutex<Vec<usize>>>, log: &Log, id: usize) -> JoinHandle<()> {
    let (mutex, log) = (mutex.clone(), log.clone());
    rt.spawn(async move {
        let mut data = mutex.lock().await;
        data.push(id);
        log.borrow_mut().push(id);
        yield_now().await;
    })
}

/// Turns the loop until a turn runs no task.
fn settle(rt: &Runtime) {
    while rt.turn(NOW).tasks_run > 0 {}
}

#[test]
fn the_guard_gives_access_to_the_data_and_unlocks_when_dropped() {
    let rt = Runtime::new().unwrap();
    let mutex = Mutex::new(1);
    rt.block_on(async {
        let mut guard = mutex.lock().await;
        *guard += 1;
        assert!(mutex.try_lock().is_none(), "held");
        drop(guard);
        assert_eq!(*mutex.try_lock().expect("unlocked"), 2);
    });
    let mut mutex = mutex;
    *mutex.get_mut() += 1;
    assert_eq!(mutex.into_inner(), 3);
}

#[test]
fn waiters_get_the_lock_in_the_order_they_asked() {
    let rt = Runtime::new().unwrap();
    let mutex = Rc::new(Mutex::new(Vec::new()));
    let log = Rc::new(RefCell::new(Vec::new()));
    let held = mutex.try_lock().unwrap();
    for id in 0..4 {
        let _task = locker(&rt, &mutex, &log, id);
    }
    settle(&rt);
    assert!(log.borrow().is_empty(), "all four wait");
    drop(held);
    settle(&rt);
    assert_eq!(*log.borrow(), [0, 1, 2, 3]);
    assert_eq!(*mutex.try_lock().unwrap(), [0, 1, 2, 3]);
    assert_eq!(rt.metrics().tasks_alive, 0);
}

#[test]
fn try_lock_cannot_barge_in_while_the_lock_is_handed_to_a_waiter() {
    let rt = Runtime::new().unwrap();
    let mutex = Rc::new(Mutex::new(Vec::new()));
    let log = Rc::new(RefCell::new(Vec::new()));
    let held = mutex.try_lock().unwrap();
    let _task = locker(&rt, &mutex, &log, 0);
    settle(&rt);
    drop(held); // handed to waiter 0, which has not run yet
    assert!(mutex.try_lock().is_none(), "the lock belongs to the waiter");
    let _task = locker(&rt, &mutex, &log, 1); // a newcomer queues behind
    settle(&rt);
    assert_eq!(*log.borrow(), [0, 1]);
}

#[test]
fn a_waiter_dropped_after_the_lock_was_handed_to_it_passes_the_lock_on() {
    let rt = Runtime::new().unwrap();
    let mutex = Rc::new(Mutex::new(Vec::new()));
    let log = Rc::new(RefCell::new(Vec::new()));
    let held = mutex.try_lock().unwrap();
    let first = locker(&rt, &mutex, &log, 0);
    let _task = locker(&rt, &mutex, &log, 1);
    settle(&rt);
    drop(held); // handed to waiter 0 ...
    first.cancel(); // ... which is dropped before it runs
    settle(&rt);
    assert_eq!(*log.borrow(), [1], "the next waiter got the lock");
    assert!(mutex.try_lock().is_some(), "and released it");
    assert_eq!(rt.metrics().tasks_alive, 0);
}

#[test]
fn a_granted_waiter_dropped_with_nobody_behind_unlocks() {
    let rt = Runtime::new().unwrap();
    let mutex = Rc::new(Mutex::new(Vec::new()));
    let log = Rc::new(RefCell::new(Vec::new()));
    let held = mutex.try_lock().unwrap();
    let only = locker(&rt, &mutex, &log, 0);
    settle(&rt);
    drop(held);
    only.cancel();
    settle(&rt);
    assert!(log.borrow().is_empty());
    assert!(mutex.try_lock().is_some(), "the lock is free again");
}

#[test]
fn a_waiter_dropped_while_waiting_only_leaves_the_line() {
    let rt = Runtime::new().unwrap();
    let mutex = Rc::new(Mutex::new(Vec::new()));
    let log = Rc::new(RefCell::new(Vec::new()));
    let held = mutex.try_lock().unwrap();
    let tasks: Vec<_> = (0..3).map(|id| locker(&rt, &mutex, &log, id)).collect();
    settle(&rt);
    tasks[1].cancel();
    settle(&rt);
    drop(held);
    settle(&rt);
    assert_eq!(*log.borrow(), [0, 2]);
    assert_eq!(rt.metrics().tasks_alive, 0);
}

#[test]
fn many_tasks_incrementing_under_the_lock_lose_no_update() {
    let rt = Runtime::new().unwrap();
    let counter = Rc::new(Mutex::new(0u32));
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let counter = counter.clone();
            rt.spawn(async move {
                for _ in 0..50 {
                    let mut value = counter.lock().await;
                    let read = *value;
                    yield_now().await; // others run while we hold the lock
                    *value = read + 1;
                }
            })
        })
        .collect();
    rt.block_on(async {
        for task in tasks {
            task.await.unwrap();
        }
    });
    assert_eq!(*counter.try_lock().unwrap(), 500);
    assert_eq!(rt.metrics().tasks_alive, 0);
}

#[test]
fn debug_shows_the_data_or_that_it_is_locked() {
    let mutex = Mutex::new(5);
    assert_eq!(format!("{mutex:?}"), "Mutex { data: 5, .. }");
    let guard = mutex.try_lock().unwrap();
    assert_eq!(format!("{mutex:?}"), "Mutex { data: <locked>, .. }");
    assert_eq!(format!("{guard:?}"), "5");
}
