//! `kettle::fs` and `tokio::fs` side by side (PERFORMANCE.md, "Files").
//! Both wait on a blocking pool; what differs is what a trip costs (kettle:
//! a job and a oneshot, no task; tokio: a blocking task) and how a `File`
//! buffers.
//!
//! | group           | workload                                                         |
//! |-----------------|------------------------------------------------------------------|
//! | `fs_read_1000`  | `fs::read` of 1,000 files of 1 KiB, one after the other          |
//! | `fs_read_1000_concurrent` | the same, 1,000 tasks at once                           |
//! | `fs_copy_64mib` | a 64 MiB file copied with a `File` read/write loop, 64 KiB chunks, then flushed |
//!
//! Each runtime is built once per group (tokio's current-thread scheduler
//! with `enable_all()`); the files are written once, before the groups, so
//! both sides read from the page cache.

use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

const SMALL_FILES: usize = 1000;
const COPY_LEN: usize = 64 * 1024 * 1024;
const CHUNK: usize = 64 * 1024;

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// A directory of scratch files for the benchmarks, removed at the end.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        let dir = std::env::temp_dir().join(format!("kettle-bench-fs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("small")).unwrap();
        for i in 0..SMALL_FILES {
            std::fs::write(dir.join("small").join(i.to_string()), vec![i as u8; 1024]).unwrap();
        }
        std::fs::write(dir.join("big"), vec![7u8; COPY_LEN]).unwrap();
        Scratch(dir)
    }

    fn small(&self) -> Vec<PathBuf> {
        (0..SMALL_FILES).map(|i| self.0.join("small").join(i.to_string())).collect()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn fs_read_1000(c: &mut Criterion, scratch: &Scratch) {
    let paths = scratch.small();
    let mut group = c.benchmark_group("fs_read_1000");
    let rt = kettle::Runtime::new().unwrap();
    group.bench_function("kettle", |b| {
        b.iter(|| {
            rt.block_on(async {
                for path in &paths {
                    assert_eq!(kettle::fs::read(path).await.unwrap().len(), 1024);
                }
            })
        })
    });
    let rt = tokio_rt();
    group.bench_function("tokio", |b| {
        b.iter(|| {
            rt.block_on(async {
                for path in &paths {
                    assert_eq!(tokio::fs::read(path).await.unwrap().len(), 1024);
                }
            })
        })
    });
    group.finish();
}

fn fs_read_1000_concurrent(c: &mut Criterion, scratch: &Scratch) {
    let paths = scratch.small();
    let mut group = c.benchmark_group("fs_read_1000_concurrent");
    let rt = kettle::Runtime::new().unwrap();
    group.bench_function("kettle", |b| {
        b.iter(|| {
            rt.block_on(async {
                let reads: Vec<_> =
                    paths.iter().cloned().map(|p| kettle::spawn(kettle::fs::read(p))).collect();
                for read in reads {
                    assert_eq!(read.await.unwrap().unwrap().len(), 1024);
                }
            })
        })
    });
    let rt = tokio_rt();
    group.bench_function("tokio", |b| {
        b.iter(|| {
            rt.block_on(async {
                let reads: Vec<_> = paths.iter().cloned().map(|p| tokio::spawn(tokio::fs::read(p))).collect();
                for read in reads {
                    assert_eq!(read.await.unwrap().unwrap().len(), 1024);
                }
            })
        })
    });
    group.finish();
}

async fn kettle_copy(from: &Path, to: &Path) -> u64 {
    let mut src = kettle::fs::File::open(from).await.unwrap();
    let mut dst = kettle::fs::File::create(to).await.unwrap();
    let mut buf = vec![0; CHUNK];
    let mut total = 0;
    loop {
        let n = src.read(&mut buf).await.unwrap();
        if n == 0 {
            break;
        }
        dst.write_all(&buf[..n]).await.unwrap();
        total += n as u64;
    }
    dst.flush().await.unwrap();
    total
}

async fn tokio_copy(from: &Path, to: &Path) -> u64 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut src = tokio::fs::File::open(from).await.unwrap();
    let mut dst = tokio::fs::File::create(to).await.unwrap();
    let mut buf = vec![0; CHUNK];
    let mut total = 0;
    loop {
        let n = src.read(&mut buf).await.unwrap();
        if n == 0 {
            break;
        }
        dst.write_all(&buf[..n]).await.unwrap();
        total += n as u64;
    }
    dst.flush().await.unwrap();
    total
}

fn fs_copy_64mib(c: &mut Criterion, scratch: &Scratch) {
    let (from, to) = (scratch.0.join("big"), scratch.0.join("copy"));
    let mut group = c.benchmark_group("fs_copy_64mib");
    group.sample_size(10).measurement_time(Duration::from_secs(10));
    let rt = kettle::Runtime::new().unwrap();
    group.bench_function("kettle", |b| {
        b.iter(|| assert_eq!(rt.block_on(kettle_copy(&from, &to)), COPY_LEN as u64))
    });
    let rt = tokio_rt();
    group.bench_function("tokio", |b| {
        b.iter(|| assert_eq!(rt.block_on(tokio_copy(&from, &to)), COPY_LEN as u64))
    });
    group.finish();
}

fn files(c: &mut Criterion) {
    let scratch = Scratch::new();
    fs_read_1000(c, &scratch);
    fs_read_1000_concurrent(c, &scratch);
    fs_copy_64mib(c, &scratch);
}

criterion_group!(benches, files);
criterion_main!(benches);
