//! kettle and tokio side by side on the same workloads — and kettle-mini, the
//! simple version of kettle (`mini/`), as a third column where it has what the
//! workload needs: what kettle's shortcuts buy (PERFORMANCE.md).
//!
//! Each workload is written once per runtime, in one criterion group, so the
//! report plots them together; kettle's and mini's are the same source, the
//! library's `workloads!` (`kettle_bench::…` and `kettle_bench::mini::…`).
//! `ping_pong` (kettle's `oneshot`) and `watching` (debug mode, traces) have
//! no mini column: mini has neither. tokio runs its current-thread scheduler with
//! `enable_all()`: kettle always has its reactor and timers, so tokio gets its
//! drivers too. Run with `cargo bench -p kettle-bench`; `cargo test -p kettle-bench --benches` runs each once;
//! `scripts/bench-table` runs the suite in `--quick` mode and prints a table.
//!
//! | group           | workload                                                          |
//! |-----------------|-------------------------------------------------------------------|
//! | `spawn_many`    | 10,000 tasks spawned inside `block_on`, handles awaited           |
//! | `spawn_remote`  | 10,000 tasks spawned from another thread through a `Handle`       |
//! | `yield_many`    | 200 tasks × 1,000 `yield_now`                                     |
//! | `ping_pong`     | 1,000 pings, each a pair of tasks exchanging through two oneshots |
//! | `chained_spawn` | each task spawns the next, 1,000 deep                             |
//! | `timeout_ready` | `timeout(1 s, f)`, `f` pending once: a timer set and cancelled    |
//! | `timeout_immediate` | 100 × `timeout(1 s, f)`, `f` ready at once: no timer needed   |
//! | `sleep_spread`  | 10,000 sleeping tasks, deadlines spread over 1–10 ms              |
//! | `queue`         | 4 producers × 100,000 items through a bounded(128) queue          |
//! | `gather`        | `kettle::gather` over 10,000 futures that yield once              |
//! | `tcp_echo`      | 32 loopback connections × 1,000 round trips of 512 bytes          |
//! | `watching`      | kettle alone: `yield_many` plain, in debug mode, and traced       |

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use kettle_bench::spread;

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// 10,000 tasks spawned from inside `block_on`, their handles awaited.
fn spawn_many(c: &mut Criterion) {
    const N: usize = 10_000;
    let mut group = c.benchmark_group("spawn_many");
    let rt = kettle::Runtime::new().unwrap();
    group.bench_function("kettle", |b| b.iter(|| kettle_bench::spawn_many(&rt, N)));
    let rt = kettle_mini::Runtime::new().unwrap();
    group.bench_function("mini", |b| b.iter(|| kettle_bench::mini::spawn_many(&rt, N)));
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

/// A thread outside the runtime that runs the jobs it is sent, one after the
/// other: the "other thread" of `spawn_remote`. It is started once per group
/// and fed through a channel, so thread creation stays out of the timings.
struct Submitter {
    jobs: Option<mpsc::Sender<Box<dyn FnOnce() + Send>>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Submitter {
    fn new() -> Submitter {
        let (jobs, rx) = mpsc::channel::<Box<dyn FnOnce() + Send>>();
        let thread = thread::spawn(move || {
            for job in rx {
                job();
            }
        });
        Submitter { jobs: Some(jobs), thread: Some(thread) }
    }

    fn submit(&self, job: impl FnOnce() + Send + 'static) {
        self.jobs.as_ref().unwrap().send(Box::new(job)).unwrap();
    }
}

impl Drop for Submitter {
    fn drop(&mut self) {
        drop(self.jobs.take());
        self.thread.take().unwrap().join().unwrap();
    }
}

/// 10,000 tasks submitted from another thread to a loop that is idle (blocked
/// in `block_on`, waiting for a oneshot): the submitter spawns them all
/// through the runtime's `Handle`, then sends the join handles back through
/// the oneshot, and the loop awaits every one. The tasks start running while
/// the submitter is still submitting, as they would in a real program.
/// kettle and mini share the library's `spawn_remote`, whose oneshot is the
/// library's own (mini has no `kettle::sync::oneshot`); tokio uses its own.
fn spawn_remote(c: &mut Criterion) {
    const N: usize = 10_000;
    let mut group = c.benchmark_group("spawn_remote");
    let submitter = Submitter::new();
    let rt = kettle::Runtime::new().unwrap();
    group.bench_function("kettle", |b| {
        b.iter(|| kettle_bench::spawn_remote(&rt, N, |job| submitter.submit(job)))
    });
    let rt = kettle_mini::Runtime::new().unwrap();
    group.bench_function("mini", |b| {
        b.iter(|| kettle_bench::mini::spawn_remote(&rt, N, |job| submitter.submit(job)))
    });
    let rt = tokio_rt();
    let handle = rt.handle().clone();
    group.bench_function("tokio", |b| {
        b.iter(|| {
            rt.block_on(async {
                let (tx, rx) = tokio::sync::oneshot::channel();
                let handle = handle.clone();
                submitter.submit(move || {
                    let handles: Vec<_> = (0..N).map(|i| handle.spawn(async move { i })).collect();
                    tx.send(handles).ok().unwrap();
                });
                for h in rx.await.unwrap() {
                    h.await.unwrap();
                }
            })
        })
    });
    group.finish();
}

const YIELD_TASKS: usize = 200;
const YIELDS: usize = 1_000;

/// kettle's side of `yield_many`, also what the `watching` group runs.
fn kettle_yield_many(rt: &kettle::Runtime) {
    kettle_bench::yield_many(rt, YIELD_TASKS, YIELDS);
}

/// 200 tasks × 1,000 `yield_now`.
fn yield_many(c: &mut Criterion) {
    let mut group = c.benchmark_group("yield_many");
    let rt = kettle::Runtime::new().unwrap();
    group.bench_function("kettle", |b| b.iter(|| kettle_yield_many(&rt)));
    let rt = kettle_mini::Runtime::new().unwrap();
    group.bench_function("mini", |b| b.iter(|| kettle_bench::mini::yield_many(&rt, YIELD_TASKS, YIELDS)));
    let rt = tokio_rt();
    group.bench_function("tokio", |b| {
        b.iter(|| {
            rt.block_on(async {
                let handles: Vec<_> = (0..YIELD_TASKS)
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

/// 1,000 pings: each ping task creates two oneshots, spawns its pong task,
/// sends on the first and awaits the answer on the second; the pong task
/// awaits the first and answers on the second. All pings run concurrently.
fn ping_pong(c: &mut Criterion) {
    const PINGS: usize = 1_000;
    let mut group = c.benchmark_group("ping_pong");
    let rt = kettle::Runtime::new().unwrap();
    group.bench_function("kettle", |b| {
        b.iter(|| {
            rt.block_on(async {
                let pings: Vec<_> = (0..PINGS)
                    .map(|_| {
                        kettle::spawn(async {
                            let (ping_tx, ping_rx) = kettle::sync::oneshot::channel::<()>();
                            let (pong_tx, pong_rx) = kettle::sync::oneshot::channel::<()>();
                            let pong = kettle::spawn(async move {
                                ping_rx.await.unwrap();
                                pong_tx.send(()).unwrap();
                            });
                            ping_tx.send(()).unwrap();
                            pong_rx.await.unwrap();
                            pong.await.unwrap();
                        })
                    })
                    .collect();
                for ping in pings {
                    ping.await.unwrap();
                }
            })
        })
    });
    let rt = tokio_rt();
    group.bench_function("tokio", |b| {
        b.iter(|| {
            rt.block_on(async {
                let pings: Vec<_> = (0..PINGS)
                    .map(|_| {
                        tokio::spawn(async {
                            let (ping_tx, ping_rx) = tokio::sync::oneshot::channel::<()>();
                            let (pong_tx, pong_rx) = tokio::sync::oneshot::channel::<()>();
                            let pong = tokio::spawn(async move {
                                ping_rx.await.unwrap();
                                pong_tx.send(()).unwrap();
                            });
                            ping_tx.send(()).unwrap();
                            pong_rx.await.unwrap();
                            pong.await.unwrap();
                        })
                    })
                    .collect();
                for ping in pings {
                    ping.await.unwrap();
                }
            })
        })
    });
    group.finish();
}

/// Each task spawns the next, 1,000 deep.
fn chained_spawn(c: &mut Criterion) {
    const DEPTH: usize = 1_000;
    fn tokio_chain(n: usize) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            if n > 0 {
                tokio_chain(n - 1).await.unwrap();
            }
        })
    }
    let mut group = c.benchmark_group("chained_spawn");
    let rt = kettle::Runtime::new().unwrap();
    group.bench_function("kettle", |b| b.iter(|| kettle_bench::chained_spawn(&rt, DEPTH)));
    let rt = kettle_mini::Runtime::new().unwrap();
    group.bench_function("mini", |b| b.iter(|| kettle_bench::mini::chained_spawn(&rt, DEPTH)));
    let rt = tokio_rt();
    group.bench_function("tokio", |b| b.iter(|| rt.block_on(async { tokio_chain(DEPTH).await.unwrap() })));
    group.finish();
}

/// `timeout(1 s, future)` where the future is pending on its first poll and
/// ready on its second, so the timer really is inserted and then cancelled.
fn timeout_ready(c: &mut Criterion) {
    let mut group = c.benchmark_group("timeout_ready");
    let rt = kettle::Runtime::new().unwrap();
    group.bench_function("kettle", |b| b.iter(|| kettle_bench::timeout_ready(&rt)));
    let rt = kettle_mini::Runtime::new().unwrap();
    group.bench_function("mini", |b| b.iter(|| kettle_bench::mini::timeout_ready(&rt)));
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

/// 100 `timeout(1 s, f)` per `block_on`, `f` ready at its first poll — the
/// commonest case (a read that has data, a lock that is free): no timer
/// should be set, and no clock read.
fn timeout_immediate(c: &mut Criterion) {
    const N: u32 = 100;
    let mut group = c.benchmark_group("timeout_immediate");
    let rt = kettle::Runtime::new().unwrap();
    group.bench_function("kettle", |b| b.iter(|| kettle_bench::timeout_immediate(&rt, N)));
    let rt = kettle_mini::Runtime::new().unwrap();
    group.bench_function("mini", |b| b.iter(|| kettle_bench::mini::timeout_immediate(&rt, N)));
    let rt = tokio_rt();
    group.bench_function("tokio", |b| {
        b.iter(|| {
            rt.block_on(async {
                for i in 0..N {
                    let v =
                        tokio::time::timeout(Duration::from_secs(1), std::future::ready(i)).await.unwrap();
                    std::hint::black_box(v);
                }
            })
        })
    });
    group.finish();
}

/// 10,000 tasks, each sleeping 1 ms + (i mod 9,000) µs, all awaited. An
/// iteration lasts at least 10 ms whatever the runtime; what differs is the
/// overhead on top (timer inserts, expiries, wake-ups) and the lateness of the
/// last deadline.
fn sleep_spread(c: &mut Criterion) {
    const N: usize = 10_000;
    let mut group = c.benchmark_group("sleep_spread");
    group.sample_size(10);
    let rt = kettle::Runtime::new().unwrap();
    group.bench_function("kettle", |b| b.iter(|| kettle_bench::sleep_spread(&rt, N)));
    let rt = kettle_mini::Runtime::new().unwrap();
    group.bench_function("mini", |b| b.iter(|| kettle_bench::mini::sleep_spread(&rt, N)));
    let rt = tokio_rt();
    group.bench_function("tokio", |b| {
        b.iter(|| {
            rt.block_on(async {
                let sleepers: Vec<_> = (0..N).map(|i| tokio::spawn(tokio::time::sleep(spread(i)))).collect();
                for s in sleepers {
                    s.await.unwrap();
                }
            })
        })
    });
    group.finish();
}

/// 4 producer tasks × 100,000 items through a queue bounded to 128, drained by
/// one consumer task. kettle: `sync::Queue::bounded(128)`, closed once every
/// producer has finished, so the consumer's `get` returns `None` after the
/// last item. tokio: `sync::mpsc::channel(128)`, which ends when the last
/// sender (each producer owns one) is dropped. Note: tokio's channel is
/// thread-safe (atomics), kettle's queue is `Rc<RefCell<_>>`; tokio has no
/// single-threaded bounded channel to put against it.
fn queue(c: &mut Criterion) {
    const PRODUCERS: usize = 4;
    const ITEMS: usize = 100_000;
    const CAPACITY: usize = 128;
    let mut group = c.benchmark_group("queue");
    group.sample_size(10);
    let rt = kettle::Runtime::new().unwrap();
    group.bench_function("kettle", |b| b.iter(|| kettle_bench::queue(&rt, PRODUCERS, ITEMS, CAPACITY)));
    let rt = kettle_mini::Runtime::new().unwrap();
    group.bench_function("mini", |b| b.iter(|| kettle_bench::mini::queue(&rt, PRODUCERS, ITEMS, CAPACITY)));
    let rt = tokio_rt();
    group.bench_function("tokio", |b| {
        b.iter(|| {
            rt.block_on(async {
                let (tx, mut rx) = tokio::sync::mpsc::channel(CAPACITY);
                let consumer = tokio::spawn(async move {
                    let mut received = 0;
                    while rx.recv().await.is_some() {
                        received += 1;
                    }
                    received
                });
                let producers: Vec<_> = (0..PRODUCERS)
                    .map(|_| {
                        let tx = tx.clone();
                        tokio::spawn(async move {
                            for i in 0..ITEMS {
                                tx.send(i).await.unwrap();
                            }
                        })
                    })
                    .collect();
                drop(tx);
                for p in producers {
                    p.await.unwrap();
                }
                assert_eq!(consumer.await.unwrap(), PRODUCERS * ITEMS);
            })
        })
    });
    group.finish();
}

/// 10,000 futures that each yield once, gathered in one future (the one
/// `block_on` runs). tokio has no `gather`, and `kettle::gather` is
/// executor-agnostic — plain futures, std wakers, nothing kettle-specific — so
/// both sides use the same combinator: kettle's over `kettle::yield_now()`,
/// tokio's over `tokio::task::yield_now()`. This compares how each runtime
/// handles 10,000 wake-ups of one task, under one combinator; it does not
/// compare against `futures::future::join_all` or a `JoinSet`.
fn gather(c: &mut Criterion) {
    const N: usize = 10_000;
    let mut group = c.benchmark_group("gather");
    let rt = kettle::Runtime::new().unwrap();
    group.bench_function("kettle", |b| {
        b.iter(|| rt.block_on(kettle::gather((0..N).map(|_| kettle::yield_now()))).len())
    });
    let rt = kettle_mini::Runtime::new().unwrap();
    group.bench_function("mini", |b| {
        b.iter(|| rt.block_on(kettle::gather((0..N).map(|_| kettle_mini::yield_now()))).len())
    });
    let rt = tokio_rt();
    group.bench_function("tokio", |b| {
        b.iter(|| rt.block_on(kettle::gather((0..N).map(|_| tokio::task::yield_now()))).len())
    });
    group.finish();
}

const CONNECTIONS: usize = 32;
const ROUND_TRIPS: usize = 1_000;
const MESSAGE: usize = 512;

/// 32 loopback connections × 1,000 round trips of 512 bytes. Per iteration: a
/// listener on 127.0.0.1:0, an acceptor task that spawns one echo task per
/// connection (read up to 512 bytes, write them back, until EOF), and 32
/// client tasks that connect and then, 1,000 times, `write_all` 512 bytes and
/// `read_exact` 512. `TCP_NODELAY` on both ends. All on the one loop thread.
fn tcp_echo(c: &mut Criterion) {
    let mut group = c.benchmark_group("tcp_echo");
    group.sample_size(10);
    let rt = kettle::Runtime::new().unwrap();
    group.bench_function("kettle", |b| b.iter(|| kettle_bench::tcp_echo(&rt, CONNECTIONS, ROUND_TRIPS)));
    let rt = kettle_mini::Runtime::new().unwrap();
    group.bench_function("mini", |b| b.iter(|| kettle_bench::mini::tcp_echo(&rt, CONNECTIONS, ROUND_TRIPS)));
    let rt = tokio_rt();
    group.bench_function("tokio", |b| {
        b.iter(|| {
            rt.block_on(async {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                use tokio::net::{TcpListener, TcpStream};
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let server = tokio::spawn(async move {
                    let mut echoes = Vec::with_capacity(CONNECTIONS);
                    for _ in 0..CONNECTIONS {
                        let (mut stream, _) = listener.accept().await.unwrap();
                        stream.set_nodelay(true).unwrap();
                        echoes.push(tokio::spawn(async move {
                            let mut buf = [0; MESSAGE];
                            loop {
                                let n = stream.read(&mut buf).await.unwrap();
                                if n == 0 {
                                    break;
                                }
                                stream.write_all(&buf[..n]).await.unwrap();
                            }
                        }));
                    }
                    for echo in echoes {
                        echo.await.unwrap();
                    }
                });
                let clients: Vec<_> = (0..CONNECTIONS)
                    .map(|_| {
                        tokio::spawn(async move {
                            let mut stream = TcpStream::connect(addr).await.unwrap();
                            stream.set_nodelay(true).unwrap();
                            let out = [7; MESSAGE];
                            let mut back = [0; MESSAGE];
                            for _ in 0..ROUND_TRIPS {
                                stream.write_all(&out).await.unwrap();
                                stream.read_exact(&mut back).await.unwrap();
                            }
                        })
                    })
                    .collect();
                for client in clients {
                    client.await.unwrap();
                }
                server.await.unwrap();
            })
        })
    });
    group.finish();
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

criterion_group!(
    benches,
    spawn_many,
    spawn_remote,
    yield_many,
    ping_pong,
    chained_spawn,
    timeout_immediate,
    timeout_ready,
    sleep_spread,
    queue,
    gather,
    tcp_echo,
    watching
);
criterion_main!(benches);
