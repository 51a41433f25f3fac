//! Child processes the asyncio way (`create_subprocess_exec`), on kettle.
//!
//! Run it with `cargo run --example subprocess`. Three scenes:
//!
//! 1. **Streaming**: a child prints a line every 50 ms; the parent shows
//!    each line as it arrives (asyncio's `async for line in proc.stdout`),
//!    while a ticker task shows the loop is never blocked.
//! 2. **Feeding stdin**: words go into `sort`'s stdin, the sorted list
//!    comes back (asyncio's `proc.communicate(input)`).
//! 3. **Killing a slow one**: `sleep 10` gets 100 ms (`wait_for`), then is
//!    killed and reaped; its status says SIGKILL.
//!
//! No thread waits for any child: each exit is a pidfd on the reactor.

use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::time::Instant;

use kettle::process::{ChildStdout, Command};

mod common;
use common::{heading, ms, say};

/// The next line of `stdout`, without its newline; `None` at end-of-file.
/// (asyncio's `readline()`, over a buffer this caller keeps.)
async fn next_line(stdout: &mut ChildStdout, pending: &mut Vec<u8>) -> std::io::Result<Option<String>> {
    loop {
        if let Some(at) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=at).collect();
            return Ok(Some(String::from_utf8_lossy(&line[..at]).into_owned()));
        }
        let mut chunk = [0; 1024];
        match stdout.read(&mut chunk).await? {
            0 if pending.is_empty() => return Ok(None),
            0 => return Ok(Some(String::from_utf8_lossy(&std::mem::take(pending)).into_owned())),
            n => pending.extend_from_slice(&chunk[..n]),
        }
    }
}

fn main() -> std::io::Result<()> {
    common::start_clock();
    kettle::run(async {
        heading("streaming — async for line in proc.stdout");
        let ticker = kettle::spawn(async {
            for _ in 0..6 {
                kettle::sleep(ms(30)).await;
                say!("tick (the loop is free)");
            }
        });
        let mut child = Command::new("sh")
            .args(["-c", "for i in 1 2 3; do echo \"line $i\"; sleep 0.05; done"])
            .stdout(Stdio::piped())
            .spawn()?;
        let mut stdout = child.stdout.take().expect("piped");
        let mut pending = Vec::new();
        while let Some(line) = next_line(&mut stdout, &mut pending).await? {
            say!("child said: {line}");
        }
        say!("child exited: {}", child.wait().await?);
        ticker.await.unwrap();

        heading("feeding stdin — proc.communicate(input)");
        let mut sort = Command::new("sort").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn()?;
        let mut stdin = sort.stdin.take().expect("piped");
        // Written by a task of its own: a big input could fill the pipe
        // before sort starts writing its output.
        let feeder = kettle::spawn(async move {
            stdin.write_all(b"oolong\nassam\nmatcha\nsencha\n").await?;
            stdin.shutdown().await // sort sees end-of-file and sorts
        });
        let output = sort.wait_with_output().await?;
        feeder.await.unwrap()?;
        for word in String::from_utf8_lossy(&output.stdout).lines() {
            say!("sorted: {word}");
        }

        heading("killing a slow one — wait_for(proc.wait(), 0.1)");
        let mut slow = Command::new("sleep").arg("10").spawn()?;
        let started = Instant::now();
        match kettle::timeout(ms(100), slow.wait()).await {
            Ok(status) => say!("sleep finished early?! {}", status?),
            Err(_) => {
                say!("sleep 10: no exit after {:.2}s, killing it", started.elapsed().as_secs_f64());
                slow.kill().await?;
                let status = slow.wait().await?;
                say!("sleep 10: killed, signal {:?}, reaped: pid {:?}", status.signal(), slow.id());
            }
        }
        Ok(())
    })
}
