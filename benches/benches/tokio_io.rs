//! tokio's I/O traits on kettle (cargo feature `tokio-io`) against the same
//! code on tokio's own streams: the price, if any, of running a crate written
//! for tokio's `AsyncRead`/`AsyncWrite` on kettle.
//!
//! Each workload is written once, generic over `AsyncRead + AsyncWrite`, and
//! driven through tokio's extension traits (`AsyncReadExt`, `AsyncWriteExt`,
//! `tokio::io::copy`, tokio-util's `LinesCodec`); only the streams, `spawn`
//! and the runtime differ. tokio runs its current-thread scheduler with
//! `enable_all()`, as in `runtime.rs`. `cargo bench -p kettle-bench --bench
//! tokio_io`; figures in PERFORMANCE.md ("tokio's I/O traits on kettle").
//!
//! | group           | workload                                                         |
//! |-----------------|------------------------------------------------------------------|
//! | `tokio_io_echo` | 32 loopback connections × 1,000 round trips of 512 bytes         |
//! | `tokio_io_bulk` | 64 MiB over one loopback connection, `tokio::io::copy` to a sink |
//! | `tokio_io_lines`| 100,000 lines through `LinesCodec`, framed both ends             |

use std::future::Future;
use std::net::SocketAddr;

use criterion::{Criterion, criterion_group};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_util::codec::{FramedRead, FramedWrite, LinesCodec};

const CONNECTIONS: usize = 32;
const ROUND_TRIPS: usize = 1_000;
const MESSAGE: usize = 512;
const BULK: usize = 64 << 20;
const CHUNK: usize = 64 << 10;
const LINES: usize = 100_000;

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// Echoes what it reads until end of file.
async fn echo<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S) {
    let mut buf = [0; MESSAGE];
    loop {
        let n = AsyncReadExt::read(&mut stream, &mut buf).await.unwrap();
        if n == 0 {
            return;
        }
        AsyncWriteExt::write_all(&mut stream, &buf[..n]).await.unwrap();
    }
}

/// `ROUND_TRIPS` × (write 512 bytes, read 512 back).
async fn round_trips<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S) {
    let out = [7; MESSAGE];
    let mut back = [0; MESSAGE];
    for _ in 0..ROUND_TRIPS {
        AsyncWriteExt::write_all(&mut stream, &out).await.unwrap();
        AsyncReadExt::read_exact(&mut stream, &mut back).await.unwrap();
    }
}

/// Sends `BULK` bytes in `CHUNK`s, then shuts down the writing side.
async fn send_bulk<S: AsyncWrite + Unpin>(mut stream: S) {
    let chunk = vec![9; CHUNK];
    for _ in 0..BULK / CHUNK {
        AsyncWriteExt::write_all(&mut stream, &chunk).await.unwrap();
    }
    AsyncWriteExt::shutdown(&mut stream).await.unwrap();
}

/// Copies everything to a sink; checks the count.
async fn receive_bulk<S: AsyncRead + Unpin>(mut stream: S) {
    let n = tokio::io::copy(&mut stream, &mut tokio::io::sink()).await.unwrap();
    assert_eq!(n, BULK as u64);
}

async fn send_lines<S: AsyncWrite + Unpin>(stream: S) {
    let mut lines = FramedWrite::new(stream, LinesCodec::new());
    for i in 0..LINES {
        lines.feed(format!("line {i}: the kettle is on")).await.unwrap();
    }
    SinkExt::<String>::close(&mut lines).await.unwrap();
}

async fn receive_lines<S: AsyncRead + Unpin>(stream: S) {
    let mut lines = FramedRead::new(stream, LinesCodec::new());
    let mut count = 0;
    while let Some(line) = lines.next().await {
        assert!(line.unwrap().ends_with("is on"));
        count += 1;
    }
    assert_eq!(count, LINES);
}

/// The same workload on kettle: `server` on each accepted connection, then
/// `client` on each of `connections` connections, all spawned.
fn on_kettle<C, CF, S, SF>(rt: &kettle::Runtime, connections: usize, client: C, server: S)
where
    C: Fn(kettle::net::TcpStream) -> CF + Copy + 'static,
    CF: Future<Output = ()> + 'static,
    S: Fn(kettle::net::TcpStream) -> SF + Copy + 'static,
    SF: Future<Output = ()> + 'static,
{
    rt.block_on(async move {
        let listener = kettle::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let acceptor = kettle::spawn(async move {
            let mut servers = Vec::with_capacity(connections);
            for _ in 0..connections {
                let (stream, _) = listener.accept().await.unwrap();
                stream.set_nodelay(true).unwrap();
                servers.push(kettle::spawn(server(stream)));
            }
            for server in servers {
                server.await.unwrap();
            }
        });
        let clients: Vec<_> = (0..connections)
            .map(|_| {
                kettle::spawn(async move {
                    let stream = kettle::net::TcpStream::connect(addr).await.unwrap();
                    stream.set_nodelay(true).unwrap();
                    client(stream).await
                })
            })
            .collect();
        for client in clients {
            client.await.unwrap();
        }
        acceptor.await.unwrap();
    })
}

/// The same workload on tokio.
fn on_tokio<C, CF, S, SF>(rt: &tokio::runtime::Runtime, connections: usize, client: C, server: S)
where
    C: Fn(tokio::net::TcpStream) -> CF + Copy + Send + 'static,
    CF: Future<Output = ()> + Send + 'static,
    S: Fn(tokio::net::TcpStream) -> SF + Copy + Send + 'static,
    SF: Future<Output = ()> + Send + 'static,
{
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let acceptor = tokio::spawn(async move {
            let mut servers = Vec::with_capacity(connections);
            for _ in 0..connections {
                let (stream, _) = listener.accept().await.unwrap();
                stream.set_nodelay(true).unwrap();
                servers.push(tokio::spawn(server(stream)));
            }
            for server in servers {
                server.await.unwrap();
            }
        });
        let clients: Vec<_> = (0..connections)
            .map(|_| {
                tokio::spawn(async move {
                    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
                    stream.set_nodelay(true).unwrap();
                    client(stream).await
                })
            })
            .collect();
        for client in clients {
            client.await.unwrap();
        }
        acceptor.await.unwrap();
    })
}

/// One criterion group: the workload on kettle, then on tokio.
macro_rules! side_by_side {
    ($c:expr, $name:literal, $connections:expr, $client:expr, $server:expr) => {{
        let mut group = $c.benchmark_group($name);
        group.sample_size(10);
        let rt = kettle::Runtime::new().unwrap();
        group.bench_function("kettle", |b| b.iter(|| on_kettle(&rt, $connections, $client, $server)));
        let rt = tokio_rt();
        group.bench_function("tokio", |b| b.iter(|| on_tokio(&rt, $connections, $client, $server)));
        group.finish();
    }};
}

fn tokio_io_echo(c: &mut Criterion) {
    side_by_side!(c, "tokio_io_echo", CONNECTIONS, round_trips, echo);
}

fn tokio_io_bulk(c: &mut Criterion) {
    side_by_side!(c, "tokio_io_bulk", 1, send_bulk, receive_bulk);
}

fn tokio_io_lines(c: &mut Criterion) {
    side_by_side!(c, "tokio_io_lines", 1, send_lines, receive_lines);
}

criterion_group!(benches, tokio_io_echo, tokio_io_bulk, tokio_io_lines);

/// criterion's run, or — with `TOKIO_IO_WORKLOAD=GROUP/RUNTIME[:RUNS]` in
/// the environment (`lines/kettle:200`, say) — that one workload run `RUNS`
/// times and nothing else, for a CPU-time count that the machine's other
/// load does not blur: `perf stat -e task-clock` or callgrind, around the
/// bench binary (PERFORMANCE.md, "tokio's I/O traits on kettle").
fn main() {
    let Ok(spec) = std::env::var("TOKIO_IO_WORKLOAD") else {
        benches();
        Criterion::default().configure_from_args().final_summary();
        return;
    };
    let (workload, runs) = spec.split_once(':').unwrap_or((&spec, "100"));
    let runs: usize = runs.parse().expect("TOKIO_IO_WORKLOAD=GROUP/RUNTIME[:RUNS]: RUNS is a number");
    let kettle = kettle::Runtime::new().unwrap();
    let tokio = tokio_rt();
    for _ in 0..runs {
        match workload {
            "echo/kettle" => on_kettle(&kettle, CONNECTIONS, round_trips, echo),
            "echo/tokio" => on_tokio(&tokio, CONNECTIONS, round_trips, echo),
            "bulk/kettle" => on_kettle(&kettle, 1, send_bulk, receive_bulk),
            "bulk/tokio" => on_tokio(&tokio, 1, send_bulk, receive_bulk),
            "lines/kettle" => on_kettle(&kettle, 1, send_lines, receive_lines),
            "lines/tokio" => on_tokio(&tokio, 1, send_lines, receive_lines),
            other => {
                panic!("TOKIO_IO_WORKLOAD: no workload {other:?}; try echo, bulk or lines, /kettle or /tokio")
            }
        }
    }
}
