//! Remote work through `Handle::spawn` and `Handle::call_soon`.

use crate::common::*;
use crate::{on_kettle, on_mini};

#[test]
fn remote_work_pushed_before_the_loop_runs_lands_in_one_batch_in_push_order_on_kettle_and_mini() {
    let log = run_both(
        "remote_work_before_the_loop_runs",
        on_kettle::remote_work_before_the_loop_runs,
        on_mini::remote_work_before_the_loop_runs,
    );
    let expected = events(&[
        "main first poll",
        "remote call_soon 0",
        "remote call_soon 1",
        "remote call_soon 2",
        "remote call_soon 3",
        "local spawn",
        "remote spawn 0",
        "remote spawn 1",
        "remote spawn 2",
        "remote spawn 3",
        "main: remote tasks returned 6",
        // Next turn: the local callback queued last turn, then step 3's
        // injected one, then step 4's timer; the tasks likewise: local
        // first, then the injected spawn.
        "call_soon (queued last turn)",
        "Handle::call_soon from the loop (step 3)",
        "call_later 0 (step 4)",
        "local spawn",
        "t after its yield",
        "Handle::spawn from the loop",
    ]);
    assert_log("remote_work_before_the_loop_runs", &log, &expected);
}

#[test]
fn remote_work_from_a_live_thread_keeps_each_kinds_push_order_on_kettle_and_mini() {
    // Deliberately not compared: how the pushes interleave with the loop's
    // turns, and so the callbacks with the tasks — that is timing. What a
    // thread pushed in order must run in that order, per kind, on both.
    let per_kind = |log: Vec<String>| -> (Vec<String>, Vec<String>, Vec<String>) {
        let calls = log.iter().filter(|e| e.starts_with("call ")).cloned().collect();
        let tasks = log.iter().filter(|e| e.starts_with("task ")).cloned().collect();
        let rest =
            log.iter().filter(|e| !e.starts_with("call ") && !e.starts_with("task ")).cloned().collect();
        (calls, tasks, rest)
    };
    let what = "remote_work_while_the_loop_runs";
    let (k_calls, k_tasks, k_rest) =
        per_kind(watchdog(what, "kettle", on_kettle::remote_work_while_the_loop_runs));
    let (m_calls, m_tasks, m_rest) =
        per_kind(watchdog(what, "kettle-mini", on_mini::remote_work_while_the_loop_runs));
    let calls = same_on_both("remote callbacks, in order", k_calls, m_calls);
    let tasks = same_on_both("remote tasks, in order", k_tasks, m_tasks);
    let rest = same_on_both("the rest", k_rest, m_rest);
    assert_eq!(calls, (0..50).map(|i| format!("call {i}")).collect::<Vec<_>>());
    assert_eq!(tasks, (0..50).map(|i| format!("task {i}")).collect::<Vec<_>>());
    assert_eq!(rest, events(&["busy task saw everything arrive", "sum 1225"]));
}
