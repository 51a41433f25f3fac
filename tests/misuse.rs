//! Specifies that misuse fails loudly with a message that says what went
//! wrong, instead of deadlocking or misbehaving: nested runs, runtime-only
//! functions called outside a runtime, blocking waits on the loop's own
//! thread, a zero interval, and a join handle polled after it returned.

use std::future::poll_fn;
use std::pin::Pin;
use std::time::{Duration, Instant};

use kettle::{Handle, Runtime};

const OUTSIDE: &str = "called outside a kettle runtime";

// ----- nested runs -------------------------------------------------------------

#[test]
#[should_panic(expected = "Runtime::block_on called while a kettle runtime is already running")]
fn nested_block_on_panics() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let inner = Runtime::new().unwrap();
        inner.block_on(async {});
    });
}

#[test]
#[should_panic(expected = "Runtime::block_on called while a kettle runtime is already running")]
fn kettle_run_inside_a_runtime_panics() {
    kettle::run(async { kettle::run(async {}) });
}

#[test]
#[should_panic(expected = "Runtime::run_forever called while a kettle runtime is already running")]
fn run_forever_nested_inside_block_on_panics() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let inner = Runtime::new().unwrap();
        inner.handle().stop(); // so that a wrongly allowed run_forever would return
        inner.run_forever();
    });
}

#[test]
#[should_panic(expected = "Runtime::turn called while a kettle runtime is already running")]
fn turn_nested_inside_block_on_panics() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let inner = Runtime::new().unwrap();
        inner.turn(Some(Duration::ZERO));
    });
}

#[test]
#[should_panic(expected = "Runtime::turn called while a kettle runtime is already running")]
fn turning_a_runtime_from_inside_its_own_block_on_panics() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        rt.turn(Some(Duration::ZERO));
    });
}

#[test]
#[should_panic(expected = "Runtime::block_on called while a kettle runtime is already running")]
fn block_on_of_the_same_runtime_inside_its_block_on_panics() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async { rt.block_on(async {}) });
}

#[test]
fn nested_block_on_inside_a_task_fails_the_task_not_the_loop() {
    let err = kettle::run(async {
        kettle::spawn(async { Runtime::new().unwrap().block_on(async {}) }).await.unwrap_err()
    });
    assert!(err.is_panic());
    assert!(err.to_string().contains("already running on this thread"), "{err}");
}

// ----- outside a runtime -------------------------------------------------------

#[test]
#[should_panic(expected = "kettle::spawn called outside a kettle runtime")]
fn spawn_outside_a_runtime_panics() {
    drop(kettle::spawn(async {}));
}

// `sleep`, `timeout`, `interval` and `ctrl_c` are built anywhere and only
// need a runtime when polled: `tests/bind_at_first_poll.rs`.

#[test]
#[should_panic(expected = "kettle::call_soon called outside a kettle runtime")]
fn call_soon_outside_a_runtime_panics() {
    kettle::call_soon(|| {});
}

#[test]
#[should_panic(expected = "called outside a kettle runtime")]
fn call_later_outside_a_runtime_panics() {
    drop(kettle::call_later(Duration::from_millis(1), || {}));
}

#[test]
#[should_panic(expected = "kettle::call_at called outside a kettle runtime")]
fn call_at_outside_a_runtime_panics() {
    drop(kettle::call_at(Instant::now(), || {}));
}

#[test]
#[should_panic(expected = "kettle::Handle::current called outside a kettle runtime")]
fn handle_current_outside_a_runtime_panics() {
    drop(Handle::current());
}

#[test]
fn outside_message_says_what_to_do_instead() {
    let payload = std::panic::catch_unwind(|| drop(kettle::spawn(async {}))).unwrap_err();
    let message = payload.downcast_ref::<String>().expect("a formatted message");
    assert!(message.contains(OUTSIDE), "{message}");
    assert!(message.contains("kettle::Handle"), "points other threads to a Handle: {message}");
}

#[test]
fn handle_try_current_is_none_outside_and_the_running_runtime_inside() {
    assert!(Handle::try_current().is_none());
    let rt = Runtime::new().unwrap();
    assert!(Handle::try_current().is_none(), "a runtime that is not running is not current");
    let inside = rt.block_on(async { Handle::try_current() }).expect("current inside block_on");
    assert_eq!(format!("{inside:?}"), format!("{:?}", rt.handle()));
    assert!(Handle::try_current().is_none(), "and not after block_on returns");
}

#[test]
fn outside_functions_on_another_thread_panic_even_while_a_runtime_runs_here() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let result =
            std::thread::spawn(|| std::panic::catch_unwind(|| drop(kettle::spawn(async {})))).join().unwrap();
        let payload = result.unwrap_err();
        assert!(payload.downcast_ref::<String>().unwrap().contains(OUTSIDE));
    });
}

// ----- bad arguments -----------------------------------------------------------

#[test]
#[should_panic(expected = "kettle::interval: the period must be non-zero")]
fn zero_interval_panics() {
    kettle::run(async { drop(kettle::interval(Duration::ZERO)) });
}

#[test]
#[should_panic(expected = "kettle::interval: the period must be non-zero")]
fn zero_interval_at_panics() {
    kettle::run(async { drop(kettle::interval_at(Instant::now(), Duration::ZERO)) });
}

// ----- blocking on the loop's own thread ---------------------------------------

#[test]
#[should_panic(expected = "RemoteJoinHandle::wait called on the runtime's own thread")]
fn remote_wait_on_the_loops_own_thread_panics_instead_of_deadlocking() {
    let rt = Runtime::new().unwrap();
    let _ = rt.handle().spawn(async { 1 }).wait();
}

#[test]
#[should_panic(expected = "RemoteJoinHandle::wait_timeout called on the runtime's own thread")]
fn remote_wait_timeout_on_the_loops_own_thread_panics() {
    let rt = Runtime::new().unwrap();
    let mut task = rt.handle().spawn(async { 1 });
    let _ = task.wait_timeout(Duration::from_millis(10));
}

#[test]
fn remote_wait_on_the_loops_thread_is_fine_once_the_task_finished() {
    let rt = Runtime::new().unwrap();
    let task = rt.handle().spawn(async { 1 });
    rt.turn(Some(Duration::ZERO));
    assert!(task.is_finished());
    assert_eq!(task.wait().unwrap(), 1);
}

// ----- join handles ------------------------------------------------------------

#[test]
#[should_panic(expected = "JoinHandle polled after it already returned the task's output")]
fn polling_a_join_handle_after_it_returned_panics() {
    kettle::run(async {
        let mut task = kettle::spawn(async { 1 });
        assert_eq!((&mut task).await.unwrap(), 1);
        let _ = poll_fn(|cx| Pin::new(&mut task).poll(cx)).await;
    });
}
