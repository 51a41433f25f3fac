//! Specifies `sync::Semaphore`: at most n permits out, handed to waiters first-in first-out
//! with no barging by `try_acquire`, released on drop, and never lost when a waiter that
//! was handed a permit is dropped before it runs.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use kettle::sync::Semaphore;
use kettle::{JoinHandle, Runtime, yield_now};

const NOW: Option<Duration> = Some(Duration::ZERO);

type Log = Rc<RefCell<Vec<usize>>>;

/// Spawns a task that acquires a permit, logs `id`, and holds the permit
/// for one more turn.
fn acquirer(rt: &Runtime, semaphore: &Semaphore, log: &Log, id: usize) -> JoinHandle<()> {
    let (semaphore, log) = (semaphore.clone(), log.clone());
    rt.spawn(async move {
        let _permit = semaphore.acquire().await;
        log.borrow_mut().push(id);
        yield_now().await;
    })
}

/// Turns the loop until a turn runs no task.
fn settle(rt: &Runtime) {
    while rt.turn(NOW).tasks_run > 0 {}
}

#[test]
fn permits_are_counted_out_and_back_in() {
    let semaphore = Semaphore::new(2);
    let a = semaphore.try_acquire().unwrap();
    let b = semaphore.try_acquire().unwrap();
    assert_eq!(semaphore.available_permits(), 0);
    assert!(semaphore.try_acquire().is_none());
    drop(a);
    assert_eq!(semaphore.available_permits(), 1);
    drop(b);
    semaphore.add_permits(3);
    assert_eq!(semaphore.available_permits(), 5);
}

#[test]
fn at_most_n_tasks_hold_a_permit_at_once() {
    let rt = Runtime::new().unwrap();
    let semaphore = Semaphore::new(3);
    let inside = Rc::new(Cell::new(0));
    let most = Rc::new(Cell::new(0));
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let (semaphore, inside, most) = (semaphore.clone(), inside.clone(), most.clone());
            rt.spawn(async move {
                let _permit = semaphore.acquire().await;
                inside.set(inside.get() + 1);
                most.set(most.get().max(inside.get()));
                yield_now().await;
                yield_now().await;
                inside.set(inside.get() - 1);
            })
        })
        .collect();
    rt.block_on(async {
        for task in tasks {
            task.await.unwrap();
        }
    });
    assert_eq!(most.get(), 3);
    assert_eq!(semaphore.available_permits(), 3, "every permit came back");
    assert_eq!(rt.metrics().tasks_alive, 0);
}

#[test]
fn waiters_are_served_in_order_and_try_acquire_cannot_barge_in() {
    let rt = Runtime::new().unwrap();
    let semaphore = Semaphore::new(1);
    let log = Rc::new(RefCell::new(Vec::new()));
    let held = semaphore.try_acquire().unwrap();
    for id in 0..3 {
        let _task = acquirer(&rt, &semaphore, &log, id);
    }
    settle(&rt);
    drop(held); // handed to waiter 0, which has not run yet
    assert_eq!(semaphore.available_permits(), 0);
    assert!(semaphore.try_acquire().is_none(), "the permit belongs to the waiter");
    settle(&rt);
    assert_eq!(*log.borrow(), [0, 1, 2]);
    assert_eq!(semaphore.available_permits(), 1);
}

#[test]
fn add_permits_serves_waiters_first_then_the_count() {
    let rt = Runtime::new().unwrap();
    let semaphore = Semaphore::new(0);
    let log = Rc::new(RefCell::new(Vec::new()));
    let _task = acquirer(&rt, &semaphore, &log, 0);
    let _task = acquirer(&rt, &semaphore, &log, 1);
    settle(&rt);
    semaphore.add_permits(3);
    assert_eq!(semaphore.available_permits(), 1, "two went to the waiters");
    settle(&rt);
    assert_eq!(*log.borrow(), [0, 1]);
    assert_eq!(semaphore.available_permits(), 3);
}

#[test]
fn a_woken_acquirer_dropped_before_running_passes_its_permit_on() {
    let rt = Runtime::new().unwrap();
    let semaphore = Semaphore::new(1);
    let log = Rc::new(RefCell::new(Vec::new()));
    let held = semaphore.try_acquire().unwrap();
    let first = acquirer(&rt, &semaphore, &log, 0);
    let _task = acquirer(&rt, &semaphore, &log, 1);
    settle(&rt);
    drop(held); // handed to acquirer 0 ...
    first.cancel(); // ... which is dropped before it runs
    settle(&rt);
    assert_eq!(*log.borrow(), [1], "the next acquirer got the permit");
    assert_eq!(semaphore.available_permits(), 1, "no permit lost, none created");
    assert_eq!(rt.metrics().tasks_alive, 0);
}

#[test]
fn a_woken_acquirer_dropped_with_nobody_behind_returns_its_permit() {
    let rt = Runtime::new().unwrap();
    let semaphore = Semaphore::new(1);
    let log = Rc::new(RefCell::new(Vec::new()));
    let held = semaphore.try_acquire().unwrap();
    let only = acquirer(&rt, &semaphore, &log, 0);
    settle(&rt);
    drop(held);
    only.cancel();
    settle(&rt);
    assert!(log.borrow().is_empty());
    assert_eq!(semaphore.available_permits(), 1);
}

#[test]
fn an_acquirer_dropped_while_waiting_only_leaves_the_line() {
    let rt = Runtime::new().unwrap();
    let semaphore = Semaphore::new(1);
    let log = Rc::new(RefCell::new(Vec::new()));
    let held = semaphore.try_acquire().unwrap();
    let tasks: Vec<_> = (0..3).map(|id| acquirer(&rt, &semaphore, &log, id)).collect();
    settle(&rt);
    tasks[0].cancel();
    settle(&rt);
    assert_eq!(semaphore.available_permits(), 0);
    drop(held);
    settle(&rt);
    assert_eq!(*log.borrow(), [1, 2]);
    assert_eq!(semaphore.available_permits(), 1);
}

#[test]
fn a_permit_moves_into_a_task_and_is_released_there() {
    let rt = Runtime::new().unwrap();
    let semaphore = Semaphore::new(1);
    let permit = semaphore.try_acquire().unwrap();
    let task = rt.spawn(async move {
        yield_now().await;
        drop(permit);
    });
    rt.block_on(task).unwrap();
    assert_eq!(semaphore.available_permits(), 1);
}
