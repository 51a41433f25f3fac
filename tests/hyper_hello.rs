//! `examples/hyper_hello.rs`, tested from the outside: each test starts the
//! example as a real server (`cargo run --features hyper --example
//! hyper_hello -- 0`, so it picks a free port and prints it), talks HTTP to
//! it over plain `std::net::TcpStream`s, and stops it with SIGINT or
//! SIGTERM, checking that it exits cleanly and says what it served.
//!
//! Every wait is bounded: sockets have read timeouts, and a
//! `RunningExample` kills its process when dropped.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

mod common;
use common::example::RunningExample;

const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
const LIMIT: Duration = Duration::from_secs(10);

/// Starts the example with `args` after the port and waits (building it may
/// take a while) for the address it prints.
fn start(args: &[&str]) -> (RunningExample, SocketAddr) {
    let args: Vec<&str> = ["0"].iter().chain(args).copied().collect();
    let mut example = RunningExample::start_with_features("hyper_hello", &["hyper"], &args, &[]);
    let first = example.wait_for_line("listening on ", Duration::from_secs(180));
    let addr = first.split_once("listening on ").unwrap().1.trim();
    let addr = addr.parse().unwrap_or_else(|e| panic!("bad address in {first:?}: {e}"));
    (example, addr)
}

fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(LIMIT)).unwrap();
    stream
}

/// Sends a GET and reads one whole answer (its head, then `content-length`
/// bytes); returns the head and the body.
fn get(stream: &mut TcpStream) -> (String, String) {
    stream.write_all(GET).unwrap();
    let mut bytes = Vec::new();
    let mut buf = [0; 1024];
    loop {
        if let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8(bytes[..end].to_vec()).unwrap();
            let length: usize = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length: "))
                .expect("a content-length")
                .parse()
                .unwrap();
            if bytes.len() >= end + 4 + length {
                let body = String::from_utf8(bytes[end + 4..end + 4 + length].to_vec()).unwrap();
                return (head, body);
            }
        }
        let n = stream.read(&mut buf).unwrap();
        assert_ne!(n, 0, "the server closed before answering: {:?}", String::from_utf8_lossy(&bytes));
        bytes.extend_from_slice(&buf[..n]);
    }
}

/// Whether the server has closed `stream` (end of file).
fn assert_closed(stream: &mut TcpStream) {
    let n = stream.read(&mut [0; 64]).expect("the server closes, not resets");
    assert_eq!(n, 0, "the server closed the connection");
}

#[test]
fn it_answers_hello_world_on_a_kept_alive_connection_and_stops_on_ctrl_c() {
    let (example, addr) = start(&[]);
    let mut client = connect(addr);
    for _ in 0..2 {
        let (head, body) = get(&mut client);
        assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
        assert_eq!(body, "Hello, world!");
    }
    example.interrupt();
    // The idle kept-alive connection is closed gracefully.
    assert_closed(&mut client);
    let (status, out) = example.wait_exit(LIMIT);
    assert!(status.success(), "{status}\n{out}");
    assert!(out.contains("[0] got Ctrl+C: closing 1 connection(s) gracefully"), "{out}");
    assert!(out.contains("served 2 request(s) on 1 connection(s), 0 ended by an error; goodbye"), "{out}");
}

#[test]
fn sigterm_stops_it_as_gracefully_as_ctrl_c_and_the_log_names_it() {
    let (example, addr) = start(&[]);
    let mut client = connect(addr);
    get(&mut client);
    example.terminate();
    assert_closed(&mut client);
    let (status, out) = example.wait_exit(LIMIT);
    assert!(status.success(), "{status}\n{out}");
    assert!(out.contains("[0] got SIGTERM"), "{out}");
}

#[test]
fn with_threads_each_runtime_serves_the_one_port_and_every_one_stops() {
    let (example, addr) = start(&["--threads", "2"]);
    // Enough connections that the kernel very likely gives both listeners
    // some; every one is answered whichever thread has it.
    let mut clients: Vec<TcpStream> = (0..8).map(|_| connect(addr)).collect();
    for client in &mut clients {
        assert_eq!(get(client).1, "Hello, world!");
    }
    example.interrupt();
    for client in &mut clients {
        assert_closed(client);
    }
    let (status, out) = example.wait_exit(LIMIT);
    assert!(status.success(), "{status}\n{out}");
    assert!(out.contains("2 thread(s)"), "{out}");
    assert!(out.contains("[0] got Ctrl+C") && out.contains("[1] got Ctrl+C"), "both threads stop: {out}");
    assert!(out.contains("served 8 request(s) on 8 connection(s)"), "{out}");
}

#[test]
fn bad_arguments_get_the_usage_and_exit_status_2() {
    for args in [&["--threads", "0"][..], &["--threads"], &["not-a-port"]] {
        let example = RunningExample::start_with_features("hyper_hello", &["hyper"], args, &[]);
        let (status, out) = example.wait_exit(Duration::from_secs(180));
        assert_eq!(status.code(), Some(2), "{args:?}: {status}\n{out}");
    }
}
