//! Specifies how panics are contained: a panicking task (or a panicking
//! destructor of a task's future) becomes a panic `JoinError` and the loop goes
//! on; a panic in `block_on`'s own future propagates out of `block_on`.

use std::cell::{Cell, RefCell};
use std::future::pending;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use kettle::{Handle, Runtime, yield_now};

const NOW: Option<Duration> = Some(Duration::ZERO);

/// Panics when dropped.
struct PanicOnDrop(&'static str);

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("{}", self.0);
    }
}

#[test]
fn panicking_task_does_not_stop_the_loop() {
    let log = Rc::new(RefCell::new(Vec::new()));
    kettle::run({
        let log = log.clone();
        async move {
            let bad = kettle::spawn(async { panic!("boom") });
            let good = kettle::spawn({
                let log = log.clone();
                async move {
                    for i in 0..3 {
                        log.borrow_mut().push(i);
                        yield_now().await;
                    }
                    "survived"
                }
            });
            assert_eq!(good.await.unwrap(), "survived");
            assert!(bad.await.unwrap_err().is_panic());
        }
    });
    assert_eq!(*log.borrow(), [0, 1, 2]);
}

#[test]
fn panic_payload_of_a_str_panic_downcasts_to_the_message() {
    let err = kettle::run(async { kettle::spawn(async { panic!("static message") }).await.unwrap_err() });
    assert!(err.is_panic());
    assert!(!err.is_cancelled());
    let payload = err.into_panic();
    assert_eq!(*payload.downcast_ref::<&str>().expect("a &str payload"), "static message");
}

#[test]
fn panic_payload_of_a_formatted_panic_downcasts_to_a_string() {
    let err = kettle::run(async {
        let n = 42;
        kettle::spawn(async move {
            yield_now().await;
            panic!("formatted {n}")
        })
        .await
        .unwrap_err()
    });
    let payload = err.into_panic();
    assert_eq!(payload.downcast_ref::<String>().expect("a String payload"), "formatted 42");
}

#[test]
fn panic_payload_can_be_resumed() {
    let err = kettle::run(async { kettle::spawn(async { panic!("resume me") }).await.unwrap_err() });
    let caught = catch_unwind(AssertUnwindSafe(|| std::panic::resume_unwind(err.into_panic())));
    assert_eq!(*caught.unwrap_err().downcast_ref::<&str>().unwrap(), "resume me");
}

#[test]
#[should_panic(expected = "into_panic called on a cancelled task's error")]
fn into_panic_on_a_cancelled_error_panics() {
    let err = kettle::run(async {
        let task = kettle::spawn(pending::<()>());
        task.cancel();
        task.await.unwrap_err()
    });
    assert!(err.is_cancelled());
    let _ = err.into_panic();
}

#[test]
fn try_into_panic_on_a_cancelled_error_gives_the_error_back() {
    let err = kettle::run(async {
        let task = kettle::spawn(pending::<()>());
        task.cancel();
        task.await.unwrap_err()
    });
    let back = err.try_into_panic().unwrap_err();
    assert!(back.is_cancelled());
}

#[test]
fn join_error_display_mentions_the_panic_message() {
    let err = kettle::run(async { kettle::spawn(async { panic!("disk on fire") }).await.unwrap_err() });
    let shown = err.to_string();
    assert!(shown.contains("panicked"), "{shown}");
    assert!(shown.contains("disk on fire"), "{shown}");
    assert!(format!("{err:?}").contains("disk on fire"));
}

#[test]
fn join_error_display_says_cancelled_for_a_cancelled_task() {
    let err = kettle::run(async {
        let task = kettle::spawn(pending::<()>());
        task.cancel();
        task.await.unwrap_err()
    });
    assert!(err.to_string().contains("cancelled"), "{err}");
}

#[test]
fn panic_in_block_on_future_propagates_and_the_runtime_stays_usable() {
    let rt = Runtime::new().unwrap();
    let survivor = rt.spawn(async {
        yield_now().await;
        yield_now().await;
        "still here"
    });
    let caught = catch_unwind(AssertUnwindSafe(|| {
        rt.block_on(async {
            yield_now().await;
            panic!("main future failed")
        })
    }));
    let payload = caught.expect_err("the panic came out of block_on");
    assert_eq!(*payload.downcast_ref::<&str>().unwrap(), "main future failed");
    assert!(Handle::try_current().is_none(), "the runtime is no longer entered");

    // Same runtime: the earlier task goes on, new tasks run.
    assert_eq!(rt.block_on(survivor).unwrap(), "still here");
    assert_eq!(rt.block_on(async { kettle::spawn(async { 3 }).await.unwrap() }), 3);
    assert_eq!(rt.metrics().tasks_alive, 0);
}

#[test]
fn panic_in_a_futures_destructor_during_cancel_is_a_panic_error() {
    let rt = Runtime::new().unwrap();
    let victim = rt.spawn(async {
        let _bomb = PanicOnDrop("destructor exploded");
        pending::<()>().await;
    });
    let counter = Rc::new(Cell::new(0));
    let bystander = rt.spawn({
        let counter = counter.clone();
        async move {
            loop {
                counter.set(counter.get() + 1);
                yield_now().await;
            }
        }
    });
    rt.turn(NOW);
    victim.cancel();
    rt.turn(NOW);
    rt.turn(NOW);
    assert_eq!(counter.get(), 3, "the bystander kept running every turn");
    assert_eq!(rt.metrics().tasks_alive, 1, "only the bystander is left");

    let err = rt.block_on(victim).unwrap_err();
    assert!(err.is_panic(), "{err:?}");
    assert!(err.to_string().contains("destructor exploded"), "{err}");
    bystander.cancel();
    assert!(rt.block_on(bystander).unwrap_err().is_cancelled());
}

#[test]
fn panic_in_a_finished_futures_destructor_replaces_its_output() {
    let rt = Runtime::new().unwrap();
    let task = rt.spawn(async {
        let _bomb = PanicOnDrop("dropped badly");
        yield_now().await;
        5
    });
    let err = rt.block_on(task).unwrap_err();
    assert!(err.is_panic());
    assert!(err.to_string().contains("dropped badly"), "{err}");
    assert_eq!(rt.metrics().tasks_alive, 0);
}

#[test]
fn panicking_callback_does_not_stop_the_loop() {
    let rt = Runtime::new().unwrap();
    let ran = Rc::new(Cell::new(false));
    let out = rt.block_on({
        let ran = ran.clone();
        async move {
            kettle::call_soon(|| panic!("callback failed"));
            kettle::call_soon(move || ran.set(true));
            yield_now().await;
            yield_now().await;
            kettle::spawn(async { 1 }).await.unwrap()
        }
    });
    assert_eq!(out, 1);
    assert!(ran.get(), "the next callback still ran");
    assert_eq!(rt.metrics().callbacks_pending, 0);
}

/// Panics when dropped, after counting the drop: a payload that panics again.
struct PayloadThatPanics(Arc<AtomicUsize>);

impl Drop for PayloadThatPanics {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
        panic!("the payload panicked while being dropped");
    }
}

#[test]
fn a_callback_whose_panic_payload_panics_on_drop_does_not_escape_block_on() {
    let rt = Runtime::new().unwrap();
    let drops = Arc::new(AtomicUsize::new(0));
    let payload = PayloadThatPanics(drops.clone());
    let out = catch_unwind(AssertUnwindSafe(|| {
        rt.block_on(async move {
            kettle::call_soon(move || std::panic::panic_any(payload));
            yield_now().await;
            yield_now().await;
            "the loop went on"
        })
    }));
    assert_eq!(out.expect("nothing escaped block_on"), "the loop went on");
    assert_eq!(drops.load(Ordering::SeqCst), 1, "the payload was dropped once, inside the guard");
}

#[test]
fn a_done_callback_panicking_with_such_a_payload_does_not_skip_the_rest_of_its_batch() {
    let rt = Runtime::new().unwrap();
    let drops = Arc::new(AtomicUsize::new(0));
    let later_ran = Rc::new(Cell::new(false));
    let payload = PayloadThatPanics(drops.clone());
    let ran = later_ran.clone();
    let out = catch_unwind(AssertUnwindSafe(|| {
        rt.block_on(async move {
            let task = kettle::spawn(async { 5 });
            task.add_done_callback(move |_| std::panic::panic_any(payload));
            task.add_done_callback(move |_| ran.set(true));
            task.await.unwrap()
        })
    }));
    assert_eq!(out.expect("nothing escaped block_on"), 5);
    assert!(later_ran.get(), "the callback after the panicking one still ran");
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn many_panicking_tasks_leave_nothing_behind() {
    let rt = Runtime::new().unwrap();
    let panics = rt.block_on(async {
        let tasks: Vec<_> = (0..50)
            .map(|i| {
                kettle::spawn(async move {
                    if i % 2 == 0 {
                        panic!("task {i}");
                    }
                    i
                })
            })
            .collect();
        let mut panics = 0;
        for task in tasks {
            if task.await.is_err() {
                panics += 1;
            }
        }
        panics
    });
    assert_eq!(panics, 25);
    assert_eq!(rt.metrics().tasks_alive, 0);
}
