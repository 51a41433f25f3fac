//! A minimal HTTP/1.1 server that answers every request with `Hello, world!`,
//! written with kettle alone: no HTTP crate.
//!
//! Run it with `cargo run --release --example http_hello [PORT] [IDLE_MS]
//! [--threads N]` (port 8080 by default, 0 picks a free one; idle timeout
//! 5000 ms, or `HTTP_HELLO_IDLE_MS`; one thread), then `curl
//! http://127.0.0.1:8080/`. It speaks enough HTTP/1.1 to be a fair load-test
//! target:
//!
//! - **Persistent connections**: HTTP/1.1 keeps the connection open unless the
//!   request says `Connection: close`; HTTP/1.0 closes unless it says
//!   `Connection: keep-alive`. Pipelined requests are answered in order.
//! - **Limits**: a request head over 8 KiB gets `431`, a malformed one `400`,
//!   a body (`Content-Length`) over 1 MiB `413`; all three close the
//!   connection. Bodies within the limit are read and thrown away. Chunked
//!   bodies (`Transfer-Encoding`) are not supported: `501`, then close.
//! - **Idle timeout**: a connection with nothing to read for the idle time is
//!   closed (the same bound applies to every read within a request).
//! - **Ctrl+C or SIGTERM** (what `kill`, systemd and container runtimes
//!   send): stop accepting, close idle connections, let busy ones finish the
//!   request they are in, then exit; the log says which signal it was.
//! - **More than one core** (`--threads N`): N threads, each running its own
//!   kettle runtime with its own listener on the same port (`SO_REUSEPORT`);
//!   the kernel spreads the connections over them, and each stops on the
//!   signal as a single one does. See [`serve_on_threads`].
//!
//! Every method gets the same answer (`HEAD` without the body). When the
//! server closes a connection after an answer, it half-closes and drains
//! what the client still sends for a moment (a "lingering close"), so the
//! client reads the answer rather than a connection reset.

use std::cell::Cell;
use std::convert::Infallible;
use std::future::{Future, poll_fn};
use std::io::{self, Write};
use std::net::{Shutdown, SocketAddr};
use std::pin::pin;
use std::rc::Rc;
use std::sync::mpsc;
use std::task::Poll;
use std::thread;
use std::time::Duration;

use kettle::TaskGroup;
use kettle::net::{TcpListener, TcpSocket, TcpStream};
use kettle::signal::{SignalKind, signal};
use kettle::sync::Event;

mod common;
use common::{ms, say};

const MAX_HEAD: usize = 8 * 1024;
const MAX_BODY: u64 = 1024 * 1024;
const BODY: &str = "Hello, world!";

// ---------------------------------------------------------------- parsing --

/// An HTTP status: code and reason phrase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Status(u16, &'static str);

const OK: Status = Status(200, "OK");
const BAD_REQUEST: Status = Status(400, "Bad Request");
const CONTENT_TOO_LARGE: Status = Status(413, "Content Too Large");
const HEADERS_TOO_LARGE: Status = Status(431, "Request Header Fields Too Large");
const NOT_IMPLEMENTED: Status = Status(501, "Not Implemented");

/// What the server needs to know about one request head.
#[derive(Debug, PartialEq, Eq)]
struct Head {
    /// `HEAD` requests get the headers of the answer, not its body.
    is_head: bool,
    /// After the answer, wait for another request on this connection.
    keep_alive: bool,
    /// Body bytes that follow the head, to be read and discarded.
    content_length: u64,
    /// The client waits for `100 Continue` before sending the body.
    expect_continue: bool,
}

/// The outcome of [`parse_head`] on the bytes received so far.
#[derive(Debug, PartialEq, Eq)]
enum Parsed {
    /// No complete head yet, and still within the size limit: read more.
    Partial,
    /// A complete, valid head of `len` bytes (the body, if any, follows).
    Request(Head, usize),
    /// Answer with this status, then close the connection.
    Reject(Status, &'static str),
}

/// Parses the request head at the start of `buf`. Pure: no I/O, so every
/// rule below can be checked by feeding it bytes.
///
/// Lines end in CRLF (a bare LF is tolerated); empty lines before the request
/// line are skipped; the head ends at the first empty line and may not exceed
/// [`MAX_HEAD`] bytes.
fn parse_head(buf: &[u8]) -> Parsed {
    // Split into lines up to the empty one that ends the head.
    let mut lines = Vec::new();
    let mut pos = 0;
    loop {
        let Some(newline) = buf[pos..].iter().position(|&b| b == b'\n') else {
            return if buf.len() > MAX_HEAD {
                Parsed::Reject(HEADERS_TOO_LARGE, "request head over 8 KiB")
            } else {
                Parsed::Partial
            };
        };
        let line = &buf[pos..pos + newline];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        pos += newline + 1;
        if pos > MAX_HEAD {
            return Parsed::Reject(HEADERS_TOO_LARGE, "request head over 8 KiB");
        }
        match (line.is_empty(), lines.is_empty()) {
            (true, true) => continue, // a stray empty line before the request
            (true, false) => break,   // the end of the head
            (false, _) => lines.push(line),
        }
    }

    // The request line: METHOD SP TARGET SP VERSION.
    let mut parts = lines[0].split(|&b| b == b' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Parsed::Reject(BAD_REQUEST, "bad request line");
    };
    if !is_token(method) || target.is_empty() || !target.iter().all(|&b| b.is_ascii_graphic()) {
        return Parsed::Reject(BAD_REQUEST, "bad request line");
    }
    let http11 = match version {
        b"HTTP/1.1" => true,
        b"HTTP/1.0" => false,
        _ => return Parsed::Reject(BAD_REQUEST, "unknown HTTP version"),
    };

    // Header lines: NAME ":" OWS VALUE OWS. Only a few names matter here.
    let mut head =
        Head { is_head: method == b"HEAD", keep_alive: false, content_length: 0, expect_continue: false };
    let (mut has_host, mut close, mut keep_alive, mut length) = (false, false, false, None);
    for line in &lines[1..] {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            return Parsed::Reject(BAD_REQUEST, "header line without a colon");
        };
        let (name, value) = (&line[..colon], line[colon + 1..].trim_ascii());
        // This also refuses obsolete line folding (a line that starts with
        // whitespace) and whitespace before the colon.
        if !is_token(name) || value.iter().any(|&b| b.is_ascii_control() && b != b'\t') {
            return Parsed::Reject(BAD_REQUEST, "bad header line");
        }
        match name.to_ascii_lowercase().as_slice() {
            b"host" => has_host = true,
            b"connection" => {
                for option in value.split(|&b| b == b',').map(<[u8]>::trim_ascii) {
                    close |= option.eq_ignore_ascii_case(b"close");
                    keep_alive |= option.eq_ignore_ascii_case(b"keep-alive");
                }
            }
            b"content-length" => {
                if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
                    return Parsed::Reject(BAD_REQUEST, "bad Content-Length");
                }
                // All digits: only an absurd length fails to parse.
                let n = std::str::from_utf8(value).ok().and_then(|v| v.parse().ok()).unwrap_or(u64::MAX);
                if length.is_some_and(|previous| previous != n) {
                    return Parsed::Reject(BAD_REQUEST, "conflicting Content-Length headers");
                }
                length = Some(n);
            }
            b"transfer-encoding" => {
                return Parsed::Reject(NOT_IMPLEMENTED, "Transfer-Encoding (chunked bodies) not supported");
            }
            b"expect" => head.expect_continue = value.eq_ignore_ascii_case(b"100-continue"),
            _ => {}
        }
    }
    if http11 && !has_host {
        return Parsed::Reject(BAD_REQUEST, "HTTP/1.1 request without Host");
    }
    // HTTP/1.1 keeps the connection by default, HTTP/1.0 only on request.
    head.keep_alive = !close && (http11 || keep_alive);
    head.content_length = length.unwrap_or(0);
    if head.content_length > MAX_BODY {
        return Parsed::Reject(CONTENT_TOO_LARGE, "body over 1 MiB");
    }
    Parsed::Request(head, pos)
}

/// An HTTP token (method, header name): one or more of these characters.
fn is_token(bytes: &[u8]) -> bool {
    !bytes.is_empty() && bytes.iter().all(|&b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// A complete response; `body` is left out for `HEAD`.
fn response(status: Status, body: &str, send_body: bool, keep_alive: bool) -> Vec<u8> {
    let connection = if keep_alive { "keep-alive" } else { "close" };
    let mut out = format!(
        "HTTP/1.1 {} {}\r\nServer: kettle-http-hello\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: {connection}\r\n\r\n",
        status.0,
        status.1,
        body.len()
    )
    .into_bytes();
    if send_body {
        out.extend_from_slice(body.as_bytes());
    }
    out
}

// ------------------------------------------------------------- connection --

/// What every connection task of one runtime shares.
struct Server {
    /// Starts each line this runtime logs: `""` with one thread, `"thread
    /// 1: "` with several.
    tag: String,
    idle: Duration,
    /// Set on Ctrl+C or SIGTERM: idle connections close, busy ones close
    /// after their current request.
    shutdown: Event,
    requests: Cell<u64>,
    rejected: Cell<u64>,
}

/// Serves one connection; during shutdown, says how it ended.
async fn connection(mut stream: TcpStream, peer: SocketAddr, server: Rc<Server>) -> Result<(), Infallible> {
    let _ = stream.set_nodelay(true); // pipelined answers go out at once
    let ending = serve_requests(&mut stream, peer, &server).await.unwrap_or("I/O error");
    if server.shutdown.is_set() {
        say!("{}{peer}: {ending}", server.tag);
    }
    Ok(())
}

/// Reads a head, discards the body, answers, and goes round again while the
/// connection is kept alive.
async fn serve_requests(
    stream: &mut TcpStream,
    peer: SocketAddr,
    server: &Server,
) -> io::Result<&'static str> {
    let mut buf = Vec::with_capacity(4096);
    loop {
        // 1. A complete head: parse what we have, read more while partial.
        let (head, len) = loop {
            match parse_head(&buf) {
                Parsed::Request(head, len) => break (head, len),
                Parsed::Reject(Status(code, phrase), reason) => {
                    say!("{}{peer}: {code} {phrase} ({reason}); closing", server.tag);
                    server.rejected.set(server.rejected.get() + 1);
                    let answer = response(Status(code, phrase), &format!("{reason}\n"), true, false);
                    stream.write_all(&answer).await?;
                    linger(stream, server.idle).await;
                    return Ok("rejected a request");
                }
                Parsed::Partial => {}
            }
            // Between requests (nothing buffered), shutdown closes at once.
            let between = buf.is_empty();
            match read_more(stream, &mut buf, server, between).await? {
                Read::Data => {}
                Read::Closed => return Ok("closed by the client"),
                Read::Idle => return Ok("idle timeout"),
                Read::Shutdown => return Ok("idle at shutdown: closed"),
            }
        };
        buf.drain(..len);

        // 2. The body, if any: first what is already buffered, then reads.
        if head.expect_continue && head.content_length > 0 {
            stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await?;
        }
        let buffered = buf.len().min(head.content_length as usize);
        buf.drain(..buffered);
        if !discard(stream, head.content_length - buffered as u64, server.idle).await? {
            return Ok("closed or idle inside a body");
        }

        // 3. The answer. After a stop signal, this request is the connection's last.
        let keep_alive = head.keep_alive && !server.shutdown.is_set();
        stream.write_all(&response(OK, BODY, !head.is_head, keep_alive)).await?;
        server.requests.set(server.requests.get() + 1);
        if !keep_alive {
            linger(stream, server.idle).await;
            return Ok(if server.shutdown.is_set() {
                "finished its request at shutdown: closed"
            } else {
                "closed after the answer"
            });
        }
    }
}

/// What [`read_more`] saw.
enum Read {
    Data,
    Closed,
    Idle,
    Shutdown,
}

/// Appends what the next read brings to `buf`, within the idle timeout;
/// `between` requests, shutdown (the event a stop signal sets) also ends the wait.
async fn read_more(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    server: &Server,
    between: bool,
) -> io::Result<Read> {
    let old = buf.len();
    buf.resize(old + 4096, 0);
    let read = kettle::timeout(server.idle, stream.read(&mut buf[old..]));
    let shutdown = async {
        if between {
            server.shutdown.wait().await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    let (n, seen) = match first(read, shutdown).await {
        Either::Left(Ok(Ok(0))) => (0, Read::Closed),
        Either::Left(Ok(Ok(n))) => (n, Read::Data),
        Either::Left(Ok(Err(e))) => {
            buf.truncate(old);
            return Err(e);
        }
        Either::Left(Err(_elapsed)) => (0, Read::Idle),
        Either::Right(()) => (0, Read::Shutdown),
    };
    buf.truncate(old + n);
    Ok(seen)
}

/// Reads and drops `remaining` body bytes; false if the client closed or
/// went quiet first.
async fn discard(stream: &mut TcpStream, mut remaining: u64, idle: Duration) -> io::Result<bool> {
    let mut scratch = [0; 4096];
    while remaining > 0 {
        let want = scratch.len().min(remaining as usize);
        match kettle::timeout(idle, stream.read(&mut scratch[..want])).await {
            Ok(Ok(0)) | Err(_) => return Ok(false),
            Ok(Ok(n)) => remaining -= n as u64,
            Ok(Err(e)) => return Err(e),
        }
    }
    Ok(true)
}

/// The server's side of closing: stop writing (the client sees the end of
/// the answer), then read and drop whatever the client still sends until it
/// closes, for at most a second. Closing with unread input would make the
/// kernel send a reset, which can destroy the answer before it is read.
async fn linger(stream: &mut TcpStream, idle: Duration) {
    let _ = stream.shutdown(Shutdown::Write);
    let drain = async {
        let mut scratch = [0; 4096];
        let mut total = 0;
        while let Ok(n @ 1..) = stream.read(&mut scratch).await {
            total += n;
            if total > 1024 * 1024 {
                break;
            }
        }
    };
    let _ = kettle::timeout(idle.min(Duration::from_secs(1)), drain).await;
}

// ---------------------------------------------------------------- helpers --

enum Either<A, B> {
    Left(A),
    Right(B),
}

/// Waits for whichever of two futures finishes first and drops the other
/// (a two-way `select`; `kettle::race` wants futures of one type).
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

// ------------------------------------------------------------------- main --

const USAGE: &str = "usage: http_hello [PORT] [IDLE_MS] [--threads N]   (or HTTP_HELLO_IDLE_MS=...)";

/// Room for connections waiting to be accepted, per listener
/// (`TcpListener::bind` gives 128): enough for a load generator's burst.
const BACKLOG: u32 = 1024;

fn main() {
    common::start_clock();
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(problem) => {
            eprintln!("http_hello: {problem}\n{USAGE}");
            std::process::exit(2);
        }
    };
    if let Err(e) = serve_on_threads(options) {
        eprintln!("http_hello: {e}");
        std::process::exit(1);
    }
}

/// The command line: `[PORT] [IDLE_MS] [--threads N]`.
struct Options {
    /// 8080 by default; 0 picks a free port.
    port: u16,
    idle: Duration,
    /// How many threads serve the port, each running a runtime of its own.
    threads: usize,
}

impl Options {
    /// Reads the arguments (the flag may come anywhere); `Err` says what is
    /// wrong with them.
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
        let mut threads = 1;
        let mut positional = Vec::new();
        while let Some(arg) = args.next() {
            if arg != "--threads" {
                positional.push(arg);
                continue;
            }
            threads = match args.next().map(|n| n.parse::<usize>()) {
                Some(Ok(n @ 1..)) => n,
                _ => return Err("--threads wants a number of threads, 1 or more".into()),
            };
        }
        let mut positional = positional.into_iter();
        let port = positional.next().map_or(Ok(8080), |arg| arg.parse::<u16>());
        let idle = positional
            .next()
            .or_else(|| std::env::var("HTTP_HELLO_IDLE_MS").ok())
            .map_or(Ok(5000), |v| v.parse());
        match (port, idle, positional.next()) {
            (Ok(port), Ok(idle_ms), None) => {
                Ok(Options { port, idle: Duration::from_millis(idle_ms), threads })
            }
            (Err(_), _, _) => Err("PORT must be a number from 0 to 65535".into()),
            (_, Err(_), _) => Err("IDLE_MS must be a number of milliseconds".into()),
            (_, _, Some(extra)) => Err(format!("unexpected argument {extra:?}")),
        }
    }
}

/// Serves the port from `threads` threads, each running a runtime of its
/// own with a listener of its own, and waits for all of them to stop.
///
/// This is how a kettle program uses more than one core: shared nothing.
/// Every listener sets `SO_REUSEPORT`, so all may bind the same port, and
/// the kernel hands each new connection to one of them (by a hash of its
/// addresses and ports). A connection then lives on that thread, with its
/// tasks, timers and counters, until it closes; the threads never talk to
/// each other. Each listens for the stop signals itself — one Ctrl+C wakes
/// every listener, on every runtime — and stops as it would alone.
/// One thread is the same code with `threads` = 1.
fn serve_on_threads(Options { port, idle, threads }: Options) -> io::Result<()> {
    let share_port = threads > 1;
    let mut addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut workers = Vec::with_capacity(threads);
    for i in 0..threads {
        let tag = if share_port { format!("thread {i}: ") } else { String::new() };
        let (ready, listening) = mpsc::channel();
        let worker = thread::Builder::new().name(format!("http_hello-{i}")).spawn(move || {
            // Built here: a runtime is `!Send`, and so are the server's tasks.
            let runtime = kettle::Runtime::new()?;
            runtime.block_on(serve(addr, share_port, idle, tag, ready))
        })?;
        // One thread at a time: the first listener picks the port (0: a free
        // one), and the others bind the port it got.
        let Ok(bound) = listening.recv() else {
            // It ended before listening; its result says why. The threads
            // already listening end with the process: no one has been told
            // the address yet, so no connection is cut short.
            return Err(match worker.join() {
                Ok(Err(e)) => io::Error::new(e.kind(), format!("thread {i}: {e}")),
                Ok(Ok(_)) => unreachable!("a server stops only after it listens"),
                Err(_panic) => io::Error::other(format!("thread {i} panicked while starting")),
            });
        };
        addr = bound;
        workers.push(worker);
    }
    // Every thread listens for connections and for the stop signals now.
    println!("listening on {addr}");
    if share_port {
        say!("{threads} threads, each running its own runtime and listener on this port");
    }
    say!("idle timeout {} ms; press Ctrl+C (or send SIGTERM) to stop", idle.as_millis());
    io::stdout().flush()?;

    // Each thread stops on the signal; a thread that fails or panics does
    // not stop the others (its panic has been printed as it happened).
    let mut total = Served::default();
    let mut failed = 0;
    for (i, worker) in workers.into_iter().enumerate() {
        match worker.join() {
            Ok(Ok(served)) => {
                if share_port {
                    say!("thread {i}: {served}");
                }
                total = total + served;
            }
            Ok(Err(e)) => {
                eprintln!("http_hello: thread {i}: {e}");
                failed += 1;
            }
            Err(_panic) => {
                eprintln!("http_hello: thread {i} panicked");
                failed += 1;
            }
        }
    }
    if share_port {
        say!("all {threads} threads: {total}; goodbye");
    } else {
        say!("{total}; goodbye");
    }
    if failed > 0 {
        return Err(io::Error::other(format!("{failed} of {threads} thread(s) failed")));
    }
    Ok(())
}

/// What one runtime's server did, counted when it stops.
#[derive(Clone, Copy, Debug, Default)]
struct Served {
    requests: u64,
    connections: u64,
    rejected: u64,
}

impl std::ops::Add for Served {
    type Output = Served;

    fn add(self, other: Served) -> Served {
        Served {
            requests: self.requests + other.requests,
            connections: self.connections + other.connections,
            rejected: self.rejected + other.rejected,
        }
    }
}

impl std::fmt::Display for Served {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Served { requests, connections, rejected } = self;
        write!(f, "served {requests} request(s) on {connections} connection(s), rejected {rejected}")
    }
}

/// A listener on `addr` with room for [`BACKLOG`] waiting connections. With
/// `share_port`, it sets `SO_REUSEPORT`, so that every thread's listener may
/// bind the same port (only sockets that all set it may share a port).
fn listen(addr: SocketAddr, share_port: bool) -> io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?; // a restarted server may bind while old connections linger
    socket.set_reuseport(share_port)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

/// Listens for the two requests to stop — Ctrl+C (SIGINT) and SIGTERM —
/// from the moment it is called, and returns a future that resolves with the
/// name of the first to arrive. While the future exists, neither signal ends
/// the process; once it is dropped, both have their default effect again.
///
/// A plain function, not an `async fn`: the listeners must exist before the
/// server says it is listening, or a signal sent right after would find the
/// default disposition and end the process on the spot. Each thread running
/// a runtime can call it for listeners of its own: every listener, on every
/// runtime, wakes on each delivery.
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

/// One runtime's server: listens on `addr`, sends the address it got down
/// `ready` once it also listens for the stop signals, then accepts
/// connections until a signal comes, and lets them finish.
async fn serve(
    addr: SocketAddr,
    share_port: bool,
    idle: Duration,
    tag: String,
    ready: mpsc::Sender<SocketAddr>,
) -> io::Result<Served> {
    let listener = listen(addr, share_port)?;
    let stop = stop_signal()?; // catches Ctrl+C and SIGTERM from now on
    let _ = ready.send(listener.local_addr()?);
    drop(ready);

    let server =
        Rc::new(Server { tag, idle, shutdown: Event::new(), requests: Cell::new(0), rejected: Cell::new(0) });
    let tag = &server.tag;
    let connections = TaskGroup::<Infallible>::new();
    let accepted = Cell::new(0_u64);

    // The accept loop races the stop signals.
    let accept_loop = async {
        loop {
            match listener.accept().await {
                Ok((stream, peer)) => {
                    accepted.set(accepted.get() + 1);
                    let member = connections.spawn(connection(stream, peer, server.clone()));
                    drop(member); // detached: the group keeps track of it
                }
                Err(e) => {
                    say!("{tag}accept failed: {e}");
                    kettle::sleep(ms(100)).await; // out of descriptors, say
                }
            }
        }
    };
    // The accept loop never ends by itself, so a signal is the only way out.
    // `first` drops the listeners with the loop: a second signal quits at
    // once (once every thread's listeners are gone).
    let Either::Right(stopped_by) = first(accept_loop, stop).await;
    let stopped_by = stopped_by?;
    drop(listener);
    say!(
        "{tag}got {stopped_by}: stopped accepting; {} connection(s) open (Ctrl+C again quits at once)",
        connections.len()
    );
    server.shutdown.set();
    say!("{tag}closing idle connections, letting busy ones finish their current request");
    let started = std::time::Instant::now();
    let Ok(()) = connections.join().await; // connection tasks never fail
    say!("{tag}all connections closed in {:.2}s", started.elapsed().as_secs_f64());
    Ok(Served {
        requests: server.requests.get(),
        connections: accepted.get(),
        rejected: server.rejected.get(),
    })
}
