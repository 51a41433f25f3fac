//! Timers: firing order, zero delays and past deadlines, `call_later`'s
//! cancel, `timeout`.

use crate::common::*;
use crate::{on_kettle, on_mini};

#[test]
fn timers_fire_in_deadline_then_insertion_order_on_kettle_and_mini() {
    let log = run_both("timer_order", on_kettle::timer_order, on_mini::timer_order);
    // All due in one turn: step 4 fires them in (deadline, insertion) order;
    // step 5 runs the callbacks in that order, then the woken tasks in it.
    // (How long each runtime waited for them is not compared: mini's
    // millisecond timeout and kettle's timerfd differ, legitimately.)
    let expected = events(&[
        "main: every deadline has passed",
        "call 1 (deadline 0.5)",
        "call 5 (deadline 0.5)",
        "call 4 (deadline 1.5)",
        "call 7 (deadline 1.5)",
        "call 0 (deadline 2.5)",
        "call 2 (deadline 2.5)",
        "call 3 (deadline 3.5)",
        "call 6 (deadline 3.5)",
        "sleep 3 (deadline 0)",
        "sleep 7 (deadline 0)",
        "sleep 1 (deadline 1)",
        "sleep 5 (deadline 1)",
        "sleep 4 (deadline 2)",
        "sleep 0 (deadline 3)",
        "sleep 2 (deadline 3)",
        "sleep 6 (deadline 3)",
    ]);
    assert_log("timer_order", &log, &expected);
}

#[test]
fn zero_delays_fire_next_turn_after_queued_callbacks_and_past_deadlines_do_not_yield_on_kettle_and_mini() {
    let log = run_both(
        "zero_delays_and_past_deadlines",
        on_kettle::zero_delays_and_past_deadlines,
        on_mini::zero_delays_and_past_deadlines,
    );
    let expected = events(&[
        "S1 (call_soon)",
        "S2 (call_soon)",
        "L1 (call_later 0)",
        "L2 (call_later 0)",
        "t before sleep_until(past)",
        "t after it, same poll",
        "t after sleep(0), same poll",
        "u",
        "S1's call_soon",
        "S1's call_later 0",
        "t's call_later 0",
        "t next turn",
    ]);
    assert_log("zero_delays_and_past_deadlines", &log, &expected);
}

#[test]
fn a_call_later_cancelled_before_it_fires_never_runs_and_its_closure_drops_at_once_on_kettle_and_mini() {
    let log = run_both("call_later_cancel", on_kettle::call_later_cancel, on_mini::call_later_cancel);
    let expected = events(&[
        "drop x's closure",
        "cancel x before it fired: true",
        "y ran",
        "drop y's closure",
        "the timer whose handle was dropped ran",
        "drop dropped handle's closure",
        "cancel y after it ran: false",
        "drop z's closure",
        "cancel z (an hour away): true",
        "cancel z again: false",
        "first ran, cancels second: Some(false)",
        "second ran anyway",
        "main done",
    ]);
    assert_log("call_later_cancel", &log, &expected);
}

#[test]
fn a_timeout_drops_its_future_when_it_elapses_and_returns_the_output_when_not_on_kettle_and_mini() {
    let log = run_both("timeouts", on_kettle::timeouts, on_mini::timeouts);
    let expected = events(&[
        "drop inner of timeout(0)",
        "timeout(0) of a pending future: elapsed true",
        "drop inner of timeout(2ms)",
        "timeout(2ms) of a pending future: elapsed true",
        "drop inner of timeout(0), ready at once",
        "timeout(0) of a ready future: Some(5)",
        "inner yields twice",
        "inner returns",
        "drop inner of timeout(1h)",
        "timeout(1h) of a yielding future: Some(7)",
        "other task 0",
        "drop inner in a task",
        "task's timeout(0): elapsed true",
        "other task 1",
    ]);
    assert_log("timeouts", &log, &expected);
}
