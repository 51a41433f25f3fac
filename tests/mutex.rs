//! Specifies `sync::Mutex`: one holder at a time, the lock handed to waiters first-in
//! first-out with no barging by `try_lock` or new lockers, and cancel safety for a waiter
//! dropped after the lock was handed to it.

use std::cell::RefCell;
use std::future::pending;
use std::rc::Rc;
use std::thread;
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

/// The point in a locker's life at which it is cancelled.
#[derive(Clone, Copy, Debug, PartialEq)]
enum CancelAt {
    /// Still in the line: nobody has handed it the lock.
    Waiting,
    /// Handed the lock, but cancelled before it ran to take it.
    Handed,
    /// Holding the guard.
    Holding,
    /// After it dropped the guard, while still alive.
    Released,
}

const VICTIM: usize = 0;
const BEHIND: usize = 1;

/// Spawns a task that takes the lock, pushes `VICTIM` into the data and the log,
/// then waits forever: holding the guard if `hold`, else after dropping it.
fn victim(rt: &Runtime, mutex: &Rc<Mutex<Vec<usize>>>, log: &Log, hold: bool) -> JoinHandle<()> {
    let (mutex, log) = (mutex.clone(), log.clone());
    rt.spawn(async move {
        let mut data = mutex.lock().await;
        data.push(VICTIM);
        log.borrow_mut().push(VICTIM);
        if hold {
            pending::<()>().await;
        }
        drop(data);
        pending::<()>().await;
    })
}

#[test]
fn a_cancelled_locker_neither_loses_the_lock_nor_makes_a_second_one() {
    // Every point at which a locker can be cancelled, with and without a
    // waiter behind it. Whatever happens, at the end the lock is free, there
    // is exactly one, and whoever waited behind got it.
    for at in [CancelAt::Waiting, CancelAt::Handed, CancelAt::Holding, CancelAt::Released] {
        for behind in [false, true] {
            let case = format!("cancelled {at:?}, {} behind", if behind { "a waiter" } else { "nobody" });
            let rt = Runtime::new().unwrap();
            let mutex = Rc::new(Mutex::new(Vec::new()));
            let log = Rc::new(RefCell::new(Vec::new()));
            let held = mutex.try_lock().unwrap();
            let victim = victim(&rt, &mutex, &log, at == CancelAt::Holding);
            let _behind = behind.then(|| locker(&rt, &mutex, &log, BEHIND));
            settle(&rt);
            match at {
                CancelAt::Waiting => {
                    victim.cancel();
                    settle(&rt);
                    drop(held);
                }
                CancelAt::Handed => {
                    drop(held); // the lock is the victim's now ...
                    victim.cancel(); // ... and it is dropped before it runs
                }
                CancelAt::Holding | CancelAt::Released => {
                    drop(held);
                    settle(&rt);
                    assert_eq!(log.borrow().first(), Some(&VICTIM), "{case}: the victim took the lock");
                    victim.cancel();
                }
            }
            settle(&rt);

            let victim_locked = matches!(at, CancelAt::Holding | CancelAt::Released);
            let expected: Vec<_> = [(victim_locked, VICTIM), (behind, BEHIND)]
                .iter()
                .filter(|(ran, _)| *ran)
                .map(|&(_, id)| id)
                .collect();
            assert_eq!(*log.borrow(), expected, "{case}: who got the lock");
            let guard = mutex.try_lock().unwrap_or_else(|| panic!("{case}: the lock is free at the end"));
            assert!(mutex.try_lock().is_none(), "{case}: and there is only one");
            assert_eq!(*guard, expected, "{case}: the data saw the same holders");
            assert_eq!(rt.metrics().tasks_alive, 0, "{case}");
        }
    }
}

#[test]
fn try_lock_fails_until_every_waiter_in_the_line_has_had_the_lock() {
    let rt = Runtime::new().unwrap();
    let mutex = Rc::new(Mutex::new(Vec::new()));
    let log = Rc::new(RefCell::new(Vec::new()));
    let held = mutex.try_lock().unwrap();
    let tasks: Vec<_> = (0..3).map(|id| locker(&rt, &mutex, &log, id)).collect();
    settle(&rt);
    drop(held);
    let mut turns = 0;
    while !tasks.iter().all(JoinHandle::is_finished) {
        assert!(
            mutex.try_lock().is_none(),
            "turn {turns}: {:?} served so far, yet try_lock got in",
            log.borrow()
        );
        rt.turn(NOW);
        turns += 1;
        assert!(turns < 100, "the line never drained");
    }
    assert_eq!(*log.borrow(), [0, 1, 2]);
    assert_eq!(*mutex.try_lock().expect("free once the line is empty"), [0, 1, 2]);
}

#[test]
fn a_guard_dropped_by_a_panic_hands_the_lock_to_the_next_waiter() {
    let rt = Runtime::new().unwrap();
    let mutex = Rc::new(Mutex::new(Vec::new()));
    let log = Rc::new(RefCell::new(Vec::new()));
    let held = mutex.try_lock().unwrap();
    let panicker = {
        let mutex = mutex.clone();
        rt.spawn(async move {
            let mut data = mutex.lock().await;
            data.push(0);
            panic!("while holding the lock");
        })
    };
    let _next = locker(&rt, &mutex, &log, 1);
    settle(&rt);
    drop(held);
    settle(&rt);
    assert!(rt.block_on(panicker).unwrap_err().is_panic());
    assert_eq!(*log.borrow(), [1], "the waiter behind got the lock");
    assert_eq!(
        *mutex.try_lock().expect("and gave it back"),
        [0, 1],
        "no poisoning: the panicker's write stays"
    );
}

#[test]
fn a_mutex_of_send_data_can_move_to_another_thread_and_be_locked_there() {
    // Only the mutex itself moves; its guard and `lock()` future stay `!Send`.
    let mutex = Mutex::new(vec![1]);
    let mutex = thread::spawn(move || {
        Runtime::new().unwrap().block_on(async { mutex.lock().await.push(2) });
        mutex
    })
    .join()
    .unwrap();
    assert_eq!(mutex.into_inner(), [1, 2]);
}
