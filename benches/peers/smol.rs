//! The standard workloads on smol's single-threaded stack, with the
//! signatures and checksums of kettle's (`kettle_bench::spawn_many(&rt, n)`
//! ↔ `on_smol::spawn_many(&Smol, n)`).
//!
//! "smol's single-threaded stack" is what `smol::LocalExecutor` and
//! `smol::block_on` give a program, taken from the crates smol re-exports
//! them from: `async_executor::LocalExecutor` runs the tasks, inside
//! `async_io::block_on` (smol's `block_on`), which parks on async-io's
//! reactor (epoll, and its timers) whenever the executor has nothing to run.
//! The rest is smol's too: `async_io::Timer` for sleeps and timeouts,
//! `async_io::Async<TcpStream>` (what `smol::net` wraps) for sockets,
//! `async_channel` (`smol::channel`) for the queue and the oneshots —
//! smol has no oneshot; a `bounded(1)` channel is its usual stand-in — and
//! futures-lite (`smol::future`) for `yield_now` and `or`.
//!
//! The executor is a thread-local, so that a task can spawn the way it does
//! on tokio and kettle, without being handed the executor. `spawn_remote`
//! spawns from another thread, which a `LocalExecutor` (`!Send`) cannot do:
//! it uses smol's thread-safe `Executor`, run by the one loop thread.
//!
//! Like `peers/tokio.rs`, this file is included with `#[path]` by the
//! criterion bench, the table's timing loop, the callgrind driver and
//! `tests/same_work.rs` (smol's crates are dev-dependencies only).

#![allow(dead_code)] // each includer uses its own subset

use std::future::Future;
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use async_executor::{Executor, LocalExecutor, Task};
use async_io::{Async, Timer};
use futures_lite::future::{FutureExt, yield_now};
use futures_lite::{AsyncReadExt, AsyncWriteExt};

/// smol's "runtime": a unit value, so that the workloads have kettle's
/// signatures. The executor itself is the thread-local [`EXECUTOR`].
#[derive(Debug, Default, Clone, Copy)]
pub struct Smol;

thread_local! {
    /// This thread's executor, as a program would keep it in a `static`.
    static EXECUTOR: LocalExecutor<'static> = const { LocalExecutor::new() };
}

/// The thread-safe executor for `spawn_remote`.
static SHARED: Executor<'static> = Executor::new();

/// Spawns `future` on this thread's executor.
pub fn spawn<T: 'static>(future: impl Future<Output = T> + 'static) -> Task<T> {
    EXECUTOR.with(|executor| executor.spawn(future))
}

impl Smol {
    /// `smol::block_on(executor.run(future))`.
    pub fn block_on<T>(&self, future: impl Future<Output = T>) -> T {
        EXECUTOR.with(|executor| async_io::block_on(executor.run(future)))
    }
}

/// `n` tasks spawned inside `block_on`, their handles awaited.
pub fn spawn_many(rt: &Smol, n: usize) -> u64 {
    rt.block_on(async {
        let handles: Vec<_> = (0..n).map(|i| spawn(async move { i as u64 })).collect();
        let mut sum = 0;
        for h in handles {
            sum += h.await;
        }
        sum
    })
}

/// `n` tasks spawned from another thread on the thread-safe executor, which
/// the loop thread runs; their handles come back through a channel.
pub fn spawn_remote(_: &Smol, n: usize, submit: impl FnOnce(Box<dyn FnOnce() + Send>)) -> u64 {
    async_io::block_on(SHARED.run(async {
        let (tx, rx) = async_channel::bounded(1);
        submit(Box::new(move || {
            let handles: Vec<_> = (0..n).map(|i| SHARED.spawn(async move { i as u64 })).collect();
            tx.try_send(handles).unwrap();
        }));
        let mut sum = 0;
        for h in rx.recv().await.unwrap() {
            sum += h.await;
        }
        sum
    }))
}

/// `tasks` tasks × `yields` `yield_now`.
pub fn yield_many(rt: &Smol, tasks: usize, yields: usize) -> u64 {
    rt.block_on(async {
        let handles: Vec<_> = (0..tasks)
            .map(|_| {
                spawn(async move {
                    for _ in 0..yields {
                        yield_now().await;
                    }
                    yields as u64
                })
            })
            .collect();
        let mut sum = 0;
        for h in handles {
            sum += h.await;
        }
        sum
    })
}

/// `pings` ping tasks, each spawning its pong task, through two
/// `async_channel::bounded(1)` channels used as oneshots.
pub fn ping_pong(rt: &Smol, pings: usize) -> u64 {
    rt.block_on(async {
        let pings: Vec<_> = (0..pings)
            .map(|_| {
                spawn(async {
                    let (ping_tx, ping_rx) = async_channel::bounded::<()>(1);
                    let (pong_tx, pong_rx) = async_channel::bounded::<()>(1);
                    let pong = spawn(async move {
                        ping_rx.recv().await.unwrap();
                        pong_tx.try_send(()).unwrap();
                    });
                    ping_tx.try_send(()).unwrap();
                    pong_rx.recv().await.unwrap();
                    pong.await;
                    1
                })
            })
            .collect();
        let mut pongs = 0;
        for ping in pings {
            pongs += ping.await;
        }
        pongs
    })
}

/// Each task spawns the next and awaits it, `depth` deep.
pub fn chained_spawn(rt: &Smol, depth: usize) -> u64 {
    fn chain(n: usize) -> Task<u64> {
        spawn(async move { if n > 0 { chain(n - 1).await + 1 } else { 1 } })
    }
    rt.block_on(async { chain(depth).await })
}

/// smol's timeout idiom: the future, `or` a `Timer` that ends it with an
/// error (`or` polls the future first).
async fn timeout<T>(duration: Duration, future: impl Future<Output = T>) -> Result<T, ()> {
    async { Ok(future.await) }
        .or(async {
            Timer::after(duration).await;
            Err(())
        })
        .await
}

/// `timeout(1 s, yield_now())`: a timer set and cancelled.
pub fn timeout_ready(rt: &Smol) -> u64 {
    rt.block_on(async {
        timeout(Duration::from_secs(1), yield_now()).await.unwrap();
        1
    })
}

/// `n` × `timeout(1 s, ready(i))`.
pub fn timeout_immediate(rt: &Smol, n: u32) -> u64 {
    rt.block_on(async {
        let mut sum = 0;
        for i in 0..n {
            let v = timeout(Duration::from_secs(1), std::future::ready(i)).await.unwrap();
            sum += u64::from(std::hint::black_box(v));
        }
        sum
    })
}

/// `n` tasks, each sleeping `kettle_bench::spread(i)` on a `Timer`, all awaited.
pub fn sleep_spread(rt: &Smol, n: usize) -> u64 {
    rt.block_on(async {
        let sleepers: Vec<_> = (0..n).map(|i| spawn(Timer::after(kettle_bench::spread(i)))).collect();
        let mut woke = 0;
        for s in sleepers {
            s.await;
            woke += 1;
        }
        woke
    })
}

/// `producers` tasks × `items` items through `async_channel::bounded(capacity)`,
/// drained by one consumer; the channel closes when the last sender (each
/// producer owns one) is dropped. Thread-safe, like tokio's mpsc.
pub fn queue(rt: &Smol, producers: usize, items: usize, capacity: usize) -> u64 {
    rt.block_on(async {
        let (tx, rx) = async_channel::bounded(capacity);
        let consumer = spawn(async move {
            let mut sum = 0;
            while let Ok(item) = rx.recv().await {
                sum += item;
            }
            sum
        });
        let producers: Vec<_> = (0..producers)
            .map(|_| {
                let tx = tx.clone();
                spawn(async move {
                    for i in 0..items as u64 {
                        tx.send(i).await.unwrap();
                    }
                })
            })
            .collect();
        drop(tx);
        for p in producers {
            p.await;
        }
        consumer.await
    })
}

/// `kettle::gather` (executor-agnostic) over `n` × futures-lite's `yield_now()`.
pub fn gather(rt: &Smol, n: usize) -> u64 {
    rt.block_on(kettle::gather((0..n).map(|_| yield_now()))).len() as u64
}

/// `connections` loopback connections × `round_trips` round trips of
/// `kettle_bench::MESSAGE` bytes, as kettle's `tcp_echo`, on
/// `Async<TcpListener>` and `Async<TcpStream>`.
pub fn tcp_echo(rt: &Smol, connections: usize, round_trips: usize) -> u64 {
    use kettle_bench::MESSAGE;
    rt.block_on(async {
        let listener = Async::<TcpListener>::bind(([127, 0, 0, 1], 0)).unwrap();
        let addr = listener.get_ref().local_addr().unwrap();
        let server = spawn(async move {
            let mut echoes = Vec::with_capacity(connections);
            for _ in 0..connections {
                let (mut stream, _) = listener.accept().await.unwrap();
                stream.get_ref().set_nodelay(true).unwrap();
                echoes.push(spawn(async move {
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
                echo.await;
            }
        });
        let clients: Vec<_> = (0..connections)
            .map(|_| {
                spawn(async move {
                    let mut stream = Async::<TcpStream>::connect(addr).await.unwrap();
                    stream.get_ref().set_nodelay(true).unwrap();
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
            echoed += client.await;
        }
        server.await;
        echoed
    })
}
