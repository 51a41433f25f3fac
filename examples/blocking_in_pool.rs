//! Blocking work off the loop with `kettle::spawn_blocking` (asyncio's
//! `loop.run_in_executor(None, f)` and `asyncio.to_thread(f)`).
//!
//! Run it with `cargo run --example blocking_in_pool`. A ticker task prints a
//! tick every 5 ms: as long as it ticks, the loop is alive. First the wrong
//! way: a blocking 20 ms call made on the loop itself freezes it, and no tick
//! comes. Then the right way: three blocking 20 ms jobs on the runtime's
//! thread pool run side by side, the ticker keeps ticking, and the three take
//! about 20 ms in all, not 60.

use std::cell::Cell;
use std::rc::Rc;
use std::thread;
use std::time::{Duration, Instant};

mod common;
use common::{heading, say};

/// A blocking call: sleeps its thread, as a synchronous read or a long
/// computation would occupy it.
fn blocking_job(n: u64) -> u64 {
    let name = thread::current().name().unwrap_or("unnamed").to_owned();
    say!("job {n}: blocking for 20 ms on thread {name}");
    thread::sleep(Duration::from_millis(20));
    n * 100
}

fn main() {
    common::start_clock();
    kettle::run(async {
        let ticks = Rc::new(Cell::new(0u32));
        let ticker = kettle::spawn({
            let ticks = ticks.clone();
            async move {
                let mut interval = kettle::interval(Duration::from_millis(5));
                loop {
                    interval.tick().await;
                    ticks.set(ticks.get() + 1);
                    say!("ticker: tick {}", ticks.get());
                }
            }
        });
        kettle::sleep(Duration::from_millis(12)).await; // a few ticks to start with

        heading("the wrong way — blocking on the loop itself");
        let before = ticks.get();
        thread::sleep(Duration::from_millis(20)); // nothing else can run meanwhile
        say!("main: ticks while the loop itself was blocked: {}", ticks.get() - before);

        heading("the right way — await loop.run_in_executor(None, job)");
        let started = Instant::now();
        let before = ticks.get();
        // Each job gets a pool thread; the handles are ordinary JoinHandles.
        let jobs = (1..=3).map(|n| kettle::spawn_blocking(move || blocking_job(n)));
        let results = kettle::gather(jobs).await;
        let results: Vec<u64> = results.into_iter().map(|r| r.expect("a job panicked")).collect();
        say!("main: results {results:?}");
        say!("main: ticks while the pool was busy: {}", ticks.get() - before);
        say!(
            "main: three 20 ms jobs took {:.3}s in all (one after another: 0.060s)",
            started.elapsed().as_secs_f64()
        );
        ticker.cancel();
    });
}
