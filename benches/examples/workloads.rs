//! The standard workloads, kettle only, each run a fixed number of times:
//! the driver behind PERFORMANCE.md's instruction counts.
//!
//! ```text
//! CARGO_PROFILE_RELEASE_DEBUG=true cargo build --release -p kettle-bench --example workloads
//! valgrind --tool=callgrind --callgrind-out-file=cg.out target/release/examples/workloads chained_spawn
//! callgrind_annotate cg.out | head -40
//! ```
//!
//! With no argument it runs every workload once and prints their names and
//! wall times (a smoke test: `cargo test -p kettle-bench --all-targets`
//! builds it). Each workload is the criterion group of the same name in
//! `benches/runtime.rs` — the same function, from this package's library —
//! repeated as PERFORMANCE.md's tables say; `timers`
//! is the timer queue alone: 20,000 sleeps and `call_at`s spread over a
//! second, on a paused clock so that no run waits in real time; and
//! `debug_mode` and `traced` are one `yield_many` while the loop times its
//! polls (the `watching` group's).

use std::time::{Duration, Instant};

/// Every workload: its name, and a function running it the set number of times.
const WORKLOADS: [(&str, fn()); 9] = [
    ("spawn_many", spawn_many),
    ("yield_many", yield_many),
    ("chained_spawn", chained_spawn),
    ("timeout_ready", timeout_ready),
    ("queue", queue),
    ("tcp_echo", tcp_echo),
    ("timers", timers),
    ("debug_mode", debug_mode),
    ("traced", traced),
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

/// 20 × 10,000 tasks spawned inside `block_on`, their handles awaited.
fn spawn_many() {
    let rt = kettle::Runtime::new().unwrap();
    for _ in 0..20 {
        kettle_bench::spawn_many(&rt, 10_000);
    }
}

/// 2 × (200 tasks × 1,000 `yield_now`).
fn yield_many() {
    let rt = kettle::Runtime::new().unwrap();
    for _ in 0..2 {
        kettle_bench::yield_many(&rt, 200, 1_000);
    }
}

/// One `yield_many` in debug mode (every poll timed, none reported).
fn debug_mode() {
    let rt = kettle::Builder::new().slow_poll_threshold(Duration::from_secs(3600)).build().unwrap();
    kettle_bench::yield_many(&rt, 200, 1_000);
}

/// One `yield_many` while a trace records (every poll timed and recorded).
fn traced() {
    let rt = kettle::Runtime::new().unwrap();
    rt.start_trace();
    kettle_bench::yield_many(&rt, 200, 1_000);
    drop(rt.stop_trace());
}

/// 20 × a chain of 1,000 tasks, each spawning the next.
fn chained_spawn() {
    let rt = kettle::Runtime::new().unwrap();
    for _ in 0..20 {
        kettle_bench::chained_spawn(&rt, 1_000);
    }
}

/// 20,000 × `timeout(1 s, yield_now())`: a timer inserted and removed each.
fn timeout_ready() {
    let rt = kettle::Runtime::new().unwrap();
    for _ in 0..20_000 {
        kettle_bench::timeout_ready(&rt);
    }
}

/// 4 producers × 100,000 items through a queue bounded to 128.
fn queue() {
    kettle_bench::queue(&kettle::Runtime::new().unwrap(), 4, 100_000, 128);
}

/// 8 loopback connections × 500 round trips of 512 bytes.
fn tcp_echo() {
    kettle_bench::tcp_echo(&kettle::Runtime::new().unwrap(), 8, 500);
}

/// 10,000 sleeping tasks and 10,000 `call_at` callbacks, deadlines spread
/// over a second (many shared), on a paused clock: the timer queue's
/// inserts, removals and pops, with no real waiting.
fn timers() {
    let rt = kettle::Builder::new().start_paused(true).build().unwrap();
    rt.block_on(async {
        let start = kettle::time::now();
        let spread = |i: u64| Duration::from_micros((i * 7_919) % 1_000_000);
        let fired = std::rc::Rc::new(std::cell::Cell::new(0));
        for i in 0..10_000 {
            let fired = fired.clone();
            kettle::call_at(start + spread(i), move || fired.set(fired.get() + 1));
        }
        let sleepers: Vec<_> =
            (0..10_000).map(|i| kettle::spawn(kettle::sleep_until(start + spread(i)))).collect();
        for s in sleepers {
            s.await.unwrap();
        }
        kettle::sleep(Duration::from_secs(1)).await;
        assert_eq!(fired.get(), 10_000);
    });
}
