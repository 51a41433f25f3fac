//! kettle's `Async<T>`, Unix streams and hyper client against tokio's
//! `AsyncFd`, Unix streams and hyper client: the same work, the same system
//! calls, so the difference is the runtime's user-space path.
//!
//! | group                    | workload                                                              |
//! |--------------------------|-----------------------------------------------------------------------|
//! | `async_io_eventfd`       | two tasks bounce a counter through two eventfds, 100,000 round trips  |
//! | `async_io_unix`          | two tasks bounce a byte through a `UnixStream` pair, 100,000 round trips |
//! | `async_io_hyper_client`  | hyper's HTTP/1.1 client, 8 connections × 2,000 requests, to one server  |
//!
//! The eventfd ping-pong uses `Async::read_with`/`write_with` on kettle and
//! `AsyncFd::async_io` on tokio (the same rule: try, and on `WouldBlock`
//! clear readiness and wait); `strace -c -f` counts the same calls on both:
//! per round trip two `write`s, two successful `read`s, two `read`s that
//! return `EAGAIN`, and the `epoll_wait`s between them. The Unix ping-pong
//! reads into a 64-byte buffer, so both runtimes clear readiness on the
//! short read without an `EAGAIN`. Two more shapes of the eventfd
//! ping-pong run outside criterion (`ASYNC_IO_WORKLOAD`, below), for code
//! written the other ways: `eventfd_readable` (`readable()` then `read_with`
//! on kettle, `readable()`'s guard and `try_io` on tokio) and `eventfd_poll`
//! (`poll_read_with` on kettle, `poll_read_ready` and `try_io` on tokio).
//!
//! The hyper client talks to a plain blocking server on threads of its own
//! (the same server for both runtimes; it parses nothing but the blank line
//! ending each request head), so that only the client side differs:
//! `kettle::hyper::KettleIo` over a kettle `TcpStream` on one side,
//! hyper-util's `TokioIo` over tokio's on the other.
//!
//! Three ways to run it:
//!
//! ```text
//! cargo bench -p kettle-bench --bench async_io                   # criterion, both runtimes per group
//! ASYNC_IO_WORKLOAD=eventfd/kettle:5 target/release/deps/async_io-*   # one workload, 5 times (callgrind, perf stat)
//! ASYNC_IO_ROUNDS=eventfd:9 target/release/deps/async_io-*           # 9 alternating rounds, medians
//! ```
//!
//! On the shared 2-core machine wall time moves by a third between runs of
//! the same code, and CPU time by nearly as much; the rounds print both,
//! and callgrind's instruction counts (the bench profile has symbols) are
//! the figures that hold still. Figures in PERFORMANCE.md ("`Async<T>`, Unix streams and hyper's client").

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, criterion_group};
use hyper::body::Body;

/// Round trips per ping-pong run.
const ROUND_TRIPS: usize = 100_000;
/// hyper client connections per run, and requests per connection.
const CONNECTIONS: usize = 8;
const REQUESTS: usize = 2_000;

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

// ---------------------------------------------------------------------------
// eventfd ping-pong

/// A new non-blocking eventfd, its counter at zero.
fn eventfd() -> OwnedFd {
    // SAFETY: `eventfd` takes two integers and returns a new descriptor or -1.
    let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
    assert!(fd >= 0, "eventfd: {}", io::Error::last_os_error());
    // SAFETY: `fd` was just opened and is owned by nobody else.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// Reads (and so resets) the eventfd's counter.
fn take(fd: &impl AsFd) -> io::Result<u64> {
    let mut value = 0u64;
    // SAFETY: `value` is 8 writable bytes on the stack, for the call only;
    // the descriptor is open while `fd` is borrowed.
    let n = unsafe { libc::read(fd.as_fd().as_raw_fd(), (&raw mut value).cast(), 8) };
    if n < 0 { Err(io::Error::last_os_error()) } else { Ok(value) }
}

/// Adds one to the eventfd's counter.
fn bump(fd: &impl AsFd) -> io::Result<()> {
    let value = 1u64;
    // SAFETY: `value` is 8 readable bytes on the stack, for the call only;
    // the descriptor is open while `fd` is borrowed.
    let n = unsafe { libc::write(fd.as_fd().as_raw_fd(), (&raw const value).cast(), 8) };
    if n < 0 { Err(io::Error::last_os_error()) } else { Ok(()) }
}

/// `round_trips` × (bump `ping`, wait for `pong`) against a task doing the
/// mirror image, on kettle's `Async`.
fn eventfd_kettle(rt: &kettle::Runtime, round_trips: usize) {
    rt.block_on(async {
        let ping = Rc::new(kettle::io::Async::new(eventfd()).unwrap());
        let pong = Rc::new(kettle::io::Async::new(eventfd()).unwrap());
        let (their_ping, their_pong) = (ping.clone(), pong.clone());
        let other = kettle::spawn(async move {
            for _ in 0..round_trips {
                their_ping.read_with(take).await.unwrap();
                their_pong.write_with(bump).await.unwrap();
            }
        });
        for _ in 0..round_trips {
            ping.write_with(bump).await.unwrap();
            pong.read_with(take).await.unwrap();
        }
        other.await.unwrap();
    });
}

/// The same on tokio's `AsyncFd`.
fn eventfd_tokio(rt: &tokio::runtime::Runtime, round_trips: usize) {
    use tokio::io::{Interest, unix::AsyncFd};
    rt.block_on(async {
        // SAFETY: an `OwnedFd` keeps its descriptor open, and always the
        // same one, until it is dropped, which the `AsyncFd` does last.
        let (ping, pong) = unsafe { (AsyncFd::register(eventfd()), AsyncFd::register(eventfd())) };
        let (ping, pong) = (Arc::new(ping.unwrap()), Arc::new(pong.unwrap()));
        let (their_ping, their_pong) = (ping.clone(), pong.clone());
        let other = tokio::spawn(async move {
            for _ in 0..round_trips {
                their_ping.async_io(Interest::READABLE, take).await.unwrap();
                their_pong.async_io(Interest::WRITABLE, bump).await.unwrap();
            }
        });
        for _ in 0..round_trips {
            ping.async_io(Interest::WRITABLE, bump).await.unwrap();
            pong.async_io(Interest::READABLE, take).await.unwrap();
        }
        other.await.unwrap();
    });
}

/// The eventfd ping-pong as code written against `readable()` waits: wait
/// for the direction, then do the operation (`read_with`, whose
/// `WouldBlock` clears the readiness `readable` leaves set).
fn eventfd_readable_kettle(rt: &kettle::Runtime, round_trips: usize) {
    rt.block_on(async {
        let ping = Rc::new(kettle::io::Async::new(eventfd()).unwrap());
        let pong = Rc::new(kettle::io::Async::new(eventfd()).unwrap());
        let (their_ping, their_pong) = (ping.clone(), pong.clone());
        let other = kettle::spawn(async move {
            for _ in 0..round_trips {
                their_ping.readable().await.unwrap();
                their_ping.read_with(take).await.unwrap();
                their_pong.writable().await.unwrap();
                their_pong.write_with(bump).await.unwrap();
            }
        });
        for _ in 0..round_trips {
            ping.writable().await.unwrap();
            ping.write_with(bump).await.unwrap();
            pong.readable().await.unwrap();
            pong.read_with(take).await.unwrap();
        }
        other.await.unwrap();
    });
}

/// The same on tokio: `readable()`'s guard, and `try_io` on it.
fn eventfd_readable_tokio(rt: &tokio::runtime::Runtime, round_trips: usize) {
    use tokio::io::unix::AsyncFd;
    async fn read(fd: &AsyncFd<OwnedFd>) -> io::Result<u64> {
        loop {
            let mut guard = fd.readable().await?;
            if let Ok(result) = guard.try_io(take) {
                return result;
            }
        }
    }
    async fn write(fd: &AsyncFd<OwnedFd>) -> io::Result<()> {
        loop {
            let mut guard = fd.writable().await?;
            if let Ok(result) = guard.try_io(bump) {
                return result;
            }
        }
    }
    rt.block_on(async {
        // SAFETY: as in `eventfd_tokio`.
        let (ping, pong) = unsafe { (AsyncFd::register(eventfd()), AsyncFd::register(eventfd())) };
        let (ping, pong) = (Arc::new(ping.unwrap()), Arc::new(pong.unwrap()));
        let (their_ping, their_pong) = (ping.clone(), pong.clone());
        let other = tokio::spawn(async move {
            for _ in 0..round_trips {
                read(&their_ping).await.unwrap();
                write(&their_pong).await.unwrap();
            }
        });
        for _ in 0..round_trips {
            write(&ping).await.unwrap();
            read(&pong).await.unwrap();
        }
        other.await.unwrap();
    });
}

/// The eventfd ping-pong through the poll-level API, as an `AsyncRead`
/// implementation would use it: `poll_read_with` and `poll_write_with` on
/// kettle.
fn eventfd_poll_kettle(rt: &kettle::Runtime, round_trips: usize) {
    use std::future::poll_fn;
    rt.block_on(async {
        let ping = Rc::new(kettle::io::Async::new(eventfd()).unwrap());
        let pong = Rc::new(kettle::io::Async::new(eventfd()).unwrap());
        let (their_ping, their_pong) = (ping.clone(), pong.clone());
        let other = kettle::spawn(async move {
            for _ in 0..round_trips {
                poll_fn(|cx| their_ping.poll_read_with(cx, take)).await.unwrap();
                poll_fn(|cx| their_pong.poll_write_with(cx, bump)).await.unwrap();
            }
        });
        for _ in 0..round_trips {
            poll_fn(|cx| ping.poll_write_with(cx, bump)).await.unwrap();
            poll_fn(|cx| pong.poll_read_with(cx, take)).await.unwrap();
        }
        other.await.unwrap();
    });
}

/// The same on tokio: `poll_read_ready`'s guard and `try_io`, in a loop.
fn eventfd_poll_tokio(rt: &tokio::runtime::Runtime, round_trips: usize) {
    use std::future::poll_fn;
    use std::task::{Context, Poll, ready};
    use tokio::io::unix::AsyncFd;
    fn poll_read(fd: &AsyncFd<OwnedFd>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        loop {
            let mut guard = ready!(fd.poll_read_ready(cx))?;
            if let Ok(result) = guard.try_io(take) {
                return Poll::Ready(result);
            }
        }
    }
    fn poll_write(fd: &AsyncFd<OwnedFd>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            let mut guard = ready!(fd.poll_write_ready(cx))?;
            if let Ok(result) = guard.try_io(bump) {
                return Poll::Ready(result);
            }
        }
    }
    rt.block_on(async {
        // SAFETY: as in `eventfd_tokio`.
        let (ping, pong) = unsafe { (AsyncFd::register(eventfd()), AsyncFd::register(eventfd())) };
        let (ping, pong) = (Arc::new(ping.unwrap()), Arc::new(pong.unwrap()));
        let (their_ping, their_pong) = (ping.clone(), pong.clone());
        let other = tokio::spawn(async move {
            for _ in 0..round_trips {
                poll_fn(|cx| poll_read(&their_ping, cx)).await.unwrap();
                poll_fn(|cx| poll_write(&their_pong, cx)).await.unwrap();
            }
        });
        for _ in 0..round_trips {
            poll_fn(|cx| poll_write(&ping, cx)).await.unwrap();
            poll_fn(|cx| poll_read(&pong, cx)).await.unwrap();
        }
        other.await.unwrap();
    });
}

// ---------------------------------------------------------------------------
// Unix stream ping-pong

/// `round_trips` × (write a byte, read it back) against a task echoing it,
/// over a kettle `UnixStream` pair.
fn unix_kettle(rt: &kettle::Runtime, round_trips: usize) {
    rt.block_on(async {
        let (mut ours, mut theirs) = kettle::net::UnixStream::pair().unwrap();
        let other = kettle::spawn(async move {
            let mut buf = [0; 64];
            for _ in 0..round_trips {
                let n = theirs.read(&mut buf).await.unwrap();
                theirs.write_all(&buf[..n]).await.unwrap();
            }
        });
        let mut buf = [0; 64];
        for _ in 0..round_trips {
            ours.write_all(b"x").await.unwrap();
            assert_eq!(ours.read(&mut buf).await.unwrap(), 1);
        }
        other.await.unwrap();
    });
}

/// The same on tokio's `UnixStream`.
fn unix_tokio(rt: &tokio::runtime::Runtime, round_trips: usize) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    rt.block_on(async {
        let (mut ours, mut theirs) = tokio::net::UnixStream::pair().unwrap();
        let other = tokio::spawn(async move {
            let mut buf = [0; 64];
            for _ in 0..round_trips {
                let n = theirs.read(&mut buf).await.unwrap();
                theirs.write_all(&buf[..n]).await.unwrap();
            }
        });
        let mut buf = [0; 64];
        for _ in 0..round_trips {
            ours.write_all(b"x").await.unwrap();
            assert_eq!(ours.read(&mut buf).await.unwrap(), 1);
        }
        other.await.unwrap();
    });
}

// ---------------------------------------------------------------------------
// hyper's HTTP/1.1 client

const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 13\r\n\r\nHello, world!";

/// The address of a blocking HTTP/1.1 server on threads of its own, started
/// once per process: a thread per connection, answering each request head
/// (everything up to a blank line; the client sends no bodies) with
/// [`RESPONSE`].
fn server() -> SocketAddr {
    static ADDR: OnceLock<SocketAddr> = OnceLock::new();
    *ADDR.get_or_init(|| {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let stream = stream.unwrap();
                stream.set_nodelay(true).unwrap();
                std::thread::spawn(move || serve(stream));
            }
        });
        addr
    })
}

/// Answers every request head on `stream` until the client closes it.
fn serve(mut stream: TcpStream) {
    let mut buf = vec![0; 16 << 10];
    let mut filled = 0;
    loop {
        let n = match stream.read(&mut buf[filled..]) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        filled += n;
        let mut start = 0;
        while let Some(end) = buf[start..filled].windows(4).position(|w| w == b"\r\n\r\n") {
            start += end + 4;
            if stream.write_all(RESPONSE).is_err() {
                return;
            }
        }
        buf.copy_within(start..filled, 0);
        filled -= start;
    }
}

/// Reads a response body to its end; returns its length.
async fn drain<B: Body + Unpin>(mut body: B) -> usize
where
    B::Error: std::fmt::Debug,
{
    let mut len = 0;
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        if let Ok(data) = frame.unwrap().into_data() {
            len += hyper::body::Buf::remaining(&data);
        }
    }
    len
}

/// `requests` GETs, one after another, on one connection made by `sender`.
async fn requests(mut sender: hyper::client::conn::http1::SendRequest<String>, requests: usize) {
    for _ in 0..requests {
        let request = hyper::Request::get("/").header("host", "kettle").body(String::new()).unwrap();
        let response = sender.send_request(request).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(drain(response.into_body()).await, 13);
    }
}

/// `connections` × `per_connection` requests, each connection in a task of
/// its own (and hyper's connection future in another), on kettle.
fn hyper_kettle(rt: &kettle::Runtime, connections: usize, per_connection: usize) {
    let addr = server();
    rt.block_on(async move {
        let clients: Vec<_> = (0..connections)
            .map(|_| {
                kettle::spawn(async move {
                    let stream = kettle::net::TcpStream::connect(addr).await.unwrap();
                    stream.set_nodelay(true).unwrap();
                    let io = kettle::hyper::KettleIo::new(stream);
                    let (sender, connection) = hyper::client::conn::http1::handshake(io).await.unwrap();
                    let connection = kettle::spawn(connection);
                    requests(sender, per_connection).await;
                    connection.await.unwrap().unwrap();
                })
            })
            .collect();
        for client in clients {
            client.await.unwrap();
        }
    });
}

/// The same on tokio, with hyper-util's `TokioIo`.
fn hyper_tokio(rt: &tokio::runtime::Runtime, connections: usize, per_connection: usize) {
    let addr = server();
    rt.block_on(async move {
        let clients: Vec<_> = (0..connections)
            .map(|_| {
                tokio::spawn(async move {
                    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
                    stream.set_nodelay(true).unwrap();
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let (sender, connection) = hyper::client::conn::http1::handshake(io).await.unwrap();
                    let connection = tokio::spawn(connection);
                    requests(sender, per_connection).await;
                    connection.await.unwrap().unwrap();
                })
            })
            .collect();
        for client in clients {
            client.await.unwrap();
        }
    });
}

// ---------------------------------------------------------------------------
// Drivers

/// One workload by name (`eventfd/kettle`, ...), on the given runtimes.
fn run(workload: &str, kettle: &kettle::Runtime, tokio: &tokio::runtime::Runtime) {
    match workload {
        "eventfd/kettle" => eventfd_kettle(kettle, ROUND_TRIPS),
        "eventfd/tokio" => eventfd_tokio(tokio, ROUND_TRIPS),
        "eventfd_readable/kettle" => eventfd_readable_kettle(kettle, ROUND_TRIPS),
        "eventfd_readable/tokio" => eventfd_readable_tokio(tokio, ROUND_TRIPS),
        "eventfd_poll/kettle" => eventfd_poll_kettle(kettle, ROUND_TRIPS),
        "eventfd_poll/tokio" => eventfd_poll_tokio(tokio, ROUND_TRIPS),
        "unix/kettle" => unix_kettle(kettle, ROUND_TRIPS),
        "unix/tokio" => unix_tokio(tokio, ROUND_TRIPS),
        "hyper_client/kettle" => hyper_kettle(kettle, CONNECTIONS, REQUESTS),
        "hyper_client/tokio" => hyper_tokio(tokio, CONNECTIONS, REQUESTS),
        other => panic!("no workload {other:?}; try eventfd, unix or hyper_client, /kettle or /tokio"),
    }
}

/// One criterion group: the workload on kettle, then on tokio.
fn side_by_side(c: &mut Criterion, group: &str, workload: &str) {
    let mut group = c.benchmark_group(group);
    group.sample_size(10).sampling_mode(SamplingMode::Flat);
    let kettle = kettle::Runtime::new().unwrap();
    let tokio = tokio_rt();
    for runtime in ["kettle", "tokio"] {
        let name = format!("{workload}/{runtime}");
        group.bench_function(runtime, |b| b.iter(|| run(&name, &kettle, &tokio)));
    }
    group.finish();
}

fn async_io_eventfd(c: &mut Criterion) {
    side_by_side(c, "async_io_eventfd", "eventfd");
}

fn async_io_unix(c: &mut Criterion) {
    side_by_side(c, "async_io_unix", "unix");
}

fn async_io_hyper_client(c: &mut Criterion) {
    side_by_side(c, "async_io_hyper_client", "hyper_client");
}

criterion_group!(benches, async_io_eventfd, async_io_unix, async_io_hyper_client);

/// `rounds` alternating runs of `workload` on kettle and on tokio (which
/// goes first alternates too), each run's wall time and the CPU time of the
/// thread running it (user + system: what the runtime and the kernel spent
/// on its behalf, which other load on a shared machine blurs less), and the
/// medians of both.
fn rounds(workload: &str, rounds: usize) {
    let kettle = kettle::Runtime::new().unwrap();
    let tokio = tokio_rt();
    let time = |runtime: &str| {
        let (start, cpu) = (Instant::now(), thread_cpu_time());
        run(&format!("{workload}/{runtime}"), &kettle, &tokio);
        (start.elapsed(), thread_cpu_time() - cpu)
    };
    time("kettle"); // warm-up: the server's threads, the allocator
    time("tokio");
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let (k, t) = if round % 2 == 0 {
            let k = time("kettle");
            (k, time("tokio"))
        } else {
            let t = time("tokio");
            (time("kettle"), t)
        };
        println!(
            "round {round}: wall kettle {:?}, tokio {:?} ({:.2}); cpu kettle {:?}, tokio {:?} ({:.2})",
            k.0,
            t.0,
            ratio(k.0, t.0),
            k.1,
            t.1,
            ratio(k.1, t.1)
        );
        ours.push(k);
        theirs.push(t);
    }
    let median = |times: &mut Vec<(Duration, Duration)>, cpu: bool| {
        let mut times: Vec<Duration> = times.iter().map(|t| if cpu { t.1 } else { t.0 }).collect();
        times.sort();
        times[times.len() / 2]
    };
    let (kw, tw) = (median(&mut ours, false), median(&mut theirs, false));
    let (kc, tc) = (median(&mut ours, true), median(&mut theirs, true));
    println!(
        "{workload}: median wall kettle {kw:?}, tokio {tw:?}, kettle/tokio {:.2}; \
         median cpu kettle {kc:?}, tokio {tc:?}, kettle/tokio {:.2}",
        ratio(kw, tw),
        ratio(kc, tc)
    );
}

/// The CPU time (user + system) this thread has used so far.
fn thread_cpu_time() -> Duration {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `now` is a valid `timespec` on the stack, for the call only.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    assert_eq!(status, 0, "clock_gettime: {}", io::Error::last_os_error());
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}

/// criterion's run; or, with `ASYNC_IO_WORKLOAD=GROUP/RUNTIME[:RUNS]`, that
/// one workload `RUNS` times and nothing else (for callgrind and `perf
/// stat`); or, with `ASYNC_IO_ROUNDS=GROUP[:ROUNDS]`, alternating rounds.
fn main() {
    if let Ok(spec) = std::env::var("ASYNC_IO_WORKLOAD") {
        let (workload, runs) = spec.split_once(':').unwrap_or((&spec, "1"));
        let runs: usize = runs.parse().expect("ASYNC_IO_WORKLOAD=GROUP/RUNTIME[:RUNS]: RUNS is a number");
        let (kettle, tokio) = (kettle::Runtime::new().unwrap(), tokio_rt());
        for _ in 0..runs {
            run(workload, &kettle, &tokio);
        }
    } else if let Ok(spec) = std::env::var("ASYNC_IO_ROUNDS") {
        let (workload, n) = spec.split_once(':').unwrap_or((&spec, "9"));
        rounds(workload, n.parse().expect("ASYNC_IO_ROUNDS=GROUP[:ROUNDS]: ROUNDS is a number"));
    } else {
        benches();
        Criterion::default().configure_from_args().final_summary();
    }
}
