//! Specifies that task slots are reused safely: a stale waker of a finished or
//! cancelled task — woken on the loop thread or another thread, once or many
//! times — never wakes the task that now occupies its slot; and that a task
//! polled while its own spawns move the slab's slots runs on from its entry.

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

/// Counts its drops: the future's, exactly once, is what the tests below
/// check after the slab moved under a task being polled.
struct DropCount(Rc<Cell<usize>>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

/// The loop polls a task through a pointer its slab entry lends it, with no
/// borrow of the slab held: a task that spawns thousands in one poll moves
/// the slab's slots many times, and must still be polled again (from its
/// entry), finish, and be dropped once — as must every child. Under
/// memcheck (`scripts/memcheck`) a poll through a stale slot would show.
#[test]
fn a_task_whose_spawns_grow_the_slab_in_one_poll_is_polled_again_and_dropped_once() {
    const CHILDREN: usize = 3_000;
    let rt = Runtime::new().unwrap();
    let (drops, child_drops, polls) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(0)), Rc::new(Cell::new(0)));
    let (guard, child_guard, p) = (DropCount(drops.clone()), child_drops.clone(), polls.clone());
    let parent = rt.spawn(poll_fn(move |cx| {
        let _guard = &guard;
        p.set(p.get() + 1);
        if p.get() == 1 {
            for _ in 0..CHILDREN {
                let child = DropCount(child_guard.clone());
                kettle::spawn(async move { drop(child) }).detach();
            }
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        Poll::Ready(p.get())
    }));
    let first = rt.turn(NOW);
    assert_eq!((first.tasks_run, polls.get()), (1, 1), "the parent's first poll spawned the children");
    assert_eq!(rt.metrics().tasks_alive, CHILDREN + 1);
    assert_eq!(rt.block_on(parent).unwrap(), 2, "polled again from its own entry, then done");
    rt.block_on(async { kettle::yield_now().await });
    assert_eq!((drops.get(), child_drops.get()), (1, CHILDREN), "every future dropped exactly once");
    assert_eq!(rt.metrics().tasks_alive, 0, "every entry freed");
}

/// The same with the parent finishing in the poll that grew the slab, and
/// waking itself first: its entry stays (a queued key names it) until that
/// stale key is popped, then is freed once — and the key is reused.
#[test]
fn a_task_that_grows_the_slab_and_finishes_while_queued_frees_its_entry_once() {
    let rt = Runtime::new().unwrap();
    let drops = Rc::new(Cell::new(0));
    let guard = DropCount(drops.clone());
    let parent = rt.spawn(poll_fn(move |cx| {
        let _guard = &guard;
        for _ in 0..1_000 {
            kettle::spawn(async {}).detach();
        }
        cx.waker().wake_by_ref();
        Poll::Ready(())
    }));
    rt.turn(NOW);
    assert!(parent.is_finished());
    assert_eq!(drops.get(), 1, "the finished future is dropped in its last poll");
    rt.block_on(async { kettle::yield_now().await });
    assert_eq!(rt.metrics().tasks_alive, 0, "the stale key was popped and every entry freed");
    drop(parent);
    assert_eq!(drops.get(), 1);
    let polls = Rc::new(Cell::new(0));
    let _successor = rt.spawn(poll_counter(&polls));
    rt.turn(NOW);
    assert_eq!(polls.get(), 1, "a freed key serves a new task");
}
