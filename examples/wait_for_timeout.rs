//! Giving up on slow work with `kettle::timeout` (asyncio's `wait_for`).
//!
//! Run it with `cargo run --example wait_for_timeout`. A slow operation
//! (100 ms) gets 20 ms and is cancelled: its future is dropped right where
//! the timeout fires, so its cleanup runs *before* the caller sees the
//! error. A fast one (5 ms) gets the same 20 ms and finishes. Last, a trap
//! for asyncio users: a timeout around a spawned task's handle stops the
//! waiting, not the task.

use std::time::Instant;

mod common;
use common::{heading, ms, say};

/// Cleanup owed by an operation however it ends. asyncio writes it as
/// `try: ... finally: ...`; here it is a destructor.
struct Cleanup(&'static str);

impl Drop for Cleanup {
    fn drop(&mut self) {
        say!("{}: cleanup ran (Drop)", self.0);
    }
}

/// `async def operation(name, millis)`.
async fn operation(name: &'static str, millis: u64) -> String {
    let _cleanup = Cleanup(name);
    say!("{name}: started, needs {millis} ms");
    kettle::sleep(ms(millis)).await;
    say!("{name}: finished");
    format!("{name} result")
}

fn main() {
    common::start_clock();
    kettle::run(async {
        heading("too slow — await asyncio.wait_for(slow(), 0.02)");
        let started = Instant::now();
        match kettle::timeout(ms(20), operation("slow", 100)).await {
            Ok(result) => say!("slow: returned {result:?} (unexpected!)"),
            // By now the operation's future has been dropped: "slow: finished"
            // never prints, and its cleanup already has.
            Err(elapsed) => say!(
                "slow: timed out after {:.3}s: Err({elapsed:?}): {elapsed}",
                started.elapsed().as_secs_f64()
            ),
        }

        heading("fast enough — await asyncio.wait_for(fast(), 0.02)");
        let started = Instant::now();
        match kettle::timeout(ms(20), operation("fast", 5)).await {
            Ok(result) => say!("fast: Ok({result:?}) after {:.3}s", started.elapsed().as_secs_f64()),
            Err(elapsed) => say!("fast: timed out: {elapsed} (unexpected!)"),
        }

        heading("a timeout around a task handle");
        // asyncio's wait_for(task, ...) cancels the task. A kettle JoinHandle
        // that is dropped only *detaches* its task, so give up explicitly:
        // await `&mut task`, keep the handle, and cancel it on timeout.
        let mut task = kettle::spawn(operation("background", 100));
        if kettle::timeout(ms(20), &mut task).await.is_err() {
            say!("background: stopped waiting after 20 ms; task.cancel()");
            task.cancel();
        }
        let err = task.await.expect_err("the task was cancelled");
        say!("background: await task = Err({err}); is_cancelled() = {}", err.is_cancelled());
    });
}
