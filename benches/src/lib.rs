//! This package exists for its benchmarks (`benches/benches/`) and for the
//! tests that run kettle beside tokio (`benches/tests/`), so that kettle
//! itself never depends on either.
//!
//! What it exports is kettle's side of the standard workloads, written once:
//! the criterion groups of `benches/runtime.rs` time them, and the callgrind
//! driver (`examples/workloads.rs`) counts their instructions, so that both
//! measure the very same code.

use std::time::Duration;

use kettle::net::{TcpListener, TcpStream};

/// `n` tasks spawned inside `block_on`, their handles awaited.
pub fn spawn_many(rt: &kettle::Runtime, n: usize) {
    rt.block_on(async {
        let handles: Vec<_> = (0..n).map(|i| kettle::spawn(async move { i })).collect();
        for h in handles {
            h.await.unwrap();
        }
    })
}

/// `tasks` tasks × `yields` `yield_now`.
pub fn yield_many(rt: &kettle::Runtime, tasks: usize, yields: usize) {
    rt.block_on(async {
        let handles: Vec<_> = (0..tasks)
            .map(|_| {
                kettle::spawn(async move {
                    for _ in 0..yields {
                        kettle::yield_now().await;
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
pub fn chained_spawn(rt: &kettle::Runtime, depth: usize) {
    fn chain(n: usize) -> kettle::JoinHandle<()> {
        kettle::spawn(async move {
            if n > 0 {
                chain(n - 1).await.unwrap();
            }
        })
    }
    rt.block_on(async { chain(depth).await.unwrap() })
}

/// `timeout(1 s, future)` where the future is pending on its first poll
/// and ready on its second, so the timer really is inserted and removed.
pub fn timeout_ready(rt: &kettle::Runtime) {
    rt.block_on(async {
        kettle::timeout(Duration::from_secs(1), kettle::yield_now()).await.unwrap();
    })
}

/// `producers` tasks × `items` items through a queue bounded to
/// `capacity`, drained by one consumer; the queue is closed once every
/// producer has finished.
pub fn queue(rt: &kettle::Runtime, producers: usize, items: usize, capacity: usize) {
    rt.block_on(async {
        let queue = kettle::sync::Queue::bounded(capacity);
        let consumer = kettle::spawn({
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
                kettle::spawn(async move {
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
pub fn tcp_echo(rt: &kettle::Runtime, connections: usize, round_trips: usize) {
    const MESSAGE: usize = 512;
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = kettle::spawn(async move {
            let mut echoes = Vec::with_capacity(connections);
            for _ in 0..connections {
                let (mut stream, _) = listener.accept().await.unwrap();
                stream.set_nodelay(true).unwrap();
                echoes.push(kettle::spawn(async move {
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
                kettle::spawn(async move {
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
