//! A TCP echo server (asyncio's `start_server` with an echoing
//! `handle_client`).
//!
//! Run it with `cargo run --example echo_server [PORT]` (default 7878; 0 picks
//! a free port), then talk to it with `cargo run --example echo_client` or
//! `nc 127.0.0.1 7878`. Each connection gets its own task, so any number of
//! clients are served at once on the one thread; each task echoes bytes until
//! its client closes. Ctrl+C stops accepting, closes the connections still
//! open and says goodbye.

use std::cell::Cell;
use std::convert::Infallible;
use std::io::{self, Write};
use std::rc::Rc;

use kettle::TaskGroup;
use kettle::net::{TcpListener, TcpStream};

mod common;
use common::say;

fn main() {
    common::start_clock();
    let port = match std::env::args().nth(1).map(|arg| arg.parse::<u16>()) {
        None => 7878,
        Some(Ok(port)) => port,
        Some(Err(e)) => {
            eprintln!("usage: echo_server [PORT]  (bad port: {e})");
            std::process::exit(2);
        }
    };
    if let Err(e) = kettle::run(serve(port)) {
        eprintln!("echo_server: {e}");
        std::process::exit(1);
    }
}

async fn serve(port: u16) -> io::Result<()> {
    let listener = TcpListener::bind(("127.0.0.1", port))?;
    // Created before the address is announced, so a Ctrl+C from anyone who
    // has seen it is caught rather than killing the process.
    let ctrl_c = kettle::signal::ctrl_c();
    // Plain `println!` for the first line: scripts read the address from it.
    println!("listening on {}", listener.local_addr()?);
    io::stdout().flush()?;

    // Every connection is a member of this group; dropping the group's last
    // handle cancels the members still running.
    let connections = TaskGroup::<Infallible>::new();
    let served = Rc::new(Cell::new(0_usize));
    let accepting = kettle::spawn(accept_loop(listener, connections.clone(), served.clone()));

    ctrl_c.await?;
    // Cancelling the accept task drops the listener: no new connections.
    accepting.cancel();
    let _ = accepting.await;
    say!("got Ctrl+C: stopped accepting; closing {} open connection(s)", connections.len());
    drop(connections); // cancels every connection task; their sockets close
    say!("served {} connection(s); goodbye", served.get());
    Ok(())
}

/// Accepts connections forever, one task each (asyncio's `serve_forever`).
async fn accept_loop(listener: TcpListener, connections: TaskGroup<Infallible>, served: Rc<Cell<usize>>) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                served.set(served.get() + 1);
                say!("{peer}: connected ({} open)", connections.len() + 1);
                let member = connections.spawn(async move {
                    match echo(stream).await {
                        Ok(bytes) => say!("{peer}: closed by the client after {bytes} byte(s)"),
                        Err(e) => say!("{peer}: error: {e}"),
                    }
                    Ok(())
                });
                drop(member); // detached: the group keeps track of it
            }
            // Out of descriptors, say: tell, pause, try again.
            Err(e) => {
                say!("accept failed: {e}");
                kettle::sleep(common::ms(100)).await;
            }
        }
    }
}

/// Writes back everything read until the client closes; returns the byte
/// count. A cancelled task stops wherever it is waiting, and dropping the
/// stream closes the socket.
async fn echo(mut stream: TcpStream) -> io::Result<usize> {
    let mut buf = [0; 4096];
    let mut total = 0;
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(total);
        }
        stream.write_all(&buf[..n]).await?;
        total += n;
    }
}
