//! The standard workloads, each run a fixed number of times: the driver
//! behind PERFORMANCE.md's instruction counts. `NAME` runs kettle's,
//! `mini/NAME` the same workload on kettle-mini (`mini/`, kettle with every
//! shortcut replaced by its simple version), for "What the shortcuts buy".
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
//! repeated as PERFORMANCE.md's tables say (`spawn_remote`'s other thread is
//! started once per run, as criterion's is once per group); `timers`
//! is the timer queue alone: 20,000 sleeps and `call_at`s spread over a
//! second, on a paused clock so that no run waits in real time; and
//! `debug_mode` and `traced` are one `yield_many` while the loop times its
//! polls (the `watching` group's). These three are kettle's alone: mini has
//! neither a paused clock nor `call_at`, debug mode nor traces.

use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Every workload: its name, and a function running it the set number of times.
const WORKLOADS: [(&str, fn()); 21] = [
    ("spawn_many", on_kettle::spawn_many),
    ("spawn_remote", on_kettle::spawn_remote),
    ("yield_many", on_kettle::yield_many),
    ("chained_spawn", on_kettle::chained_spawn),
    ("timeout_ready", on_kettle::timeout_ready),
    ("timeout_immediate", on_kettle::timeout_immediate),
    ("sleep_spread", on_kettle::sleep_spread),
    ("queue", on_kettle::queue),
    ("tcp_echo", on_kettle::tcp_echo),
    ("mini/spawn_many", on_mini::spawn_many),
    ("mini/spawn_remote", on_mini::spawn_remote),
    ("mini/yield_many", on_mini::yield_many),
    ("mini/chained_spawn", on_mini::chained_spawn),
    ("mini/timeout_ready", on_mini::timeout_ready),
    ("mini/timeout_immediate", on_mini::timeout_immediate),
    ("mini/sleep_spread", on_mini::sleep_spread),
    ("mini/queue", on_mini::queue),
    ("mini/tcp_echo", on_mini::tcp_echo),
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

/// A job for `spawn_remote`'s other thread.
type Job = Box<dyn FnOnce() + Send>;

/// Another thread that runs the jobs it is sent: `spawn_remote`'s submitter.
fn submitter() -> (mpsc::Sender<Job>, std::thread::JoinHandle<()>) {
    let (jobs, rx) = mpsc::channel::<Job>();
    (jobs, std::thread::spawn(move || rx.into_iter().for_each(|job| job())))
}

/// The shared workloads' drivers for the runtime crate `$rt`, whose
/// workloads are `$lib`'s (`kettle_bench` or `kettle_bench::mini`).
macro_rules! drivers {
    ($rt:ident, $($lib:ident)::+) => {
        use $($lib)::+ as lib;

        /// 20 × 10,000 tasks spawned inside `block_on`, their handles awaited.
        pub fn spawn_many() {
            let rt = ::$rt::Runtime::new().unwrap();
            for _ in 0..20 {
                lib::spawn_many(&rt, 10_000);
            }
        }

        /// 10 × 10,000 tasks spawned from another thread, awaited on the loop.
        pub fn spawn_remote() {
            let rt = ::$rt::Runtime::new().unwrap();
            let (jobs, thread) = crate::submitter();
            for _ in 0..10 {
                lib::spawn_remote(&rt, 10_000, |job| jobs.send(job).unwrap());
            }
            drop(jobs);
            thread.join().unwrap();
        }

        /// 2 × (200 tasks × 1,000 `yield_now`).
        pub fn yield_many() {
            let rt = ::$rt::Runtime::new().unwrap();
            for _ in 0..2 {
                lib::yield_many(&rt, 200, 1_000);
            }
        }

        /// 20 × a chain of 1,000 tasks, each spawning the next.
        pub fn chained_spawn() {
            let rt = ::$rt::Runtime::new().unwrap();
            for _ in 0..20 {
                lib::chained_spawn(&rt, 1_000);
            }
        }

        /// 20,000 × `timeout(1 s, yield_now())`: a timer inserted and removed each.
        pub fn timeout_ready() {
            let rt = ::$rt::Runtime::new().unwrap();
            for _ in 0..20_000 {
                lib::timeout_ready(&rt);
            }
        }

        /// 2,000 × 100 `timeout(1 s, ready)`: no timer needed.
        pub fn timeout_immediate() {
            let rt = ::$rt::Runtime::new().unwrap();
            for _ in 0..2_000 {
                lib::timeout_immediate(&rt, 100);
            }
        }

        /// 10,000 tasks sleeping 1–10 ms (real time: at least 10 ms).
        pub fn sleep_spread() {
            lib::sleep_spread(&::$rt::Runtime::new().unwrap(), 10_000);
        }

        /// 4 producers × 100,000 items through a queue bounded to 128.
        pub fn queue() {
            lib::queue(&::$rt::Runtime::new().unwrap(), 4, 100_000, 128);
        }

        /// 8 loopback connections × 500 round trips of 512 bytes.
        pub fn tcp_echo() {
            lib::tcp_echo(&::$rt::Runtime::new().unwrap(), 8, 500);
        }
    };
}

mod on_kettle {
    drivers!(kettle, kettle_bench);
}

mod on_mini {
    drivers!(kettle_mini, kettle_bench::mini);
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
