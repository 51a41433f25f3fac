//! This package exists for its benchmarks (`benches/benches/`) and for the
//! tests that run kettle beside tokio (`benches/tests/`), so that kettle
//! itself never depends on either.
//!
//! What it exports is the standard workloads, written once: the criterion
//! groups of `benches/runtime.rs` time them, and the callgrind driver
//! (`examples/workloads.rs`) counts their instructions, so that both measure
//! the very same code. They are written once for kettle *and* kettle-mini
//! (`mini/`, the same runtime with every shortcut replaced by its simple
//! version): the macro `workloads!` below instantiates the same source for
//! each, kettle's at the crate root (`kettle_bench::spawn_many`) and mini's in
//! [`mini`] (`kettle_bench::mini::spawn_many`). Only what both runtimes offer
//! appears here; workloads that need more of kettle (`oneshot`, a paused
//! clock) are kettle's alone ([`ping_pong`] here, the rest in the driver).
//!
//! Every workload returns a *checksum* of what it did (the sum of the tasks'
//! outputs, the items received, the bytes echoed): the same figure on every
//! runtime, which is how `tests/same_work.rs` checks that tokio's, smol's and
//! the [`floor`]'s versions do the very work kettle's do. The floor — the
//! same workloads with no runtime at all — is [`floor`]; tokio's and smol's
//! versions live in `benches/peers/`, outside the library, since tokio and
//! smol are only dev-dependencies of this package.

use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

/// The standard workloads against the runtime crate `$rt` (`kettle` or `kettle_mini`).
macro_rules! workloads {
    ($rt:ident) => {
        use std::time::Duration;

        use ::$rt as rt;
        use rt::net::{TcpListener, TcpStream};

        /// `n` tasks spawned inside `block_on`, their handles awaited.
        /// Checksum: the sum of the tasks' outputs, 0 + 1 + … + (n − 1).
        pub fn spawn_many(rt: &rt::Runtime, n: usize) -> u64 {
            rt.block_on(async {
                let handles: Vec<_> = (0..n).map(|i| rt::spawn(async move { i as u64 })).collect();
                let mut sum = 0;
                for h in handles {
                    sum += h.await.unwrap();
                }
                sum
            })
        }

        /// `n` tasks submitted from another thread to a loop that is idle
        /// (blocked in `block_on`, waiting for a [`crate::oneshot`]): `submit`
        /// runs its job on that other thread, which spawns them all through
        /// the runtime's `Handle`, then sends the join handles back; the loop
        /// awaits every one. The tasks start running while the other thread
        /// is still submitting, as they would in a real program.
        /// Checksum: the sum of the tasks' outputs.
        pub fn spawn_remote(
            rt: &rt::Runtime,
            n: usize,
            submit: impl FnOnce(Box<dyn FnOnce() + Send>),
        ) -> u64 {
            let handle = rt.handle();
            rt.block_on(async {
                let (tx, rx) = crate::oneshot();
                submit(Box::new(move || {
                    tx.send((0..n).map(|i| handle.spawn(async move { i as u64 })).collect())
                }));
                let handles: Vec<_> = rx.await;
                let mut sum = 0;
                for h in handles {
                    sum += h.await.unwrap();
                }
                sum
            })
        }

        /// `tasks` tasks × `yields` `yield_now`. Checksum: the yields done.
        pub fn yield_many(rt: &rt::Runtime, tasks: usize, yields: usize) -> u64 {
            rt.block_on(async {
                let handles: Vec<_> = (0..tasks)
                    .map(|_| {
                        rt::spawn(async move {
                            for _ in 0..yields {
                                rt::yield_now().await;
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

        /// Each task spawns the next and awaits it, `depth` deep.
        /// Checksum: the tasks that ran, `depth + 1`.
        pub fn chained_spawn(rt: &rt::Runtime, depth: usize) -> u64 {
            fn chain(n: usize) -> rt::JoinHandle<u64> {
                rt::spawn(async move { if n > 0 { chain(n - 1).await.unwrap() + 1 } else { 1 } })
            }
            rt.block_on(async { chain(depth).await.unwrap() })
        }

        /// `timeout(1 s, future)` where the future is pending on its first poll
        /// and ready on its second, so the timer really is inserted and removed.
        /// Checksum: 1, the timeouts that completed in time.
        pub fn timeout_ready(rt: &rt::Runtime) -> u64 {
            rt.block_on(async {
                rt::timeout(Duration::from_secs(1), rt::yield_now()).await.unwrap();
                1
            })
        }

        /// `n` × `timeout(1 s, f)` in one `block_on`, `f` ready at its first
        /// poll — the commonest case (a read that has data, a lock that is
        /// free): no timer should be set, and no clock read. Checksum: the
        /// sum of the outputs.
        pub fn timeout_immediate(rt: &rt::Runtime, n: u32) -> u64 {
            rt.block_on(async {
                let mut sum = 0;
                for i in 0..n {
                    let v = rt::timeout(Duration::from_secs(1), std::future::ready(i)).await.unwrap();
                    sum += u64::from(std::hint::black_box(v));
                }
                sum
            })
        }

        /// `n` tasks, each sleeping [`crate::spread`]`(i)`, all awaited.
        /// Checksum: the sleepers that woke, `n`.
        pub fn sleep_spread(rt: &rt::Runtime, n: usize) -> u64 {
            rt.block_on(async {
                let sleepers: Vec<_> = (0..n).map(|i| rt::spawn(rt::sleep(crate::spread(i)))).collect();
                let mut woke = 0;
                for s in sleepers {
                    s.await.unwrap();
                    woke += 1;
                }
                woke
            })
        }

        /// [`kettle::gather`] (executor-agnostic: plain futures, std wakers)
        /// over `n` futures that yield once, in the task `block_on` runs:
        /// `n` wake-ups of one task. Checksum: the outputs gathered, `n`.
        pub fn gather(rt: &rt::Runtime, n: usize) -> u64 {
            rt.block_on(::kettle::gather((0..n).map(|_| rt::yield_now()))).len() as u64
        }

        /// `producers` tasks × `items` items through a queue bounded to
        /// `capacity`, drained by one consumer; the queue is closed once every
        /// producer has finished. Checksum: the sum of the items received.
        pub fn queue(rt: &rt::Runtime, producers: usize, items: usize, capacity: usize) -> u64 {
            rt.block_on(async {
                let queue = rt::sync::Queue::bounded(capacity);
                let consumer = rt::spawn({
                    let queue = queue.clone();
                    async move {
                        let mut sum = 0;
                        while let Some(item) = queue.get().await {
                            sum += item;
                        }
                        sum
                    }
                });
                let producers_done: Vec<_> = (0..producers)
                    .map(|_| {
                        let queue = queue.clone();
                        rt::spawn(async move {
                            for i in 0..items as u64 {
                                queue.put(i).await.unwrap();
                            }
                        })
                    })
                    .collect();
                for p in producers_done {
                    p.await.unwrap();
                }
                queue.close();
                consumer.await.unwrap()
            })
        }

        /// `connections` loopback connections × `round_trips` round trips of
        /// `MESSAGE` bytes: a listener, an acceptor that spawns one echo task per
        /// connection, and one client task per connection. `TCP_NODELAY` on both
        /// ends, all on the one loop thread. Checksum: the bytes the clients
        /// read back.
        pub fn tcp_echo(rt: &rt::Runtime, connections: usize, round_trips: usize) -> u64 {
            use crate::MESSAGE;
            rt.block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").unwrap();
                let addr = listener.local_addr().unwrap();
                let server = rt::spawn(async move {
                    let mut echoes = Vec::with_capacity(connections);
                    for _ in 0..connections {
                        let (mut stream, _) = listener.accept().await.unwrap();
                        stream.set_nodelay(true).unwrap();
                        echoes.push(rt::spawn(async move {
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
                        rt::spawn(async move {
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
    };
}

mod on_kettle {
    workloads!(kettle);
}

pub use on_kettle::*;

pub mod floor;

/// The bytes of one message in `tcp_echo`, each way.
pub const MESSAGE: usize = 512;

/// `pings` pings: each ping task creates two oneshots, spawns its pong task,
/// sends on the first and awaits the answer on the second; the pong task
/// awaits the first and answers on the second. All pings run concurrently.
/// kettle's alone (kettle-mini has no oneshot). Checksum: the pongs received.
pub fn ping_pong(rt: &kettle::Runtime, pings: usize) -> u64 {
    rt.block_on(async {
        let pings: Vec<_> = (0..pings)
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

/// The same workloads on kettle-mini.
pub mod mini {
    workloads!(kettle_mini);
}

/// The delay of sleeper `i` in `sleep_spread`: 1 ms + (i mod 9,000) µs, so the
/// deadlines cover 1–10 ms and many share a millisecond.
pub fn spread(i: usize) -> std::time::Duration {
    std::time::Duration::from_micros(1_000 + (i % 9_000) as u64)
}

/// A one-value channel that works on any executor (a `Mutex` and a waker),
/// for `spawn_remote`: kettle's `oneshot` has no counterpart in kettle-mini.
pub fn oneshot<T>() -> (Sender<T>, Receiver<T>) {
    let slot = Arc::new(Mutex::new((None, None)));
    (Sender(slot.clone()), Receiver(slot))
}

type Slot<T> = Arc<Mutex<(Option<T>, Option<Waker>)>>;

/// The sending half of [`oneshot`].
pub struct Sender<T>(Slot<T>);

/// The receiving half of [`oneshot`]: a future of the value.
pub struct Receiver<T>(Slot<T>);

impl<T> Sender<T> {
    /// Sends `value` and wakes the receiver.
    pub fn send(self, value: T) {
        let waker = {
            let mut slot = self.0.lock().unwrap();
            slot.0 = Some(value);
            slot.1.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> std::future::Future for Receiver<T> {
    type Output = T;

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut slot = self.0.lock().unwrap();
        match slot.0.take() {
            Some(value) => Poll::Ready(value),
            None => {
                slot.1 = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}
