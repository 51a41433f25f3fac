//! Named tasks, ids, spawn locations and task dumps (asyncio's
//! `create_task(name=…)`, `all_tasks()`, `current_task()`).

// Spawning inside `block_on` and awaiting later, on purpose.
#![allow(clippy::async_yields_async)]

use std::collections::HashSet;
use std::time::Duration;

use kettle::task::{self, TaskState};
use kettle::{Builder, Runtime};

fn debug_runtime() -> Runtime {
    // A threshold no test poll reaches: debug mode for its timing alone.
    Builder::new().slow_poll_threshold(Duration::from_secs(3600)).build().unwrap()
}

#[test]
fn a_named_task_reports_its_name_in_current_and_in_the_dump() {
    let rt = Runtime::new().unwrap();
    let task = rt.block_on(async {
        task::Builder::new().name("fetch a.txt").spawn(async {
            let me = task::current().expect("inside a task");
            kettle::sleep(Duration::from_millis(5)).await;
            me
        })
    });
    rt.turn(Some(Duration::ZERO));
    let dump = rt.tasks();
    assert_eq!(dump.len(), 1);
    assert_eq!(dump[0].name.as_deref(), Some("fetch a.txt"));
    assert_eq!(dump[0].state, TaskState::Idle);
    let me = rt.block_on(task).unwrap();
    assert_eq!(me.name.as_deref(), Some("fetch a.txt"));
    assert_eq!(me.state, TaskState::Running);
}

#[test]
fn every_way_to_spawn_records_the_callers_location() {
    let rt = Runtime::new().unwrap();
    let here = |line: u32| (file!(), line);
    let (a, a_line) = (rt.spawn(std::future::pending::<()>()), line!());
    let (b, b_line, c, c_line) = rt.block_on(async {
        let (b, b_line) = (kettle::spawn(std::future::pending::<()>()), line!());
        let (c, c_line) = (task::Builder::new().spawn(std::future::pending::<()>()), line!());
        (b, b_line, c, c_line)
    });
    let handle = rt.handle();
    let (d, d_line) =
        std::thread::spawn(move || (handle.spawn(std::future::pending::<()>()), line!())).join().unwrap();
    rt.turn(Some(Duration::ZERO));
    let dump = rt.tasks();
    let at = |id| {
        let info = dump.iter().find(|info| info.id == id).expect("listed");
        (info.location.file(), info.location.line())
    };
    assert_eq!(at(a.id()), here(a_line));
    assert_eq!(at(b.id()), here(b_line));
    assert_eq!(at(c.id()), here(c_line));
    assert_eq!(at(d.id()), here(d_line));
}

#[test]
fn task_ids_are_unique_across_local_and_remote_spawns() {
    let rt = Runtime::new().unwrap();
    let handle = rt.handle();
    let remote =
        std::thread::spawn(move || (0..300).map(|_| handle.spawn(async {}).id()).collect::<Vec<_>>());
    let local: Vec<_> = rt.block_on(async { (0..1000).map(|_| kettle::spawn(async {}).id()).collect() });
    let remote = remote.join().unwrap();
    let all: HashSet<_> = local.iter().chain(&remote).copied().collect();
    assert_eq!(all.len(), 1300, "no id is handed out twice");
    assert!(local.windows(2).all(|w| w[0] < w[1]), "one thread's spawns get increasing ids");
    // Another runtime numbers its own tasks from 1 again: ids are per runtime.
    let other = Runtime::new().unwrap();
    let first = other.spawn(async {});
    assert_eq!(first.id().as_u64(), 1);
    assert_eq!(first.id().to_string(), "1");
}

#[test]
fn a_join_handles_id_is_the_tasks_own() {
    kettle::run(async {
        let task = kettle::spawn(async { task::current().unwrap().id });
        let id = task.id();
        assert_eq!(task.await.unwrap(), id);
        let handle = kettle::Handle::current();
        let remote = handle.spawn(async { task::current().unwrap().id });
        let id = remote.id();
        assert_eq!(remote.await.unwrap(), id);
    });
}

#[test]
fn current_is_none_outside_a_task() {
    assert!(task::current().is_none(), "outside any runtime");
    let rt = Runtime::new().unwrap();
    let in_callback = std::rc::Rc::new(std::cell::Cell::new(Some(true)));
    rt.block_on(async {
        assert!(task::current().is_none(), "block_on's own future is not a task");
        let seen = in_callback.clone();
        kettle::call_soon(move || seen.set(Some(task::current().is_some())));
        kettle::yield_now().await;
        kettle::yield_now().await;
    });
    assert_eq!(in_callback.get(), Some(false), "a callback is not a task");
}

#[test]
fn the_dump_says_queued_running_and_idle() {
    let rt = Runtime::new().unwrap();
    let waiting = rt.spawn(kettle::sleep(Duration::from_secs(60)));
    rt.turn(Some(Duration::ZERO)); // `waiting` polled once: now idle
    let queued = rt.spawn(async {});
    let asking = rt.spawn(async { kettle::Handle::current().tasks().unwrap() });
    let from_inside = rt.block_on(asking).unwrap();
    let state = |id| from_inside.iter().find(|info| info.id == id).map(|info| info.state);
    assert_eq!(state(waiting.id()), Some(TaskState::Idle));
    // `queued` ran in the same turn as the asking task, before it.
    assert_eq!(state(queued.id()), None, "a finished task is forgotten when not timing");
    let me = from_inside.iter().find(|info| info.state == TaskState::Running).expect("the asking task");
    assert_eq!(me.polls, 1);

    let later = rt.spawn(async {});
    let dump = rt.tasks();
    assert_eq!(dump.iter().find(|info| info.id == later.id()).unwrap().state, TaskState::Queued);
    assert!(dump.windows(2).all(|w| w[0].id < w[1].id), "sorted by id");
}

#[test]
fn polls_counts_every_poll_and_nothing_else() {
    let rt = Runtime::new().unwrap();
    let task = rt.spawn(async {
        for _ in 0..3 {
            kettle::yield_now().await;
        }
        std::future::pending::<()>().await
    });
    for _ in 0..10 {
        rt.turn(Some(Duration::ZERO));
    }
    let dump = rt.tasks();
    assert_eq!(dump[0].id, task.id());
    assert_eq!(dump[0].polls, 4, "the first poll and one per yield; a pending future is not re-polled");
    assert_eq!(dump[0].state, TaskState::Idle);
}

#[test]
fn a_cancelled_task_leaves_the_dump() {
    let rt = Runtime::new().unwrap();
    let task = rt.spawn(std::future::pending::<()>());
    rt.turn(Some(Duration::ZERO));
    assert_eq!(rt.tasks().len(), 1);
    task.cancel();
    rt.turn(Some(Duration::ZERO));
    assert!(rt.tasks().is_empty());
}

#[test]
fn untimed_tasks_report_zero_age_and_busy_and_say_so() {
    let rt = Runtime::new().unwrap();
    let _task = rt.spawn(async {
        std::thread::sleep(Duration::from_millis(5));
        std::future::pending::<()>().await
    });
    rt.turn(Some(Duration::ZERO));
    let info = &rt.tasks()[0];
    assert_eq!((info.age, info.busy), (Duration::ZERO, Duration::ZERO));
    assert!(info.to_string().contains("untimed"), "{info}");
}

#[test]
fn in_debug_mode_age_and_busy_are_measured() {
    let rt = debug_runtime();
    let _task = rt.spawn(async {
        std::thread::sleep(Duration::from_millis(20)); // busy, in its poll
        kettle::yield_now().await;
        std::future::pending::<()>().await
    });
    rt.turn(Some(Duration::ZERO));
    rt.turn(Some(Duration::ZERO));
    std::thread::sleep(Duration::from_millis(10)); // idle, outside any poll
    let info = &rt.tasks()[0];
    assert_eq!(info.polls, 2);
    assert!(info.busy >= Duration::from_millis(20), "{info}");
    assert!(info.busy < Duration::from_secs(5), "{info}");
    assert!(info.age >= info.busy + Duration::from_millis(10), "{info}");
}

#[test]
fn in_debug_mode_finished_tasks_stay_listed_until_their_output_is_read() {
    let rt = debug_runtime();
    let unread = rt.spawn(async { 7 });
    let detached = rt.spawn(async { 8 });
    drop(detached);
    rt.turn(Some(Duration::ZERO));
    let dump = rt.tasks();
    assert_eq!(dump.len(), 1, "{dump:?}");
    assert_eq!((dump[0].id, dump[0].state), (unread.id(), TaskState::FinishedUnread));
    assert_eq!(rt.block_on(unread).unwrap(), 7);
    assert!(rt.tasks().is_empty(), "read: no longer listed");
}

#[test]
fn a_dump_line_names_the_id_state_name_and_location() {
    let rt = debug_runtime();
    let task =
        rt.block_on(async { task::Builder::new().name("worker \"7\"").spawn(std::future::pending::<()>()) });
    rt.turn(Some(Duration::ZERO));
    let line = rt.tasks()[0].to_string();
    assert!(!line.contains('\n'), "one line: {line}");
    assert!(line.starts_with(&format!("task {}", task.id())), "{line}");
    assert!(line.contains("idle") && line.contains("polls 1"), "{line}");
    assert!(line.contains(r#""worker \"7\"""#), "the name, quoted and escaped: {line}");
    assert!(line.contains("tests/task_dump.rs:"), "{line}");
}

#[test]
fn handle_tasks_answers_from_another_thread_and_errs_once_the_runtime_is_gone() {
    let rt = Runtime::new().unwrap();
    let handle = rt.handle();
    let _sleeper = rt.spawn(kettle::sleep(Duration::from_secs(60)));
    let asker = std::thread::spawn({
        let handle = handle.clone();
        move || {
            let dump = handle.tasks();
            handle.stop();
            dump
        }
    });
    rt.run_forever();
    let dump = asker.join().unwrap().unwrap();
    assert_eq!(dump.len(), 1);
    // Nobody drives the loop: a bounded ask times out instead of hanging.
    let asker = std::thread::spawn({
        let handle = handle.clone();
        move || handle.tasks_timeout(Duration::from_millis(10))
    });
    assert_eq!(asker.join().unwrap(), None);
    drop(rt);
    assert_eq!(handle.tasks(), Err(kettle::RuntimeClosed));
    let asker = std::thread::spawn(move || handle.tasks());
    assert_eq!(asker.join().unwrap(), Err(kettle::RuntimeClosed));
}

#[test]
fn the_task_builder_has_spawns_bounds_and_panics_outside_a_runtime() {
    let outside = std::panic::catch_unwind(|| task::Builder::new().name("x").spawn(async {}));
    let message = outside.unwrap_err();
    let message = message.downcast_ref::<String>().map(String::as_str).unwrap_or_default();
    assert!(message.contains("kettle::task::Builder::spawn"), "{message}");
    // Not Send, like kettle::spawn's futures.
    let out = kettle::run(async {
        let local = std::rc::Rc::new(5);
        task::Builder::new().name("rc").spawn(async move { *local }).await.unwrap()
    });
    assert_eq!(out, 5);
}

#[test]
fn a_task_that_woke_itself_as_it_finished_is_not_listed_once_its_output_was_read() {
    // Found attacking issue 17's fixes: such a task stays in the slab until
    // its stale run-queue entry is popped, and the dump called it unread.
    for rt in [Runtime::new().unwrap(), debug_runtime()] {
        let out = rt.block_on(async {
            let task = kettle::spawn(std::future::poll_fn(|cx| {
                cx.waker().wake_by_ref(); // queued again as it finishes
                std::task::Poll::Ready(5)
            }));
            task.await.unwrap()
        });
        assert_eq!(out, 5);
        // The loop was left before it popped the stale entry.
        assert!(rt.tasks().is_empty(), "read and gone: {:?}", rt.tasks());
        assert_eq!(rt.metrics().tasks_alive, 0);
    }
}

#[test]
fn a_task_that_woke_itself_as_it_finished_is_listed_as_unread_while_its_output_is_in_debug_mode() {
    let rt = debug_runtime();
    let task = rt.block_on(async {
        let task = kettle::spawn(std::future::poll_fn(|cx| {
            cx.waker().wake_by_ref();
            std::task::Poll::Ready(5)
        }));
        kettle::yield_now().await; // it runs, finishes, and is queued again
        task
    });
    let dump = rt.tasks();
    assert_eq!(dump.len(), 1, "{dump:?}");
    assert_eq!((dump[0].id, dump[0].state), (task.id(), TaskState::FinishedUnread));
    assert_eq!(rt.metrics().tasks_alive, 0, "finished, so not alive");
    assert_eq!(rt.block_on(task).unwrap(), 5);
}
