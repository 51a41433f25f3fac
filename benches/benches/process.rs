//! Child processes, kettle against tokio: 1,000 children of `true`, all
//! spawned, then all waited for, on one current-thread loop. kettle waits
//! on a pidfd per child on its reactor; tokio::process as tokio does it
//! (a pidfd per child where the kernel has them, else SIGCHLD). Most of the
//! time is the kernel's: fork/exec and exit of 1,000 processes. Run with
//! `cargo bench -p kettle-bench --bench process`.

use criterion::{Criterion, criterion_group, criterion_main};

const N: usize = 1_000;

fn spawn_and_wait(c: &mut Criterion) {
    let mut group = c.benchmark_group("process_true_1000");
    group.sample_size(20);
    let rt = kettle::Runtime::new().unwrap();
    group.bench_function("kettle", |b| {
        b.iter(|| {
            rt.block_on(async {
                let children: Vec<_> =
                    (0..N).map(|_| kettle::process::Command::new("true").spawn().unwrap()).collect();
                for mut child in children {
                    assert!(child.wait().await.unwrap().success());
                }
            })
        })
    });
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    group.bench_function("tokio", |b| {
        b.iter(|| {
            rt.block_on(async {
                let children: Vec<_> =
                    (0..N).map(|_| tokio::process::Command::new("true").spawn().unwrap()).collect();
                for mut child in children {
                    assert!(child.wait().await.unwrap().success());
                }
            })
        })
    });
    group.finish();
}

criterion_group!(benches, spawn_and_wait);
criterion_main!(benches);
