//! `examples/http_hello.rs`, tested from the outside: each test starts the
//! example as a real server (`cargo run --example http_hello -- 0`, so it
//! picks a free port and prints it), talks HTTP to it over plain
//! `std::net::TcpStream`s (and real `curl`, when installed), and stops it
//! with SIGINT (or SIGTERM), checking that it exits cleanly. The last tests
//! run it with `--threads 2`: two runtimes on two threads sharing the port.
//!
//! Every wait is bounded: sockets have read timeouts, the server's output is
//! read on a thread with deadlines, and a [`Server`] kills its process when
//! dropped, so a failing test never leaves a server behind.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, ExitStatus};
use std::thread;
use std::time::{Duration, Instant};

mod common;
use common::example::RunningExample;

/// A curl-style request.
const GET: &str = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: curl/8.0\r\nAccept: */*\r\n\r\n";

/// A running `http_hello` (killed on drop unless stopped) and its address.
struct Server {
    example: RunningExample,
    addr: SocketAddr,
}

impl Server {
    /// Starts the example with the given idle timeout and waits (building it
    /// may take a while) for the address it prints.
    fn start(idle_ms: u64) -> Server {
        Server::start_with(idle_ms, &[])
    }

    /// [`start`](Server::start) with more arguments (`--threads N`). The
    /// address is printed once every thread listens.
    fn start_with(idle_ms: u64, args: &[&str]) -> Server {
        let idle = idle_ms.to_string();
        let args: Vec<&str> = ["0"].iter().chain(args).copied().collect();
        let mut example = RunningExample::start("http_hello", &args, &[("HTTP_HELLO_IDLE_MS", &idle)]);
        let first = example.wait_for_line("listening on ", Duration::from_secs(120));
        let addr = first.split_once("listening on ").unwrap().1.split_whitespace().next().unwrap();
        let addr = addr.parse().unwrap_or_else(|e| panic!("bad address in {first:?}: {e}"));
        Server { example, addr }
    }

    fn wait_for_line(&mut self, needle: &str, within: Duration) -> String {
        self.example.wait_for_line(needle, within)
    }

    fn connect(&self) -> Client {
        Client::connect(self.addr)
    }

    fn interrupt(&self) {
        self.example.interrupt();
    }

    fn terminate(&self) {
        self.example.terminate();
    }

    /// Waits (at most 10 s) for the server to exit; returns its status and
    /// everything it printed.
    fn wait_exit(self) -> (ExitStatus, String) {
        self.example.wait_exit(Duration::from_secs(10))
    }

    /// SIGINT, then a clean exit with a goodbye; returns the output.
    fn stop(self) -> String {
        self.interrupt();
        let (status, out) = self.wait_exit();
        assert!(status.success(), "http_hello exited with {status} after SIGINT:\n{out}");
        assert!(out.contains("got Ctrl+C: stopped accepting"), "{out}");
        assert!(out.contains("goodbye"), "{out}");
        out
    }
}

/// One parsed response.
#[derive(Debug)]
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn assert_hello(&self, connection: &str) {
        assert_eq!(self.status, 200, "{self:?}");
        assert_eq!(self.body, "Hello, world!", "{self:?}");
        assert_eq!(self.header("Content-Length"), Some("13"), "{self:?}");
        assert!(self.header("Content-Type").is_some_and(|t| t.starts_with("text/plain")), "{self:?}");
        assert_eq!(self.header("Connection"), Some(connection), "{self:?}");
    }
}

/// A test client with a 2 s bound on every read and write.
struct Client {
    stream: TcpStream,
    /// Bytes read but not yet parsed (pipelined responses).
    buf: Vec<u8>,
}

impl Client {
    fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))
            .unwrap_or_else(|e| panic!("could not connect to {addr}: {e}"));
        stream.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        stream.set_write_timeout(Some(Duration::from_secs(2))).unwrap();
        Client { stream, buf: Vec::new() }
    }

    fn send(&mut self, request: &str) {
        self.stream.write_all(request.as_bytes()).expect("could not send the request");
    }

    /// Reads more into `buf`; `false` at end-of-file.
    fn fill(&mut self) -> bool {
        let mut chunk = [0; 4096];
        match self.stream.read(&mut chunk) {
            Ok(0) => false,
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                panic!("no answer within 2 s; got so far: {:?}", String::from_utf8_lossy(&self.buf))
            }
            Err(e) => panic!("read failed: {e}; got so far: {:?}", String::from_utf8_lossy(&self.buf)),
        }
    }

    /// Reads one response; `head_request` if it answers a HEAD (no body).
    fn response_to(&mut self, head_request: bool) -> Response {
        let end = loop {
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break end;
            }
            assert!(self.fill(), "connection closed mid-response: {:?}", String::from_utf8_lossy(&self.buf));
        };
        let head = String::from_utf8(self.buf.drain(..end + 4).collect()).expect("a UTF-8 head");
        let mut lines = head.trim_end().split("\r\n");
        let status_line = lines.next().unwrap();
        let status = status_line
            .strip_prefix("HTTP/1.1 ")
            .and_then(|rest| rest.get(..3)?.parse().ok())
            .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
        let headers: Vec<(String, String)> = lines
            .map(|line| {
                let (name, value) = line.split_once(':').unwrap_or_else(|| panic!("bad header {line:?}"));
                (name.to_owned(), value.trim().to_owned())
            })
            .collect();
        let mut response = Response { status, headers, body: String::new() };
        let length: usize = response.header("Content-Length").expect("a Content-Length").parse().unwrap();
        if !head_request {
            while self.buf.len() < length {
                assert!(self.fill(), "connection closed mid-body: {response:?}");
            }
            response.body = String::from_utf8(self.buf.drain(..length).collect()).expect("a UTF-8 body");
        }
        response
    }

    fn response(&mut self) -> Response {
        self.response_to(false)
    }

    /// Asserts that the server closes the connection (within the read
    /// timeout) without sending anything more.
    fn assert_closed(&mut self) {
        let more = self.fill();
        assert!(
            !more && self.buf.is_empty(),
            "expected end-of-file, got {:?}",
            String::from_utf8_lossy(&self.buf)
        );
    }
}

#[test]
fn get_answers_hello_world() {
    let server = Server::start(200);
    let mut client = server.connect();
    client.send(GET);
    client.response().assert_hello("keep-alive");
    drop(client);
    let out = server.stop();
    assert!(out.contains("served 1 request(s) on 1 connection(s), rejected 0"), "{out}");
}

#[test]
fn keep_alive_serves_two_requests_on_one_connection() {
    let server = Server::start(2000);
    let mut client = server.connect();
    client.send(GET);
    client.response().assert_hello("keep-alive");
    client.send(GET);
    client.response().assert_hello("keep-alive");
    drop(client);
    let out = server.stop();
    assert!(out.contains("served 2 request(s) on 1 connection(s)"), "{out}");
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let server = Server::start(2000);
    let mut client = server.connect();
    // Sent in one write: a GET, a HEAD (no body in its answer), and a GET
    // that closes. The answers must come back in that order.
    let head = GET.replacen("GET", "HEAD", 1);
    let last = GET.replace("Accept: */*\r\n", "Accept: */*\r\nConnection: close\r\n");
    client.send(&format!("{GET}{head}{last}"));
    client.response().assert_hello("keep-alive");
    let to_head = client.response_to(true);
    assert_eq!((to_head.status, to_head.header("Content-Length")), (200, Some("13")), "{to_head:?}");
    assert_eq!(to_head.header("Connection"), Some("keep-alive"), "{to_head:?}");
    client.response().assert_hello("close");
    client.assert_closed();
    server.stop();
}

#[test]
fn connection_close_closes_after_the_response() {
    let server = Server::start(2000);
    let mut client = server.connect();
    client.send("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    client.response().assert_hello("close");
    client.assert_closed();
    server.stop();
}

#[test]
fn http_1_0_closes_unless_keep_alive_is_requested() {
    let server = Server::start(2000);

    let mut plain = server.connect();
    plain.send("GET / HTTP/1.0\r\n\r\n");
    plain.response().assert_hello("close");
    plain.assert_closed();

    let mut kept = server.connect();
    kept.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    kept.response().assert_hello("keep-alive");
    kept.send("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
    kept.response().assert_hello("keep-alive");
    kept.send("GET / HTTP/1.0\r\n\r\n");
    kept.response().assert_hello("close");
    kept.assert_closed();
    server.stop();
}

#[test]
fn malformed_requests_get_400_and_the_connection_closes() {
    let server = Server::start(2000);
    for request in [
        "GARBAGE\r\n\r\n",
        "GET /\r\nHost: x\r\n\r\n",
        "GET  / HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET / HTTP/9.9\r\nHost: x\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nthis line has no colon\r\n\r\n",
        "GET / HTTP/1.1\r\nHost : x\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\n folded: line\r\n\r\n",
        "GET / HTTP/1.1\r\nUser-Agent: no host\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 12abc\r\n\r\n",
    ] {
        let mut client = server.connect();
        client.send(request);
        let response = client.response();
        assert_eq!(response.status, 400, "{request:?} got {response:?}");
        assert_eq!(response.header("Connection"), Some("close"), "{request:?} got {response:?}");
        client.assert_closed();
    }
    let out = server.stop();
    assert!(out.contains("400 Bad Request (bad request line)"), "{out}");
    assert!(out.contains("400 Bad Request (unknown HTTP version)"), "{out}");
    assert!(out.contains("rejected 9;"), "{out}");
}

#[test]
fn an_oversized_head_gets_431_and_the_connection_closes() {
    let server = Server::start(2000);
    let mut client = server.connect();
    let mut request = String::from("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    for n in 0..1024 {
        request.push_str(&format!("X-Filler-{n:04}: {}\r\n", "a".repeat(48)));
    }
    request.push_str("\r\n");
    assert!(request.len() >= 64 * 1024);
    // The server may answer (and stop reading) before all of it is sent.
    let _ = client.stream.write_all(request.as_bytes());
    let response = client.response();
    assert_eq!(response.status, 431, "{response:?}");
    assert_eq!(response.header("Connection"), Some("close"), "{response:?}");
    client.assert_closed();
    let out = server.stop();
    assert!(out.contains("431 Request Header Fields Too Large"), "{out}");
}

#[test]
fn bodies_are_read_and_discarded_within_limits() {
    let server = Server::start(2000);

    // A small body, then a pipelined GET: the body must not be taken for a
    // request.
    let mut client = server.connect();
    client.send(&format!("POST /form HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nGET / oops!{GET}"));
    client.response().assert_hello("keep-alive");
    client.response().assert_hello("keep-alive");

    // A body that arrives after the head, in pieces.
    client.send("PUT /file HTTP/1.1\r\nHost: x\r\nContent-Length: 10000\r\n\r\n");
    for _ in 0..10 {
        client.send(&"z".repeat(1000));
        thread::sleep(Duration::from_millis(5));
    }
    client.response().assert_hello("keep-alive");

    // Chunked bodies are not supported: 501.
    let mut chunked = server.connect();
    chunked.send("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
    let response = chunked.response();
    assert_eq!((response.status, response.header("Connection")), (501, Some("close")), "{response:?}");
    chunked.assert_closed();

    // Over the 1 MiB cap: 413.
    let mut huge = server.connect();
    huge.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n");
    let response = huge.response();
    assert_eq!((response.status, response.header("Connection")), (413, Some("close")), "{response:?}");
    huge.assert_closed();
    server.stop();
}

#[test]
fn idle_connections_are_closed_after_the_idle_timeout() {
    let server = Server::start(200);

    // Never sends anything.
    let mut silent = server.connect();
    let started = Instant::now();
    silent.assert_closed();
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(150), "closed after {waited:?}, before the 200 ms timeout");

    // Goes quiet after one request.
    let mut quiet = server.connect();
    quiet.send(GET);
    quiet.response().assert_hello("keep-alive");
    let started = Instant::now();
    quiet.assert_closed();
    assert!(started.elapsed() >= Duration::from_millis(150), "closed after {:?}", started.elapsed());

    // Stops in the middle of a head.
    let mut stalled = server.connect();
    stalled.send("GET / HTTP/1.1\r\nHost: x\r\n");
    stalled.assert_closed();
    server.stop();
}

#[test]
fn ctrl_c_finishes_in_flight_requests_and_closes_idle_connections() {
    let mut server = Server::start(5000);

    // One keep-alive connection, idle between requests.
    let mut idle = server.connect();
    idle.send(GET);
    idle.response().assert_hello("keep-alive");
    // One connection in the middle of a request.
    let mut busy = server.connect();
    busy.send(GET);
    busy.response().assert_hello("keep-alive");
    busy.send("GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    thread::sleep(Duration::from_millis(100)); // let the server read that much

    server.interrupt();
    server.wait_for_line("got Ctrl+C: stopped accepting; 2 connection(s) open", Duration::from_secs(5));
    // The idle connection is closed at once; new ones are refused.
    idle.assert_closed();
    let refused = TcpStream::connect_timeout(&server.addr, Duration::from_secs(2));
    assert!(refused.is_err(), "the server still accepts connections after Ctrl+C");
    // The busy one gets its answer, marked as the last, then the close.
    busy.send("Accept: */*\r\n\r\n");
    busy.response().assert_hello("close");
    busy.assert_closed();
    drop((idle, busy));

    let (status, out) = server.wait_exit();
    assert!(status.success(), "http_hello exited with {status}:\n{out}");
    assert!(out.contains("idle at shutdown: closed"), "{out}");
    assert!(out.contains("finished its request at shutdown: closed"), "{out}");
    assert!(out.contains("served 3 request(s) on 2 connection(s), rejected 0; goodbye"), "{out}");
}

#[test]
fn sigterm_stops_it_as_gracefully_as_ctrl_c_and_the_log_names_it() {
    let mut server = Server::start(5000);
    let mut idle = server.connect();
    idle.send(GET);
    idle.response().assert_hello("keep-alive");
    let mut busy = server.connect();
    busy.send("GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    thread::sleep(Duration::from_millis(100)); // let the server read that much

    server.terminate();
    server.wait_for_line("got SIGTERM: stopped accepting; 2 connection(s) open", Duration::from_secs(5));
    idle.assert_closed();
    busy.send("\r\n");
    busy.response().assert_hello("close");
    busy.assert_closed();
    drop((idle, busy));

    let (status, out) = server.wait_exit();
    assert!(status.success(), "http_hello exited with {status} after SIGTERM:\n{out}");
    assert!(!out.contains("got Ctrl+C"), "{out}");
    assert!(out.contains("finished its request at shutdown: closed"), "{out}");
    assert!(out.contains("served 2 request(s) on 2 connection(s), rejected 0; goodbye"), "{out}");
}

/// Runs `curl ARGS` (bounded by `--max-time`), or `None` if curl is missing.
fn curl(args: &[&str]) -> Option<String> {
    if Command::new("curl").arg("--version").output().is_err() {
        return None;
    }
    let output = Command::new("curl")
        .args(["--silent", "--show-error", "--max-time", "5"])
        .args(args)
        .output()
        .expect("could not run curl");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "curl {args:?} failed with {}:\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    Some(stdout)
}

#[test]
fn real_curl_gets_hello_world_and_reuses_the_connection() {
    if curl(&["--version"]).is_none() {
        println!("note: curl is not installed; skipping the curl checks (apt-get install curl)");
        return;
    }
    let server = Server::start(2000);
    let url = format!("http://{}/", server.addr);

    assert_eq!(curl(&[&url]).unwrap(), "Hello, world!");
    // Two URLs in one curl: the second reuses the first one's connection
    // (`num_connects` counts the new connections each transfer made).
    let twice = curl(&["--http1.1", "--write-out", " connects=%{num_connects}\n", &url, &url]).unwrap();
    assert_eq!(twice, "Hello, world! connects=1\nHello, world! connects=0\n");
    let head = curl(&["--head", &url]).unwrap();
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n") && head.contains("Content-Length: 13\r\n"), "{head}");
    let posted = curl(&["--data", "name=kettle", &url]).unwrap();
    assert_eq!(posted, "Hello, world!");

    let out = server.stop();
    assert!(out.contains("served 5 request(s) on 4 connection(s), rejected 0"), "{out}");
}

// ------------------------------------------------------ --threads (thread per core) --

/// The number in `out`'s line that contains `prefix`, right after it (as in
/// `thread 1: served 7 request(s)` with prefix `thread 1: served `).
fn number_after(out: &str, prefix: &str) -> u64 {
    let line =
        out.lines().find(|line| line.contains(prefix)).unwrap_or_else(|| panic!("no {prefix:?} in:\n{out}"));
    let rest = line.split_once(prefix).unwrap().1;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().unwrap_or_else(|_| panic!("no number after {prefix:?} in {line:?}"))
}

#[test]
fn two_threads_serve_one_port_and_the_kernel_spreads_the_connections_over_both() {
    let server = Server::start_with(5000, &["--threads", "2"]);

    // All open at once, each with one request answered. The kernel picks a
    // listener for each new connection by a hash of its addresses and ports,
    // so with 40 connections the chance that one thread gets them all is
    // 2 × 2^-40, about 2 in a trillion: asserting that both got some is safe.
    let connections = 40;
    let mut clients: Vec<Client> = (0..connections).map(|_| server.connect()).collect();
    for client in &mut clients {
        client.send(GET);
    }
    for client in &mut clients {
        client.response().assert_hello("keep-alive");
    }

    // Ctrl+C: each thread closes its own idle connections, then main adds up.
    let out = server.stop();
    drop(clients);
    let on = |thread| number_after(&out, &format!("thread {thread}: got Ctrl+C: stopped accepting; "));
    let (open_0, open_1) = (on(0), on(1));
    assert!(open_0 > 0 && open_1 > 0, "one thread got every connection ({open_0} and {open_1}):\n{out}");
    assert_eq!(open_0 + open_1, connections, "{out}");
    for thread in 0..2 {
        let served = number_after(&out, &format!("thread {thread}: served "));
        let accepted = number_after(&out, &format!("thread {thread}: served {served} request(s) on "));
        assert_eq!(served, accepted, "one request per connection on thread {thread}:\n{out}");
    }
    assert_eq!(out.matches("idle at shutdown: closed").count(), 40, "{out}");
    assert!(
        out.contains("all 2 threads: served 40 request(s) on 40 connection(s), rejected 0; goodbye"),
        "{out}"
    );
}

#[test]
fn sigterm_stops_every_thread_gracefully() {
    let mut server = Server::start_with(5000, &["--threads", "2"]);
    // A few idle keep-alive connections (on either thread, or both), and one
    // in the middle of a request.
    let mut idle: Vec<Client> = (0..8).map(|_| server.connect()).collect();
    for client in &mut idle {
        client.send(GET);
        client.response().assert_hello("keep-alive");
    }
    let mut busy = server.connect();
    busy.send("GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    thread::sleep(Duration::from_millis(100)); // let the server read that much

    server.terminate();
    server.example.wait_for_all(
        &["thread 0: got SIGTERM: stopped accepting", "thread 1: got SIGTERM: stopped accepting"],
        Duration::from_secs(5),
    );
    // Neither thread accepts now; idle connections close at once; the busy
    // one gets its answer, marked as the last.
    let refused = TcpStream::connect_timeout(&server.addr, Duration::from_secs(2));
    assert!(refused.is_err(), "a thread still accepts connections after SIGTERM");
    for client in &mut idle {
        client.assert_closed();
    }
    busy.send("\r\n");
    busy.response().assert_hello("close");
    busy.assert_closed();
    drop((idle, busy));

    let (status, out) = server.wait_exit();
    assert!(status.success(), "http_hello --threads 2 exited with {status} after SIGTERM:\n{out}");
    assert!(out.contains("finished its request at shutdown: closed"), "{out}");
    for thread in 0..2 {
        assert!(out.contains(&format!("thread {thread}: all connections closed in ")), "{out}");
    }
    assert!(
        out.contains("all 2 threads: served 9 request(s) on 9 connection(s), rejected 0; goodbye"),
        "{out}"
    );
}

#[test]
fn a_thread_count_that_is_not_a_positive_number_is_a_usage_error() {
    for args in [&["--threads", "0"][..], &["--threads", "two"], &["--threads"], &["--threads", "-1"]] {
        let output = Command::new(env!("CARGO"))
            .args(["run", "--quiet", "--example", "http_hello", "--", "0"])
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("could not run cargo");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "http_hello 0 {args:?}: {}\n{stderr}", output.status);
        assert!(stderr.contains("--threads wants a number of threads, 1 or more"), "{args:?}: {stderr}");
        assert!(stderr.contains("usage: http_hello [PORT] [IDLE_MS] [--threads N]"), "{args:?}: {stderr}");
        assert!(output.stdout.is_empty(), "{args:?} printed {:?}", String::from_utf8_lossy(&output.stdout));
    }
}
