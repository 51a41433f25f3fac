//! Specifies `JoinHandle::cancel`: the task's future is dropped (exactly once,
//! no later than the next turn), the handle yields a cancelled `JoinError`, and
//! nothing of the task — timers, slab entries — is left behind.

use std::cell::{Cell, RefCell};
use std::future::pending;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use kettle::{JoinHandle, Runtime, yield_now};

mod common;
use common::DropCounter;

/// Counts its own drops, across threads.
struct SendDropCounter(Arc<AtomicUsize>);

impl Drop for SendDropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

const NOW: Option<Duration> = Some(Duration::ZERO);

/// A task that holds a drop counter and never finishes.
fn pending_with_guard(drops: &Rc<Cell<usize>>) -> impl Future<Output = ()> + 'static {
    let guard = DropCounter(drops.clone());
    async move {
        let _guard = guard;
        pending::<()>().await;
    }
}

#[test]
fn cancel_drops_the_future_exactly_once_by_the_next_turn() {
    let rt = Runtime::new().unwrap();
    let drops = Rc::new(Cell::new(0));
    let task = rt.spawn(pending_with_guard(&drops));
    assert_eq!(rt.turn(NOW).tasks_run, 1, "first poll");
    assert_eq!(drops.get(), 0);

    task.cancel();
    let turn = rt.turn(NOW);
    assert_eq!(turn.tasks_run, 1, "the cancelled task was run once, to drop it");
    assert_eq!(drops.get(), 1, "dropped by the next turn");
    assert!(task.is_finished());

    for _ in 0..3 {
        assert_eq!(rt.turn(NOW).tasks_run, 0);
    }
    assert_eq!(drops.get(), 1, "never dropped twice");
    assert_eq!(rt.metrics().tasks_alive, 0);
    let err = rt.block_on(task).unwrap_err();
    assert!(err.is_cancelled());
    assert!(!err.is_panic());
}

#[test]
fn awaiting_a_cancelled_task_gives_a_cancelled_error() {
    let err = kettle::run(async {
        let task = kettle::spawn(pending::<u32>());
        yield_now().await; // let it start
        task.cancel();
        task.await.unwrap_err()
    });
    assert!(err.is_cancelled());
}

#[test]
fn task_cancelled_before_its_first_poll_never_runs() {
    let rt = Runtime::new().unwrap();
    let ran = Rc::new(Cell::new(false));
    let drops = Rc::new(Cell::new(0));
    let task = rt.spawn({
        let ran = ran.clone();
        let guard = DropCounter(drops.clone());
        async move {
            let _guard = guard;
            ran.set(true);
        }
    });
    task.cancel();
    rt.turn(NOW);
    assert!(!ran.get(), "the body never ran");
    assert_eq!(drops.get(), 1, "the unpolled future was dropped");
    assert_eq!(rt.metrics().polls, 0);
    assert_eq!(rt.metrics().tasks_alive, 0);
    assert!(rt.block_on(task).unwrap_err().is_cancelled());
}

#[test]
fn task_cancelling_itself_finishes_its_poll_and_is_not_polled_again() {
    let rt = Runtime::new().unwrap();
    let own_handle: Rc<RefCell<Option<JoinHandle<()>>>> = Rc::new(RefCell::new(None));
    let log = Rc::new(RefCell::new(Vec::new()));
    let drops = Rc::new(Cell::new(0));
    let task = rt.spawn({
        let own_handle = own_handle.clone();
        let log = log.clone();
        let guard = DropCounter(drops.clone());
        async move {
            let _guard = guard;
            log.borrow_mut().push("before cancel");
            own_handle.borrow().as_ref().expect("handle stored before first poll").cancel();
            log.borrow_mut().push("after cancel, same poll");
            yield_now().await;
            log.borrow_mut().push("polled again");
        }
    });
    *own_handle.borrow_mut() = Some(task);

    for _ in 0..4 {
        rt.turn(NOW);
    }
    assert_eq!(*log.borrow(), ["before cancel", "after cancel, same poll"]);
    assert_eq!(drops.get(), 1);
    assert_eq!(rt.metrics().polls, 1);
    assert_eq!(rt.metrics().tasks_alive, 0);
    let task = own_handle.borrow_mut().take().unwrap();
    assert!(rt.block_on(task).unwrap_err().is_cancelled());
}

#[test]
fn cancelling_a_finished_task_does_nothing() {
    let rt = Runtime::new().unwrap();
    let task = rt.spawn(async { 7 });
    rt.turn(NOW);
    assert!(task.is_finished());
    task.cancel();
    task.cancel();
    let turn = rt.turn(NOW);
    assert_eq!(turn.tasks_run, 0, "nothing was scheduled");
    assert_eq!(rt.block_on(task).unwrap(), 7);
}

#[test]
fn cancelling_twice_drops_the_future_once() {
    let rt = Runtime::new().unwrap();
    let drops = Rc::new(Cell::new(0));
    let task = rt.spawn(pending_with_guard(&drops));
    rt.turn(NOW);
    task.cancel();
    task.cancel();
    rt.turn(NOW);
    task.cancel();
    rt.turn(NOW);
    assert_eq!(drops.get(), 1);
    assert!(rt.block_on(task).unwrap_err().is_cancelled());
}

#[test]
fn cancelling_a_sleeping_task_removes_its_timer() {
    let rt = Runtime::new().unwrap();
    let task = rt.spawn(async { kettle::sleep(Duration::from_secs(3600)).await });
    rt.turn(NOW);
    assert_eq!(rt.metrics().timers_pending, 1, "the sleep registered its timer");
    assert!(rt.next_timeout().unwrap() > Duration::from_secs(60));

    task.cancel();
    rt.turn(NOW);
    let metrics = rt.metrics();
    assert_eq!(metrics.timers_pending, 0, "the timer left with the task");
    assert_eq!(metrics.tasks_alive, 0);
    assert_eq!(rt.next_timeout(), None, "nothing left to wait for");
    assert!(rt.block_on(task).unwrap_err().is_cancelled());
}

#[test]
fn cancel_from_another_thread_wakes_the_loop_through_the_injector() {
    let rt = Runtime::new().unwrap();
    let drops = Arc::new(AtomicUsize::new(0));
    let task: JoinHandle<()> = rt.spawn({
        let guard = SendDropCounter(drops.clone());
        async move {
            let _guard = guard;
            pending::<()>().await;
        }
    });
    rt.turn(NOW);
    assert_eq!(rt.next_timeout(), None, "the loop would block indefinitely");

    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        task.cancel();
        task
    });
    // Blocks until the remote cancel wakes the loop (the bound is only a
    // safety net against a lost wake).
    let start = Instant::now();
    let turn = rt.turn(Some(Duration::from_secs(2)));
    assert!(start.elapsed() < Duration::from_secs(1), "woken by the cancel, not by the bound");
    assert_eq!(turn.injected, 1, "the wake came through the injector");
    assert_eq!(turn.tasks_run, 1);
    assert_eq!(drops.load(Ordering::SeqCst), 1, "dropped on the loop thread");

    let task = canceller.join().unwrap();
    assert!(rt.block_on(task).unwrap_err().is_cancelled());
    assert_eq!(rt.metrics().tasks_alive, 0);
}

#[test]
fn tasks_alive_returns_to_zero_after_cancels() {
    let rt = Runtime::new().unwrap();
    let drops = Rc::new(Cell::new(0));
    let unpolled: Vec<_> = (0..10).map(|_| rt.spawn(pending_with_guard(&drops))).collect();
    for task in &unpolled {
        task.cancel();
    }
    let polled: Vec<_> = (0..10).map(|_| rt.spawn(pending_with_guard(&drops))).collect();
    rt.turn(NOW);
    assert_eq!(rt.metrics().tasks_alive, 10, "only the uncancelled ones remain");
    for task in &polled {
        task.cancel();
    }
    rt.turn(NOW);
    assert_eq!(rt.metrics().tasks_alive, 0);
    assert_eq!(drops.get(), 20);
    for task in unpolled.into_iter().chain(polled) {
        assert!(rt.block_on(task).unwrap_err().is_cancelled());
    }
}

#[test]
fn cancelled_task_runs_its_cleanup_but_not_its_continuation() {
    let log = Rc::new(RefCell::new(Vec::new()));
    struct Cleanup(Rc<RefCell<Vec<&'static str>>>);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            self.0.borrow_mut().push("cleanup");
        }
    }
    kettle::run({
        let log = log.clone();
        async move {
            let task = kettle::spawn({
                let log = log.clone();
                async move {
                    let _cleanup = Cleanup(log.clone());
                    log.borrow_mut().push("started");
                    kettle::sleep(Duration::from_secs(3600)).await;
                    log.borrow_mut().push("continued");
                }
            });
            yield_now().await;
            task.cancel();
            assert!(task.await.unwrap_err().is_cancelled());
            log.borrow_mut().push("joined");
        }
    });
    assert_eq!(*log.borrow(), ["started", "cleanup", "joined"]);
}
