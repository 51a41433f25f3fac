//! Debug mode (asyncio's `loop.set_debug(True)`): slow polls and callbacks
//! reported, `KETTLE_DEBUG=1`, and pending tasks listed at the runtime's drop.

// Spawning inside `block_on` and awaiting later, on purpose.
#![allow(clippy::async_yields_async)]

use std::cell::RefCell;
use std::process::Command;
use std::rc::Rc;
use std::time::Duration;

use kettle::{Builder, Runtime, SlowPoll};

/// A runtime in debug mode whose reports land in the returned list.
fn recording(threshold: Duration) -> (Runtime, Rc<RefCell<Vec<SlowPoll>>>) {
    let reports = Rc::new(RefCell::new(Vec::new()));
    let sink = reports.clone();
    let rt = Builder::new()
        .slow_poll_threshold(threshold)
        .on_slow_poll(move |slow| sink.borrow_mut().push(slow.clone()))
        .build()
        .unwrap();
    (rt, reports)
}

/// Blocks the loop's thread: what debug mode exists to catch.
fn block_for(ms: u64) {
    std::thread::sleep(Duration::from_millis(ms));
}

#[test]
fn a_slow_task_poll_is_reported_with_its_name_location_and_duration() {
    let (rt, reports) = recording(Duration::from_millis(10));
    let (task, line) = rt.block_on(async {
        (kettle::task::Builder::new().name("crunch").spawn(async { block_for(25) }), line!())
    });
    rt.block_on(task).unwrap();
    let reports = reports.borrow();
    assert_eq!(reports.len(), 1, "{reports:?}");
    let slow = &reports[0];
    assert_eq!(slow.name.as_deref(), Some("crunch"));
    assert!(slow.task.is_some());
    assert_eq!((slow.location.file(), slow.location.line()), (file!(), line));
    assert!(slow.duration >= Duration::from_millis(25), "{slow:?}");
    assert_eq!(slow.threshold, Duration::from_millis(10));
    let line = slow.to_string();
    assert!(
        line.contains("\"crunch\"")
            && line.contains("tests/debug_mode.rs")
            && line.contains("threshold 10 ms"),
        "{line}"
    );
}

#[test]
fn a_dump_taken_in_the_slow_poll_hook_lists_the_task_being_reported() {
    // Issue 17: the reported task was out of its slab entry during the report.
    let seen = Rc::new(RefCell::new(Vec::new()));
    let sink = seen.clone();
    let rt = Builder::new()
        .slow_poll_threshold(Duration::ZERO)
        .on_slow_poll(move |slow| {
            let Some(id) = slow.task else { return };
            let dump = kettle::Handle::current().tasks().unwrap();
            let alive = kettle::metrics().tasks_alive;
            let listed =
                dump.iter().filter(|info| info.state != kettle::task::TaskState::FinishedUnread).count();
            sink.borrow_mut().push((id, dump.iter().any(|info| info.id == id), listed, alive));
        })
        .build()
        .unwrap();
    let task = rt.block_on(async {
        let task = kettle::task::Builder::new().name("reported").spawn(async {
            kettle::yield_now().await;
            7
        });
        kettle::yield_now().await; // the task's first poll: pending, reported
        task
    });
    let id = task.id();
    assert_eq!(rt.block_on(task).unwrap(), 7);
    let seen = seen.borrow();
    let first = seen.iter().find(|(task, ..)| *task == id).expect("the task's polls were reported");
    assert!(first.1, "the pending task being reported is in the dump: {seen:?}");
    for (task, _, listed, alive) in seen.iter() {
        assert_eq!(listed, alive, "task {task}: the dump lists every live task");
    }
}

#[test]
fn polls_under_the_threshold_are_not_reported() {
    let (rt, reports) = recording(Duration::from_secs(10));
    rt.block_on(async {
        let tasks: Vec<_> = (0..50).map(|_| kettle::spawn(kettle::yield_now())).collect();
        for task in tasks {
            task.await.unwrap();
        }
        kettle::sleep(Duration::from_millis(1)).await;
    });
    assert!(reports.borrow().is_empty());
}

#[test]
fn a_slow_callback_is_reported_with_where_it_was_registered() {
    let (rt, reports) = recording(Duration::from_millis(10));
    let handle = rt.handle();
    let (soon, later) = rt.block_on(async {
        let soon = (kettle::call_soon(|| block_for(15)), line!()).1;
        let later = (kettle::call_later(Duration::from_millis(1), || block_for(15)), line!()).1;
        kettle::sleep(Duration::from_millis(5)).await;
        (soon, later)
    });
    let ((), remote_line) = (handle.call_soon(|| block_for(15)).unwrap(), line!());
    rt.block_on(kettle::sleep(Duration::from_millis(1)));
    let reports = reports.borrow();
    let lines: Vec<u32> = reports.iter().map(|slow| slow.location.line()).collect();
    assert_eq!(lines, [soon, later, remote_line], "{reports:?}");
    assert!(reports.iter().all(|slow| slow.task.is_none() && slow.name.is_none()));
    assert!(reports[0].to_string().starts_with("kettle: callback ("), "{}", reports[0]);
}

#[test]
fn a_panicking_hook_does_not_stop_the_loop() {
    let rt = Builder::new()
        .slow_poll_threshold(Duration::ZERO)
        .on_slow_poll(|_| panic!("hook failed"))
        .build()
        .unwrap();
    let out = rt.block_on(async {
        kettle::spawn(async {
            block_for(1);
            41
        })
        .await
        .unwrap()
            + 1
    });
    assert_eq!(out, 42);
}

#[test]
fn a_zero_threshold_reports_every_task_poll() {
    let (rt, reports) = recording(Duration::ZERO);
    rt.block_on(async {
        let task = kettle::spawn(async {
            kettle::yield_now().await;
            kettle::yield_now().await;
        });
        task.await.unwrap();
    });
    assert_eq!(reports.borrow().iter().filter(|slow| slow.task.is_some()).count(), 3);
}

#[test]
fn a_hook_alone_turns_debug_mode_on_with_asyncios_threshold() {
    assert_eq!(kettle::runtime::DEFAULT_SLOW_POLL_THRESHOLD, Duration::from_millis(100));
    let reports = Rc::new(RefCell::new(Vec::new()));
    let sink = reports.clone();
    let rt = Builder::new().on_slow_poll(move |slow| sink.borrow_mut().push(slow.duration)).build().unwrap();
    rt.block_on(async {
        kettle::spawn(async { block_for(20) }).await.unwrap(); // under 100 ms
        kettle::spawn(async { block_for(110) }).await.unwrap(); // over
    });
    let reports = reports.borrow();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert!(reports[0] >= Duration::from_millis(110));
}

#[test]
fn without_debug_mode_nothing_is_timed_or_reported() {
    // Runs in a child process so that KETTLE_DEBUG cannot leak in from the
    // environment of whoever runs the tests.
    let out = child("child_blocks_and_drops_a_pending_task", None);
    assert!(!out.contains("kettle:"), "no report without debug mode:\n{out}");
}

#[test]
fn kettle_debug_1_turns_debug_mode_on_for_runtime_new_and_lists_pending_tasks_at_drop() {
    let out = child("child_blocks_and_drops_a_pending_task", Some("1"));
    assert!(
        out.contains("took") && out.contains("in one poll (threshold 100 ms)"),
        "a slow poll reported:\n{out}"
    );
    assert!(out.contains("\"stuck\"") && out.contains("was destroyed but it is pending"), "{out}");
    assert!(out.contains("finished but its output was never read"), "{out}");
    assert!(out.contains("tests/debug_mode.rs:"), "spawn locations:\n{out}");
}

#[test]
fn kettle_debug_0_leaves_debug_mode_off() {
    let out = child("child_blocks_and_drops_a_pending_task", Some("0"));
    assert!(!out.contains("kettle:"), "{out}");
}

/// The child's body: does nothing unless run by `child`.
#[test]
fn child_blocks_and_drops_a_pending_task() {
    if std::env::var_os("KETTLE_DEBUG_TEST_CHILD").is_none() {
        return;
    }
    let rt = Runtime::new().unwrap();
    let handles = rt.block_on(async {
        kettle::spawn(async { block_for(120) }).await.unwrap();
        let stuck = kettle::task::Builder::new().name("stuck").spawn(std::future::pending::<()>());
        let unread = kettle::spawn(async { 5 });
        kettle::yield_now().await;
        kettle::yield_now().await;
        (stuck, unread)
    });
    drop(rt); // lists both, in debug mode
    drop(handles);
}

/// Runs one test of this binary in a child process, with `KETTLE_DEBUG` set
/// to `debug` (or removed), and returns its stderr.
fn child(test: &str, debug: Option<&str>) -> String {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command.args(["--exact", test, "--nocapture", "--test-threads=1"]).env("KETTLE_DEBUG_TEST_CHILD", "1");
    match debug {
        Some(value) => command.env("KETTLE_DEBUG", value),
        None => command.env_remove("KETTLE_DEBUG"),
    };
    let output = command.output().unwrap();
    assert!(output.status.success(), "child failed: {output:?}");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn dropping_a_runtime_whose_slow_poll_hook_panics_when_dropped_does_not_panic() {
    // Found attacking issue 17's fixes: the hook was the one user value the
    // runtime dropped outside a guard.
    struct PanicsOnDrop;
    impl Drop for PanicsOnDrop {
        fn drop(&mut self) {
            panic!("the hook's capture panicked on drop");
        }
    }
    let capture = PanicsOnDrop;
    let rt = Builder::new()
        .on_slow_poll(move |_| {
            let _ = &capture;
        })
        .build()
        .unwrap();
    rt.block_on(async { kettle::yield_now().await });
    let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(rt)));
    assert!(dropped.is_ok(), "drop(runtime) never panics");
}
