//! Specifies the `futures-io` bridge: `AsyncRead` and `AsyncWrite` on
//! `TcpStream`, `UnixStream`, their owned halves and `io::Async<T>` (for a
//! `T` that reads or writes through `&mut` only, too), driven through
//! hand-written `poll_fn` helpers (no futures-util): `poll_write` until
//! everything is sent, `poll_write_vectored` that sends every buffer in one
//! call, `poll_flush` that has nothing to do, `poll_close` that makes the
//! peer read end of file, and `poll_read` that waits for data and is woken
//! by it. Compiled only with `--features futures-io`.
#![cfg(feature = "futures-io")]

use std::cell::Cell;
use std::future::poll_fn;
use std::io::{self, IoSlice, Write};
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::task::Poll;

use futures_io::{AsyncRead, AsyncWrite};
use kettle::Runtime;
use kettle::net::{TcpListener, TcpStream, UnixStream};

mod common;
use common::net::{
    ANY_LOCAL_PORT, LIMIT, assert_peer_receives_what_was_sent, bounded, pattern, poll_once, reset, settle,
    std_peer_pair,
};

/// Writes all of `buf` with `poll_write`.
async fn write_all<W: AsyncWrite + Unpin>(writer: &mut W, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        let n = poll_fn(|cx| Pin::new(&mut *writer).poll_write(cx, buf)).await?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        buf = &buf[n..];
    }
    Ok(())
}

async fn flush<W: AsyncWrite + Unpin>(writer: &mut W) -> io::Result<()> {
    poll_fn(|cx| Pin::new(&mut *writer).poll_flush(cx)).await
}

async fn close<W: AsyncWrite + Unpin>(writer: &mut W) -> io::Result<()> {
    poll_fn(|cx| Pin::new(&mut *writer).poll_close(cx)).await
}

async fn read<R: AsyncRead + Unpin>(reader: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    poll_fn(|cx| Pin::new(&mut *reader).poll_read(cx, buf)).await
}

/// Reads with `poll_read` until end of file.
async fn read_to_end<R: AsyncRead + Unpin>(reader: &mut R) -> io::Result<Vec<u8>> {
    let mut got = Vec::new();
    let mut buf = vec![0; 10_007];
    loop {
        match read(reader, &mut buf).await? {
            0 => return Ok(got),
            n => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// A listener on loopback, and a (client, server) connection through it.
async fn connected_pair() -> (TcpListener, TcpStream, TcpStream) {
    let listener = TcpListener::bind(ANY_LOCAL_PORT).unwrap();
    let client = bounded(TcpStream::connect(listener.local_addr().unwrap())).await.unwrap();
    let (server, _) = bounded(listener.accept()).await.unwrap();
    (listener, client, server)
}

#[test]
fn a_stream_writes_flushes_closes_and_reads_through_the_traits() {
    const LEN: usize = 256 * 1024;
    let rt = Runtime::new().unwrap();
    rt.block_on(bounded(async {
        let (_listener, mut client, mut server) = connected_pair().await;
        // The peer, on kettle's own API: read everything, answer it reversed.
        let peer = kettle::spawn(async move {
            let mut got = Vec::new();
            let mut buf = vec![0; 8192];
            loop {
                match server.read(&mut buf).await.unwrap() {
                    0 => break,
                    n => got.extend_from_slice(&buf[..n]),
                }
            }
            got.reverse();
            server.write_all(&got).await.unwrap();
        });

        write_all(&mut client, &pattern(LEN)).await.unwrap();
        flush(&mut client).await.unwrap();
        close(&mut client).await.unwrap();
        let err = write_all(&mut client, b"after close").await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe, "writing after poll_close fails");

        let answer = read_to_end(&mut client).await.unwrap();
        peer.await.unwrap();
        let mut expected = pattern(LEN);
        expected.reverse();
        assert_eq!(answer.len(), LEN);
        assert!(answer == expected, "the peer saw end of file only after all of the bytes");
    }));
    let metrics = rt.metrics();
    assert_eq!((metrics.tasks_alive, metrics.io_sources, metrics.timers_pending), (0, 0, 0));
}

#[test]
fn split_halves_in_two_tasks_echo_a_mebibyte_through_the_traits() {
    const LEN: usize = 1 << 20;
    let rt = Runtime::new().unwrap();
    let echoed = rt.block_on(bounded(async {
        let (_listener, client, mut server) = connected_pair().await;
        let echo = kettle::spawn(async move {
            let mut buf = vec![0; 16 * 1024];
            loop {
                match server.read(&mut buf).await.unwrap() {
                    0 => return,
                    n => server.write_all(&buf[..n]).await.unwrap(),
                }
            }
        });
        let (mut read_half, mut write_half) = client.into_split();
        let writer = kettle::spawn(async move {
            for piece in pattern(LEN).chunks(7919) {
                write_all(&mut write_half, piece).await.unwrap();
            }
            flush(&mut write_half).await.unwrap();
            close(&mut write_half).await.unwrap();
            write_half // kept alive: poll_close alone must end the stream
        });
        let reader = kettle::spawn(async move { read_to_end(&mut read_half).await.unwrap() });
        let write_half = writer.await.unwrap();
        echo.await.unwrap();
        let echoed = reader.await.unwrap();
        drop(write_half);
        echoed
    }));
    assert_eq!(echoed.len(), LEN);
    assert!(echoed == pattern(LEN), "the echo differs from what was sent");
    let metrics = rt.metrics();
    assert_eq!((metrics.tasks_alive, metrics.io_sources, metrics.timers_pending), (0, 0, 0));
}

#[test]
fn empty_reads_and_writes_are_ready_at_once_with_zero() {
    kettle::run(async {
        let (_listener, mut client, server) = connected_pair().await;
        let (mut read_half, mut write_half) = server.into_split();
        // Nothing was sent: a real read would wait. An empty one must not.
        assert!(matches!(poll_once(read(&mut client, &mut [])), Poll::Ready(Ok(0))));
        assert!(matches!(poll_once(read(&mut read_half, &mut [])), Poll::Ready(Ok(0))));
        let mut write_zero = pin!(poll_fn(|cx| Pin::new(&mut client).poll_write(cx, &[])));
        assert!(matches!(poll_once(write_zero.as_mut()), Poll::Ready(Ok(0))));
        let mut half_zero = pin!(poll_fn(|cx| Pin::new(&mut write_half).poll_write(cx, &[])));
        assert!(matches!(poll_once(half_zero.as_mut()), Poll::Ready(Ok(0))));
        assert!(matches!(poll_once(flush(&mut write_half)), Poll::Ready(Ok(()))));
    });
}

#[test]
fn a_pending_poll_read_is_woken_by_arriving_data() {
    let rt = Runtime::new().unwrap();
    let (_listener, mut peer, stream) = std_peer_pair(&rt);
    let (mut read_half, _write_half) = stream.into_split();
    let reader = rt.spawn(async move {
        let mut buf = [0; 8];
        let n = read(&mut read_half, &mut buf).await.unwrap();
        buf[..n].to_vec()
    });
    settle(&rt);
    assert!(!reader.is_finished(), "nothing to read yet: poll_read is pending");

    peer.write_all(b"wake").unwrap();
    let turn = rt.turn(Some(LIMIT));
    assert_eq!(turn.tasks_run, 1, "the data woke the reader");
    assert_eq!(rt.block_on(reader).unwrap(), b"wake");
}

#[test]
fn a_poll_write_blocked_on_a_full_socket_resumes_when_the_peer_drains_it() {
    let rt = Runtime::new().unwrap();
    let (_listener, peer, stream) = std_peer_pair(&rt);
    let stop = Rc::new(Cell::new(false));
    let waiting = Rc::new(Cell::new(false));
    // Writes until told to stop; it only ever waits when the socket is full,
    // which, with a peer that does not read yet, is soon.
    let writer = rt.spawn({
        let (stop, waiting) = (stop.clone(), waiting.clone());
        async move {
            let mut stream = stream;
            let chunk = pattern(251 * 256); // whole periods: chunks continue the pattern
            let mut sent = 0;
            while !stop.get() {
                let mut rest = &chunk[..];
                while !rest.is_empty() {
                    let n = poll_fn(|cx| {
                        let poll = Pin::new(&mut stream).poll_write(cx, rest);
                        waiting.set(poll.is_pending());
                        poll
                    })
                    .await
                    .unwrap();
                    rest = &rest[n..];
                }
                sent += chunk.len();
            }
            close(&mut stream).await.unwrap();
            sent
        }
    });
    settle(&rt);
    assert!(waiting.get(), "poll_write returned Pending on the full socket");

    stop.set(true);
    assert_peer_receives_what_was_sent(&rt, peer, writer);
}

#[test]
fn poll_close_on_a_connection_the_peer_reset_is_ok() {
    let rt = Runtime::new().unwrap();
    let (_listener, peer, mut stream) = std_peer_pair(&rt);
    reset(peer);
    rt.block_on(async {
        let read = bounded(poll_fn(|cx| Pin::new(&mut stream).poll_read(cx, &mut [0; 8]))).await;
        assert_eq!(read.unwrap_err().kind(), io::ErrorKind::ConnectionReset);
        let closed = poll_fn(|cx| Pin::new(&mut stream).poll_close(cx)).await;
        assert!(closed.is_ok(), "the write side is as shut as it will ever be: {closed:?}");
    });
}

#[test]
fn poll_write_vectored_through_the_trait_sends_every_buffer_in_one_call() {
    // The trait's default writes only the first non-empty buffer; kettle's
    // streams override it with one `sendmsg` of them all.
    let rt = Runtime::new().unwrap();
    let (_listener, mut peer, stream) = std_peer_pair(&rt);
    let (head, body) = (&b"HTTP/1.1 200 OK\r\n\r\n"[..], &b"body"[..]);
    let (_read_half, mut write_half) = stream.into_split();
    let bufs = [IoSlice::new(head), IoSlice::new(body)];
    let n =
        rt.block_on(bounded(poll_fn(|cx| Pin::new(&mut write_half).poll_write_vectored(cx, &bufs)))).unwrap();
    assert_eq!(n, head.len() + body.len(), "both buffers in one call, from the write half");
    let mut got = vec![0; n];
    std::io::Read::read_exact(&mut peer, &mut got).unwrap();
    assert_eq!(got, [head, body].concat());

    let (_listener, mut peer, mut stream) = std_peer_pair(&rt);
    let n = rt.block_on(bounded(poll_fn(|cx| Pin::new(&mut stream).poll_write_vectored(cx, &bufs)))).unwrap();
    assert_eq!(n, head.len() + body.len(), "both buffers in one call, from the whole stream");
    let mut got = vec![0; n];
    std::io::Read::read_exact(&mut peer, &mut got).unwrap();
    assert_eq!(got, [head, body].concat());
}

#[test]
fn a_unix_stream_and_its_halves_read_write_and_close_through_the_traits() {
    let rt = Runtime::new().unwrap();
    rt.block_on(bounded(async {
        let (mut a, b) = UnixStream::pair().unwrap();
        write_all(&mut a, b"whole stream|").await.unwrap();
        let (mut read_half, mut write_half) = b.into_split();
        let bufs = [IoSlice::new(b"write "), IoSlice::new(b"half")];
        let n = poll_fn(|cx| Pin::new(&mut write_half).poll_write_vectored(cx, &bufs)).await.unwrap();
        assert_eq!(n, 10, "both buffers in one call");
        flush(&mut write_half).await.unwrap();
        close(&mut write_half).await.unwrap();
        assert_eq!(read_to_end(&mut a).await.unwrap(), b"write half", "closed: end of file after the data");

        let n =
            poll_fn(|cx| Pin::new(&mut a).poll_write_vectored(cx, &[IoSlice::new(b"bye")])).await.unwrap();
        assert_eq!(n, 3);
        close(&mut a).await.unwrap();
        assert_eq!(read_to_end(&mut read_half).await.unwrap(), b"whole stream|bye");
    }));
    assert_eq!(rt.metrics().io_sources, 0);
}

// ----- Async<T> for T that reads and writes through &mut only -----------------

#[test]
fn a_child_processs_stdin_and_stdout_in_async_are_async_write_and_async_read() {
    // Issue 17: `Async<T>` was `AsyncRead` only for `&T: Read`, which
    // `ChildStdout` is not.
    use std::process::{Command, Stdio};
    let mut child = Command::new("cat").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    let (stdin, stdout) = (child.stdin.take().unwrap(), child.stdout.take().unwrap());
    let rt = Runtime::new().unwrap();
    let echoed = rt.block_on(bounded(async {
        let mut stdin = kettle::io::Async::new(stdin)?;
        let mut stdout = kettle::io::Async::new(stdout)?;
        write_all(&mut stdin, b"through cat and back").await?;
        flush(&mut stdin).await?;
        close(&mut stdin).await?;
        drop(stdin); // cat sees end of file, writes what it read, and exits
        read_to_end(&mut stdout).await
    }));
    assert_eq!(echoed.unwrap(), b"through cat and back");
    assert!(child.wait().unwrap().success());
}

/// A reader that reads only through `&mut self`, as `ChildStdout` does.
struct MutOnly(std::io::PipeReader);

impl std::os::fd::AsFd for MutOnly {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.0.as_fd()
    }
}

impl std::io::Read for MutOnly {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

#[test]
fn an_async_of_a_reader_through_mut_only_waits_for_data_and_is_woken_by_it() {
    let rt = Runtime::new().unwrap();
    let (reader, mut writer) = std::io::pipe().unwrap();
    rt.block_on(bounded(async move {
        let mut reader = kettle::io::Async::new(MutOnly(reader)).unwrap();
        let mut buf = [0; 8];
        let first = poll_once(poll_fn(|cx| Pin::new(&mut reader).poll_read(cx, &mut buf)));
        assert!(first.is_pending(), "nothing written yet");
        kettle::spawn(async move { writer.write_all(b"late").unwrap() }).detach();
        let n = poll_fn(|cx| Pin::new(&mut reader).poll_read(cx, &mut buf)).await.unwrap();
        assert_eq!(&buf[..n], b"late");
    }));
}
