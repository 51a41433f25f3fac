//! Specifies the ways to read a runtime's metrics without holding the
//! `Runtime`: `kettle::metrics()` inside it, `Handle::metrics()` anywhere —
//! at once on the loop's own thread (inside the loop, between runs, even
//! inside another runtime there), by asking the loop from other threads
//! (waking it if idle), and `RuntimeClosed`, never a hang, once it is gone.

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use kettle::{Handle, Runtime, RuntimeClosed};

mod common;
use common::{drive, finishes_within};

const LIMIT: Duration = Duration::from_secs(10);

#[test]
fn kettle_metrics_inside_a_task_reports_the_runtime_running_it() {
    let rt = Runtime::new().unwrap();
    let _other = Runtime::new().unwrap(); // a second runtime on the thread is not the one asked
    let _sleeper = rt.spawn(kettle::sleep(Duration::from_secs(60)));
    let seen = rt.block_on(async { kettle::spawn(async { kettle::metrics() }).await.unwrap() });
    assert_eq!(seen.tasks_spawned, 2);
    assert_eq!(seen.tasks_alive, 2, "the sleeper and the asking task itself");
    assert_eq!(rt.metrics().tasks_spawned, 2);
}

#[test]
#[should_panic(expected = "kettle::metrics called outside a kettle runtime")]
fn kettle_metrics_outside_a_runtime_panics_and_says_so() {
    let _rt = Runtime::new().unwrap();
    kettle::metrics();
}

#[test]
fn handle_metrics_on_the_loops_thread_answers_at_once_inside_the_loop_and_between_runs() {
    finishes_within(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let handle = rt.handle();
        let _sleeper = rt.spawn(kettle::sleep(Duration::from_secs(60)));
        let in_future = rt.block_on(async { handle.metrics() });
        assert_eq!(in_future.map(|m| m.tasks_alive), Ok(1), "block_on's own future");
        let in_task = rt.block_on(rt.spawn({
            let handle = handle.clone();
            async move { handle.metrics() }
        }));
        assert_eq!(in_task.unwrap().map(|m| m.tasks_alive), Ok(2), "the sleeper and the asking task");
        let (tx, rx) = mpsc::channel();
        rt.block_on(async {
            kettle::call_soon(move || tx.send(Handle::current().metrics()).unwrap());
            kettle::sleep(Duration::from_millis(1)).await;
        });
        assert_eq!(rx.recv().unwrap().map(|m| m.tasks_alive), Ok(1), "a callback");
        assert_eq!(handle.metrics().map(|m| m.tasks_alive), Ok(1), "between runs");
    });
}

#[test]
fn handle_metrics_of_a_runtime_on_this_thread_answers_inside_another_runtime() {
    finishes_within(LIMIT, || {
        let asked = Runtime::new().unwrap();
        let _sleeper = asked.spawn(kettle::sleep(Duration::from_secs(60)));
        let handle = asked.handle();
        let asking = Runtime::new().unwrap();
        // `asked` cannot run while `asking` does: a wait would never end.
        let metrics = asking.block_on(async move { handle.metrics() });
        assert_eq!(metrics.map(|m| m.tasks_alive), Ok(1));
    });
}

#[test]
fn handle_metrics_from_another_thread_while_run_forever_runs_wakes_the_idle_loop() {
    let metrics = finishes_within(LIMIT, || {
        let rt = Runtime::new().unwrap();
        // Nothing to do but a distant timer: the loop blocks in epoll_wait,
        // and only the request's eventfd write can wake it.
        let _sleeper = rt.spawn(kettle::sleep(Duration::from_secs(60)));
        drive(&rt, |handle| {
            thread::sleep(Duration::from_millis(20)); // let the loop go idle
            let first = handle.metrics().unwrap();
            let second = handle.metrics().unwrap();
            assert!(second.turns > first.turns, "each answer comes from a later turn");
            second
        })
    });
    assert_eq!(metrics.tasks_alive, 1);
    assert_eq!(metrics.tasks_spawned, 1);
}

#[test]
fn handle_metrics_after_the_runtime_is_dropped_is_runtime_closed_on_any_thread() {
    let rt = Runtime::new().unwrap();
    let handle = rt.handle();
    drop(rt);
    assert_eq!(handle.metrics(), Err(RuntimeClosed), "on the thread it lived on");
    let elsewhere = thread::spawn(move || (handle.metrics(), handle.metrics_timeout(LIMIT)));
    assert_eq!(elsewhere.join().unwrap(), (Err(RuntimeClosed), Some(Err(RuntimeClosed))));
}

#[test]
fn a_thread_waiting_for_metrics_gets_runtime_closed_when_the_runtime_is_dropped() {
    finishes_within(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let handle = rt.handle();
        let asker = thread::spawn(move || handle.metrics());
        // Nobody drives the loop: the request waits in the injector until the
        // drop discards it. (If the drop wins the race, the push is refused:
        // the same answer.)
        thread::sleep(Duration::from_millis(20));
        drop(rt);
        assert_eq!(asker.join().unwrap(), Err(RuntimeClosed));
    });
}

#[test]
fn metrics_timeout_gives_up_on_a_loop_nobody_drives_and_the_next_run_answers() {
    finishes_within(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let handle = rt.handle();
        let timed_out = thread::spawn({
            let handle = handle.clone();
            move || handle.metrics_timeout(Duration::from_millis(10))
        });
        assert_eq!(timed_out.join().unwrap(), None, "no turn, no answer");
        // The stale request is answered to nobody on the next turn; a new one
        // is answered while the loop runs.
        let answered = drive(&rt, |handle| handle.metrics_timeout(LIMIT));
        assert!(matches!(answered, Some(Ok(_))));
        assert_eq!(rt.metrics().callbacks_pending, 0, "the stale request left nothing behind");
    });
}
