//! `JoinHandle::cancel` in every state, with drop logs.

use crate::common::*;
use crate::{on_kettle, on_mini};

#[test]
fn cancel_drops_a_task_in_every_state_at_the_same_moment_on_kettle_and_mini() {
    let log =
        run_both("cancel_in_every_state", on_kettle::cancel_in_every_state, on_mini::cancel_in_every_state);
    let expected = events(&[
        "main cancelled a, finished: false",
        // Turn 1: a is dropped unpolled where it stood in the queue; e
        // cancels itself, finishes its poll, and is queued to be dropped.
        "x ran",
        "drop a (never started)",
        "q ran once",
        "s sleeps for an hour",
        "f ran and finished",
        "e ran",
        "e cancelled itself, finished: false",
        "y ran",
        "main after turn 1: finished a true q false s false f true",
        "main cancelled q, s and f",
        // Turn 2: the queue was x, q, e (in the order they queued); the
        // sleeping s was queued at the back by its cancel; f was finished.
        "x ran again",
        "drop q (queued)",
        "drop e (cancelled itself)",
        "drop s (sleeping)",
        "main after turn 2: finished q true s true f true",
        "a: cancelled",
        "q: cancelled",
        "s: cancelled",
        "f: Ok(5)",
        "e: cancelled",
        "x: Ok(())",
        "y: Ok(())",
    ]);
    assert_log("cancel_in_every_state", &log, &expected);
}

#[test]
fn cancelling_a_task_that_awaits_another_leaves_the_other_running_on_kettle_and_mini() {
    let log = run_both(
        "cancel_and_join_chains",
        on_kettle::cancel_and_join_chains,
        on_mini::cancel_and_join_chains,
    );
    let expected = events(&[
        "inner 0",
        "outer awaits inner",
        "target sleeps",
        "watcher cancels the target and waits for it",
        "main cancelled outer",
        "drop outer's future",
        "outer: cancelled",
        "inner done",
        "drop inner's future",
        "watcher saw the target end: cancelled",
        "main done",
    ]);
    assert_log("cancel_and_join_chains", &log, &expected);
}
