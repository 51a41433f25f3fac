//! Specifies loop callbacks — `call_soon`, `call_later`, `call_at`, `TimerHandle` and
//! `Handle::call_soon`: where, when and in which order they run, and how cancellation frees them.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use kettle::{Handle, Runtime, RuntimeClosed, TimerHandle, call_at, call_later, call_soon, sleep};

mod common;
use common::DropGuard;

/// Stops the loop after 3 s, so a broken runtime fails the test instead of hanging it.
fn watchdog(handle: &Handle) {
    let handle = handle.clone();
    thread::spawn(move || {
        thread::sleep(Duration::from_secs(3));
        handle.stop();
    });
}

type Log<T> = Rc<RefCell<Vec<T>>>;

fn log<T>() -> Log<T> {
    Rc::new(RefCell::new(Vec::new()))
}

#[test]
fn callbacks_run_on_the_loop_thread() {
    let loop_thread = thread::current().id();
    let seen = log();
    kettle::run(async {
        let (a, b, c) = (seen.clone(), seen.clone(), seen.clone());
        call_soon(move || a.borrow_mut().push(thread::current().id()));
        call_later(Duration::from_millis(1), move || b.borrow_mut().push(thread::current().id()));
        call_at(Instant::now(), move || c.borrow_mut().push(thread::current().id()));
        sleep(Duration::from_millis(10)).await;
    });
    assert_eq!(*seen.borrow(), vec![loop_thread; 3]);
}

#[test]
fn call_soon_never_runs_the_callback_inside_the_scheduling_call() {
    let observed = log();
    kettle::run(async {
        let returned = Rc::new(Cell::new(false));
        let (flag, out) = (returned.clone(), observed.clone());
        call_soon(move || out.borrow_mut().push(flag.get()));
        returned.set(true);
        kettle::yield_now().await;
    });
    assert_eq!(*observed.borrow(), vec![true], "the callback ran after call_soon returned");
}

#[test]
fn timed_callbacks_run_in_deadline_order() {
    let order = log();
    kettle::run(async {
        let base = Instant::now();
        for ms in [30u64, 10, 20, 0, 25] {
            let order = order.clone();
            call_at(base + Duration::from_millis(ms), move || order.borrow_mut().push(ms));
        }
        sleep(Duration::from_millis(40)).await;
    });
    assert_eq!(*order.borrow(), vec![0, 10, 20, 25, 30]);
}

#[test]
fn callbacks_with_equal_deadlines_run_first_in_first_out() {
    let order = log();
    kettle::run(async {
        let when = Instant::now() + Duration::from_millis(5);
        for i in 0..5 {
            let order = order.clone();
            call_at(when, move || order.borrow_mut().push(i));
        }
        sleep(Duration::from_millis(15)).await;
    });
    assert_eq!(*order.borrow(), vec![0, 1, 2, 3, 4]);
}

#[test]
fn call_later_never_runs_early() {
    let ran_at = Rc::new(Cell::new(None));
    let start = Instant::now();
    kettle::run(async {
        let out = ran_at.clone();
        let handle = call_later(Duration::from_millis(20), move || out.set(Some(Instant::now())));
        assert!(handle.when() >= start + Duration::from_millis(20));
        sleep(Duration::from_millis(40)).await;
    });
    let ran_at = ran_at.get().expect("the callback ran");
    assert!(ran_at - start >= Duration::from_millis(20));
    assert!(ran_at - start < Duration::from_millis(500));
}

#[test]
fn dropping_a_timer_handle_does_not_cancel_the_callback() {
    let ran = Rc::new(Cell::new(false));
    kettle::run(async {
        let flag = ran.clone();
        drop(call_later(Duration::from_millis(5), move || flag.set(true)));
        sleep(Duration::from_millis(20)).await;
    });
    assert!(ran.get());
}

#[test]
fn cancel_prevents_the_run_and_drops_the_closure_at_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let ran = Rc::new(Cell::new(false));
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let (guard, flag) = (DropGuard(drops.clone()), ran.clone());
        let handle = call_later(Duration::from_millis(5), move || {
            let _guard = guard;
            flag.set(true);
        });
        assert!(handle.is_pending());
        assert_eq!(rt.metrics().timers_pending, 1);
        assert!(handle.cancel(), "cancelling a pending callback reports true");
        assert_eq!(drops.load(Ordering::SeqCst), 1, "the closure is dropped by cancel itself");
        assert!(!handle.is_pending());
        assert_eq!(rt.metrics().timers_pending, 0);
        assert!(!handle.cancel(), "a second cancel finds nothing");
        sleep(Duration::from_millis(15)).await;
    });
    assert!(!ran.get());
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn cancel_contains_a_panic_from_dropping_the_callback() {
    struct PanicsOnDrop;
    impl Drop for PanicsOnDrop {
        fn drop(&mut self) {
            panic!("capture boom");
        }
    }
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let bomb = PanicsOnDrop;
        let handle = call_later(Duration::from_secs(60), move || drop(bomb));
        assert!(handle.cancel(), "the callback was pending, and is gone");
        assert!(!handle.is_pending());
        assert_eq!(rt.metrics().timers_pending, 0);
    });
}

#[test]
fn cancel_after_the_callback_ran_returns_false() {
    let ran = Rc::new(Cell::new(0));
    kettle::run(async {
        let flag = ran.clone();
        let when = Instant::now() + Duration::from_millis(2);
        let handle = call_at(when, move || flag.set(flag.get() + 1));
        assert_eq!(handle.when(), when);
        sleep(Duration::from_millis(10)).await;
        assert_eq!(ran.get(), 1);
        assert!(!handle.is_pending());
        assert!(!handle.cancel());
        assert_eq!(handle.when(), when, "when() still reports the schedule");
    });
}

#[test]
fn cancelling_a_callback_already_due_this_turn_returns_false() {
    let log = log();
    kettle::run(async {
        let victim: Rc<RefCell<Option<TimerHandle>>> = Rc::new(RefCell::new(None));
        let past = Instant::now() - Duration::from_millis(1);
        let (first_log, first_victim) = (log.clone(), victim.clone());
        call_at(past, move || {
            let cancelled = first_victim.borrow().as_ref().unwrap().cancel();
            first_log.borrow_mut().push(format!("first: cancel -> {cancelled}"));
        });
        let second_log = log.clone();
        *victim.borrow_mut() = Some(call_at(past, move || second_log.borrow_mut().push("second".into())));
        sleep(Duration::from_millis(5)).await;
    });
    assert_eq!(*log.borrow(), vec!["first: cancel -> false".to_string(), "second".to_string()]);
}

#[test]
fn a_panicking_callback_does_not_stop_the_loop() {
    let order = log();
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let (a, b, c) = (order.clone(), order.clone(), order.clone());
        call_soon(|| panic!("callback boom"));
        call_soon(move || a.borrow_mut().push("soon after the panic"));
        call_later(Duration::from_millis(2), move || b.borrow_mut().push("later"));
        let task = kettle::spawn(async move {
            kettle::yield_now().await;
            c.borrow_mut().push("task");
        });
        task.await.unwrap();
        sleep(Duration::from_millis(10)).await;
    });
    let mut ran = order.borrow().clone();
    assert_eq!(ran[0], "soon after the panic", "the next callback in the same turn still runs");
    ran.sort_unstable();
    assert_eq!(ran, vec!["later", "soon after the panic", "task"]);
    assert_eq!(rt.metrics().callbacks_pending, 0);
}

#[test]
fn call_later_duration_max_never_runs_and_cancel_frees_it() {
    let drops = Arc::new(AtomicUsize::new(0));
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let guard = DropGuard(drops.clone());
        let handle = call_later(Duration::MAX, move || {
            drop(guard);
            panic!("a Duration::MAX callback ran");
        });
        assert!(handle.when() > Instant::now() + Duration::from_secs(60 * 60 * 24 * 365));
        sleep(Duration::from_millis(10)).await;
        assert!(handle.is_pending());
        assert_eq!(rt.metrics().timers_pending, 1);
        assert!(handle.cancel());
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        assert_eq!(rt.metrics().timers_pending, 0);
    });
}

#[test]
fn callbacks_scheduled_by_a_callback_run_on_a_later_turn() {
    let order = log();
    let rt = Runtime::new().unwrap();
    let o = order.clone();
    let _task = rt.spawn(async move {
        call_soon(move || {
            o.borrow_mut().push('a');
            call_soon(move || {
                o.borrow_mut().push('b');
                call_soon(move || o.borrow_mut().push('c'));
            });
        });
    });
    let zero = Some(Duration::ZERO);
    let turn = rt.turn(zero);
    assert_eq!((turn.tasks_run, turn.callbacks_run), (1, 0));
    assert_eq!(rt.metrics().callbacks_pending, 1);
    for (expected_log, step) in [("a", 2), ("ab", 3), ("abc", 4)] {
        let turn = rt.turn(zero);
        assert_eq!(turn.callbacks_run, 1, "turn {step} runs exactly one callback");
        assert_eq!(order.borrow().iter().collect::<String>(), expected_log);
    }
    let turn = rt.turn(zero);
    assert_eq!(turn.callbacks_run, 0);
    assert_eq!(rt.metrics().callbacks_pending, 0);
}

/// Step 5 runs the callbacks queued when it starts, then the tasks queued
/// when its task half starts: a task that one of those callbacks wakes is
/// already queued then, so it runs in the same turn. (A task woken by a
/// task, or a callback queued by a callback, waits for the next turn.)
#[test]
fn a_task_woken_by_a_callback_runs_in_the_same_turn() {
    let rt = Runtime::new().unwrap();
    let waker: Rc<RefCell<Option<std::task::Waker>>> = Rc::default();
    let w = waker.clone();
    let woken_once = Rc::new(Cell::new(false));
    let seen = woken_once.clone();
    let task = rt.spawn(std::future::poll_fn(move |cx| {
        if seen.get() {
            return std::task::Poll::Ready(());
        }
        *w.borrow_mut() = Some(cx.waker().clone());
        std::task::Poll::Pending
    }));
    let zero = Some(Duration::ZERO);
    assert_eq!(rt.turn(zero).tasks_run, 1, "the first poll parks the task");
    let w = waker.clone();
    rt.block_on(async move {
        call_soon(move || {
            woken_once.set(true);
            w.borrow_mut().take().expect("parked").wake();
        })
    });
    let turn = rt.turn(zero);
    assert_eq!((turn.callbacks_run, turn.tasks_run), (1, 1), "{turn:?}");
    assert!(task.is_finished(), "woken by the callback, it ran after it in the same step 5");
}

#[test]
fn pending_callbacks_are_dropped_unrun_with_the_runtime() {
    let drops = Arc::new(AtomicUsize::new(0));
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let (g1, g2) = (DropGuard(drops.clone()), DropGuard(drops.clone()));
        let _ = call_later(Duration::from_secs(10), move || {
            let _g = g1;
            panic!("ran");
        });
        call_soon(move || {
            let _g = g2;
            panic!("ran");
        });
    });
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    drop(rt);
    assert_eq!(drops.load(Ordering::SeqCst), 2);
}

#[test]
fn handle_call_soon_from_another_thread_runs_on_the_loop_thread() {
    let rt = Runtime::new().unwrap();
    let handle = rt.handle();
    let worker = thread::spawn(move || {
        let (tx, rx) = mpsc::channel();
        thread::sleep(Duration::from_millis(10)); // let the loop block first
        handle
            .call_soon(move || {
                let _ = tx.send(thread::current().id());
            })
            .expect("the runtime is alive");
        let ran_on = rx.recv_timeout(Duration::from_secs(2));
        handle.stop();
        ran_on.expect("the callback ran within 2 s")
    });
    rt.run_forever();
    let ran_on = worker.join().unwrap();
    assert_eq!(ran_on, thread::current().id());
}

#[test]
fn handle_call_soon_after_the_runtime_is_dropped_fails_and_drops_the_closure() {
    let rt = Runtime::new().unwrap();
    let handle = rt.handle();
    drop(rt);
    let drops = Arc::new(AtomicUsize::new(0));
    let ran = Arc::new(AtomicBool::new(false));
    let (guard, flag) = (DropGuard(drops.clone()), ran.clone());
    let result = handle.call_soon(move || {
        let _guard = guard;
        flag.store(true, Ordering::SeqCst);
    });
    assert_eq!(result, Err(RuntimeClosed));
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    assert!(!ran.load(Ordering::SeqCst));
    assert!(RuntimeClosed.to_string().contains("dropped"));
}

#[test]
fn handle_call_soon_callbacks_can_use_the_loop() {
    let rt = Runtime::new().unwrap();
    let handle = rt.handle();
    let fired = Arc::new(AtomicBool::new(false));
    let flag = fired.clone();
    watchdog(&handle);
    handle
        .call_soon(move || {
            let _ = call_later(Duration::from_millis(2), move || {
                flag.store(true, Ordering::SeqCst);
                Handle::current().stop();
            });
        })
        .unwrap();
    rt.run_forever();
    assert!(fired.load(Ordering::SeqCst));
    assert_eq!(rt.metrics().timers_pending, 0);
}

#[test]
#[should_panic(expected = "kettle::call_soon called outside a kettle runtime")]
fn call_soon_outside_a_runtime_panics() {
    call_soon(|| {});
}

#[test]
#[should_panic(expected = "kettle::call_at called outside a kettle runtime")]
fn call_later_outside_a_runtime_panics() {
    let _ = call_later(Duration::from_millis(1), || {});
}

#[test]
fn a_timer_handle_outliving_its_runtime_reports_nothing_pending() {
    let rt = Runtime::new().unwrap();
    let drops = Arc::new(AtomicUsize::new(0));
    let guard = DropGuard(drops.clone());
    let handle = rt.block_on(async move {
        call_later(Duration::from_secs(10), move || {
            let _guard = guard;
        })
    });
    assert!(handle.is_pending());
    drop(rt);
    assert_eq!(drops.load(Ordering::SeqCst), 1, "the runtime dropped the callback");
    assert!(!handle.is_pending());
    assert!(!handle.cancel());
}

#[test]
fn callbacks_due_before_the_runtime_was_built_run_in_deadline_order() {
    // Issue 17: instants from before the runtime existed all tied.
    let program_start = Instant::now();
    std::thread::sleep(Duration::from_millis(15));
    let rt = Runtime::new().unwrap();
    let order = rt.block_on(async move {
        let order = Rc::new(RefCell::new(Vec::new()));
        for (name, ms) in [("10 ms", 10), ("5 ms", 5), ("0 ms", 0), ("7 ms", 7)] {
            let order = order.clone();
            call_at(program_start + Duration::from_millis(ms), move || order.borrow_mut().push(name));
        }
        sleep(Duration::from_millis(1)).await;
        order.take()
    });
    assert_eq!(order, ["0 ms", "5 ms", "7 ms", "10 ms"]);
}
