//! Specifies, with seeded random workloads, that kettle loses nothing and duplicates nothing
//! however its operations interleave. A seed drives a runtime through about 10^5 randomly chosen
//! operations: spawns; cancels before the first poll, while pending and after completion;
//! timeouts that fire and timeouts whose inner future wins; sleeps; `call_soon`, `call_later`
//! and `TimerHandle::cancel`, also from inside callbacks; puts and gets on small bounded queues,
//! with waiters dropped by a timeout, by a `race`, or by cancelling their task right after they
//! were woken, and queues closed under them; done callbacks; destructors that spawn, schedule and
//! cancel; and, from another thread through a `Handle`: spawns (`spawn` and `spawn_with`),
//! cancels, `call_soon`, oneshot sends, the loop's join handles awaited in a second runtime, and
//! long sleeps moved back and forth between the two runtimes. Everything a future, closure,
//! output or queue item holds carries a numbered token, and a ledger checks, after every round
//! (once the runtime has settled) and after the runtime is dropped in the middle of its work:
//!
//! - every future, closure, output and item is dropped exactly once;
//! - every queue item is received exactly once and in FIFO order, or handed back by a failed
//!   put, or dropped unsent with its put: a cancelled waiter never swallows one;
//! - every callback runs exactly once or is cancelled (and dropped by `cancel`), never both;
//! - every done callback runs once, and sees what the join handle sees;
//! - a task cancelled by another before it finished never finishes, one cancelled before its
//!   first poll never runs, one nobody cancelled finishes with its own value;
//! - no sleep, timeout or `call_later` ends early, and nothing panics, even where kettle would
//!   contain the panic;
//! - whenever the loop falls idle (it is made to, about every hundred operations), every
//!   cancelled task is gone and no queue waiter is forgotten: getters wait only on an empty open
//!   queue, putters only on a full one;
//! - once settled, `rt.metrics()` shows no task, timer or callback left and counts every spawn;
//!   every join handle resolves, also after its runtime is gone.
//!
//! Three workloads run so: a general mix and a queue-heavy one, each on one long-lived runtime
//! (rounds of 25,000 operations, each settled and audited, then a last tenth dropped with the
//! runtime), and short-lived runtimes of 200 operations each, every one dropped in the middle of
//! its work while destructors spawn, schedule and cancel.
//!
//! Bugs of these classes would fail it: a wake-up lost or a task polled after cancellation; a
//! slab slot, timer key or waker reused while still referenced; a double drop or a leak in the
//! task cell, the timer heap, the callback queue or the runtime's destructor; a cancel that
//! reports the wrong answer or does not drop the callback; a woken-then-dropped queue waiter that
//! swallows its reservation (an item or a free slot stuck forever) or takes an item; a done
//! callback run twice, or never, or holding the result back forever; a timer left behind in a
//! runtime a sleep moved away from; cross-thread spawns, cancels or callbacks lost, or run after
//! the runtime is gone.
//!
//! The operations and their parameters are a pure function of the seed; which task an operation
//! hits, and how the timers, the loop and the remote thread interleave, depend on timing, so a
//! replay runs the same workload, not necessarily the same schedule (run it a few times). A
//! failure names its test, seed and operation index. To replay a seed, or to soak:
//!
//! ```text
//! KETTLE_STRESS_SEED=0x5eed0001 cargo test --test stress_random
//! KETTLE_STRESS_OPS=10000000 cargo test --release --test stress_random -- --nocapture
//! ```
//!
//! `KETTLE_STRESS_OPS` counts the operations of each seed (of all its runtimes, if short-lived);
//! `-- --nocapture` prints what each seed exercised.
//!
//! Where things are: `harness` runs seeds (threads, time limits, panics, the environment);
//! `rng` and `mix` are what a seed draws; `driver` runs the operations on the loop thread and
//! `driver/checkpoints` stops them to audit; `worker`, `callbacks` and `env` are what tasks,
//! callbacks and destructors do; `remote` is the other thread; `ledger` keeps the books and
//! holds the rules above.

mod callbacks;
mod driver;
mod env;
mod harness;
mod ledger;
mod mix;
mod remote;
mod rng;
mod worker;

use std::sync::Arc;
use std::time::Duration;

use harness::{Shape, install_panic_recorder, run_seed, run_seeds, within};
use mix::{GENERAL, QUEUES};

/// Operations per seed unless `KETTLE_STRESS_OPS` says otherwise.
const DEFAULT_OPS: u64 = 100_000;
/// Operations between two settle-and-audit points; the runtime lives on across rounds.
const ROUND_OPS: u64 = 25_000;
/// Operations, on average, between two checks (with the loop idle) that no waiter was forgotten.
const IDLE_CHECK_OPS: u64 = 100;
/// Join handles the driver keeps at most; older ones go to a joiner task.
const MAX_LIVE: usize = 128;
/// Timer handles the driver keeps at most; older ones are dropped (which does not cancel).
const MAX_TIMERS: usize = 64;
/// Generous bound on anything that must end once the workload stops.
const SETTLE_LIMIT: Duration = Duration::from_secs(10);
/// Violations listed in a failure message (all are counted).
const MAX_MESSAGES: usize = 12;
/// Operations per runtime in `Shape::ShortLived`.
const SHORT_LIVED_OPS: u64 = 200;

#[test]
fn a_seeded_random_workload_loses_and_duplicates_nothing() {
    let stats = run_seeds(
        "a_seeded_random_workload_loses_and_duplicates_nothing",
        GENERAL,
        Shape::LongLived,
        &[0x5eed_0001, 0x5eed_0002, 0x5eed_0003],
    );
    for (seed, stats) in &stats {
        if stats.ops >= 50_000 {
            stats.assert_covered_everything(*seed);
        }
    }
}

#[test]
fn queue_waiters_cancelled_at_random_points_never_swallow_an_item() {
    let stats = run_seeds(
        "queue_waiters_cancelled_at_random_points_never_swallow_an_item",
        QUEUES,
        Shape::LongLived,
        &[0x0ee0_0001, 0x0ee0_0002],
    );
    for (seed, stats) in &stats {
        if stats.ops >= 50_000 {
            assert!(
                stats.woken_then_cancelled > 0,
                "seed {seed:#x}: no woken waiter was cancelled: {stats:?}"
            );
            assert!(stats.items_received > 1_000, "seed {seed:#x}: too few items went through: {stats:?}");
        }
    }
}

#[test]
fn dropping_a_busy_runtime_drops_everything_exactly_once() {
    // Many small runtimes, each dropped in the middle of its workload, with destructors that
    // spawn, schedule and cancel while the runtime drops them.
    run_seeds(
        "dropping_a_busy_runtime_drops_everything_exactly_once",
        GENERAL,
        Shape::ShortLived(SHORT_LIVED_OPS),
        &[0xd20b_0001],
    );
}

#[test]
fn a_seed_draws_the_same_operations_however_the_run_is_timed() {
    // What the runtime does between two operations differs from run to run; the random numbers
    // drawn must not depend on it, or a seed would not replay its workload.
    install_panic_recorder();
    let draws = |seed| {
        let label = format!("a_seed_draws_the_same_operations seed {seed:#x}");
        within(Duration::from_secs(60), &label.clone(), move || {
            run_seed(&label, seed, 5_000, GENERAL, Shape::LongLived, Arc::default()).draws
        })
    };
    assert_eq!(draws(7), draws(7), "a seed replays its operations");
    assert_ne!(draws(7), draws(8), "different seeds draw different workloads");
}
