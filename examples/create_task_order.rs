//! When do spawned tasks run? (asyncio's `create_task`.)
//!
//! Run it with `cargo run --example create_task_order`. Three lessons:
//!
//! 1. `kettle::spawn` only *queues* a task: nothing runs until the spawning
//!    code awaits something (here `yield_now`, asyncio's `sleep(0)`).
//! 2. Then the tasks start in the order they were spawned.
//! 3. After that, sleeps decide who runs next: each task resumes when its
//!    timer fires, so their steps interleave by time.
//!
//! The log is deterministic: every line is also recorded, and the whole
//! order is printed at the end.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

mod common;
use common::say;

/// The order of events, shared by every task (all on one thread: an `Rc`).
type Log = Rc<RefCell<Vec<String>>>;

/// Prints `event` and records it.
fn note(log: &Log, event: String) {
    say!("{event}");
    log.borrow_mut().push(event);
}

/// A task that takes two steps, each `period_ms` apart.
async fn worker(name: &'static str, period_ms: u64, started: Instant, log: Log) {
    note(&log, format!("{name} started"));
    for step in 1..=2 {
        // Sleeping until a fixed point on the clock (rather than `sleep`
        // after the last step) keeps the steps in deadline order even when a
        // wake-up comes late — all but one pair: A's second timer is set only
        // when A's first step runs, so a stall of over 5 ms lets C's first
        // step (due at 25 ms) run before it.
        kettle::sleep_until(started + Duration::from_millis(period_ms * step)).await;
        note(&log, format!("{name} step {step}"));
    }
}

fn main() {
    common::start_clock();
    let log: Log = Rc::default();
    kettle::run(async {
        let started = Instant::now();
        // task = asyncio.create_task(worker(...)), three times. Periods:
        // A every 10 ms, B every 15 ms, C every 25 ms.
        let tasks = [("A", 10), ("B", 15), ("C", 25)]
            .map(|(name, period)| kettle::spawn(worker(name, period, started, log.clone())));
        note(&log, "main spawned A, B, C".into());
        // Still our turn: no task has run, however long we keep going.
        note(&log, "main still running; no task has started yet".into());

        // await asyncio.sleep(0): give the loop a turn. The queued tasks run
        // (in spawn order) until each reaches its first sleep; then we resume.
        kettle::yield_now().await;
        note(&log, "main back from yield_now".into());

        // Awaiting in any order is fine: the tasks are already running.
        for task in tasks {
            task.await.expect("a worker failed");
        }
        note(&log, "main: all tasks done".into());
    });
    println!("order: {}", log.borrow().join(", "));
}
