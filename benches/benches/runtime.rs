//! kettle beside tokio's current-thread runtime, smol's single-threaded
//! stack, the floor (the same work with no runtime: `kettle_bench::floor`)
//! and kettle-mini (the simple version of kettle, `mini/`: what kettle's
//! shortcuts buy, PERFORMANCE.md), on the same workloads.
//!
//! Each workload is one criterion group, with one function per runtime —
//! `kettle`, `tokio`, `smol`, `floor`, `mini` — so the report plots them
//! together. The workloads and their columns are the suite
//! (`benches/peers/suite.rs`, its table says what each does), shared with
//! the timing loop behind `scripts/bench-table`, so both time the same
//! closures: kettle's and mini's are the library's `workloads!`, tokio's and
//! smol's are `benches/peers/`, the floor's is the library's `floor`.
//! `ping_pong` has no mini column (mini has no oneshot). The `watching`
//! group (debug mode, traces) is kettle's alone.
//!
//! Run with `cargo bench -p kettle-bench --bench runtime`; `cargo test -p
//! kettle-bench --benches` runs each once.

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

#[path = "../peers/smol.rs"]
mod on_smol;
#[path = "../peers/tokio.rs"]
mod on_tokio;
#[path = "../peers/suite.rs"]
mod suite;

/// Every workload of the suite, one group each, one function per column.
fn standard(c: &mut Criterion) {
    for mut workload in suite::suite() {
        let mut group = c.benchmark_group(workload.name);
        if let Some(n) = workload.sample_size {
            group.sample_size(n);
        }
        for column in &mut workload.columns {
            group.bench_function(column.runtime, |b| b.iter(&mut column.run));
        }
        group.finish();
    }
}

/// kettle's side of `yield_many`, what the `watching` group runs.
fn kettle_yield_many(rt: &kettle::Runtime) -> u64 {
    kettle_bench::yield_many(rt, 200, 1_000)
}

/// What seeing the loop costs: `yield_many` (200 × 1,000 polls) on a plain
/// runtime, in debug mode (every poll timed), and with a trace recording
/// (every poll timed and recorded, plus each turn's steps). kettle only:
/// tokio has no counterpart built in. The difference per poll is the cost
/// of one timed, recorded event (PERFORMANCE.md).
fn watching(c: &mut Criterion) {
    let mut group = c.benchmark_group("watching");
    let plain = kettle::Runtime::new().unwrap();
    group.bench_function("plain", |b| b.iter(|| kettle_yield_many(&plain)));
    let debug = kettle::Builder::new().slow_poll_threshold(Duration::from_secs(3600)).build().unwrap();
    group.bench_function("debug_mode", |b| b.iter(|| kettle_yield_many(&debug)));
    let traced = kettle::Builder::new().trace_capacity(1 << 20).build().unwrap();
    group.bench_function("traced", |b| {
        b.iter(|| {
            traced.start_trace();
            kettle_yield_many(&traced);
            traced.stop_trace()
        })
    });
    group.finish();
}

criterion_group!(benches, standard, watching);
criterion_main!(benches);
