//! Running one loop in two phases (asyncio's `loop.run_until_complete`,
//! called twice on the same loop).
//!
//! Run it with `cargo run --example two_phase_loop`. Phase 1 starts a
//! background task that ticks every 10 ms, four times, and ends after 25 ms,
//! with the task half done. Between the phases the loop is not running, so
//! the task is frozen: no tick prints. Phase 2 runs the loop again until the
//! task completes; it picks up where it left off.

use std::thread;

use kettle::Runtime;

mod common;
use common::{heading, ms, say};

fn main() {
    common::start_clock();
    // loop = asyncio.new_event_loop()
    let rt = Runtime::new().expect("could not create the kettle runtime");

    heading("phase 1 — loop.run_until_complete(asyncio.sleep(0.025))");
    // task = loop.create_task(background()): queued, runs once the loop runs.
    let background = rt.spawn(async {
        for tick in 1..=4 {
            kettle::sleep(ms(10)).await;
            say!("background: tick {tick}");
        }
        "background finished all 4 ticks"
    });
    // run_until_complete returns when *its* future is done — here a plain
    // sleep, built outside the loop and bound to it when first polled; the
    // task stays in the runtime.
    rt.block_on(kettle::sleep(ms(25)));
    say!("phase 1: main future done; background finished? {}", background.is_finished());

    heading("between phases — the loop is not running");
    say!("main thread: pausing 30 ms; the background task cannot run meanwhile");
    thread::sleep(ms(30));
    say!("main thread: background finished? {}", background.is_finished());

    heading("phase 2 — loop.run_until_complete(task)");
    // A JoinHandle is a future: run the loop until the task is done. Its
    // overdue timer fires at once, then it ticks on every 10 ms.
    let outcome = rt.block_on(background).expect("the background task failed");
    say!("phase 2: {outcome}");

    // Nothing left behind in the runtime.
    let metrics = rt.metrics();
    say!("metrics: tasks_alive = {}, timers_pending = {}", metrics.tasks_alive, metrics.timers_pending);
}
