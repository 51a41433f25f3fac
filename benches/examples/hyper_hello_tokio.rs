//! The same hyper server as kettle's `examples/hyper_hello.rs`, on tokio's
//! current-thread runtime with hyper-util's glue (`TokioIo`, `TokioTimer`):
//! the other side of the comparison in PERFORMANCE.md ("hyper on kettle and
//! on tokio").
//!
//! `cargo run --release -p kettle-bench --example hyper_hello_tokio [PORT]`
//! (8080 by default, 0 picks a free one) prints `listening on ADDR` and
//! answers every request with `Hello, world!` over HTTP/1.1 with keep-alive.
//! Like kettle's, each connection is a task with `TCP_NODELAY`, the body is
//! a `String` (http-body implements `Body` for it), and the server has a
//! timer for hyper's header-read timeout.
//!
//! It is a load-test target, not a model server: Ctrl+C ends it the default
//! way, at once. (Catching signals would need tokio's `signal` feature,
//! which would also add a signal driver to the tokio runtime of every
//! benchmark in this package.)

use std::convert::Infallible;
use std::io::{self, Write};

use hyper::service::service_fn;
use hyper::{Request, Response, body::Incoming};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

const BODY: &str = "Hello, world!";

fn main() -> io::Result<()> {
    let port = match std::env::args().nth(1).map(|arg| arg.parse::<u16>()) {
        None => 8080,
        Some(Ok(port)) => port,
        Some(Err(_)) => {
            eprintln!("usage: hyper_hello_tokio [PORT]");
            std::process::exit(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(serve(port))
}

async fn serve(port: u16) -> io::Result<()> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on {}", listener.local_addr()?);
    io::stdout().flush()?;
    loop {
        let Ok((stream, _peer)) = listener.accept().await else { continue };
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let hello = service_fn(|_request: Request<Incoming>| async {
                Ok::<_, Infallible>(Response::new(BODY.to_string()))
            });
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder.timer(TokioTimer::new());
            let _ = builder.serve_connection(TokioIo::new(stream), hello).await;
        });
    }
}
