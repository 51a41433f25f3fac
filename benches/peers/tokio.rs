//! The standard workloads on tokio's current-thread runtime, with the
//! signatures and checksums of kettle's (`kettle_bench::spawn_many(&rt, n)`
//! ↔ `on_tokio::spawn_many(&rt, n)`).
//!
//! tokio is a dev-dependency of kettle-bench, so this file is not part of its
//! library: the criterion bench (`benches/runtime.rs`), the timing loop
//! behind `scripts/bench-table` (`examples/table.rs`), the callgrind driver
//! (`examples/workloads.rs`) and `tests/same_work.rs` each include it with
//! `#[path]`. The runtime is built with `enable_all()`: kettle always has its
//! reactor and timers, so tokio gets its drivers too.

#![allow(dead_code)] // each includer uses its own subset

use std::time::Duration;

use tokio::runtime::Runtime;

/// tokio's current-thread runtime with its I/O and time drivers.
pub fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// `n` tasks spawned inside `block_on`, their handles awaited.
pub fn spawn_many(rt: &Runtime, n: usize) -> u64 {
    rt.block_on(async {
        let handles: Vec<_> = (0..n).map(|i| tokio::spawn(async move { i as u64 })).collect();
        let mut sum = 0;
        for h in handles {
            sum += h.await.unwrap();
        }
        sum
    })
}

/// `n` tasks spawned from another thread through the runtime's `Handle`,
/// their handles sent back through tokio's oneshot and awaited on the loop.
pub fn spawn_remote(rt: &Runtime, n: usize, submit: impl FnOnce(Box<dyn FnOnce() + Send>)) -> u64 {
    let handle = rt.handle().clone();
    rt.block_on(async {
        let (tx, rx) = tokio::sync::oneshot::channel();
        submit(Box::new(move || {
            let handles: Vec<_> = (0..n).map(|i| handle.spawn(async move { i as u64 })).collect();
            tx.send(handles).ok().unwrap();
        }));
        let mut sum = 0;
        for h in rx.await.unwrap() {
            sum += h.await.unwrap();
        }
        sum
    })
}

/// `tasks` tasks × `yields` `yield_now`.
pub fn yield_many(rt: &Runtime, tasks: usize, yields: usize) -> u64 {
    rt.block_on(async {
        let handles: Vec<_> = (0..tasks)
            .map(|_| {
                tokio::spawn(async move {
                    for _ in 0..yields {
                        tokio::task::yield_now().await;
                    }
                    yields as u64
                })
            })
            .collect();
        let mut sum = 0;
        for h in handles {
            sum += h.await.unwrap();
        }
        sum
    })
}

/// `pings` ping tasks, each spawning its pong task, through two of tokio's
/// oneshots.
pub fn ping_pong(rt: &Runtime, pings: usize) -> u64 {
    rt.block_on(async {
        let pings: Vec<_> = (0..pings)
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
                    1
                })
            })
            .collect();
        let mut pongs = 0;
        for ping in pings {
            pongs += ping.await.unwrap();
        }
        pongs
    })
}

/// Each task spawns the next and awaits it, `depth` deep.
pub fn chained_spawn(rt: &Runtime, depth: usize) -> u64 {
    fn chain(n: usize) -> tokio::task::JoinHandle<u64> {
        tokio::spawn(async move { if n > 0 { chain(n - 1).await.unwrap() + 1 } else { 1 } })
    }
    rt.block_on(async { chain(depth).await.unwrap() })
}

/// `timeout(1 s, yield_now())`: a timer set and cancelled.
pub fn timeout_ready(rt: &Runtime) -> u64 {
    rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(1), tokio::task::yield_now()).await.unwrap();
        1
    })
}

/// `n` × `timeout(1 s, ready(i))`.
pub fn timeout_immediate(rt: &Runtime, n: u32) -> u64 {
    rt.block_on(async {
        let mut sum = 0;
        for i in 0..n {
            let v = tokio::time::timeout(Duration::from_secs(1), std::future::ready(i)).await.unwrap();
            sum += u64::from(std::hint::black_box(v));
        }
        sum
    })
}

/// `n` tasks, each sleeping `kettle_bench::spread(i)`, all awaited.
pub fn sleep_spread(rt: &Runtime, n: usize) -> u64 {
    rt.block_on(async {
        let sleepers: Vec<_> =
            (0..n).map(|i| tokio::spawn(tokio::time::sleep(kettle_bench::spread(i)))).collect();
        let mut woke = 0;
        for s in sleepers {
            s.await.unwrap();
            woke += 1;
        }
        woke
    })
}

/// `producers` tasks × `items` items through `sync::mpsc::channel(capacity)`,
/// drained by one consumer; the channel ends when the last sender (each
/// producer owns one) is dropped. tokio's channel is thread-safe (atomics),
/// kettle's queue is not; tokio has no single-threaded bounded channel.
pub fn queue(rt: &Runtime, producers: usize, items: usize, capacity: usize) -> u64 {
    rt.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::channel(capacity);
        let consumer = tokio::spawn(async move {
            let mut sum = 0;
            while let Some(item) = rx.recv().await {
                sum += item;
            }
            sum
        });
        let producers: Vec<_> = (0..producers)
            .map(|_| {
                let tx = tx.clone();
                tokio::spawn(async move {
                    for i in 0..items as u64 {
                        tx.send(i).await.unwrap();
                    }
                })
            })
            .collect();
        drop(tx);
        for p in producers {
            p.await.unwrap();
        }
        consumer.await.unwrap()
    })
}

/// `kettle::gather` (executor-agnostic) over `n` × `tokio::task::yield_now()`.
pub fn gather(rt: &Runtime, n: usize) -> u64 {
    rt.block_on(kettle::gather((0..n).map(|_| tokio::task::yield_now()))).len() as u64
}

/// `connections` loopback connections × `round_trips` round trips of
/// `kettle_bench::MESSAGE` bytes, as kettle's `tcp_echo`.
pub fn tcp_echo(rt: &Runtime, connections: usize, round_trips: usize) -> u64 {
    use kettle_bench::MESSAGE;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let mut echoes = Vec::with_capacity(connections);
            for _ in 0..connections {
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
        let clients: Vec<_> = (0..connections)
            .map(|_| {
                tokio::spawn(async move {
                    let mut stream = TcpStream::connect(addr).await.unwrap();
                    stream.set_nodelay(true).unwrap();
                    let (out, mut back) = ([7; MESSAGE], [0; MESSAGE]);
                    for _ in 0..round_trips {
                        stream.write_all(&out).await.unwrap();
                        stream.read_exact(&mut back).await.unwrap();
                    }
                    (round_trips * MESSAGE) as u64
                })
            })
            .collect();
        let mut echoed = 0;
        for client in clients {
            echoed += client.await.unwrap();
        }
        server.await.unwrap();
        echoed
    })
}
