//! Three downloads at once with `kettle::gather` (asyncio's `gather`).
//!
//! Run it with `cargo run --example gather_downloads`. The tutorial's
//! downloads of 2 s, 1 s and 3 s become 40, 20 and 60 ms: together they take
//! about as long as the longest one (60 ms), not the sum (120 ms). Then
//! failures: `gather` over futures returning `Result` keeps every outcome in
//! its place (`return_exceptions=True`), and `try_gather` stops at the first
//! error, cancelling the rest.

use std::time::{Duration, Instant};

mod common;
use common::{heading, say};

/// The three files and how long each takes (1 s in the tutorial = 20 ms here).
const FILES: [(&str, u64); 3] = [("a.txt", 40), ("b.txt", 20), ("c.txt", 60)];

/// `async def download(name, millis)`: waits, then returns a byte count.
async fn download(name: &'static str, millis: u64) -> u64 {
    say!("{name}: started");
    kettle::sleep(Duration::from_millis(millis)).await;
    say!("{name}: finished after {millis} ms");
    millis * 1000
}

/// Says so when a download is dropped before it finished: the Rust form of
/// asyncio's `except CancelledError`.
struct InFlight {
    name: &'static str,
    finished: bool,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if !self.finished {
            say!("{}: cancelled, partial download discarded", self.name);
        }
    }
}

/// A download that fails for `b.txt` (the server answers 404).
async fn fetch(name: &'static str, millis: u64) -> Result<u64, String> {
    let mut in_flight = InFlight { name, finished: false };
    kettle::sleep(Duration::from_millis(millis)).await;
    in_flight.finished = true;
    if name == "b.txt" {
        say!("{name}: failed after {millis} ms");
        return Err(format!("{name}: 404 not found"));
    }
    say!("{name}: finished after {millis} ms");
    Ok(millis * 1000)
}

fn main() {
    common::start_clock();
    kettle::run(async {
        heading("gather — results = await asyncio.gather(*downloads)");
        let started = Instant::now();
        // gather runs the futures concurrently inside this task; nothing is
        // spawned. The results come back in input order, not finishing order.
        let sizes = kettle::gather(FILES.map(|(name, millis)| download(name, millis))).await;
        say!("gather returned {sizes:?} (input order)");
        say!(
            "total {:.3}s: the longest download, not the sum (one after another: 0.120s)",
            started.elapsed().as_secs_f64()
        );

        heading("return_exceptions=True — gather over Results");
        // Futures returning Result: every success and every failure comes back
        // in its place, and gather waits for all of them.
        let results = kettle::gather(FILES.map(|(name, millis)| fetch(name, millis))).await;
        say!("results: {results:?}");
        let failures = results.iter().filter(|r| r.is_err()).count();
        say!("{} succeeded, {failures} failed", results.len() - failures);

        heading("try_gather — stop at the first exception");
        let started = Instant::now();
        // The first Err wins: the other downloads are dropped on the spot
        // (asyncio's gather would leave them running).
        let outcome = kettle::try_gather(FILES.map(|(name, millis)| fetch(name, millis))).await;
        say!("try_gather: {outcome:?} after {:.3}s", started.elapsed().as_secs_f64());
    });
}
