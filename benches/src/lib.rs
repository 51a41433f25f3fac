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
//! appears here; workloads that need more of kettle (`oneshot`, `gather`, a
//! paused clock) stay kettle's, in `benches/runtime.rs` and the driver.

use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

/// The standard workloads against the runtime crate `$rt` (`kettle` or `kettle_mini`).
macro_rules! workloads {
    ($rt:ident) => {
        use std::time::Duration;

        use ::$rt as rt;
        use rt::net::{TcpListener, TcpStream};

        /// `n` tasks spawned inside `block_on`, their handles awaited.
        pub fn spawn_many(rt: &rt::Runtime, n: usize) {
            rt.block_on(async {
                let handles: Vec<_> = (0..n).map(|i| rt::spawn(async move { i })).collect();
                for h in handles {
                    h.await.unwrap();
                }
            })
        }

        /// `n` tasks submitted from another thread to a loop that is idle
        /// (blocked in `block_on`, waiting for a [`crate::oneshot`]): `submit`
        /// runs its job on that other thread, which spawns them all through
        /// the runtime's `Handle`, then sends the join handles back; the loop
        /// awaits every one. The tasks start running while the other thread
        /// is still submitting, as they would in a real program.
        pub fn spawn_remote(rt: &rt::Runtime, n: usize, submit: impl FnOnce(Box<dyn FnOnce() + Send>)) {
            let handle = rt.handle();
            rt.block_on(async {
                let (tx, rx) = crate::oneshot();
                submit(Box::new(move || tx.send((0..n).map(|i| handle.spawn(async move { i })).collect())));
                let handles: Vec<_> = rx.await;
                for h in handles {
                    h.await.unwrap();
                }
            })
        }

        /// `tasks` tasks × `yields` `yield_now`.
        pub fn yield_many(rt: &rt::Runtime, tasks: usize, yields: usize) {
            rt.block_on(async {
                let handles: Vec<_> = (0..tasks)
                    .map(|_| {
                        rt::spawn(async move {
                            for _ in 0..yields {
                                rt::yield_now().await;
                            }
                        })
                    })
                    .collect();
                for h in handles {
                    h.await.unwrap();
                }
            })
        }

        /// Each task spawns the next, `depth` deep.
        pub fn chained_spawn(rt: &rt::Runtime, depth: usize) {
            fn chain(n: usize) -> rt::JoinHandle<()> {
                rt::spawn(async move {
                    if n > 0 {
                        chain(n - 1).await.unwrap();
                    }
                })
            }
            rt.block_on(async { chain(depth).await.unwrap() })
        }

        /// `timeout(1 s, future)` where the future is pending on its first poll
        /// and ready on its second, so the timer really is inserted and removed.
        pub fn timeout_ready(rt: &rt::Runtime) {
            rt.block_on(async {
                rt::timeout(Duration::from_secs(1), rt::yield_now()).await.unwrap();
            })
        }

        /// `n` × `timeout(1 s, f)` in one `block_on`, `f` ready at its first
        /// poll — the commonest case (a read that has data, a lock that is
        /// free): no timer should be set, and no clock read.
        pub fn timeout_immediate(rt: &rt::Runtime, n: u32) {
            rt.block_on(async {
                for i in 0..n {
                    let v = rt::timeout(Duration::from_secs(1), std::future::ready(i)).await.unwrap();
                    std::hint::black_box(v);
                }
            })
        }

        /// `n` tasks, each sleeping [`crate::spread`]`(i)`, all awaited.
        pub fn sleep_spread(rt: &rt::Runtime, n: usize) {
            rt.block_on(async {
                let sleepers: Vec<_> = (0..n).map(|i| rt::spawn(rt::sleep(crate::spread(i)))).collect();
                for s in sleepers {
                    s.await.unwrap();
                }
            })
        }

        /// `producers` tasks × `items` items through a queue bounded to
        /// `capacity`, drained by one consumer; the queue is closed once every
        /// producer has finished.
        pub fn queue(rt: &rt::Runtime, producers: usize, items: usize, capacity: usize) {
            rt.block_on(async {
                let queue = rt::sync::Queue::bounded(capacity);
                let consumer = rt::spawn({
                    let queue = queue.clone();
                    async move {
                        let mut received = 0;
                        while queue.get().await.is_some() {
                            received += 1;
                        }
                        received
                    }
                });
                let producers_done: Vec<_> = (0..producers)
                    .map(|_| {
                        let queue = queue.clone();
                        rt::spawn(async move {
                            for i in 0..items {
                                queue.put(i).await.unwrap();
                            }
                        })
                    })
                    .collect();
                for p in producers_done {
                    p.await.unwrap();
                }
                queue.close();
                assert_eq!(consumer.await.unwrap(), producers * items);
            })
        }

        /// `connections` loopback connections × `round_trips` round trips of
        /// `MESSAGE` bytes: a listener, an acceptor that spawns one echo task per
        /// connection, and one client task per connection. `TCP_NODELAY` on both
        /// ends, all on the one loop thread.
        pub fn tcp_echo(rt: &rt::Runtime, connections: usize, round_trips: usize) {
            const MESSAGE: usize = 512;
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
                        })
                    })
                    .collect();
                for client in clients {
                    client.await.unwrap();
                }
                server.await.unwrap();
            })
        }
    };
}

mod on_kettle {
    workloads!(kettle);
}

pub use on_kettle::*;

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
