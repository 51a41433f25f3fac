//! Specifies `sync::Event`: `wait` completes while the event is set, `set` releases every
//! waiter even if `clear` runs before they do, and dropped waiters leave nothing behind.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use kettle::sync::Event;
use kettle::{JoinHandle, Runtime};

const NOW: Option<Duration> = Some(Duration::ZERO);

type Log = Rc<RefCell<Vec<usize>>>;

/// Spawns a task that waits for `event` and logs `id`.
fn waiter(rt: &Runtime, event: &Event, log: &Log, id: usize) -> JoinHandle<()> {
    let (event, log) = (event.clone(), log.clone());
    rt.spawn(async move {
        event.wait().await;
        log.borrow_mut().push(id);
    })
}

/// Turns the loop until a turn runs no task.
fn settle(rt: &Runtime) {
    while rt.turn(NOW).tasks_run > 0 {}
}

#[test]
fn a_new_event_is_clear_and_set_and_clear_flip_it() {
    let event = Event::new();
    assert!(!event.is_set());
    event.set();
    assert!(event.is_set());
    event.set(); // setting twice is harmless
    assert!(event.is_set());
    event.clear();
    assert!(!event.is_set());
}

#[test]
fn wait_completes_at_once_while_the_event_is_set() {
    let rt = Runtime::new().unwrap();
    let event = Event::new();
    event.set();
    rt.block_on(async {
        event.wait().await;
        event.wait().await;
    });
}

#[test]
fn set_releases_every_waiter_in_the_order_they_waited() {
    let rt = Runtime::new().unwrap();
    let event = Event::new();
    let released = Rc::new(RefCell::new(Vec::new()));
    for id in 0..3 {
        let _task = waiter(&rt, &event, &released, id);
    }
    settle(&rt);
    assert!(released.borrow().is_empty(), "they wait while the event is clear");
    event.set();
    settle(&rt);
    assert_eq!(*released.borrow(), [0, 1, 2]);
    assert_eq!(rt.metrics().tasks_alive, 0);
}

#[test]
fn set_releases_every_waiter_even_if_clear_runs_before_they_do() {
    let rt = Runtime::new().unwrap();
    let event = Event::new();
    let released = Rc::new(RefCell::new(Vec::new()));
    for id in 0..3 {
        let _task = waiter(&rt, &event, &released, id);
    }
    settle(&rt);
    event.set();
    event.clear();
    settle(&rt);
    assert_eq!(*released.borrow(), [0, 1, 2], "the set they waited for released them");

    // A waiter that starts after the clear waits for the next set.
    let _task = waiter(&rt, &event, &released, 3);
    settle(&rt);
    assert_eq!(released.borrow().len(), 3);
    event.set();
    settle(&rt);
    assert_eq!(*released.borrow(), [0, 1, 2, 3]);
    assert_eq!(rt.metrics().tasks_alive, 0);
}

#[test]
fn a_dropped_waiter_leaves_and_the_others_are_still_released() {
    let rt = Runtime::new().unwrap();
    let event = Event::new();
    let released = Rc::new(RefCell::new(Vec::new()));
    let tasks: Vec<_> = (0..3).map(|id| waiter(&rt, &event, &released, id)).collect();
    settle(&rt);
    tasks[1].cancel();
    settle(&rt);
    assert!(format!("{event:?}").contains("waiters: 2"), "the dropped waiter left: {event:?}");
    event.set();
    settle(&rt);
    assert_eq!(*released.borrow(), [0, 2]);
    assert_eq!(rt.metrics().tasks_alive, 0);
}

#[test]
fn clones_are_handles_to_the_same_event() {
    let event = Event::new();
    let other = event.clone();
    other.set();
    assert!(event.is_set());
    event.clear();
    assert!(!other.is_set());
}
