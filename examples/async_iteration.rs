//! `async for`, the Rust way: a `while let` loop over something awaited.
//!
//! Run it with `cargo run --example async_iteration`. Rust has no `async for`
//! statement yet; asyncio's `async for x in source` becomes
//! `while let Some(x) = source.next().await`. Three sources:
//!
//! 1. a queue drained until it is closed (`get()` returns `None` at the end);
//! 2. an interval, ticking every 10 ms;
//! 3. a hand-written async iterator: a struct with an `async fn next`
//!    (asyncio's `__anext__`).

use std::time::{Duration, Instant};

use kettle::sync::Queue;

mod common;
use common::{heading, say};

/// Counts down from `n`, one number every 5 ms, then ends: an async
/// generator (`async def countdown(n): ... yield n`) written as a struct.
struct Countdown {
    n: u32,
}

impl Countdown {
    /// asyncio's `__anext__`; `None` is `StopAsyncIteration`.
    async fn next(&mut self) -> Option<u32> {
        if self.n == 0 {
            return None;
        }
        kettle::sleep(Duration::from_millis(5)).await;
        self.n -= 1;
        Some(self.n + 1)
    }
}

fn main() {
    common::start_clock();
    kettle::run(async {
        heading("1) draining a queue — async for item in queue");
        let queue = Queue::new();
        let producer = kettle::spawn({
            let queue = queue.clone();
            async move {
                for drink in ["tea", "coffee", "cocoa"] {
                    queue.put(drink).await.expect("the queue is open");
                    kettle::sleep(Duration::from_millis(5)).await;
                }
                // Closing ends the consumer's loop once the queue is drained.
                queue.close();
                say!("producer: closed the queue");
            }
        });
        while let Some(drink) = queue.get().await {
            say!("consumer: got {drink}");
        }
        say!("consumer: get() returned None: closed and drained");
        producer.await.expect("the producer failed");

        heading("2) an interval — a tick every 0.01 s, four times");
        let t0 = Instant::now();
        let mut ticks = kettle::interval(Duration::from_millis(10));
        for n in 1..=4 {
            // tick() returns the tick's scheduled time: the first is now.
            let at = ticks.tick().await;
            say!("tick {n}, scheduled at +{} ms", at.saturating_duration_since(t0).as_millis());
        }

        heading("3) a hand-written async iterator — async for n in countdown(3)");
        let mut countdown = Countdown { n: 3 };
        while let Some(n) = countdown.next().await {
            say!("countdown: {n}");
        }
        say!("countdown: liftoff");
    });
}
