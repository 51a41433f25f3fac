//! Each transition, from every starting state it can meet, and what it tells
//! its caller to do. The cross-thread interleavings of these transitions are
//! model-checked in `cell/loom_model.rs`; here each is one step, alone.

use super::*;

fn state(bits: usize) -> State {
    State(AtomicUsize::new(bits))
}

fn bits(state: &State) -> usize {
    state.load().0
}

/// Every starting state a task can be in before it completes: with or
/// without a join handle, a parked join waker (only with a handle), a cancel
/// request, a remote wake in the injector.
fn running_states() -> Vec<usize> {
    let mut states = Vec::new();
    for join in [0, JOIN_INTEREST, JOIN_INTEREST | JOIN_WAKER] {
        for cancel in [0, CANCELLED] {
            for remote in [0, REMOTE_QUEUED] {
                states.push(join | cancel | remote);
            }
        }
    }
    states
}

/// How the output must be handed over once readable, judged from the state.
fn expected_hand_over(start: usize) -> Completed {
    if start & JOIN_INTEREST == 0 {
        Completed::DropOutput
    } else if start & JOIN_WAKER != 0 {
        Completed::WakeJoiner
    } else {
        Completed::Nothing
    }
}

// ----- completion and the done-callback gate ---------------------------------

#[test]
fn completing_without_a_join_handle_tells_the_loop_to_drop_the_output() {
    assert_eq!(state(0).complete(false), Completed::DropOutput);
}

#[test]
fn completing_with_a_parked_join_waker_tells_the_loop_to_wake_it() {
    assert_eq!(state(JOIN_INTEREST | JOIN_WAKER).complete(false), Completed::WakeJoiner);
}

#[test]
fn completing_before_the_join_handle_parked_a_waker_leaves_the_handle_to_find_the_output() {
    let task = State::new();
    assert_eq!(task.complete(false), Completed::Nothing);
    assert!(task.load().is_readable());
}

#[test]
fn completing_while_done_callbacks_are_pending_holds_the_output_back() {
    let task = state(JOIN_INTEREST | JOIN_WAKER);
    assert_eq!(task.complete(true), Completed::HeldForDoneCallbacks);
    assert!(task.load().is_complete() && !task.load().is_readable());
}

#[test]
fn completing_hands_the_output_over_by_the_state_it_finds_in_every_starting_state() {
    for start in running_states() {
        for hold in [false, true] {
            let task = state(start);
            let expected = if hold { Completed::HeldForDoneCallbacks } else { expected_hand_over(start) };
            let case = format!("complete(hold = {hold}) from {:?}", Snapshot(start));
            assert_eq!(task.complete(hold), expected, "{case}");
            let gate = if hold { DONE_CALLBACKS } else { 0 };
            assert_eq!(bits(&task), start | COMPLETE | gate, "{case}: sets only its own bits");
            assert_eq!(task.load().is_readable(), !hold, "{case}");
        }
    }
}

#[test]
fn releasing_the_done_callbacks_hands_the_output_over_as_completion_would_have() {
    for start in running_states() {
        let task = state(start);
        assert_eq!(task.complete(true), Completed::HeldForDoneCallbacks);
        let case = format!("release_done_callbacks from {:?}", task.load());
        assert_eq!(task.release_done_callbacks(), expected_hand_over(start), "{case}");
        assert_eq!(bits(&task), start | COMPLETE, "{case}: clears only the gate");
        assert!(task.load().is_readable(), "{case}");
    }
}

#[test]
fn a_done_callback_added_after_completion_holds_the_output_back_until_released() {
    let task = State::new();
    assert_eq!(task.complete(false), Completed::Nothing);
    task.hold_for_done_callbacks();
    assert!(!task.load().is_readable(), "the join handle must wait for the callback");
    assert_eq!(task.release_done_callbacks(), Completed::Nothing);
    assert!(task.load().is_readable());
}

// ----- the join handle --------------------------------------------------------

#[test]
fn a_join_handle_dropped_before_the_output_is_readable_drops_its_waker_and_leaves_the_output() {
    for start in running_states().into_iter().filter(|s| s & JOIN_INTEREST != 0) {
        for held in [0, COMPLETE | DONE_CALLBACKS] {
            let task = state(start | held);
            let case = format!("drop_join_interest from {:?}", task.load());
            assert_eq!(task.drop_join_interest(), JoinDropped::DropWaker, "{case}");
            assert_eq!(bits(&task), (start | held) & !(JOIN_INTEREST | JOIN_WAKER), "{case}");
        }
    }
}

#[test]
fn a_join_handle_dropped_once_the_output_is_readable_drops_the_output_itself() {
    for start in running_states().into_iter().filter(|s| s & JOIN_INTEREST != 0) {
        let task = state(start | COMPLETE);
        let case = format!("drop_join_interest from {:?}", task.load());
        assert_eq!(task.drop_join_interest(), JoinDropped::DropOutput, "{case}");
        assert_eq!(bits(&task), start | COMPLETE, "{case}: the state is left as it was");
    }
}

#[test]
fn a_join_handle_dropped_while_done_callbacks_hold_the_output_leaves_it_to_the_loop() {
    let task = State::new();
    assert_eq!(task.complete(true), Completed::HeldForDoneCallbacks);
    assert_eq!(task.drop_join_interest(), JoinDropped::DropWaker);
    assert_eq!(task.release_done_callbacks(), Completed::DropOutput);
}

#[test]
fn a_join_waker_published_before_completion_is_woken() {
    let task = State::new();
    assert_eq!(task.set_join_waker(), JoinWakerSet::Wait);
    assert_eq!(task.complete(false), Completed::WakeJoiner);
}

#[test]
fn a_join_waker_published_too_late_sends_the_handle_to_the_output() {
    let task = State::new();
    assert_eq!(task.complete(false), Completed::Nothing);
    assert_eq!(task.set_join_waker(), JoinWakerSet::TakeOutput);
    assert!(!task.load().has_join_waker(), "the slot stays unpublished");
}

#[test]
fn the_join_waker_slot_is_the_handles_to_rewrite_until_the_output_is_readable() {
    for held in [0, COMPLETE | DONE_CALLBACKS] {
        let task = state(JOIN_INTEREST | JOIN_WAKER | held);
        let case = format!("unset, then set the join waker from {:?}", task.load());
        assert_eq!(task.unset_join_waker(), JoinWakerUnset::WriteSlot, "{case}");
        assert!(!task.load().has_join_waker(), "{case}");
        assert_eq!(task.set_join_waker(), JoinWakerSet::Wait, "{case}");
        assert!(task.load().has_join_waker(), "{case}");
    }
}

#[test]
fn the_join_waker_slot_stays_put_once_the_output_is_readable() {
    let task = state(JOIN_INTEREST | JOIN_WAKER | COMPLETE);
    assert_eq!(task.unset_join_waker(), JoinWakerUnset::TakeOutput);
    assert!(task.load().has_join_waker(), "the loop may be reading the slot");
}

// ----- cancellation and remote wakes -----------------------------------------

#[test]
fn only_the_first_cancel_of_an_unfinished_task_schedules_it() {
    for start in [0, CANCELLED, COMPLETE, COMPLETE | CANCELLED] {
        let task = state(JOIN_INTEREST | start);
        let expected = if start == 0 { CancelRequested::Schedule } else { CancelRequested::Nothing };
        let case = format!("request_cancel from {:?}", task.load());
        assert_eq!(task.request_cancel(), expected, "{case}");
        assert!(task.load().is_cancel_requested(), "{case}");
        assert_eq!(task.load().is_complete(), start & COMPLETE != 0, "{case}");
    }
}

#[test]
fn remote_wakes_queue_one_injector_entry_until_the_loop_drains_it() {
    let task = State::new();
    assert_eq!(task.claim_remote_wake(), RemoteWake::Push);
    assert_eq!(task.claim_remote_wake(), RemoteWake::AlreadyQueued);
    task.release_remote_wake();
    assert_eq!(task.claim_remote_wake(), RemoteWake::Push);
}

#[test]
fn a_snapshot_names_its_bits() {
    assert_eq!(format!("{:?}", Snapshot(0)), "{}");
    assert_eq!(format!("{:?}", Snapshot(COMPLETE | JOIN_WAKER)), "COMPLETE | JOIN_WAKER");
}
