//! The callgrind driver for `kettle::sync`'s hops: the workloads that
//! `examples/workloads.rs` does not have because they need more of kettle
//! than kettle-mini offers (a `oneshot`), and variants of `queue` that take
//! other paths through the queue's waiter lists.
//!
//! ```text
//! CARGO_PROFILE_RELEASE_DEBUG=true CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 \
//!     cargo build --release -p kettle-bench --example sync_hops
//! valgrind --tool=callgrind --callgrind-out-file=cg.out target/release/examples/sync_hops ping_pong
//! ```
//!
//! With no argument it runs every workload once and prints their names and
//! wall times.

use std::time::Instant;

/// Every workload: its name, and a function running it.
const WORKLOADS: [(&str, fn()); 4] = [
    ("ping_pong", ping_pong),
    ("queue", queue),
    ("queue_unbounded", queue_unbounded),
    ("queue_lockstep", queue_lockstep),
];

fn main() {
    let wanted: Vec<String> = std::env::args().skip(1).collect();
    for (name, run) in WORKLOADS {
        if wanted.is_empty() || wanted.iter().any(|w| w == name) {
            let start = Instant::now();
            run();
            println!("{name}: {:?}", start.elapsed());
        }
    }
}

/// 20 × the criterion group `ping_pong`: the library's own function
/// (`kettle_bench::ping_pong`), 1,000 pings each, on one runtime.
fn ping_pong() {
    let rt = kettle::Runtime::new().unwrap();
    for _ in 0..20 {
        assert_eq!(kettle_bench::ping_pong(&rt, 1_000), 1_000);
    }
}

/// The standard `queue` (4 producers × 100,000 items, bounded 128), the
/// library's own function: the same as `workloads queue`.
fn queue() {
    kettle_bench::queue(&kettle::Runtime::new().unwrap(), 4, 100_000, 128);
}

/// 4 producers × 100,000 items through an unbounded queue: no putter ever
/// waits, the consumer waits whenever it has drained the queue.
fn queue_unbounded() {
    kettle::Runtime::new().unwrap().block_on(async {
        let queue = kettle::sync::Queue::new();
        let consumer = kettle::spawn({
            let queue = queue.clone();
            async move {
                let mut received = 0_usize;
                while queue.get().await.is_some() {
                    received += 1;
                }
                received
            }
        });
        let producers: Vec<_> = (0..4)
            .map(|_| {
                let queue = queue.clone();
                kettle::spawn(async move {
                    for i in 0..100_000_usize {
                        queue.put(i).await.unwrap();
                        if i % 64 == 0 {
                            kettle::yield_now().await;
                        }
                    }
                })
            })
            .collect();
        for p in producers {
            p.await.unwrap();
        }
        queue.close();
        assert_eq!(consumer.await.unwrap(), 400_000);
    });
}

/// 1 producer × 200,000 items through a queue bounded to 1: every put and
/// every get waits, so each item is one hand-off each way.
fn queue_lockstep() {
    kettle::Runtime::new().unwrap().block_on(async {
        let queue = kettle::sync::Queue::bounded(1);
        let consumer = kettle::spawn({
            let queue = queue.clone();
            async move {
                let mut received = 0_usize;
                while queue.get().await.is_some() {
                    received += 1;
                }
                received
            }
        });
        for i in 0..200_000_usize {
            queue.put(i).await.unwrap();
        }
        queue.close();
        assert_eq!(consumer.await.unwrap(), 200_000);
    });
}
