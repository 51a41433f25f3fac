//! The standard workloads, each run a fixed number of times: the driver
//! behind PERFORMANCE.md's instruction counts and the callgrind half of
//! `scripts/bench-table`. `NAME` runs kettle's, `mini/NAME` the same
//! workload on kettle-mini (`mini/`, kettle with every shortcut replaced by
//! its simple version), for "What the shortcuts buy"; `tokio/NAME`,
//! `smol/NAME` and `floor/NAME` run tokio's, smol's and the floor's versions
//! (`benches/peers/`, `kettle_bench::floor`), the same number of times.
//!
//! ```text
//! CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 CARGO_PROFILE_RELEASE_DEBUG=true cargo build --release -p kettle-bench --example workloads
//! valgrind --tool=callgrind --callgrind-out-file=cg.out target/release/examples/workloads chained_spawn
//! callgrind_annotate cg.out | head -40
//! ```
//!
//! Add `--toggle-collect='*counted_iterations*'` to count only the
//! workload's iterations (not the process's start-up, nor the runtime's
//! construction), as `scripts/bench-table` does; `workloads --list` prints
//! every name with its repetition count, to divide by.
//!
//! With no argument it runs every workload once and prints their names,
//! wall times and checksums (a smoke test: `cargo test -p kettle-bench
//! --all-targets` builds it). Each workload is the criterion group of the
//! same name in `benches/runtime.rs` — the same function, from this
//! package's library or `benches/peers/` — repeated as PERFORMANCE.md's
//! tables say (`spawn_remote`'s other thread is started once per run, as
//! criterion's is once); `timers` is the timer queue alone: 20,000 sleeps
//! and `call_at`s spread over a second, on a paused clock so that no run
//! waits in real time; and `debug_mode` and `traced` are one `yield_many`
//! while the loop times its polls (the `watching` group's). These three are
//! kettle's alone: mini has neither a paused clock nor `call_at`, debug mode
//! nor traces.

use std::sync::mpsc;
use std::time::{Duration, Instant};

#[path = "../peers/smol.rs"]
mod on_smol;
#[path = "../peers/tokio.rs"]
mod on_tokio;

/// A workload's driver: its name, how many times it runs the workload, and
/// the function that does so, returning the sum of the checksums.
type Driver = (&'static str, u32, fn() -> u64);

/// A driver under its full name (`NAME`, `tokio/NAME`, …).
type Named = (String, u32, fn() -> u64);

/// Every workload of every runtime, plus kettle's own three.
fn workloads() -> Vec<Named> {
    let prefixed = |prefix: &'static str, drivers: &[Driver]| -> Vec<Named> {
        drivers.iter().map(|&(name, reps, run)| (format!("{prefix}{name}"), reps, run)).collect()
    };
    let mut all = prefixed("", &on_kettle::ALL);
    all.push(("ping_pong".into(), reps::PING_PONG, ping_pong::kettle));
    all.extend(prefixed("mini/", &on_mini::ALL));
    all.extend(prefixed("tokio/", &via_tokio::ALL));
    all.push(("tokio/ping_pong".into(), reps::PING_PONG, ping_pong::tokio));
    all.extend(prefixed("smol/", &via_smol::ALL));
    all.push(("smol/ping_pong".into(), reps::PING_PONG, ping_pong::smol));
    all.extend(prefixed("floor/", &on_floor::ALL));
    all.push(("floor/ping_pong".into(), reps::PING_PONG, ping_pong::floor));
    all.push(("timers".into(), 1, timers));
    all.push(("debug_mode".into(), 1, debug_mode));
    all.push(("traced".into(), 1, traced));
    all
}

fn main() {
    let wanted: Vec<String> = std::env::args().skip(1).collect();
    if wanted.iter().any(|w| w == "--list") {
        for (name, reps, _) in workloads() {
            println!("{name} {reps}");
        }
        return;
    }
    let mut ran = 0;
    for (name, _, run) in workloads() {
        if wanted.is_empty() || wanted.contains(&name) {
            let start = Instant::now();
            let checksum = run();
            println!("{name}: {:?} (checksum {checksum})", start.elapsed());
            ran += 1;
        }
    }
    assert!(ran > 0 || wanted.is_empty(), "no workload is named {wanted:?}; `--list` lists them");
}

/// Runs `iteration` `reps` times and sums its checksums: the function
/// callgrind's `--toggle-collect='*counted_iterations*'` counts inside.
#[inline(never)]
fn counted_iterations(reps: u32, mut iteration: impl FnMut() -> u64) -> u64 {
    std::hint::black_box((0..reps).map(|_| iteration()).sum())
}

/// A job for `spawn_remote`'s other thread.
type Job = Box<dyn FnOnce() + Send>;

/// Another thread that runs the jobs it is sent: `spawn_remote`'s submitter.
fn submitter() -> (mpsc::Sender<Job>, std::thread::JoinHandle<()>) {
    let (jobs, rx) = mpsc::channel::<Job>();
    (jobs, std::thread::spawn(move || rx.into_iter().for_each(|job| job())))
}

/// How many times each driver runs its workload (the same on every runtime).
mod reps {
    pub const SPAWN_MANY: u32 = 20;
    pub const SPAWN_REMOTE: u32 = 10;
    pub const YIELD_MANY: u32 = 2;
    pub const CHAINED_SPAWN: u32 = 20;
    pub const TIMEOUT_READY: u32 = 20_000;
    pub const TIMEOUT_IMMEDIATE: u32 = 2_000;
    pub const SLEEP_SPREAD: u32 = 1;
    pub const QUEUE: u32 = 1;
    pub const TCP_ECHO: u32 = 1;
    pub const GATHER: u32 = 20;
    pub const PING_PONG: u32 = 20;
}

/// The shared workloads' drivers for a runtime made by `$new`, whose
/// workloads are the module `$lib`'s (`kettle_bench`, `kettle_bench::mini`,
/// `kettle_bench::floor`, `super::on_tokio`, `super::on_smol`: every one has
/// the same functions with the same signatures).
macro_rules! drivers {
    ($new:expr, $($lib:ident)::+) => {
        use $($lib)::+ as lib;
        use crate::reps;

        /// This runtime's drivers, by workload name.
        pub const ALL: [crate::Driver; 10] = [
            ("spawn_many", reps::SPAWN_MANY, spawn_many),
            ("spawn_remote", reps::SPAWN_REMOTE, spawn_remote),
            ("yield_many", reps::YIELD_MANY, yield_many),
            ("chained_spawn", reps::CHAINED_SPAWN, chained_spawn),
            ("timeout_ready", reps::TIMEOUT_READY, timeout_ready),
            ("timeout_immediate", reps::TIMEOUT_IMMEDIATE, timeout_immediate),
            ("sleep_spread", reps::SLEEP_SPREAD, sleep_spread),
            ("queue", reps::QUEUE, queue),
            ("tcp_echo", reps::TCP_ECHO, tcp_echo),
            ("gather", reps::GATHER, gather),
        ];

        /// 20 × 10,000 tasks spawned inside `block_on`, their handles awaited.
        pub fn spawn_many() -> u64 {
            let rt = $new;
            crate::counted_iterations(reps::SPAWN_MANY, || lib::spawn_many(&rt, 10_000))
        }

        /// 10 × 10,000 tasks spawned from another thread, awaited on the loop.
        pub fn spawn_remote() -> u64 {
            let rt = $new;
            let (jobs, thread) = crate::submitter();
            let submit = |job| jobs.send(job).unwrap();
            let sum = crate::counted_iterations(reps::SPAWN_REMOTE, || lib::spawn_remote(&rt, 10_000, submit));
            drop(jobs);
            thread.join().unwrap();
            sum
        }

        /// 2 × (200 tasks × 1,000 `yield_now`).
        pub fn yield_many() -> u64 {
            let rt = $new;
            crate::counted_iterations(reps::YIELD_MANY, || lib::yield_many(&rt, 200, 1_000))
        }

        /// 20 × a chain of 1,000 tasks, each spawning the next.
        pub fn chained_spawn() -> u64 {
            let rt = $new;
            crate::counted_iterations(reps::CHAINED_SPAWN, || lib::chained_spawn(&rt, 1_000))
        }

        /// 20,000 × `timeout(1 s, yield_now())`: a timer inserted and removed each.
        pub fn timeout_ready() -> u64 {
            let rt = $new;
            crate::counted_iterations(reps::TIMEOUT_READY, || lib::timeout_ready(&rt))
        }

        /// 2,000 × 100 `timeout(1 s, ready)`: no timer needed.
        pub fn timeout_immediate() -> u64 {
            let rt = $new;
            crate::counted_iterations(reps::TIMEOUT_IMMEDIATE, || lib::timeout_immediate(&rt, 100))
        }

        /// 10,000 tasks sleeping 1–10 ms (real time: at least 10 ms).
        pub fn sleep_spread() -> u64 {
            let rt = $new;
            crate::counted_iterations(reps::SLEEP_SPREAD, || lib::sleep_spread(&rt, 10_000))
        }

        /// 4 producers × 100,000 items through a queue bounded to 128.
        pub fn queue() -> u64 {
            let rt = $new;
            crate::counted_iterations(reps::QUEUE, || lib::queue(&rt, 4, 100_000, 128))
        }

        /// 8 loopback connections × 500 round trips of 512 bytes.
        pub fn tcp_echo() -> u64 {
            let rt = $new;
            crate::counted_iterations(reps::TCP_ECHO, || lib::tcp_echo(&rt, 8, 500))
        }

        /// 20 × `kettle::gather` over 10,000 futures that yield once.
        pub fn gather() -> u64 {
            let rt = $new;
            crate::counted_iterations(reps::GATHER, || lib::gather(&rt, 10_000))
        }
    };
}

mod on_kettle {
    drivers!(kettle::Runtime::new().unwrap(), kettle_bench);
}

mod on_mini {
    drivers!(kettle_mini::Runtime::new().unwrap(), kettle_bench::mini);
}

mod via_tokio {
    drivers!(super::on_tokio::runtime(), super::on_tokio);
}

mod via_smol {
    drivers!(super::on_smol::Smol, super::on_smol);
}

mod on_floor {
    drivers!(kettle_bench::floor::Floor, kettle_bench::floor);
}

/// 20 × 1,000 pings through two oneshots, on each runtime that has one.
mod ping_pong {
    use crate::reps::PING_PONG;

    pub fn kettle() -> u64 {
        let rt = kettle::Runtime::new().unwrap();
        crate::counted_iterations(PING_PONG, || kettle_bench::ping_pong(&rt, 1_000))
    }

    pub fn tokio() -> u64 {
        let rt = crate::on_tokio::runtime();
        crate::counted_iterations(PING_PONG, || crate::on_tokio::ping_pong(&rt, 1_000))
    }

    pub fn smol() -> u64 {
        crate::counted_iterations(PING_PONG, || crate::on_smol::ping_pong(&crate::on_smol::Smol, 1_000))
    }

    pub fn floor() -> u64 {
        crate::counted_iterations(PING_PONG, || {
            kettle_bench::floor::ping_pong(&kettle_bench::floor::Floor, 1_000)
        })
    }
}

/// One `yield_many` in debug mode (every poll timed, none reported).
fn debug_mode() -> u64 {
    let rt = kettle::Builder::new().slow_poll_threshold(Duration::from_secs(3600)).build().unwrap();
    counted_iterations(1, || kettle_bench::yield_many(&rt, 200, 1_000))
}

/// One `yield_many` while a trace records (every poll timed and recorded).
fn traced() -> u64 {
    let rt = kettle::Runtime::new().unwrap();
    counted_iterations(1, || {
        rt.start_trace();
        let checksum = kettle_bench::yield_many(&rt, 200, 1_000);
        drop(rt.stop_trace());
        checksum
    })
}

/// 10,000 sleeping tasks and 10,000 `call_at` callbacks, deadlines spread
/// over a second (many shared), on a paused clock: the timer queue's
/// inserts, removals and pops, with no real waiting.
fn timers() -> u64 {
    let rt = kettle::Builder::new().start_paused(true).build().unwrap();
    counted_iterations(1, || {
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
            fired.get()
        })
    })
}
