//! Specifies `kettle::net::{UnixListener, UnixStream}` and the Unix halves
//! on real socket files in a temporary directory: binding, connecting and
//! accepting, echo, addresses on each end, read_exact's end of file,
//! half-close, split halves in two tasks, the poll-level API and vectored
//! writes, std conversions, and misuse — a path already taken, nothing at
//! the path, a path too long or with a NUL byte, a listener or stream used
//! after its runtime is gone, a closed peer that must not raise SIGPIPE.

use std::future::poll_fn;
use std::io::{self, IoSlice, Read, Write};
use std::mem::MaybeUninit;
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd};
use std::pin::Pin;
use std::task::Poll;

use kettle::Runtime;
use kettle::net::{UnixListener, UnixStream};

mod common;
use common::net::{LIMIT, TempDir, bounded, pattern, poll_once, settle};

/// A listener at a fresh path, and a (client, server) connection through it.
async fn connected_pair(dir: &TempDir) -> (UnixListener, UnixStream, UnixStream) {
    let listener = UnixListener::bind(dir.path("server.sock")).unwrap();
    let client = bounded(UnixStream::connect(dir.path("server.sock"))).await.unwrap();
    let (server, _) = bounded(listener.accept()).await.unwrap();
    (listener, client, server)
}

#[test]
#[should_panic(expected = "kettle::net::UnixListener::bind called outside a kettle runtime")]
fn binding_a_listener_outside_a_runtime_panics() {
    let dir = TempDir::new();
    let _ = UnixListener::bind(dir.path("outside.sock"));
}

#[test]
fn a_client_connects_by_path_and_each_end_reads_what_the_other_wrote() {
    let dir = TempDir::new();
    let rt = Runtime::new().unwrap();
    rt.block_on(bounded(async {
        let (_listener, mut client, mut server) = connected_pair(&dir).await;
        client.write_all(b"hello, server").await.unwrap();
        let mut got = [0; 13];
        server.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"hello, server");
        server.write_all(b"hello, client").await.unwrap();
        client.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"hello, client");
        client.flush().await.unwrap();
    }));
    assert_eq!(rt.metrics().io_sources, 0, "every socket deregistered when dropped");
}

#[test]
fn the_listeners_path_is_the_clients_peer_and_the_servers_local_address() {
    let dir = TempDir::new();
    kettle::run(bounded(async {
        let path = dir.path("addresses.sock");
        let listener = UnixListener::bind(&path).unwrap();
        assert_eq!(listener.local_addr().unwrap().as_pathname(), Some(path.as_path()));
        let client = UnixStream::connect(&path).await.unwrap();
        let (server, from) = listener.accept().await.unwrap();
        assert!(from.is_unnamed(), "clients do not bind: {from:?}");
        assert!(client.local_addr().unwrap().is_unnamed());
        assert_eq!(client.peer_addr().unwrap().as_pathname(), Some(path.as_path()));
        assert_eq!(server.local_addr().unwrap().as_pathname(), Some(path.as_path()));
        assert!(server.peer_addr().unwrap().is_unnamed());
        let (read_half, write_half) = client.into_split();
        assert_eq!(read_half.peer_addr().unwrap().as_pathname(), Some(path.as_path()));
        assert_eq!(write_half.peer_addr().unwrap().as_pathname(), Some(path.as_path()));
        assert!(read_half.local_addr().unwrap().is_unnamed());
    }));
}

#[test]
fn read_exact_fails_with_unexpected_eof_when_the_peer_closes_early() {
    let dir = TempDir::new();
    kettle::run(bounded(async {
        let (_listener, mut client, mut server) = connected_pair(&dir).await;
        client.write_all(b"abc").await.unwrap();
        drop(client);
        let mut buf = [0; 5];
        let err = server.read_exact(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        assert_eq!(&buf[..3], b"abc");
    }));
}

#[test]
fn after_shutting_down_writing_the_peer_reads_end_of_file_and_can_still_reply() {
    let dir = TempDir::new();
    kettle::run(bounded(async {
        let (_listener, mut client, mut server) = connected_pair(&dir).await;
        client.write_all(b"question").await.unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        let mut question = [0; 8];
        server.read_exact(&mut question).await.unwrap();
        assert_eq!(server.read(&mut [0; 8]).await.unwrap(), 0, "end of file after the question");
        server.write_all(b"answer").await.unwrap();
        drop(server);
        let mut answer = [0; 6];
        client.read_exact(&mut answer).await.unwrap();
        assert_eq!(&answer, b"answer");
        assert_eq!(client.read(&mut [0; 8]).await.unwrap(), 0);
        client.shutdown(Shutdown::Both).unwrap();
        client.shutdown(Shutdown::Both).unwrap(); // shut twice: still fine
    }));
}

#[test]
fn split_halves_in_two_tasks_echo_a_mebibyte() {
    const LEN: usize = 1 << 20;
    let dir = TempDir::new();
    let rt = Runtime::new().unwrap();
    let echoed = rt.block_on(bounded(async {
        let (_listener, client, mut server) = connected_pair(&dir).await;
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
                write_half.write_all(piece).await.unwrap();
            }
            write_half.flush().await.unwrap();
            // Dropping the write half shuts down writing: the echo sees EOF.
        });
        let reader = kettle::spawn(async move {
            let mut got = Vec::with_capacity(LEN);
            let mut buf = vec![0; 10_007];
            loop {
                match read_half.read(&mut buf).await.unwrap() {
                    0 => return got,
                    n => got.extend_from_slice(&buf[..n]),
                }
            }
        });
        writer.await.unwrap();
        echo.await.unwrap();
        reader.await.unwrap()
    }));
    assert_eq!(echoed.len(), LEN);
    assert!(echoed == pattern(LEN), "the echo differs from what was sent");
    assert_eq!(rt.metrics().io_sources, 0);
}

#[test]
fn the_halves_poll_level_methods_read_and_write_in_their_own_direction() {
    let rt = Runtime::new().unwrap();
    let (a, b) = rt.block_on(async { UnixStream::pair().unwrap() });
    let (read_half, mut write_half) = a.into_split();
    rt.block_on(bounded(async {
        poll_fn(|cx| write_half.poll_write_ready(cx)).await.unwrap();
        assert_eq!(write_half.try_write(b"1").unwrap(), 1);
        let n = poll_fn(|cx| write_half.poll_write_vectored(cx, &[IoSlice::new(b"2"), IoSlice::new(b"3")]))
            .await
            .unwrap();
        assert_eq!(n, 2);
        assert_eq!(poll_fn(|cx| write_half.poll_write(cx, b"4")).await.unwrap(), 1);
        assert_eq!(write_half.write_vectored(&[IoSlice::new(b"5")]).await.unwrap(), 1);
        write_half.shutdown().unwrap();

        let mut b = b;
        let mut got = Vec::new();
        let mut buf = [0; 8];
        loop {
            match b.read(&mut buf).await.unwrap() {
                0 => break,
                n => got.extend_from_slice(&buf[..n]),
            }
        }
        assert_eq!(got, b"12345", "then end of file: the write half shut down");

        b.write_all(b"back").await.unwrap();
        drop(b);
        poll_fn(|cx| read_half.poll_read_ready(cx)).await.unwrap();
        assert_eq!(read_half.try_read(&mut buf[..1]).unwrap(), 1);
        let n = poll_fn(|cx| read_half.poll_read(cx, &mut buf[1..2])).await.unwrap();
        assert_eq!(n, 1);
        let mut rest = [MaybeUninit::uninit(); 8];
        let n = poll_fn(|cx| read_half.poll_read_uninit(cx, &mut rest)).await.unwrap();
        assert_eq!(n, 2);
        assert_eq!(poll_fn(|cx| read_half.poll_read_uninit(cx, &mut rest)).await.unwrap(), 0, "end of file");
    }));
    assert_eq!(read_half.as_raw_fd(), write_half.as_fd().as_raw_fd(), "one socket");
}

#[test]
fn try_read_on_an_empty_stream_would_block_and_poll_read_ready_waits_for_data() {
    let rt = Runtime::new().unwrap();
    let (ours, mut theirs) = std::os::unix::net::UnixStream::pair().unwrap();
    let stream = rt.block_on(async { UnixStream::from_std(ours).unwrap() });
    settle(&rt);
    let err = stream.try_read(&mut [0; 8]).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
    assert!(poll_once(poll_fn(|cx| stream.poll_read_ready(cx))).is_pending());
    let reader = rt.spawn(async move {
        poll_fn(|cx| stream.poll_read_ready(cx)).await.unwrap();
        let mut buf = [0; 8];
        let n = stream.try_read(&mut buf).unwrap();
        buf[..n].to_vec()
    });
    settle(&rt);
    assert!(!reader.is_finished());
    theirs.write_all(b"now").unwrap();
    assert_eq!(rt.turn(Some(LIMIT)).tasks_run, 1, "the data woke the poller");
    assert_eq!(rt.block_on(reader).unwrap(), b"now");
}

#[test]
fn poll_read_uninit_fills_uninitialised_memory_and_reads_zero_at_end_of_file() {
    kettle::run(bounded(async {
        let (mut a, b) = UnixStream::pair().unwrap();
        a.write_all(b"uninit").await.unwrap();
        drop(a);
        let mut buf: Vec<u8> = Vec::with_capacity(32);
        let n = poll_fn(|cx| b.poll_read_uninit(cx, buf.spare_capacity_mut())).await.unwrap();
        // SAFETY: poll_read_uninit initialised the first n bytes of the spare
        // capacity, which it was given.
        unsafe { buf.set_len(n) };
        assert_eq!(buf, b"uninit");
        let mut more = [MaybeUninit::uninit(); 8];
        assert_eq!(poll_fn(|cx| b.poll_read_uninit(cx, &mut more)).await.unwrap(), 0);
    }));
}

#[test]
fn write_vectored_sends_a_head_and_a_body_in_one_call() {
    kettle::run(bounded(async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        let (head, body) = (&b"head\r\n\r\n"[..], &b"body"[..]);
        let n = a.write_vectored(&[IoSlice::new(head), IoSlice::new(body)]).await.unwrap();
        assert_eq!(n, head.len() + body.len());
        let n =
            poll_fn(|cx| a.poll_write_vectored(cx, &[IoSlice::new(b"+"), IoSlice::new(b"!")])).await.unwrap();
        assert_eq!(n, 2);
        let mut got = [0; 14];
        b.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"head\r\n\r\nbody+!");
    }));
}

#[test]
fn writes_to_a_closed_peer_fail_without_raising_sigpipe() {
    // Restore SIGPIPE's default (death) so that a write that raises it kills
    // this test. Every write in this binary goes through send or sendmsg
    // with MSG_NOSIGNAL.
    // SAFETY: setting a signal's disposition to SIG_DFL installs no handler
    // and touches no Rust state.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    kettle::run(bounded(async {
        let (mut a, b) = UnixStream::pair().unwrap();
        drop(b);
        let err = a.write(b"gone?").await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
        let err = a.write_vectored(&[IoSlice::new(b"still"), IoSlice::new(b"gone?")]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
        let err = a.try_write(b"gone?").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
    }));
}

#[test]
fn poll_accept_and_incoming_hand_out_each_connection() {
    let dir = TempDir::new();
    kettle::run(bounded(async {
        let path = dir.path("incoming.sock");
        let listener = UnixListener::bind(&path).unwrap();
        assert!(poll_once(poll_fn(|cx| listener.poll_accept(cx))).is_pending(), "nobody connected yet");
        let mut first = UnixStream::connect(&path).await.unwrap();
        let (mut accepted, _) = poll_fn(|cx| listener.poll_accept(cx)).await.unwrap();
        first.write_all(b"1").await.unwrap();
        let mut byte = [0; 1];
        accepted.read_exact(&mut byte).await.unwrap();
        assert_eq!(&byte, b"1");

        let mut incoming = listener.incoming();
        let _second = UnixStream::connect(&path).await.unwrap();
        let _third = UnixStream::connect(&path).await.unwrap();
        assert!(poll_fn(|cx| Pin::new(&mut incoming).poll_next(cx)).await.unwrap().is_ok());
        assert!(incoming.next().await.unwrap().is_ok());
    }));
}

#[test]
fn a_std_stream_and_listener_adopted_and_handed_back_keep_their_sockets() {
    let dir = TempDir::new();
    let rt = Runtime::new().unwrap();
    let path = dir.path("std.sock");
    let listener = rt.block_on(async {
        UnixListener::from_std(std::os::unix::net::UnixListener::bind(&path).unwrap()).unwrap()
    });
    let mut std_client = std::os::unix::net::UnixStream::connect(&path).unwrap();
    let (mut server, _) = rt.block_on(bounded(listener.accept())).unwrap();
    std_client.write_all(b"std").unwrap();
    let mut buf = [0; 3];
    rt.block_on(bounded(server.read_exact(&mut buf))).unwrap();
    assert_eq!(&buf, b"std");

    let mut back = server.into_std();
    assert_eq!(back.read(&mut buf).unwrap_err().kind(), io::ErrorKind::WouldBlock, "still non-blocking");
    back.set_nonblocking(false).unwrap();
    std_client.write_all(b"bck").unwrap();
    back.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"bck");

    let std_listener = listener.into_std();
    assert_eq!(std_listener.local_addr().unwrap().as_pathname(), Some(path.as_path()));
    assert_eq!(rt.metrics().io_sources, 0, "everything handed back is deregistered");
}

#[test]
fn binding_a_path_that_exists_is_addr_in_use_and_dropping_a_listener_leaves_its_file() {
    let dir = TempDir::new();
    kettle::run(async {
        let path = dir.path("taken.sock");
        let listener = UnixListener::bind(&path).unwrap();
        let err = UnixListener::bind(&path).expect_err("the path is taken");
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
        drop(listener);
        assert!(path.exists(), "nothing removes the socket file");
        let err = UnixListener::bind(&path).expect_err("a stale file still takes the path");
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
        std::fs::remove_file(&path).unwrap();
        UnixListener::bind(&path).unwrap();

        let file = dir.path("plain-file");
        std::fs::write(&file, b"not a socket").unwrap();
        assert_eq!(UnixListener::bind(&file).err().unwrap().kind(), io::ErrorKind::AddrInUse);
    });
}

#[test]
fn connecting_where_nobody_listens_fails_at_once() {
    let dir = TempDir::new();
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let missing = bounded(UnixStream::connect(dir.path("missing.sock"))).await.err().unwrap();
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);

        let stale = dir.path("stale.sock");
        drop(UnixListener::bind(&stale).unwrap());
        let refused = bounded(UnixStream::connect(&stale)).await.err().unwrap();
        assert_eq!(refused.kind(), io::ErrorKind::ConnectionRefused);
    });
    settle(&rt);
    assert_eq!(rt.metrics().io_sources, 0, "failed connects leave nothing registered");
}

#[test]
fn a_path_too_long_or_with_a_nul_byte_is_invalid_input() {
    let dir = TempDir::new();
    kettle::run(async {
        let too_long = dir.path(&"x".repeat(120));
        for path in [too_long.as_path(), std::path::Path::new("\0abstract")] {
            let err = UnixListener::bind(path).expect_err("refused");
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{path:?}: {err}");
            let err = bounded(UnixStream::connect(path)).await.expect_err("refused");
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{path:?}: {err}");
        }
    });
}

#[test]
fn a_listener_and_a_stream_used_after_their_runtime_is_gone_fail_instead_of_hanging() {
    let dir = TempDir::new();
    let rt = Runtime::new().unwrap();
    let path = dir.path("orphan.sock");
    let (listener, client, mut server) = rt.block_on(connected_pair_at(&path));
    drop(rt);
    // A client is waiting to be accepted, but no reactor will ever report
    // it (or anything else): a wait would be for ever.
    let _waiting = std::os::unix::net::UnixStream::connect(&path).unwrap();
    let other = Runtime::new().unwrap();
    let accepted = other.block_on(async { kettle::timeout(LIMIT, listener.accept()).await });
    assert!(matches!(accepted, Ok(Err(_))), "the accept failed instead of waiting");
    let read = other.block_on(async { kettle::timeout(LIMIT, server.read(&mut [0; 1])).await });
    assert!(matches!(read, Ok(Err(_))), "the read failed instead of waiting");
    assert_eq!(other.metrics().io_sources, 0, "nothing joined the new runtime");
    drop((listener, client, server));
}

async fn connected_pair_at(path: &std::path::Path) -> (UnixListener, UnixStream, UnixStream) {
    let listener = UnixListener::bind(path).unwrap();
    let client = bounded(UnixStream::connect(path)).await.unwrap();
    let (server, _) = bounded(listener.accept()).await.unwrap();
    (listener, client, server)
}

/// Fills `path`'s backlog with connections nobody accepts: non-blocking
/// connects until the listener refuses one.
fn fill_backlog(path: &std::path::Path) -> Vec<mio::net::UnixStream> {
    let mut waiting = Vec::new();
    loop {
        match mio::net::UnixStream::connect(path) {
            Ok(stream) => waiting.push(stream),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return waiting,
            Err(e) => panic!("filling the backlog: {e}"),
        }
        assert!(waiting.len() < 100_000, "the backlog never filled");
    }
}

#[test]
fn connecting_to_a_listener_whose_backlog_is_full_waits_for_room_instead_of_failing() {
    // Issue 17: the connect failed at once with WouldBlock.
    let dir = TempDir::new();
    let path = dir.path("full.sock");
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let listener = UnixListener::bind(&path).unwrap();
        let _waiting = fill_backlog(&path);
        let connecting = kettle::spawn({
            let path = path.clone();
            async move { UnixStream::connect(&path).await }
        });
        kettle::sleep(std::time::Duration::from_millis(20)).await;
        assert!(!connecting.is_finished(), "the connect waits while the backlog is full");
        listener.accept().await.unwrap(); // room for one
        let stream = bounded(connecting).await.unwrap().expect("connected once there was room");
        assert_eq!(stream.peer_addr().unwrap().as_pathname(), Some(path.as_path()));
    });
}

#[test]
fn a_timeout_bounds_a_connect_waiting_on_a_full_backlog() {
    let dir = TempDir::new();
    let path = dir.path("full.sock");
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let _listener = UnixListener::bind(&path).unwrap();
        let _waiting = fill_backlog(&path);
        let waited = kettle::timeout(std::time::Duration::from_millis(30), UnixStream::connect(&path)).await;
        assert!(waited.is_err(), "still waiting for room when the timeout expired");
    });
    settle(&rt);
    assert_eq!(rt.metrics().io_sources, 0, "the cancelled connect left nothing registered");
    assert_eq!(rt.metrics().timers_pending, 0, "nor a pause's timer");
}

#[test]
fn under_a_paused_clock_a_connect_waiting_on_a_full_backlog_waits_in_virtual_time() {
    // Its pauses are kettle sleeps: a timeout around it expires after its
    // virtual duration, in little real time, without spinning in place.
    let dir = TempDir::new();
    let path = dir.path("paused-full.sock");
    let rt = kettle::Builder::new().start_paused(true).build().unwrap();
    let real = std::time::Instant::now();
    rt.block_on(async {
        let _listener = UnixListener::bind(&path).unwrap();
        let _waiting = fill_backlog(&path);
        let start = kettle::time::now();
        let waited = kettle::timeout(std::time::Duration::from_secs(10), UnixStream::connect(&path)).await;
        assert!(waited.is_err(), "still waiting for room when the timeout expired");
        assert_eq!(kettle::time::now() - start, std::time::Duration::from_secs(10), "exactly the timeout");
    });
    assert!(real.elapsed() < LIMIT, "virtual time, not real: {:?}", real.elapsed());
    // Pauses of up to 10 ms over 10 virtual seconds: about a thousand tries.
    assert!(rt.metrics().turns < 5_000, "{} turns", rt.metrics().turns);
}

#[test]
fn empty_buffers_are_done_at_once_on_a_stream_and_its_halves_that_have_seen_no_readiness() {
    kettle::run(async {
        let (mut a, b) = UnixStream::pair().unwrap();
        // Just registered, nothing reported yet: a real read waits.
        assert!(poll_once(a.read(&mut [0; 1])).is_pending(), "a one-byte read waits for data");
        assert!(matches!(poll_once(a.read(&mut [])), Poll::Ready(Ok(0))));
        assert!(matches!(poll_once(a.read_exact(&mut [])), Poll::Ready(Ok(()))));
        assert!(matches!(poll_once(a.write(&[])), Poll::Ready(Ok(0))));
        assert!(matches!(poll_once(a.write_all(&[])), Poll::Ready(Ok(()))));
        assert!(matches!(poll_once(a.write_vectored(&[IoSlice::new(&[])])), Poll::Ready(Ok(0))));
        let (mut reader, mut writer) = b.into_split();
        assert!(matches!(poll_once(reader.read(&mut [])), Poll::Ready(Ok(0))));
        assert!(matches!(poll_once(reader.read_exact(&mut [])), Poll::Ready(Ok(()))));
        assert!(matches!(poll_once(writer.write(&[])), Poll::Ready(Ok(0))));
        assert!(matches!(poll_once(writer.write_all(&[])), Poll::Ready(Ok(()))));
        assert!(matches!(poll_once(writer.write_vectored(&[])), Poll::Ready(Ok(0))));
        // And the byte the first read waited for arrives: nothing was lost.
        writer.write_all(b"x").await.unwrap();
        let mut byte = [0; 1];
        assert_eq!(a.read(&mut byte).await.unwrap(), 1);
        assert_eq!(&byte, b"x");
    });
}

#[test]
fn a_write_all_that_fills_the_buffer_waits_and_once_cancelled_leaves_no_waker_behind() {
    let rt = Runtime::new().unwrap();
    let (ours, mut peer) = std::os::unix::net::UnixStream::pair().unwrap();
    let mut ours = rt.block_on(async { UnixStream::from_std(ours) }).unwrap();
    let timed_out = std::rc::Rc::new(std::cell::Cell::new(false));
    let go = kettle::sync::Event::new();
    let task = rt.spawn({
        let (timed_out, go) = (timed_out.clone(), go.clone());
        async move {
            // Far more than the kernel buffers: the peer never reads, so
            // this waits with its entry in the waiter list, until cancelled.
            let big = vec![7u8; 16 << 20];
            let first = kettle::timeout(std::time::Duration::from_millis(20), ours.write_all(&big)).await;
            assert!(first.is_err(), "the peer reads nothing: the write_all waits");
            timed_out.set(true);
            go.wait().await;
            bounded(ours.write_all(b"after")).await
        }
    });
    let deadline = std::time::Instant::now() + LIMIT;
    while !timed_out.get() {
        assert!(std::time::Instant::now() < deadline, "the 20 ms timeout never fired");
        rt.turn(Some(std::time::Duration::from_millis(100)));
    }
    settle(&rt);

    // The peer drains the buffer: the socket turns writable. The task now
    // waits on something else: if the cancelled write_all had left its
    // entry behind, this event would wake the task for nothing.
    peer.set_nonblocking(true).unwrap();
    let mut drained = 0;
    let mut chunk = vec![0; 64 << 10];
    loop {
        match peer.read(&mut chunk) {
            Ok(n) => drained += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => panic!("{e}"),
        }
    }
    assert!(drained > 0, "the cancelled write_all had sent part of its buffer");
    let turn = rt.turn(Some(LIMIT));
    assert!(turn.io_events >= 1, "the loop saw the socket turn writable");
    assert_eq!(turn.tasks_run, 0, "the socket's event woke nobody");

    go.set();
    rt.block_on(bounded(task)).unwrap().unwrap();
    let mut tail = [0; 5];
    peer.set_nonblocking(false).unwrap();
    peer.read_exact(&mut tail).unwrap();
    assert_eq!(&tail, b"after", "the next write_all found the socket writable and sent all of it");
}
