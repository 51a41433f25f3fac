//! kettle and tokio side by side on the same workloads.
//!
//! Each workload is written once per runtime, in one criterion group, so the
//! report plots the two together. tokio runs its current-thread scheduler with
//! `enable_all()`: kettle always has its reactor and timers, so tokio gets its
//! drivers too. Run with `cargo bench`; `cargo test --benches` runs each once.

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// 10,000 tasks spawned from inside `block_on`, their handles awaited.
fn spawn_many(c: &mut Criterion) {
    const N: usize = 10_000;
    let mut group = c.benchmark_group("spawn_many");
    let rt = kettle::Runtime::new().unwrap();
    group.bench_function("kettle", |b| {
        b.iter(|| {
            rt.block_on(async {
                let handles: Vec<_> = (0..N).map(|i| kettle::spawn(async move { i })).collect();
                for h in handles {
                    h.await.unwrap();
                }
            })
        })
    });
    let rt = tokio_rt();
    group.bench_function("tokio", |b| {
        b.iter(|| {
            rt.block_on(async {
                let handles: Vec<_> = (0..N).map(|i| tokio::spawn(async move { i })).collect();
                for h in handles {
                    h.await.unwrap();
                }
            })
        })
    });
    group.finish();
}

/// 200 tasks × 1,000 `yield_now`.
fn yield_many(c: &mut Criterion) {
    const TASKS: usize = 200;
    const YIELDS: usize = 1_000;
    let mut group = c.benchmark_group("yield_many");
    let rt = kettle::Runtime::new().unwrap();
    group.bench_function("kettle", |b| {
        b.iter(|| {
            rt.block_on(async {
                let handles: Vec<_> = (0..TASKS)
                    .map(|_| {
                        kettle::spawn(async {
                            for _ in 0..YIELDS {
                                kettle::yield_now().await;
                            }
                        })
                    })
                    .collect();
                for h in handles {
                    h.await.unwrap();
                }
            })
        })
    });
    let rt = tokio_rt();
    group.bench_function("tokio", |b| {
        b.iter(|| {
            rt.block_on(async {
                let handles: Vec<_> = (0..TASKS)
                    .map(|_| {
                        tokio::spawn(async {
                            for _ in 0..YIELDS {
                                tokio::task::yield_now().await;
                            }
                        })
                    })
                    .collect();
                for h in handles {
                    h.await.unwrap();
                }
            })
        })
    });
    group.finish();
}

/// Each task spawns the next, 1,000 deep.
fn chained_spawn(c: &mut Criterion) {
    const DEPTH: usize = 1_000;
    fn kettle_chain(n: usize) -> kettle::JoinHandle<()> {
        kettle::spawn(async move {
            if n > 0 {
                kettle_chain(n - 1).await.unwrap();
            }
        })
    }
    fn tokio_chain(n: usize) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            if n > 0 {
                tokio_chain(n - 1).await.unwrap();
            }
        })
    }
    let mut group = c.benchmark_group("chained_spawn");
    let rt = kettle::Runtime::new().unwrap();
    group.bench_function("kettle", |b| b.iter(|| rt.block_on(async { kettle_chain(DEPTH).await.unwrap() })));
    let rt = tokio_rt();
    group.bench_function("tokio", |b| b.iter(|| rt.block_on(async { tokio_chain(DEPTH).await.unwrap() })));
    group.finish();
}

/// `timeout(1 s, future)` where the future is pending on its first poll and
/// ready on its second, so the timer really is inserted and then cancelled.
fn timeout_ready(c: &mut Criterion) {
    let mut group = c.benchmark_group("timeout_ready");
    let rt = kettle::Runtime::new().unwrap();
    group.bench_function("kettle", |b| {
        b.iter(|| {
            rt.block_on(async {
                kettle::timeout(Duration::from_secs(1), kettle::yield_now()).await.unwrap();
            })
        })
    });
    let rt = tokio_rt();
    group.bench_function("tokio", |b| {
        b.iter(|| {
            rt.block_on(async {
                tokio::time::timeout(Duration::from_secs(1), tokio::task::yield_now()).await.unwrap();
            })
        })
    });
    group.finish();
}

criterion_group!(benches, spawn_many, yield_many, chained_spawn, timeout_ready);
criterion_main!(benches);
