//! Specifies what dropping a `Runtime` does: every remaining task future,
//! callback and timer is dropped exactly once (even when their destructors
//! spawn, wake or schedule more), and handles, join handles and wakers that
//! outlive the runtime stay harmless and resolve instead of hanging.

use std::cell::{Cell, RefCell};
use std::future::{pending, poll_fn};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Poll, Waker};
use std::time::Duration;

use kettle::{Handle, Runtime, RuntimeClosed};

mod common;
use common::DropGuard;

const NOW: Option<Duration> = Some(Duration::ZERO);

fn counter() -> Arc<AtomicUsize> {
    Arc::new(AtomicUsize::new(0))
}

fn count(counter: &Arc<AtomicUsize>) -> usize {
    counter.load(Ordering::SeqCst)
}

/// Holds `guard` and never finishes (a `Send` future).
async fn hold_forever(guard: DropGuard) {
    let _guard = guard;
    pending::<()>().await;
}

#[test]
fn dropping_the_runtime_drops_every_task_callback_and_timer_exactly_once() {
    let rt = Runtime::new().unwrap();
    let handle = rt.handle();
    let names = [
        "polled task",
        "sleeping task",
        "call_soon",
        "call_later",
        "unpolled task",
        "remote spawn",
        "remote call",
    ];
    let counters: Vec<_> = names.iter().map(|_| counter()).collect();
    let guard = |i: usize| DropGuard(counters[i].clone());

    let _polled = rt.spawn(hold_forever(guard(0)));
    let _sleeping = rt.spawn({
        let guard = guard(1);
        async move {
            let _guard = guard;
            kettle::sleep(Duration::from_secs(3600)).await;
        }
    });
    let _scheduler = rt.spawn({
        let (soon, later) = (guard(2), guard(3));
        async move {
            kettle::call_soon(move || drop(soon));
            let _timer = kettle::call_later(Duration::from_secs(3600), move || drop(later));
        }
    });
    rt.turn(NOW);
    let metrics = rt.metrics();
    assert_eq!((metrics.timers_pending, metrics.callbacks_pending), (2, 1));

    let _unpolled = rt.spawn(hold_forever(guard(4)));
    let _remote = handle.spawn(hold_forever(guard(5)));
    handle
        .call_soon({
            let guard = guard(6);
            move || drop(guard)
        })
        .unwrap();
    assert!(counters.iter().all(|c| count(c) == 0), "nothing dropped or run yet");

    drop(rt);
    for (name, c) in names.iter().zip(&counters) {
        assert_eq!(count(c), 1, "{name} dropped exactly once");
    }
    assert!(handle.is_closed());
}

/// On drop, spawns a task holding the next link of the chain (until `depth`
/// runs out), and schedules a callback holding a guard.
struct SpawnOnDrop {
    depth: usize,
    links: Arc<AtomicUsize>,
    callbacks: Arc<AtomicUsize>,
}

impl Drop for SpawnOnDrop {
    fn drop(&mut self) {
        self.links.fetch_add(1, Ordering::SeqCst);
        let guard = DropGuard(self.callbacks.clone());
        kettle::call_soon(move || drop(guard));
        if self.depth > 0 {
            let next = SpawnOnDrop {
                depth: self.depth - 1,
                links: self.links.clone(),
                callbacks: self.callbacks.clone(),
            };
            drop(kettle::spawn(async move {
                let _next = next;
                pending::<()>().await;
            }));
        }
    }
}

#[test]
fn destructors_that_spawn_during_runtime_drop_have_their_spawns_dropped_too() {
    let (links, callbacks) = (counter(), counter());
    let rt = Runtime::new().unwrap();
    let chain = SpawnOnDrop { depth: 3, links: links.clone(), callbacks: callbacks.clone() };
    let _task = rt.spawn(async move {
        let _chain = chain;
        pending::<()>().await;
    });
    rt.turn(NOW);
    drop(rt);
    assert_eq!(count(&links), 4, "the task's link and the three it spawned, each dropped once");
    assert_eq!(count(&callbacks), 4, "each scheduled callback dropped once");
}

/// Wakes a waker when dropped.
struct WakeOnDrop {
    waker: Rc<RefCell<Option<Waker>>>,
    _guard: DropGuard,
}

impl Drop for WakeOnDrop {
    fn drop(&mut self) {
        if let Some(waker) = self.waker.borrow_mut().take() {
            waker.wake();
        }
    }
}

#[test]
fn destructors_that_wake_tasks_during_runtime_drop_poll_nothing() {
    let rt = Runtime::new().unwrap();
    let slots: [Rc<RefCell<Option<Waker>>>; 2] = Default::default();
    let polls = Rc::new(Cell::new(0));
    let (waker_drops, sleeper_drops) = (counter(), counter());
    let wake_on_drop = |slot: &Rc<RefCell<Option<Waker>>>| {
        let wake = WakeOnDrop { waker: slot.clone(), _guard: DropGuard(waker_drops.clone()) };
        async move {
            let _wake = wake;
            pending::<()>().await;
        }
    };
    // One waker-holder on each side of the sleeper, so that whichever order
    // the runtime drops them in, the sleeper is woken both while it is still
    // alive and after it is gone.
    let _before = rt.spawn(wake_on_drop(&slots[0]));
    let _sleeper = rt.spawn({
        let (slots, polls, guard) = (slots.clone(), polls.clone(), DropGuard(sleeper_drops.clone()));
        poll_fn(move |cx| {
            let _ = &guard;
            polls.set(polls.get() + 1);
            for slot in &slots {
                *slot.borrow_mut() = Some(cx.waker().clone());
            }
            Poll::<()>::Pending
        })
    });
    let _after = rt.spawn(wake_on_drop(&slots[1]));
    rt.turn(NOW);
    assert_eq!(polls.get(), 1);
    drop(rt);
    assert_eq!(polls.get(), 1, "no task is polled during the drop");
    assert_eq!(count(&waker_drops), 2);
    assert_eq!(count(&sleeper_drops), 1);
    assert!(slots.iter().all(|slot| slot.borrow().is_none()), "both wakes happened");
}

#[test]
fn join_handles_outliving_the_runtime_resolve() {
    let rt = Runtime::new().unwrap();
    let handle = rt.handle();
    let running = rt.spawn(pending::<()>());
    let finished = rt.spawn(async { String::from("kept") });
    rt.turn(NOW);
    let unpolled = rt.spawn(async { 1 });
    let remote = handle.spawn(async { 2 });
    drop(rt);

    assert!(running.is_finished() && unpolled.is_finished() && remote.is_finished());
    let other = Runtime::new().unwrap();
    assert!(other.block_on(running).unwrap_err().is_cancelled());
    assert!(other.block_on(unpolled).unwrap_err().is_cancelled());
    assert_eq!(other.block_on(finished).unwrap(), "kept", "finished before the drop");
    let waited = std::thread::spawn(move || remote.wait()).join().unwrap();
    assert!(waited.unwrap_err().is_cancelled());
}

#[test]
fn handles_outliving_the_runtime_refuse_work_without_hanging() {
    let rt = Runtime::new().unwrap();
    let handle = rt.handle();
    assert!(!handle.is_closed());
    drop(rt);
    assert!(handle.is_closed());

    let drops = counter();
    let task = handle.spawn(hold_forever(DropGuard(drops.clone())));
    assert!(task.is_finished());
    assert_eq!(count(&drops), 1, "the future was dropped at once");
    assert!(task.wait().unwrap_err().is_cancelled());

    let call_drops = counter();
    let guard = DropGuard(call_drops.clone());
    assert_eq!(handle.call_soon(move || drop(guard)), Err(RuntimeClosed));
    assert_eq!(count(&call_drops), 1);
    handle.stop(); // does nothing, and does not panic
}

#[test]
fn wakers_outliving_the_runtime_are_harmless_here_and_on_other_threads() {
    let rt = Runtime::new().unwrap();
    let slot: Rc<RefCell<Option<Waker>>> = Rc::default();
    let _task = rt.spawn({
        let slot = slot.clone();
        poll_fn(move |cx| {
            *slot.borrow_mut() = Some(cx.waker().clone());
            Poll::<()>::Pending
        })
    });
    rt.turn(NOW);
    let task_waker = slot.borrow_mut().take().unwrap();
    // `block_on`'s own future has a waker too.
    let main_waker = rt.block_on(poll_fn(|cx| Poll::Ready(cx.waker().clone())));
    drop(rt);

    for waker in [task_waker, main_waker] {
        waker.wake_by_ref();
        let clone = waker.clone();
        clone.wake();
        let remote = waker.clone();
        std::thread::spawn(move || {
            remote.wake_by_ref();
            let clone = remote.clone();
            clone.wake();
            drop(remote);
        })
        .join()
        .unwrap();
        waker.wake();
    }
}

#[test]
fn timers_outliving_the_runtime_are_inert() {
    let rt = Runtime::new().unwrap();
    let fired = Rc::new(Cell::new(false));
    let (timer, sleep) = rt.block_on({
        let fired = fired.clone();
        async move {
            let timer = kettle::call_later(Duration::from_secs(3600), move || fired.set(true));
            let mut sleep = Box::pin(kettle::sleep(Duration::from_secs(3600)));
            // Register the sleep's timer with one poll.
            assert!(poll_fn(|cx| Poll::Ready(sleep.as_mut().poll(cx))).await.is_pending());
            (timer, sleep)
        }
    });
    assert_eq!(rt.metrics().timers_pending, 2);
    drop(rt);
    assert!(!timer.is_pending());
    assert!(!timer.cancel(), "nothing left to cancel");
    drop(sleep);
    assert!(!fired.get());
}

#[test]
fn dropping_a_runtime_inside_another_restores_the_outer_one() {
    let outer = Runtime::new().unwrap();
    let outer_id = format!("{:?}", outer.handle());
    let (links, callbacks) = (counter(), counter());
    let out = outer.block_on(async {
        let inner = Runtime::new().unwrap();
        let chain = SpawnOnDrop { depth: 1, links: links.clone(), callbacks: callbacks.clone() };
        let _task = inner.spawn(async move {
            let _chain = chain;
            pending::<()>().await;
        });
        drop(inner); // its destructors spawn into `inner`, not into `outer`
        assert_eq!(format!("{:?}", Handle::current()), outer_id);
        kettle::spawn(async { 5 }).await.unwrap()
    });
    assert_eq!(out, 5);
    assert_eq!((count(&links), count(&callbacks)), (2, 2));
    assert_eq!(outer.metrics().tasks_alive, 0, "nothing leaked into the outer runtime");
    assert_eq!(outer.metrics().tasks_spawned, 1);
}

/// The loop's thread-local run queue is restored with the outer runtime too:
/// a wake of an outer task on the loop thread is still a plain push, not a
/// trip through the injector (which would work, one turn later and with a
/// lock — so only the turn's counts can tell).
#[test]
fn after_a_runtime_is_dropped_inside_another_the_outer_loops_wakes_stay_local() {
    let outer = Runtime::new().unwrap();
    let parked: Rc<RefCell<Option<Waker>>> = Rc::default();
    let woken = Rc::new(Cell::new(false));
    let (p, w) = (parked.clone(), woken.clone());
    let task = outer.spawn(poll_fn(move |cx| {
        if w.get() {
            return Poll::Ready(());
        }
        *p.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    }));
    let zero = Some(Duration::ZERO);
    assert_eq!(outer.turn(zero).tasks_run, 1, "the task parks");
    outer.block_on(async {
        let inner = Runtime::new().unwrap();
        let _inner_task = inner.spawn(pending::<()>());
        drop(inner);
        woken.set(true);
        parked.borrow_mut().take().expect("parked").wake();
    });
    let turn = outer.turn(zero);
    assert_eq!((turn.injected, turn.tasks_run), (0, 1), "{turn:?}");
    assert!(task.is_finished());
}

/// Counts its drop, then panics: a capture whose destructor fails.
struct PanicsOnDrop(Arc<AtomicUsize>);

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
        panic!("a capture panicked while being dropped");
    }
}

/// A runtime left holding five user values whose destructors panic, one in
/// each kind of queue: a `call_soon` callback, a `call_later` timer, a
/// remote `Handle::call_soon` request not yet taken, a done-callback batch
/// queued to run, and a timer holding a foreign waker.
fn runtime_holding_panicking_captures(drops: &Arc<AtomicUsize>) -> Runtime {
    struct PanickyWaker(#[allow(dead_code)] PanicsOnDrop);
    impl std::task::Wake for PanickyWaker {
        fn wake(self: Arc<Self>) {}
    }
    let rt = Runtime::new().unwrap();
    let bomb = || PanicsOnDrop(drops.clone());
    let (soon, later, remote, done, waker) = (bomb(), bomb(), bomb(), bomb(), bomb());
    rt.block_on(async move {
        kettle::call_soon(move || drop(soon));
        let _timer = kettle::call_later(Duration::from_secs(3600), move || drop(later));
        let task = kettle::spawn(async {});
        kettle::yield_now().await; // the task finishes
        task.add_done_callback(move |_| drop(done)); // a batch, queued now
        let waker = Waker::from(Arc::new(PanickyWaker(waker)));
        let mut sleep = Box::pin(kettle::sleep(Duration::from_secs(3600)));
        let _ = std::future::Future::poll(sleep.as_mut(), &mut std::task::Context::from_waker(&waker));
        std::mem::forget(sleep); // the timer keeps the last reference to the waker
    });
    let handle = rt.handle();
    std::thread::spawn(move || handle.call_soon(move || drop(remote)).unwrap()).join().unwrap();
    rt
}

#[test]
fn dropping_a_runtime_whose_pending_callbacks_panic_on_drop_does_not_panic() {
    let drops = counter();
    let rt = runtime_holding_panicking_captures(&drops);
    let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(rt)));
    assert!(dropped.is_ok(), "drop(runtime) panicked");
    assert_eq!(count(&drops), 5, "each capture was dropped, once");
}

#[test]
fn dropping_such_a_runtime_while_the_thread_is_unwinding_does_not_abort() {
    // An abort would end the whole test process: that is the failure mode.
    let drops = counter();
    let captured = drops.clone();
    let outcome = std::thread::spawn(move || {
        let _rt = runtime_holding_panicking_captures(&captured);
        panic!("the thread's own panic");
    })
    .join();
    let payload = outcome.expect_err("the thread panicked on purpose");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"the thread's own panic"));
    assert_eq!(count(&drops), 5);
}
