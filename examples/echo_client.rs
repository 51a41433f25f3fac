//! A client for `echo_server` (asyncio's `open_connection`).
//!
//! Run `cargo run --example echo_server` in one terminal and
//! `cargo run --example echo_client [ADDR]` (default 127.0.0.1:7878) in
//! another. The connection is split in two: a writer task sends a few lines,
//! 20 ms apart, then closes its half; meanwhile the reader prints each echo as
//! it comes back, until the server closes in turn. The whole exchange is
//! bounded by a 5 s timeout.

use std::io;
use std::time::Duration;

use kettle::net::{OwnedReadHalf, TcpStream};

mod common;
use common::{ms, say};

const LINES: [&str; 3] = ["hello, kettle", "the quick brown fox", "goodbye"];

fn main() {
    common::start_clock();
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:7878".to_owned());
    let outcome = kettle::run(async {
        match kettle::timeout(Duration::from_secs(5), talk(&addr)).await {
            Ok(result) => result,
            Err(elapsed) => Err(io::Error::new(io::ErrorKind::TimedOut, elapsed)),
        }
    });
    if let Err(e) = outcome {
        eprintln!("echo_client: {addr}: {e}");
        std::process::exit(1);
    }
}

async fn talk(addr: &str) -> io::Result<()> {
    let stream = TcpStream::connect(addr).await?;
    say!("connected to {}", stream.peer_addr()?);
    // One task writes while this one reads: the halves share the socket.
    let (reader, mut writer) = stream.into_split();
    let sending = kettle::spawn(async move {
        for line in LINES {
            writer.write_all(format!("{line}\n").as_bytes()).await?;
            say!("sent: {line}");
            kettle::sleep(ms(20)).await;
        }
        // Dropping the write half shuts it down: the server reads EOF,
        // finishes echoing and closes its end, which ends `receive`.
        say!("done sending; closing the write half");
        Ok::<_, io::Error>(())
    });

    let echoed = receive(reader).await?;
    sending.await.map_err(|e| io::Error::other(e.to_string()))??;
    say!("the server closed the connection; {echoed} of {} lines echoed", LINES.len());
    Ok(())
}

/// Prints each complete line echoed back, until end-of-file; returns how many.
async fn receive(mut reader: OwnedReadHalf) -> io::Result<usize> {
    let mut pending = Vec::new();
    let mut buf = [0; 1024];
    let mut lines = 0;
    loop {
        let n = reader.read(&mut buf).await?;
        if n == 0 {
            return Ok(lines);
        }
        pending.extend_from_slice(&buf[..n]);
        while let Some(end) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            say!("echo: {}", String::from_utf8_lossy(&line[..end]));
            lines += 1;
        }
    }
}
