//! hyper's HTTP/1.1 server on kettle: every request gets `Hello, world!`.
//!
//! Run it with `cargo run --release --features hyper --example hyper_hello
//! [PORT] [--threads N]` (port 8080 by default, 0 picks a free one), then
//! `curl http://127.0.0.1:8080/`. It answers as `http_hello` does, but hyper
//! speaks the HTTP — keep-alive, pipelining, chunked bodies, limits, a
//! 30-second header-read timeout — and `kettle::hyper` is all the glue:
//! `KettleIo` for the socket, `KettleTimer` for the timeout.
//!
//! - **`--threads N`**: N threads, each running its own runtime with its
//!   own listener on the one port (`SO_REUSEPORT`): the kernel spreads new
//!   connections across them, and each connection stays on its thread.
//! - **Ctrl+C or SIGTERM**: every thread stops accepting and asks hyper to
//!   close each of its connections gracefully — an idle one at once, a busy
//!   one after its current response — then the program says how much it
//!   served and exits. A second signal quits at once.

use std::cell::Cell;
use std::convert::Infallible;
use std::future::{Future, poll_fn};
use std::io::{self, Write};
use std::net::SocketAddr;
use std::pin::pin;
use std::rc::Rc;
use std::sync::mpsc;
use std::task::Poll;
use std::thread;

use hyper::service::service_fn;
use hyper::{Request, Response, body::Incoming};
use kettle::TaskGroup;
use kettle::hyper::{KettleIo, KettleTimer};
use kettle::net::{TcpListener, TcpSocket, TcpStream};
use kettle::signal::{SignalKind, signal};
use kettle::sync::Event;

mod common;
use common::{ms, say};

const BODY: &str = "Hello, world!";

/// What one thread's server did, reported when it stops.
#[derive(Default)]
struct Tally {
    connections: Cell<u64>,
    requests: Cell<u64>,
    /// Connections hyper ended with an error (a client that reset mid-response, say).
    failed: Cell<u64>,
}

fn main() {
    common::start_clock();
    let Some((port, threads)) = parse_args() else {
        eprintln!("usage: hyper_hello [PORT] [--threads N]");
        std::process::exit(2);
    };
    if let Err(e) = serve_on_threads(port, threads) {
        eprintln!("hyper_hello: {e}");
        std::process::exit(1);
    }
}

/// `[PORT] [--threads N]`, in either order: the port (8080 if absent) and
/// the number of threads (1 if absent, at least 1).
fn parse_args() -> Option<(u16, usize)> {
    let (mut port, mut threads) = (8080, 1);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--threads" => threads = args.next()?.parse().ok().filter(|&n| n >= 1)?,
            _ => port = arg.parse().ok()?,
        }
    }
    Some((port, threads))
}

/// Starts one server thread per `threads`, all on `port`, and waits for
/// them. The first binds (picking the port if it is 0); the others then
/// bind the address it got.
fn serve_on_threads(port: u16, threads: usize) -> io::Result<()> {
    let (ready_tx, ready) = mpsc::channel();
    let mut addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut servers = Vec::new();
    for index in 0..threads {
        let ready_tx = ready_tx.clone();
        let shared = threads > 1;
        servers.push(thread::spawn(move || kettle::run(serve(addr, shared, index, ready_tx))));
        // Each thread says it listens, or dies trying (then its error is below).
        match ready.recv() {
            Ok(bound) => addr = bound,
            Err(_) => break,
        }
    }
    if servers.len() == threads {
        println!("listening on {addr}");
        say!("{threads} thread(s); press Ctrl+C (or send SIGTERM) to stop");
        io::stdout().flush()?;
    }
    let mut total = (0, 0, 0);
    for server in servers {
        let tally = server.join().expect("a server thread panicked")?;
        total = (total.0 + tally.0, total.1 + tally.1, total.2 + tally.2);
    }
    let (connections, requests, failed) = total;
    say!("served {requests} request(s) on {connections} connection(s), {failed} ended by an error; goodbye");
    Ok(())
}

/// A listener on `addr`; with `shared`, one of several on the same port.
fn listen(addr: SocketAddr, shared: bool) -> io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.set_reuseport(shared)?;
    socket.bind(addr)?;
    socket.listen(1024)
}

/// One thread's server: listens, says so on `ready`, serves until Ctrl+C or
/// SIGTERM, then closes its connections gracefully. Returns its tally as
/// (connections, requests, failed connections).
async fn serve(
    addr: SocketAddr,
    shared: bool,
    index: usize,
    ready: mpsc::Sender<SocketAddr>,
) -> io::Result<(u64, u64, u64)> {
    let listener = listen(addr, shared)?;
    let stop = stop_signal()?; // catches Ctrl+C and SIGTERM from now on
    let _ = ready.send(listener.local_addr()?);

    let tally = Rc::new(Tally::default());
    let shutdown = Event::new();
    let connections = TaskGroup::<Infallible>::new();
    let accept_loop = async {
        loop {
            match listener.accept().await {
                Ok((stream, _peer)) => {
                    tally.connections.set(tally.connections.get() + 1);
                    drop(connections.spawn(connection(stream, tally.clone(), shutdown.clone())));
                }
                Err(e) => {
                    say!("[{index}] accept failed: {e}");
                    kettle::sleep(ms(100)).await; // out of descriptors, say
                }
            }
        }
    };
    // The accept loop never ends by itself: a signal is the only way out.
    let Either::Right(stopped_by) = first(accept_loop, stop).await;
    drop(listener);
    say!("[{index}] got {}: closing {} connection(s) gracefully", stopped_by?, connections.len());
    shutdown.set();
    let Ok(()) = connections.join().await; // connection tasks never fail
    Ok((tally.connections.get(), tally.requests.get(), tally.failed.get()))
}

/// Serves one connection with hyper until the client is done or `shutdown`
/// is set; then hyper finishes the response in flight, if any, and closes.
async fn connection(stream: TcpStream, tally: Rc<Tally>, shutdown: Event) -> Result<(), Infallible> {
    let _ = stream.set_nodelay(true); // pipelined answers go out at once
    let hello = service_fn(|_request: Request<Incoming>| {
        tally.requests.set(tally.requests.get() + 1);
        async { Ok::<_, Infallible>(Response::new(BODY.to_string())) }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(KettleTimer::new()); // for hyper's header-read timeout
    let mut serving = pin!(builder.serve_connection(KettleIo::new(stream), hello));
    let ended = match first(serving.as_mut(), shutdown.wait()).await {
        Either::Left(ended) => ended,
        Either::Right(()) => {
            serving.as_mut().graceful_shutdown();
            serving.await
        }
    };
    if ended.is_err() {
        tally.failed.set(tally.failed.get() + 1);
    }
    Ok(())
}

// ---------------------------------------------------------------- helpers --

/// Listens for Ctrl+C (SIGINT) and SIGTERM from the moment it is called;
/// the future resolves with the name of the first to arrive. A plain
/// function, so that the listeners exist before the server says it is
/// listening (as in `http_hello`, which explains why). Every thread calls
/// it: each delivery wakes every listener, on every runtime.
fn stop_signal() -> io::Result<impl Future<Output = io::Result<&'static str>>> {
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        let got = match first(interrupt.recv(), terminate.recv()).await {
            Either::Left(got) => got.map(|()| "Ctrl+C"),
            Either::Right(got) => got.map(|()| "SIGTERM"),
        };
        got.ok_or_else(|| io::Error::other("could not wait for Ctrl+C or SIGTERM"))
    })
}

enum Either<A, B> {
    Left(A),
    Right(B),
}

/// Waits for whichever of two futures finishes first and drops the other.
async fn first<A: Future, B: Future>(a: A, b: B) -> Either<A::Output, B::Output> {
    let (mut a, mut b) = (pin!(a), pin!(b));
    poll_fn(|cx| {
        if let Poll::Ready(out) = a.as_mut().poll(cx) {
            return Poll::Ready(Either::Left(out));
        }
        b.as_mut().poll(cx).map(Either::Right)
    })
    .await
}
