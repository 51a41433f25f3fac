//! Spawn order, yields, callbacks against tasks, `block_on`'s own future,
//! panics and detached tasks.

use crate::common::*;
use crate::{on_kettle, on_mini};

#[test]
fn tasks_run_in_spawn_order_and_go_to_the_back_when_they_yield_on_kettle_and_mini() {
    let log = run_both("spawn_order", on_kettle::spawn_order, on_mini::spawn_order);
    // Turn 1 runs a, b (which spawns d, then yields: d is queued before b),
    // c; turn 2 a, d, b; turn 3 a. The main future sees each join after the
    // turn that finished it.
    let expected = events(&[
        "a0",
        "b0",
        "c0, c done",
        "main joined c",
        "a1",
        "d (spawned by b)",
        "b1",
        "b done",
        "main joined d",
        "a2",
        "a done",
        "main joined a",
    ]);
    assert_log("spawn_order", &log, &expected);
}

#[test]
fn callbacks_run_before_tasks_and_what_a_turn_queues_runs_next_turn_on_kettle_and_mini() {
    let log =
        run_both("callbacks_then_tasks", on_kettle::callbacks_then_tasks, on_mini::callbacks_then_tasks);
    let expected = events(&[
        "main 0",
        "w waits",
        "main 1",
        // Turn 2: the callbacks queued before it, in order...
        "cb1",
        "cb2 opens the gate",
        // ...then the tasks: t, and w, which cb2 woke before the task half began.
        "t",
        "w woken",
        "main 2",
        // Turn 3: what turn 2 queued — cb1's callback, t's callback, t itself.
        "cb3 (queued by cb1)",
        "cb4 (queued by t)",
        "t again",
        "main 3: w finished true, t finished true",
        "main done",
    ]);
    assert_log("callbacks_then_tasks", &log, &expected);
}

#[test]
fn block_on_polls_its_future_between_turns_and_leaves_pending_tasks_for_the_next_run_on_kettle_and_mini() {
    let log =
        run_both("main_future_and_tasks", on_kettle::main_future_and_tasks, on_mini::main_future_and_tasks);
    let expected = events(&[
        "main first poll",
        "t finished right after spawn: false",
        // Turn 1: the tasks spawned before block_on first, then main's.
        "early (Runtime::spawn) runs",
        "long 0",
        "t runs",
        "main after one turn, t finished: true",
        "early again",
        "long 1",
        "main returns",
        "between the two block_ons",
        "second block_on first poll",
        "long 2",
        "long 3",
        "long done",
        "second block_on returns",
    ]);
    assert_log("main_future_and_tasks", &log, &expected);
}

#[test]
fn a_panicking_task_is_a_join_error_and_the_loop_goes_on_on_kettle_and_mini() {
    quiet_intended_panics();
    let log = run_both("panicking_task", on_kettle::panicking_task, on_mini::panicking_task);
    let expected = events(&[
        "callback runs",
        "p runs, then panics",
        "drop p's future",
        "q runs",
        "p: cancelled false panic true",
        "q again",
        "q returned 8",
    ]);
    assert_log("panicking_task", &log, &expected);
}

#[test]
fn a_detached_task_still_runs_to_the_end_and_its_output_is_dropped_then_on_kettle_and_mini() {
    let log = run_both("detached_task", on_kettle::detached_task, on_mini::detached_task);
    let expected = events(&[
        "handle dropped",
        "detached 0",
        "detached 1",
        "detached 2, returns its output",
        "drop detached task's output",
        "watcher saw the gate open",
        "main done",
    ]);
    assert_log("detached_task", &log, &expected);
}
