//! Specifies the `tokio-io` bridge: tokio's `AsyncRead` and `AsyncWrite` on
//! `TcpStream`, `UnixStream`, their owned halves, `&TcpStream`,
//! `&UnixStream` and `io::Async<T>` (an owned `T: Read`, such as std's
//! `ChildStdout`, too), driven by hand through `poll_fn` with tokio's traits
//! only — no tokio runtime, no tokio-util (those run in
//! benches/tests/tokio_io.rs). Reads land in uninitialised `ReadBuf`s
//! without zeroing them, partial reads append, end of file fills nothing,
//! `poll_shutdown` is seen by the peer, a reset peer makes writes fail and
//! shutdown succeed, a closed peer or pipe reader makes writes fail with
//! `BrokenPipe`, halves work from two tasks and 4 MiB echo intact, and
//! every trait method fails instead of hanging once the runtime is gone.
//! Compiled only with `--features tokio-io`.
#![cfg(feature = "tokio-io")]

use std::cell::Cell;
use std::future::poll_fn;
use std::io::{self, IoSlice, Write};
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::rc::Rc;
use std::task::Poll;

use kettle::Runtime;
use kettle::io::Async;
use kettle::net::{TcpListener, TcpStream, UnixStream};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

mod common;
use common::net::{
    ANY_LOCAL_PORT, LIMIT, assert_peer_receives_what_was_sent, bounded, pattern, poll_once, reset, settle,
    std_peer_pair,
};

// ----- the traits, by hand ----------------------------------------------------

/// One `poll_read` into `buf`, to completion.
async fn read_into<R: AsyncRead + Unpin>(reader: &mut R, buf: &mut ReadBuf<'_>) -> io::Result<()> {
    poll_fn(|cx| Pin::new(&mut *reader).poll_read(cx, buf)).await
}

/// One `poll_read` into a fresh, zero-initialised buffer of `len` bytes.
async fn read<R: AsyncRead + Unpin>(reader: &mut R, len: usize) -> io::Result<Vec<u8>> {
    let mut storage = vec![0; len];
    let mut buf = ReadBuf::new(&mut storage);
    read_into(reader, &mut buf).await?;
    Ok(buf.filled().to_vec())
}

/// Reads with `poll_read` until end of file, into one reused buffer.
async fn read_to_end<R: AsyncRead + Unpin>(reader: &mut R) -> io::Result<Vec<u8>> {
    let mut got = Vec::new();
    let mut storage = vec![MaybeUninit::uninit(); 10_007];
    loop {
        let mut buf = ReadBuf::uninit(&mut storage);
        read_into(reader, &mut buf).await?;
        if buf.filled().is_empty() {
            return Ok(got);
        }
        got.extend_from_slice(buf.filled());
    }
}

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

async fn shutdown<W: AsyncWrite + Unpin>(writer: &mut W) -> io::Result<()> {
    poll_fn(|cx| Pin::new(&mut *writer).poll_shutdown(cx)).await
}

/// A listener on loopback, and a (client, server) connection through it.
async fn connected_pair() -> (TcpListener, TcpStream, TcpStream) {
    let listener = TcpListener::bind(ANY_LOCAL_PORT).unwrap();
    let client = bounded(TcpStream::connect(listener.local_addr().unwrap())).await.unwrap();
    let (server, _) = bounded(listener.accept()).await.unwrap();
    (listener, client, server)
}

/// Everything each kettle stream type implements, checked at compile time.
#[test]
fn every_stream_half_and_reference_implements_the_traits_it_can() {
    fn read<T: AsyncRead + Unpin>() {}
    fn write<T: AsyncWrite + Unpin>() {}
    read::<TcpStream>();
    read::<&TcpStream>();
    read::<kettle::net::OwnedReadHalf>();
    read::<UnixStream>();
    read::<&UnixStream>();
    read::<kettle::net::unix::OwnedReadHalf>();
    write::<TcpStream>();
    write::<&TcpStream>();
    write::<kettle::net::OwnedWriteHalf>();
    write::<UnixStream>();
    write::<&UnixStream>();
    write::<kettle::net::unix::OwnedWriteHalf>();
    read::<Async<std::process::ChildStdout>>();
    write::<Async<std::process::ChildStdin>>();
    read::<&Async<std::os::unix::net::UnixStream>>();
    write::<&Async<std::io::PipeWriter>>();
}

// ----- reads -------------------------------------------------------------------

#[test]
fn a_read_goes_into_an_uninitialised_buffer_without_zeroing_the_rest_of_it() {
    kettle::run(bounded(async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        b.write_all(b"kettle").await.unwrap();
        let mut storage = [MaybeUninit::uninit(); 4096];
        let mut buf = ReadBuf::uninit(&mut storage);
        read_into(&mut a, &mut buf).await.unwrap();
        assert_eq!(buf.filled(), b"kettle");
        assert_eq!(
            buf.initialized().len(),
            6,
            "only the bytes the kernel wrote are initialised: nothing zeroed the other 4090"
        );
    }));
}

#[test]
fn partial_reads_append_to_what_the_buffer_already_holds() {
    kettle::run(bounded(async {
        let (_listener, mut client, mut server) = connected_pair().await;
        server.write_all(b"0123456789").await.unwrap();
        let mut storage = [MaybeUninit::uninit(); 4];
        let mut buf = ReadBuf::uninit(&mut storage);
        buf.put_slice(b"ab");
        read_into(&mut client, &mut buf).await.unwrap();
        assert_eq!(buf.filled(), b"ab01", "two bytes of room, two bytes read, after what was there");
        assert_eq!(buf.remaining(), 0);
        // A full buffer is ready at once and reads nothing, data or not.
        assert!(matches!(poll_once(read_into(&mut client, &mut buf)), Poll::Ready(Ok(()))));
        assert_eq!(buf.filled(), b"ab01");
        // The rest is still there for the next reads.
        assert_eq!(read(&mut client, 3).await.unwrap(), b"234");
        assert_eq!(read(&mut client, 100).await.unwrap(), b"56789");
    }));
}

#[test]
fn end_of_file_is_a_read_that_fills_nothing_on_every_stream_type() {
    kettle::run(bounded(async {
        let (_listener, mut client, server) = connected_pair().await;
        drop(server);
        assert_eq!(read(&mut client, 64).await.unwrap(), b"", "TcpStream");
        assert_eq!(read(&mut &client, 64).await.unwrap(), b"", "&TcpStream, and again");

        let (_listener, client, server) = connected_pair().await;
        let (mut read_half, _write_half) = client.into_split();
        drop(server);
        assert_eq!(read(&mut read_half, 64).await.unwrap(), b"", "tcp OwnedReadHalf");

        let (mut a, b) = UnixStream::pair().unwrap();
        drop(b);
        assert_eq!(read(&mut a, 64).await.unwrap(), b"", "UnixStream");
        let (a, b) = UnixStream::pair().unwrap();
        let (mut read_half, _write_half) = a.into_split();
        drop(b);
        assert_eq!(read(&mut read_half, 64).await.unwrap(), b"", "unix OwnedReadHalf");
    }));
}

#[test]
fn a_pending_read_is_woken_by_arriving_data() {
    let rt = Runtime::new().unwrap();
    let (_listener, mut peer, stream) = std_peer_pair(&rt);
    let (mut read_half, _write_half) = stream.into_split();
    let reader = rt.spawn(async move { read(&mut read_half, 8).await.unwrap() });
    settle(&rt);
    assert!(!reader.is_finished(), "nothing to read yet: poll_read is pending");

    peer.write_all(b"wake").unwrap();
    let turn = rt.turn(Some(LIMIT));
    assert_eq!(turn.tasks_run, 1, "the data woke the reader");
    assert_eq!(rt.block_on(reader).unwrap(), b"wake");
}

#[test]
fn a_read_cancelled_while_pending_loses_no_data() {
    let rt = Runtime::new().unwrap();
    let (_listener, mut peer, mut stream) = std_peer_pair(&rt);
    let mut storage = [0; 8];
    let mut buf = ReadBuf::new(&mut storage);
    assert!(poll_once(read_into(&mut stream, &mut buf)).is_pending(), "nothing sent yet");
    // That future is gone; the bytes that arrive next go to the next read.
    peer.write_all(b"kept").unwrap();
    assert_eq!(rt.block_on(bounded(read(&mut stream, 8))).unwrap(), b"kept");
}

// ----- writes and shutdown -----------------------------------------------------

#[test]
fn poll_shutdown_is_seen_by_the_peer_as_end_of_file_after_the_data() {
    let rt = Runtime::new().unwrap();
    rt.block_on(bounded(async {
        let (_listener, mut client, mut server) = connected_pair().await;
        write_all(&mut client, b"last words").await.unwrap();
        flush(&mut client).await.unwrap();
        shutdown(&mut client).await.unwrap();
        assert_eq!(read_to_end(&mut server).await.unwrap(), b"last words");
        // Only the writing side is shut: the client still reads.
        server.write_all(b"reply").await.unwrap();
        drop(server);
        assert_eq!(read_to_end(&mut client).await.unwrap(), b"reply");

        let (a, mut b) = UnixStream::pair().unwrap();
        let (_read_half, mut write_half) = a.into_split();
        write_all(&mut write_half, b"half").await.unwrap();
        shutdown(&mut write_half).await.unwrap();
        assert_eq!(read_to_end(&mut b).await.unwrap(), b"half", "kept alive, yet shut");
        drop(write_half);
    }));
    assert_eq!(rt.metrics().io_sources, 0);
}

#[test]
fn a_write_after_the_peer_reset_the_connection_fails_and_shutdown_is_ok() {
    let rt = Runtime::new().unwrap();
    let (_listener, peer, mut stream) = std_peer_pair(&rt);
    reset(peer);
    rt.block_on(bounded(async {
        let mut storage = [0; 8];
        let read = read_into(&mut stream, &mut ReadBuf::new(&mut storage)).await;
        assert_eq!(read.unwrap_err().kind(), io::ErrorKind::ConnectionReset);
        // The RST has been seen: the next write fails (EPIPE on Linux), and
        // never raises SIGPIPE.
        let error = write_all(&mut stream, b"anyone there?").await.unwrap_err();
        assert!(
            matches!(error.kind(), io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset),
            "a write to a reset connection fails: {error:?}"
        );
        let closed = shutdown(&mut stream).await;
        assert!(closed.is_ok(), "the write side is as shut as it will ever be: {closed:?}");
    }));
}

#[test]
fn poll_write_vectored_sends_every_buffer_in_one_call() {
    let rt = Runtime::new().unwrap();
    let (_listener, mut peer, stream) = std_peer_pair(&rt);
    let (head, body) = (&b"HTTP/1.1 200 OK\r\n\r\n"[..], &b"body"[..]);
    let bufs = [IoSlice::new(head), IoSlice::new(b""), IoSlice::new(body)];
    assert!(stream.is_write_vectored());
    assert!(AsyncWrite::is_write_vectored(&&stream));
    let n =
        rt.block_on(bounded(poll_fn(|cx| Pin::new(&mut &stream).poll_write_vectored(cx, &bufs)))).unwrap();
    assert_eq!(n, head.len() + body.len(), "every buffer in one call, through &TcpStream");
    let (_read_half, mut write_half) = stream.into_split();
    assert!(write_half.is_write_vectored());
    let n =
        rt.block_on(bounded(poll_fn(|cx| Pin::new(&mut write_half).poll_write_vectored(cx, &bufs)))).unwrap();
    assert_eq!(n, head.len() + body.len(), "and through the write half");
    let mut got = vec![0; 2 * n];
    std::io::Read::read_exact(&mut peer, &mut got).unwrap();
    assert_eq!(got, [head, body, head, body].concat());
}

#[test]
fn empty_writes_are_ready_at_once_with_zero() {
    kettle::run(async {
        let (mut a, _b) = UnixStream::pair().unwrap();
        let mut empty = poll_fn(|cx| Pin::new(&mut a).poll_write(cx, &[]));
        assert!(matches!(poll_once(&mut empty), Poll::Ready(Ok(0))));
        let mut empty = poll_fn(|cx| Pin::new(&mut a).poll_write_vectored(cx, &[]));
        assert!(matches!(poll_once(&mut empty), Poll::Ready(Ok(0))));
    });
}

#[test]
fn a_write_blocked_on_a_full_socket_resumes_when_the_peer_drains_it() {
    let rt = Runtime::new().unwrap();
    let (_listener, peer, stream) = std_peer_pair(&rt);
    let stop = Rc::new(Cell::new(false));
    let waiting = Rc::new(Cell::new(false));
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
            shutdown(&mut stream).await.unwrap();
            sent
        }
    });
    settle(&rt);
    assert!(waiting.get(), "poll_write returned Pending on the full socket");
    stop.set(true);
    assert_peer_receives_what_was_sent(&rt, peer, writer);
}

#[test]
fn writes_to_a_closed_unix_peer_or_pipe_fail_with_broken_pipe() {
    // kettle's sockets send with MSG_NOSIGNAL; a pipe's `write` is T's own,
    // safe here because Rust programs start with SIGPIPE ignored.
    kettle::run(bounded(async {
        let (mut a, b) = UnixStream::pair().unwrap();
        drop(b);
        let error = write_all(&mut a, b"hello?").await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::BrokenPipe, "UnixStream: {error:?}");

        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let mut writer = Async::new(writer).unwrap();
        let error = write_all(&mut writer, b"hello?").await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::BrokenPipe, "Async<PipeWriter>: {error:?}");
    }));
}

// ----- halves, references, large transfers ------------------------------------

#[test]
fn halves_in_two_tasks_echo_four_mebibytes_through_the_traits() {
    const LEN: usize = 4 << 20;
    let rt = Runtime::new().unwrap();
    let echoed = rt.block_on(bounded(async {
        let (_listener, client, server) = connected_pair().await;
        // The echo: one task, reading and writing through `&TcpStream`.
        let echo = kettle::spawn(async move {
            let mut storage = vec![MaybeUninit::uninit(); 64 * 1024];
            loop {
                let mut buf = ReadBuf::uninit(&mut storage);
                read_into(&mut &server, &mut buf).await.unwrap();
                if buf.filled().is_empty() {
                    return shutdown(&mut &server).await.unwrap();
                }
                write_all(&mut &server, buf.filled()).await.unwrap();
            }
        });
        let (mut read_half, mut write_half) = client.into_split();
        let writer = kettle::spawn(async move {
            let data = pattern(LEN);
            let pieces: Vec<IoSlice<'_>> = data.chunks(7919).map(IoSlice::new).collect();
            let mut pieces = &pieces[..];
            while !pieces.is_empty() {
                let mut n =
                    poll_fn(|cx| Pin::new(&mut write_half).poll_write_vectored(cx, pieces)).await.unwrap();
                // Whole pieces sent are dropped; a partly sent one is finished by hand.
                while n > 0 && n >= pieces[0].len() {
                    n -= pieces[0].len();
                    pieces = &pieces[1..];
                }
                if n > 0 {
                    write_all(&mut write_half, &pieces[0][n..]).await.unwrap();
                    pieces = &pieces[1..];
                }
            }
            shutdown(&mut write_half).await.unwrap();
            write_half // kept alive: poll_shutdown alone must end the stream
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
fn one_task_reads_and_writes_a_unix_stream_at_once_through_shared_references() {
    const LEN: usize = 1 << 20;
    kettle::run(bounded(async {
        let (a, b) = UnixStream::pair().unwrap();
        let echo = kettle::spawn(async move {
            let (mut read_half, mut write_half) = b.into_split();
            let data = read_to_end(&mut read_half).await.unwrap();
            write_all(&mut write_half, &data).await.unwrap();
        });
        // Writing 1 MiB fills the socket long before the echo can answer, so
        // this only finishes if the read and the write proceed together.
        let (mut reader, mut writer) = (&a, &a);
        let (written, echoed) = kettle::join!(
            async {
                write_all(&mut writer, &pattern(LEN)).await.unwrap();
                shutdown(&mut writer).await.unwrap();
            },
            read_to_end(&mut reader),
        );
        let () = written;
        echo.await.unwrap();
        assert!(echoed.unwrap() == pattern(LEN), "the echo differs from what was sent");
    }));
}

// ----- Async<T> -----------------------------------------------------------------

#[test]
fn a_childs_stdout_owned_by_async_is_async_read_and_its_stdin_async_write() {
    use std::process::{Command, Stdio};
    let mut child = Command::new("cat").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    let (stdin, stdout) = (child.stdin.take().unwrap(), child.stdout.take().unwrap());
    let rt = Runtime::new().unwrap();
    let echoed = rt.block_on(bounded(async {
        let mut stdin = Async::new(stdin)?;
        let mut stdout = Async::new(stdout)?;
        let data = pattern(300 * 1024); // more than a pipe holds: both must make progress
        let (written, echoed) = kettle::join!(
            async {
                write_all(&mut stdin, &data).await?;
                shutdown(&mut stdin).await?;
                drop(stdin); // cat sees end of file only when the pipe closes
                Ok::<_, io::Error>(())
            },
            read_to_end(&mut stdout),
        );
        written?;
        echoed
    }));
    assert!(echoed.unwrap() == pattern(300 * 1024), "cat echoed something else");
    assert!(child.wait().unwrap().success());
}

#[test]
fn an_async_pipe_file_reads_into_an_uninitialised_buffer_after_initialising_it_once() {
    let (reader, writer) = std::io::pipe().unwrap();
    let reader = std::fs::File::from(std::os::fd::OwnedFd::from(reader));
    let writer = std::fs::File::from(std::os::fd::OwnedFd::from(writer));
    kettle::run(bounded(async {
        let mut reader = Async::new(reader).unwrap();
        let mut writer = Async::new(writer).unwrap();
        let mut storage = [MaybeUninit::uninit(); 64];
        let mut buf = ReadBuf::uninit(&mut storage);
        assert!(poll_once(read_into(&mut reader, &mut buf)).is_pending(), "an empty pipe: pending");
        write_all(&mut writer, b"tea").await.unwrap();
        read_into(&mut reader, &mut buf).await.unwrap();
        assert_eq!(buf.filled(), b"tea");
        // `File::read` needs initialised bytes: the unfilled part was
        // initialised (once: a later read into it does not zero it again).
        assert_eq!(buf.initialized().len(), 64);
        drop(writer);
        read_into(&mut reader, &mut buf).await.unwrap();
        assert_eq!(buf.filled(), b"tea", "end of file adds nothing");
    }));
}

#[test]
fn a_std_unix_stream_in_async_works_owned_and_through_a_shared_reference() {
    let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
    kettle::run(bounded(async {
        let mut a = Async::new(a).unwrap();
        let b = Async::new(b).unwrap();
        write_all(&mut a, b"owned").await.unwrap();
        flush(&mut a).await.unwrap();
        assert_eq!(read(&mut &b, 64).await.unwrap(), b"owned");
        write_all(&mut &b, b"shared").await.unwrap();
        shutdown(&mut &b).await.unwrap();
        assert_eq!(read(&mut a, 64).await.unwrap(), b"shared");
        let bufs = [IoSlice::new(b"vec"), IoSlice::new(b"tored")];
        assert!(!a.is_write_vectored(), "T's write_vectored may be std's default: say so");
        let n = poll_fn(|cx| Pin::new(&mut a).poll_write_vectored(cx, &bufs)).await.unwrap();
        assert_eq!(n, 8, "std's UnixStream has a real writev");
        assert_eq!(read(&mut &b, 64).await.unwrap(), b"vectored");
        drop(a);
        assert_eq!(read(&mut &b, 64).await.unwrap(), b"", "end of file once the peer is dropped");
    }));
}

// ----- misuse ---------------------------------------------------------------------

#[test]
fn the_traits_fail_instead_of_hanging_once_the_runtime_is_gone() {
    let rt = Runtime::new().unwrap();
    let (_listener, _peer, mut stream) = std_peer_pair(&rt);
    let (reader, _writer) = std::io::pipe().unwrap();
    let mut reader = rt.block_on(async { Async::new(reader).unwrap() });
    drop(rt);

    let mut storage = [0; 8];
    let read = poll_once(read_into(&mut stream, &mut ReadBuf::new(&mut storage)));
    assert!(matches!(read, Poll::Ready(Err(_))), "a stream's read: {read:?}");
    let read = poll_once(read_into(&mut reader, &mut ReadBuf::new(&mut storage)));
    assert!(matches!(read, Poll::Ready(Err(_))), "an Async's read: {read:?}");
    let write = poll_once(write_all(&mut stream, b"x"));
    assert!(matches!(write, Poll::Ready(Err(_))), "a stream's write: {write:?}");
}
