//! Specifies the `futures-io` bridge for a child's pipes: `AsyncWrite` on
//! `ChildStdin` (whose `poll_close` makes the child read end-of-file) and
//! `AsyncRead` on `ChildStdout` and `ChildStderr`, driven through
//! hand-written `poll_fn` helpers (no futures-util). Compiled only with
//! `--features futures-io`.
#![cfg(feature = "futures-io")]

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::process::Stdio;

use futures_io::{AsyncRead, AsyncWrite};
use kettle::process::Command;

async fn write_all<W: AsyncWrite + Unpin>(writer: &mut W, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        let n = poll_fn(|cx| Pin::new(&mut *writer).poll_write(cx, buf)).await?;
        buf = &buf[n..];
    }
    poll_fn(|cx| Pin::new(&mut *writer).poll_flush(cx)).await
}

async fn read_to_end<R: AsyncRead + Unpin>(reader: &mut R) -> io::Result<Vec<u8>> {
    let (mut all, mut chunk) = (Vec::new(), [0; 4096]);
    loop {
        match poll_fn(|cx| Pin::new(&mut *reader).poll_read(cx, &mut chunk)).await? {
            0 => return Ok(all),
            n => all.extend_from_slice(&chunk[..n]),
        }
    }
}

#[test]
fn bytes_written_through_async_write_come_back_through_async_read_after_close() {
    kettle::run(async {
        let mut child = Command::new("cat").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let data = vec![42u8; 300_000]; // more than a pipe holds
        let writer = kettle::spawn(async move {
            let bufs = [io::IoSlice::new(&[42; 3]), io::IoSlice::new(&[42; 7])];
            let n = poll_fn(|cx| Pin::new(&mut stdin).poll_write_vectored(cx, &bufs)).await?;
            assert_eq!(n, 10, "both buffers, in one writev");
            write_all(&mut stdin, &data[10..]).await?;
            poll_fn(|cx| Pin::new(&mut stdin).poll_close(cx)).await // cat sees end-of-file
        });
        let read = read_to_end(&mut stdout).await.unwrap();
        assert_eq!(read.len(), 300_000);
        assert!(read.iter().all(|&b| b == 42));
        writer.await.unwrap().unwrap();
        assert!(child.wait().await.unwrap().success());
    });
}

#[test]
fn stderr_reads_through_async_read_and_a_closed_stdin_refuses_writes() {
    kettle::run(async {
        let mut child = Command::new("sh")
            .args(["-c", "echo to-stderr >&2"])
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        poll_fn(|cx| Pin::new(&mut stdin).poll_close(cx)).await.unwrap();
        let error = poll_fn(|cx| Pin::new(&mut stdin).poll_write(cx, b"x")).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::BrokenPipe);
        let read = read_to_end(child.stderr.as_mut().unwrap()).await.unwrap();
        assert_eq!(read, b"to-stderr\n");
        assert!(child.wait().await.unwrap().success());
    });
}
