//! Model-checked: the remote wake protocol (`runtime/shared.rs`).
//!
//! Each model runs the loop's real code — `Core::turn`, the poll plan
//! with step 1's idle handshake, `Core::leave` — on one loom thread,
//! against another thread pushing an item or setting a flag and notifying,
//! under every interleaving loom can build (`--cfg loom`, see `src/loom.rs`).
//! The loop never actually blocks: where it would, the model stops and
//! checks that the wait would end — the eventfd has an event waiting — or
//! that the loop already has what the other thread sent.
//!
//! The property, in every model: **no wake is lost**. A loop that decides to
//! block, or is left, while another thread's item or flag is still unseen
//! finds the eventfd written.
//!
//! Run with `scripts/loom` (or `RUSTFLAGS="--cfg loom" cargo test --lib
//! --release loom_model`).

use std::sync::Arc;
use std::sync::atomic::AtomicBool as StdBool;
use std::time::Duration;

use super::{Core, PollPlan};
use crate::loom::sync::atomic::AtomicBool;
use crate::loom::sync::atomic::Ordering::{AcqRel, Acquire, SeqCst};
use crate::runtime::Builder;
use crate::runtime::shared::Remote;

const NOW: Option<Duration> = Some(Duration::ZERO);

fn core() -> Core {
    Core::new(&Builder::new()).expect("epoll, eventfd and timerfd")
}

/// Whether the loop's eventfd has an event waiting: a blocking wait would
/// end at once. (Consumes the event, like the wait would.)
fn eventfd_written(core: &Core) -> bool {
    core.poll_io(PollPlan::Peek) > 0
}

/// Whether `plan` would block: a wait the handshake let stand.
fn would_block(plan: PollPlan) -> bool {
    matches!(plan, PollPlan::Wait { .. })
}

/// What the next turn's poll would do, after step 1's handshake: the
/// plan, then the idle announcement that may demote a wait to a peek — as
/// `Core::turn` begins, `main` being `block_on`'s wake flag if it drives
/// the turn.
fn plan_and_announce(core: &Core, max_wait: Option<Duration>, main: Option<&AtomicBool>) -> PollPlan {
    let main_ready = main.is_some_and(|woken| woken.load(Acquire));
    core.announce_idle(core.plan_poll(max_wait, main_ready), main)
}

/// Another thread pushes a callback that sets the returned flag when it runs.
fn push_from_another_thread(core: &Core) -> (loom::thread::JoinHandle<()>, Arc<StdBool>) {
    let ran = Arc::new(StdBool::new(false));
    let (shared, flag) = (core.shared().clone(), ran.clone());
    let pusher = loom::thread::spawn(move || {
        let callback = Box::new(move || flag.store(true, SeqCst));
        assert!(shared.push(Remote::Call(callback, std::panic::Location::caller())).is_ok());
    });
    (pusher, ran)
}

/// Turns without blocking until the loop is quiet; the ledger checks below
/// then see everything that was sent.
fn drain(core: &Core) {
    for _ in 0..3 {
        core.turn(NOW, None);
    }
}

#[test]
fn loom_model_a_push_racing_the_loop_going_idle_is_never_lost() {
    loom::model(|| {
        let core = core();
        let (pusher, ran) = push_from_another_thread(&core);
        core.turn(NOW, None); // marks the loop busy; may take the item
        let decision = plan_and_announce(&core, None, None);
        pusher.join().unwrap();
        if would_block(decision) {
            assert!(
                ran.load(SeqCst) || eventfd_written(&core),
                "the loop would block with the item unseen and no eventfd write"
            );
        }
        drain(&core);
        assert!(ran.load(SeqCst), "the item ran in the end");
        core.shutdown();
    });
}

#[test]
fn loom_model_a_push_racing_a_loop_woken_for_io_is_never_lost() {
    loom::model(|| {
        let core = core();
        let (pusher, ran) = push_from_another_thread(&core);
        // A wait, announced, that ends for I/O (here: at once), then step 3,
        // which takes no lock unless the push has landed: the loop may work
        // on while still marked idle in the injector.
        let wait = plan_and_announce(&core, None, None);
        if would_block(wait) {
            core.poll_io(PollPlan::Wait { timeout: Some(Duration::ZERO), for_timer: false });
        }
        core.inject();
        let decision = plan_and_announce(&core, None, None);
        pusher.join().unwrap();
        if would_block(decision) {
            assert!(
                ran.load(SeqCst) || eventfd_written(&core),
                "the loop would block with the item unseen and no eventfd write"
            );
        }
        drain(&core);
        assert!(ran.load(SeqCst), "the item ran in the end");
        core.shutdown();
    });
}

#[test]
fn loom_model_a_flag_set_and_notified_racing_block_on_is_never_lost() {
    // block_on's own future is woken from another thread (as
    // `MainWaker::wake_by_ref`: the one who sets the flag notifies) while
    // the loop turns, looks at the flag (as `MainWaker::take_wake`: a load,
    // then a swap only if it is set) and decides to block.
    loom::model(|| {
        let core = core();
        let woken = Arc::new(AtomicBool::new(false));
        let (shared, flag) = (core.shared().clone(), woken.clone());
        let waker = loom::thread::spawn(move || {
            if !flag.swap(true, AcqRel) {
                shared.notify();
            }
        });
        core.turn(NOW, Some(&woken)); // a working turn: the notify may find it busy
        let seen = woken.load(Acquire) && woken.swap(false, AcqRel); // then block_on polls its future
        let decision = plan_and_announce(&core, None, Some(&woken));
        waker.join().unwrap();
        if would_block(decision) && !seen {
            assert!(eventfd_written(&core), "block_on's wake was lost: no eventfd write, flag unseen");
        }
        core.shutdown();
    });
}

#[test]
fn loom_model_a_stop_racing_run_forever_is_never_lost() {
    loom::model(|| {
        let core = core();
        let shared = core.shared().clone();
        let stopper = loom::thread::spawn(move || shared.request_stop());
        core.turn(NOW, None);
        let stopped = core.shared().take_stop(); // run_forever looks after each turn
        let max_wait = core.shared().stop_requested().then_some(Duration::ZERO);
        let decision = plan_and_announce(&core, max_wait, None);
        stopper.join().unwrap();
        if would_block(decision) && !stopped {
            assert!(eventfd_written(&core), "the stop was lost: no eventfd write, flag unseen");
        }
        core.shutdown();
    });
}

#[test]
fn loom_model_a_push_racing_the_loop_being_left_makes_the_fd_readable() {
    // block_on returns right after a busy turn (its future woke itself):
    // leaving must leave remote work able to wake an embedder.
    loom::model(|| {
        let core = core();
        let (pusher, ran) = push_from_another_thread(&core);
        let woken = AtomicBool::new(true);
        core.turn(NOW, Some(&woken)); // block_on's future is ready: a busy turn
        let _ = core.leave();
        pusher.join().unwrap();
        if !ran.load(SeqCst) {
            assert!(eventfd_written(&core), "left with the item unseen and the fd quiet");
        }
        drain(&core);
        assert!(ran.load(SeqCst));
        core.shutdown();
    });
}

#[test]
fn loom_model_a_push_and_a_notify_racing_the_loop_going_idle_are_never_lost() {
    // Two other threads at once: one pushes an item, one sets a flag and
    // notifies; the loop turns, reads its flag, and decides to block.
    loom::model(|| {
        let core = core();
        let ran = Arc::new(StdBool::new(false));
        let woken = Arc::new(AtomicBool::new(false));
        let (shared, flag) = (core.shared().clone(), ran.clone());
        let pusher = loom::thread::spawn(move || {
            let callback = Box::new(move || flag.store(true, SeqCst));
            assert!(shared.push(Remote::Call(callback, std::panic::Location::caller())).is_ok());
        });
        let (shared, flag) = (core.shared().clone(), woken.clone());
        let notifier = loom::thread::spawn(move || {
            flag.store(true, SeqCst);
            shared.notify();
        });
        core.turn(NOW, None);
        let seen = woken.swap(false, SeqCst);
        let decision = plan_and_announce(&core, None, None);
        pusher.join().unwrap();
        notifier.join().unwrap();
        if would_block(decision) {
            let unseen = !ran.load(SeqCst) || !seen;
            assert!(!unseen || eventfd_written(&core), "the loop would block with something unseen");
        }
        drain(&core);
        assert!(ran.load(SeqCst));
        core.shutdown();
    });
}

#[test]
fn loom_model_a_push_racing_an_embedders_turn_and_its_hand_over_is_never_lost() {
    // A host loop turns kettle (`core/host.rs`): the turn always polls, and
    // leaving hands over to the host, writing the eventfd if the turn left
    // work. A push racing all of it must leave the fd readable if unseen,
    // the second turn included (after the hand-over's own write).
    loom::model(|| {
        let core = core();
        core.mark_hosted();
        let (pusher, ran) = push_from_another_thread(&core);
        for _ in 0..2 {
            core.before_host_turn();
            core.turn(NOW, None);
            let wrote = core.leave();
            core.hand_over_to_host(wrote);
        }
        pusher.join().unwrap();
        if !ran.load(SeqCst) {
            assert!(eventfd_written(&core), "the host was left with the item unseen and the fd quiet");
        }
        drain(&core);
        assert!(ran.load(SeqCst));
        core.shutdown();
    });
}
