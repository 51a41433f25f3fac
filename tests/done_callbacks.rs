//! Specifies `JoinHandle::add_done_callback` (asyncio's `Task.add_done_callback`):
//! callbacks run on the loop, in registration order, after the task finishes,
//! with a borrow of its result — which the handle still yields afterwards.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use kettle::{JoinError, JoinHandle, Runtime};

mod common;
use common::DropGuard;

const NOW: Option<Duration> = Some(Duration::ZERO);

type Log = Rc<RefCell<Vec<String>>>;

fn logger(log: &Log, name: &'static str) -> impl FnOnce(&Result<u32, JoinError>) + 'static {
    let log = log.clone();
    move |result| log.borrow_mut().push(format!("{name}: {result:?}"))
}

#[test]
fn callbacks_run_in_registration_order_after_the_task_and_the_result_stays_for_the_handle() {
    let log = Log::default();
    let out = kettle::run({
        let log = log.clone();
        async move {
            let task = kettle::spawn(async { 7u32 });
            task.add_done_callback(logger(&log, "first"));
            task.add_done_callback(logger(&log, "second"));
            task.add_done_callback(logger(&log, "third"));
            task.await
        }
    });
    assert_eq!(out.unwrap(), 7);
    assert_eq!(*log.borrow(), ["first: Ok(7)", "second: Ok(7)", "third: Ok(7)"]);
}

#[test]
fn callbacks_run_on_the_turn_after_the_task_finishes() {
    let rt = Runtime::new().unwrap();
    let log = Log::default();
    let task = rt.spawn(async { 1u32 });
    rt.block_on(async { task.add_done_callback(logger(&log, "done")) });
    let finishing = rt.turn(NOW);
    assert_eq!(finishing.tasks_run, 1);
    assert!(task.is_finished());
    assert!(log.borrow().is_empty(), "not run inside the task's completion");
    let next = rt.turn(NOW);
    assert_eq!(next.callbacks_run, 1);
    assert_eq!(*log.borrow(), ["done: Ok(1)"]);
    assert_eq!(rt.block_on(task).unwrap(), 1);
}

#[test]
fn a_callback_added_to_a_finished_task_is_queued_not_run_inline() {
    let rt = Runtime::new().unwrap();
    let task = rt.spawn(async { 5u32 });
    rt.turn(NOW);
    assert!(task.is_finished());
    let ran = Rc::new(Cell::new(false));
    let flag = ran.clone();
    rt.block_on(async {
        task.add_done_callback(move |result| {
            assert_eq!(*result.as_ref().unwrap(), 5);
            flag.set(true);
        });
        assert!(!ran.get(), "add_done_callback never runs the callback itself");
    });
    assert!(!ran.get(), "still queued when block_on returns");
    assert_eq!(rt.turn(NOW).callbacks_run, 1, "it runs on the next turn");
    assert!(ran.get());
    assert_eq!(rt.block_on(task).unwrap(), 5);
}

#[test]
fn the_handle_waits_for_pending_callbacks_before_yielding_the_result() {
    let log = Log::default();
    kettle::run({
        let log = log.clone();
        async move {
            let task = kettle::spawn(async { 3u32 });
            let seen = log.clone();
            task.add_done_callback(move |_| seen.borrow_mut().push("callback".into()));
            let result = task.await.unwrap();
            log.borrow_mut().push(format!("awaited {result}"));
        }
    });
    assert_eq!(*log.borrow(), ["callback", "awaited 3"]);
}

#[test]
fn callbacks_see_cancellation_and_panics() {
    let log = Log::default();
    kettle::run({
        let log = log.clone();
        async move {
            let sleeper = kettle::spawn(async {
                kettle::sleep(Duration::from_secs(60)).await;
                0u32
            });
            sleeper.add_done_callback({
                let log = log.clone();
                move |r| {
                    log.borrow_mut()
                        .push(format!("sleeper cancelled: {}", r.as_ref().unwrap_err().is_cancelled()))
                }
            });
            let broken: JoinHandle<u32> = kettle::spawn(async { panic!("broken") });
            broken.add_done_callback({
                let log = log.clone();
                move |r| {
                    log.borrow_mut().push(format!("broken panicked: {}", r.as_ref().unwrap_err().is_panic()))
                }
            });
            sleeper.cancel();
            assert!(sleeper.await.unwrap_err().is_cancelled());
            assert!(broken.await.unwrap_err().is_panic());
        }
    });
    let mut lines = log.borrow().clone();
    lines.sort();
    assert_eq!(lines, ["broken panicked: true", "sleeper cancelled: true"]);
}

#[test]
fn callbacks_of_a_detached_task_still_run_and_its_output_is_dropped_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let seen = Rc::new(Cell::new(false));
    let rt = Runtime::new().unwrap();
    let guard = DropGuard(drops.clone());
    let task = rt.spawn(async move { guard });
    let flag = seen.clone();
    rt.block_on(async { task.add_done_callback(move |r| flag.set(r.is_ok())) });
    drop(task); // detached: nobody will take the output
    rt.turn(NOW);
    assert_eq!(drops.load(Ordering::SeqCst), 0, "held for the callback");
    rt.turn(NOW);
    assert!(seen.get(), "the callback ran with the output");
    assert_eq!(drops.load(Ordering::SeqCst), 1, "then the output was dropped, once");
    drop(rt);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn a_panicking_callback_does_not_stop_the_others_or_the_loop() {
    let log = Log::default();
    let out = kettle::run({
        let log = log.clone();
        async move {
            let task = kettle::spawn(async { 9u32 });
            task.add_done_callback(logger(&log, "before"));
            task.add_done_callback(|_| panic!("a broken callback"));
            task.add_done_callback(logger(&log, "after"));
            task.await.unwrap()
        }
    });
    assert_eq!(out, 9);
    assert_eq!(*log.borrow(), ["before: Ok(9)", "after: Ok(9)"]);
}

#[test]
fn a_handle_awaited_on_another_thread_gets_the_result_after_the_callbacks() {
    let rt = Runtime::new().unwrap();
    let order = Arc::new(std::sync::Mutex::new(Vec::new()));
    let task = rt.spawn(async { 11u32 });
    let callback_order = order.clone();
    rt.block_on(async move {
        task.add_done_callback(move |_| callback_order.lock().unwrap().push("callback"));
        let waiter_order = order.clone();
        let waiter = std::thread::spawn(move || {
            let value = kettle::Runtime::new().unwrap().block_on(task).unwrap();
            waiter_order.lock().unwrap().push("other thread got the result");
            value
        });
        // Let this loop run the task and its callback while the thread waits.
        while !waiter.is_finished() {
            kettle::sleep(Duration::from_millis(1)).await;
        }
        assert_eq!(waiter.join().unwrap(), 11);
        assert_eq!(*order.lock().unwrap(), ["callback", "other thread got the result"]);
    });
}

#[test]
fn dropping_the_runtime_drops_pending_callbacks_unrun_and_still_resolves_the_handle() {
    let drops = Arc::new(AtomicUsize::new(0));
    let ran = Rc::new(Cell::new(false));
    let rt = Runtime::new().unwrap();
    let task = rt.spawn(async {
        kettle::sleep(Duration::from_secs(60)).await;
        0u32
    });
    let (guard, flag) = (DropGuard(drops.clone()), ran.clone());
    rt.block_on(async {
        task.add_done_callback(move |_| {
            let _guard = guard;
            flag.set(true);
        })
    });
    drop(rt);
    assert!(!ran.get(), "pending callbacks are dropped, not run, with the runtime");
    assert_eq!(drops.load(Ordering::SeqCst), 1, "the callback was dropped exactly once");
    let result = Runtime::new().unwrap().block_on(task);
    assert!(result.unwrap_err().is_cancelled(), "the handle resolves instead of hanging");
}

#[test]
fn done_callbacks_chain_one_step_into_the_next() {
    // The seeds' callback chain: step1 → step2 → step3, each started by the
    // previous one's done callback.
    let log = Log::default();
    kettle::run({
        let log = log.clone();
        async move {
            let finished = kettle::sync::Event::new();
            let step1 = kettle::spawn(async { 1u32 });
            let (log1, done) = (log.clone(), finished.clone());
            step1.add_done_callback(move |r| {
                let one = *r.as_ref().unwrap();
                log1.borrow_mut().push(format!("step1 -> {one}"));
                let step2 = kettle::spawn(async move { one + 1 });
                let log2 = log1.clone();
                step2.add_done_callback(move |r| {
                    let two = *r.as_ref().unwrap();
                    log2.borrow_mut().push(format!("step2 -> {two}"));
                    let step3 = kettle::spawn(async move { two * 10 });
                    step3.add_done_callback(move |r| {
                        log2.borrow_mut().push(format!("step3 -> {}", r.as_ref().unwrap()));
                        done.set();
                    });
                });
            });
            finished.wait().await;
        }
    });
    assert_eq!(*log.borrow(), ["step1 -> 1", "step2 -> 2", "step3 -> 20"]);
}

#[test]
fn the_task_counts_as_finished_inside_its_callbacks() {
    kettle::run(async {
        let task = Rc::new(kettle::spawn(async { 2u32 }));
        let observed = Rc::new(Cell::new(false));
        let (inner, flag) = (Rc::downgrade(&task), observed.clone());
        task.add_done_callback(move |_| flag.set(inner.upgrade().unwrap().is_finished()));
        kettle::sleep(Duration::from_millis(1)).await;
        assert!(observed.get(), "is_finished() is true when a done callback runs");
    });
}

#[test]
#[should_panic(expected = "JoinHandle::add_done_callback called outside a kettle runtime")]
fn add_done_callback_outside_a_runtime_panics() {
    let rt = Runtime::new().unwrap();
    let task = rt.spawn(async { 0u32 });
    task.add_done_callback(|_| {});
}

#[test]
#[should_panic(expected = "already returned the task's output")]
fn add_done_callback_after_the_output_was_taken_panics() {
    kettle::run(async {
        let mut task = kettle::spawn(async { 0u32 });
        assert_eq!((&mut task).await.unwrap(), 0);
        task.add_done_callback(|_| {});
    });
}

#[test]
fn a_task_spawned_while_the_runtime_drops_keeps_its_done_callbacks_apart_from_the_old_tasks() {
    // Dropping the runtime empties the slab, so a task spawned by a
    // destructor meanwhile reuses an old task's slab key. Done callbacks
    // waiting for the old task must not be mistaken for the new one's (or
    // the other way round): each task's join handle resolves, and each
    // callback is dropped once, unrun.
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    struct SpawnsOnDrop(Rc<RefCell<Option<kettle::JoinHandle<()>>>>, Arc<AtomicUsize>);
    impl Drop for SpawnsOnDrop {
        fn drop(&mut self) {
            let newcomer = kettle::spawn(std::future::pending::<()>());
            let guard = common::DropGuard(self.1.clone());
            newcomer.add_done_callback(move |_| drop(guard));
            *self.0.borrow_mut() = Some(newcomer);
        }
    }
    let drops = Arc::new(AtomicUsize::new(0));
    let newcomer = Rc::new(RefCell::new(None));
    let rt = Runtime::new().unwrap();
    #[expect(clippy::async_yields_async, reason = "the old task's handle leaves block_on unawaited")]
    let old = rt.block_on(async {
        let spawner = SpawnsOnDrop(newcomer.clone(), drops.clone());
        let old = kettle::spawn(async move {
            let _spawner = spawner;
            std::future::pending::<()>().await;
        });
        let guard = common::DropGuard(drops.clone());
        old.add_done_callback(move |_| drop(guard));
        kettle::yield_now().await; // the old task is now waiting
        old
    });
    drop(rt);
    assert_eq!(drops.load(Ordering::SeqCst), 2, "each task's callback was dropped once");
    let rt = Runtime::new().unwrap();
    assert!(rt.block_on(old).unwrap_err().is_cancelled());
    let newcomer = newcomer.borrow_mut().take().expect("the destructor spawned it");
    assert!(rt.block_on(newcomer).unwrap_err().is_cancelled(), "the newcomer's handle resolves too");
}
