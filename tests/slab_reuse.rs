//! Specifies that task slots are reused safely: a stale waker of a finished or
//! cancelled task — woken on the loop thread or another thread, once or many
//! times — never wakes the task that now occupies its slot.

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::time::Duration;

use kettle::{JoinHandle, Runtime};

const NOW: Option<Duration> = Some(Duration::ZERO);

type WakerSlot = Rc<RefCell<Option<Waker>>>;

/// A task that stores its waker on its first poll, then finishes on that poll
/// if `finish`, else stays pending forever.
fn waker_stealer(slot: &WakerSlot, finish: bool) -> impl Future<Output = ()> + 'static {
    let slot = slot.clone();
    poll_fn(move |cx| {
        *slot.borrow_mut() = Some(cx.waker().clone());
        if finish { Poll::Ready(()) } else { Poll::Pending }
    })
}

/// A task that counts its polls and stays pending forever.
fn poll_counter(polls: &Rc<Cell<usize>>) -> impl Future<Output = ()> + 'static {
    let polls = polls.clone();
    poll_fn(move |_| {
        polls.set(polls.get() + 1);
        Poll::Pending
    })
}

/// Runs a task that leaves a stale waker behind (finished, or cancelled after
/// its first poll), then spawns the task that reuses its slot. Returns the
/// stale waker, the new task's poll counter and its handle.
fn stale_waker_and_successor(rt: &Runtime, cancel: bool) -> (Waker, Rc<Cell<usize>>, JoinHandle<()>) {
    let slot = WakerSlot::default();
    let first = rt.spawn(waker_stealer(&slot, !cancel));
    rt.turn(NOW);
    if cancel {
        first.cancel();
        rt.turn(NOW);
    }
    assert!(first.is_finished());
    assert_eq!(rt.metrics().tasks_alive, 0, "the first task left its slot");
    drop(first);

    let polls = Rc::new(Cell::new(0));
    let successor = rt.spawn(poll_counter(&polls));
    assert_eq!(rt.metrics().tasks_alive, 1);
    rt.turn(NOW);
    assert_eq!(polls.get(), 1);
    let stale = slot.borrow_mut().take().expect("the first task stored its waker");
    (stale, polls, successor)
}

#[test]
fn stale_waker_of_a_finished_task_does_not_wake_its_slots_new_owner() {
    let rt = Runtime::new().unwrap();
    let (stale, polls, _successor) = stale_waker_and_successor(&rt, false);
    // Between runs a wake goes through the injector, even a stale one; the
    // loop drains it and finds the old task finished.
    stale.wake_by_ref();
    let turn = rt.turn(NOW);
    assert_eq!((turn.injected, turn.tasks_run), (1, 0), "drained, and nothing ran");
    stale.wake();
    assert_eq!(rt.turn(NOW).tasks_run, 0);
    assert_eq!(polls.get(), 1, "the new task was not polled by someone else's waker");
}

#[test]
fn stale_waker_of_a_cancelled_task_does_not_wake_its_slots_new_owner() {
    let rt = Runtime::new().unwrap();
    let (stale, polls, _successor) = stale_waker_and_successor(&rt, true);
    stale.wake_by_ref();
    let clone = stale.clone();
    clone.wake();
    assert_eq!(rt.turn(NOW).tasks_run, 0);
    stale.wake();
    assert_eq!(rt.turn(NOW).tasks_run, 0);
    assert_eq!(polls.get(), 1);
}

#[test]
fn stale_waker_woken_on_another_thread_is_harmless() {
    let rt = Runtime::new().unwrap();
    let (stale, polls, _successor) = stale_waker_and_successor(&rt, false);
    let clone = stale.clone();
    std::thread::spawn(move || {
        clone.wake_by_ref();
        clone.wake();
        stale.wake();
    })
    .join()
    .unwrap();
    let turn = rt.turn(Some(Duration::from_millis(100)));
    assert_eq!(turn.injected, 1, "the wakes went through the injector, coalesced into one");
    assert_eq!(turn.tasks_run, 0, "the finished task is not run");
    assert_eq!(rt.turn(NOW).tasks_run, 0);
    assert_eq!(polls.get(), 1);
}

#[test]
fn stale_waker_of_a_cancelled_task_woken_on_another_thread_is_harmless() {
    let rt = Runtime::new().unwrap();
    let (stale, polls, _successor) = stale_waker_and_successor(&rt, true);
    std::thread::spawn(move || stale.wake()).join().unwrap();
    let turn = rt.turn(Some(Duration::from_millis(100)));
    assert_eq!(turn.injected, 1);
    assert_eq!(turn.tasks_run, 0);
    assert_eq!(polls.get(), 1);
}

#[test]
fn waking_a_finished_task_many_times_is_harmless() {
    let rt = Runtime::new().unwrap();
    let (stale, polls, _successor) = stale_waker_and_successor(&rt, false);
    for _ in 0..10_000 {
        stale.wake_by_ref();
    }
    let remote = stale.clone();
    std::thread::spawn(move || {
        for _ in 0..10_000 {
            remote.wake_by_ref();
        }
    })
    .join()
    .unwrap();
    for _ in 0..3 {
        assert_eq!(rt.turn(NOW).tasks_run, 0);
    }
    assert_eq!(polls.get(), 1);
    let metrics = rt.metrics();
    assert_eq!(metrics.tasks_alive, 1, "only the successor");
    assert_eq!(metrics.polls, 2, "the first task's one poll and the successor's");
}

#[test]
fn every_reused_slot_ignores_all_earlier_wakers() {
    let rt = Runtime::new().unwrap();
    let mut stale = Vec::new();
    // Ten generations through the same few slots, alternately finished and
    // cancelled, each leaving its waker behind.
    for generation in 0..10 {
        let slot = WakerSlot::default();
        let finish = generation % 2 == 0;
        let task = rt.spawn(waker_stealer(&slot, finish));
        rt.turn(NOW);
        if !finish {
            task.cancel();
            rt.turn(NOW);
        }
        assert!(task.is_finished());
        stale.push(slot.borrow_mut().take().unwrap());
    }
    let polls = Rc::new(Cell::new(0));
    let _live: Vec<_> = (0..3).map(|_| rt.spawn(poll_counter(&polls))).collect();
    rt.turn(NOW);
    assert_eq!(polls.get(), 3);
    for waker in &stale {
        waker.wake_by_ref();
    }
    assert_eq!(rt.turn(NOW).tasks_run, 0);
    assert_eq!(polls.get(), 3);
}

#[test]
fn live_waker_still_wakes_its_own_task_after_slots_are_reused() {
    let rt = Runtime::new().unwrap();
    let (stale, _polls, _successor) = stale_waker_and_successor(&rt, false);
    // A fresh task in yet another slot, whose waker is live.
    let slot = WakerSlot::default();
    let _live = rt.spawn(waker_stealer(&slot, false));
    rt.turn(NOW);
    let live = slot.borrow_mut().take().unwrap();
    stale.wake();
    live.wake_by_ref();
    assert_eq!(rt.turn(NOW).tasks_run, 1, "only the live waker's task runs");
    assert_eq!(rt.metrics().polls, 4, "first, successor, live twice");
    assert_eq!(rt.metrics().tasks_alive, 2, "the successor and the live task");
}
