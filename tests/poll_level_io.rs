//! Specifies the poll-level API of `kettle::net` on TCP and UDP, for
//! hand-written futures and adapters: `poll_read_ready`/`poll_write_ready`
//! wait without clearing readiness; `try_read`/`try_write` never wait, and a
//! `WouldBlock` from the kernel clears what they observed, so the next poll
//! waits for a new edge; `poll_read_uninit` fills memory nobody initialised;
//! vectored writes send every buffer in one call and never raise `SIGPIPE`;
//! `poll_accept` and `Incoming` hand out connections; only the latest
//! poll's waker per direction is kept; and after the runtime is gone every
//! one of them fails instead of hanging.

use std::future::poll_fn;
use std::io::{self, IoSlice, Read, Write};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd};
use std::pin::Pin;
use std::task::Poll;

use kettle::Runtime;
use kettle::net::{TcpListener, TcpStream, UdpSocket};

mod common;
use common::net::{ANY_LOCAL_PORT, LIMIT, NOW, bounded, pattern, poll_once, settle, std_peer_pair};

fn is_would_block<T: std::fmt::Debug>(result: io::Result<T>) -> bool {
    matches!(&result, Err(e) if e.kind() == io::ErrorKind::WouldBlock)
}

#[test]
fn poll_read_ready_waits_for_data_and_then_try_read_takes_it() {
    let rt = Runtime::new().unwrap();
    let (_listener, mut peer, stream) = std_peer_pair(&rt);
    let reader = rt.spawn(async move {
        poll_fn(|cx| stream.poll_read_ready(cx)).await.unwrap();
        let mut buf = [0; 16];
        let n = stream.try_read(&mut buf).unwrap();
        buf[..n].to_vec()
    });
    settle(&rt);
    assert!(!reader.is_finished(), "nothing sent: poll_read_ready is pending");
    assert_eq!(rt.turn(NOW).tasks_run, 0, "waiting, not spinning");

    peer.write_all(b"ready").unwrap();
    assert_eq!(rt.turn(Some(LIMIT)).tasks_run, 1, "the data woke the poller");
    assert_eq!(rt.block_on(reader).unwrap(), b"ready");
}

#[test]
fn try_read_on_an_empty_socket_would_block_and_a_poll_then_waits_for_data() {
    let rt = Runtime::new().unwrap();
    let (_listener, mut peer, stream) = std_peer_pair(&rt);
    settle(&rt);
    assert!(is_would_block(stream.try_read(&mut [0; 8])), "nothing to read: WouldBlock, no wait");
    assert!(poll_once(poll_fn(|cx| stream.poll_read_ready(cx))).is_pending());

    let reader = rt.spawn(async move {
        poll_fn(|cx| stream.poll_read_ready(cx)).await.unwrap();
        stream
    });
    settle(&rt);
    peer.write_all(b"x").unwrap();
    let stream = rt.block_on(bounded(reader)).unwrap();
    assert_eq!(stream.try_read(&mut [0; 8]).unwrap(), 1);
}

#[test]
fn readiness_survives_poll_read_ready_and_a_full_read_until_the_kernel_says_would_block() {
    let rt = Runtime::new().unwrap();
    let (_listener, mut peer, stream) = std_peer_pair(&rt);
    peer.write_all(b"four").unwrap();
    rt.block_on(bounded(poll_fn(|cx| stream.poll_read_ready(cx)))).unwrap();
    assert!(poll_once(poll_fn(|cx| stream.poll_read_ready(cx))).is_ready(), "polling does not clear it");

    // A read that fills its buffer proves nothing about what is left, so the
    // readiness stays, and the next try asks the kernel.
    let mut buf = [0; 4];
    assert_eq!(stream.try_read(&mut buf).unwrap(), 4);
    assert!(poll_once(poll_fn(|cx| stream.poll_read_ready(cx))).is_ready(), "still recorded");
    assert!(is_would_block(stream.try_read(&mut buf)), "the kernel has nothing more");
    assert!(
        poll_once(poll_fn(|cx| stream.poll_read_ready(cx))).is_pending(),
        "the kernel's WouldBlock cleared the stale readiness"
    );
}

#[test]
fn a_short_try_read_clears_readiness_without_another_system_call() {
    let rt = Runtime::new().unwrap();
    let (_listener, mut peer, stream) = std_peer_pair(&rt);
    peer.write_all(b"ab").unwrap();
    rt.block_on(bounded(poll_fn(|cx| stream.poll_read_ready(cx)))).unwrap();
    assert_eq!(stream.try_read(&mut [0; 8]).unwrap(), 2, "short: the buffer is drained");
    assert!(is_would_block(stream.try_read(&mut [0; 8])), "no readiness left to act on");
}

#[test]
fn try_write_until_the_socket_is_full_then_poll_write_ready_waits_for_room() {
    let rt = Runtime::new().unwrap();
    let (_listener, mut peer, stream) = std_peer_pair(&rt);
    rt.block_on(bounded(poll_fn(|cx| stream.poll_write_ready(cx)))).unwrap();
    let chunk = pattern(64 * 1024);
    let mut sent = 0;
    loop {
        match stream.try_write(&chunk) {
            Ok(n) => sent += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => panic!("{e}"),
        }
        assert!(sent < 64 << 20, "64 MiB and the socket still takes more");
    }
    assert!(poll_once(poll_fn(|cx| stream.poll_write_ready(cx))).is_pending(), "full: wait for room");

    let writer = rt.spawn(async move {
        poll_fn(|cx| stream.poll_write_ready(cx)).await.unwrap();
        stream
    });
    settle(&rt);
    assert!(!writer.is_finished());
    let drain = std::thread::spawn(move || {
        let mut got = vec![0; sent];
        peer.read_exact(&mut got).unwrap();
        got
    });
    let _stream = rt.block_on(bounded(writer)).unwrap();
    let got = drain.join().unwrap();
    assert!(got.chunks(chunk.len()).all(|piece| piece == &chunk[..piece.len()]));
}

#[test]
fn poll_read_uninit_fills_uninitialised_memory_and_reads_zero_at_end_of_file() {
    let rt = Runtime::new().unwrap();
    let (_listener, mut peer, stream) = std_peer_pair(&rt);
    peer.write_all(b"no zeroing needed").unwrap();
    let mut buf: Vec<u8> = Vec::with_capacity(64);
    let n =
        rt.block_on(bounded(poll_fn(|cx| stream.poll_read_uninit(cx, buf.spare_capacity_mut())))).unwrap();
    // SAFETY: poll_read_uninit initialised the first n bytes of the spare
    // capacity, which it was given.
    unsafe { buf.set_len(n) };
    assert_eq!(buf, &b"no zeroing needed"[..n]);

    drop(peer);
    let mut rest = [MaybeUninit::uninit(); 64];
    let eof = rt.block_on(bounded(async {
        loop {
            match poll_fn(|cx| stream.poll_read_uninit(cx, &mut rest)).await.unwrap() {
                0 => return 0,
                _ => continue, // what was left of the message
            }
        }
    }));
    assert_eq!(eof, 0, "the peer's close reads as end of file");
}

#[test]
fn write_vectored_sends_a_head_and_a_body_in_one_call() {
    let rt = Runtime::new().unwrap();
    let (_listener, mut peer, mut stream) = std_peer_pair(&rt);
    let head = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n";
    let body = b"hello";
    let n = rt.block_on(bounded(stream.write_vectored(&[
        IoSlice::new(head),
        IoSlice::new(&[]),
        IoSlice::new(body),
    ])));
    assert_eq!(n.unwrap(), head.len() + body.len(), "both buffers went out in one call");
    let mut got = vec![0; head.len() + body.len()];
    peer.read_exact(&mut got).unwrap();
    assert_eq!(got, [&head[..], &body[..]].concat());

    let m = rt.block_on(bounded(poll_fn(|cx| {
        stream.poll_write_vectored(cx, &[IoSlice::new(b"a"), IoSlice::new(b"bc")])
    })));
    assert_eq!(m.unwrap(), 3);
    let mut abc = [0; 3];
    peer.read_exact(&mut abc).unwrap();
    assert_eq!(&abc, b"abc");
}

#[test]
fn a_vectored_write_offers_at_most_1024_buffers_and_the_peer_gets_exactly_what_it_reports() {
    let rt = Runtime::new().unwrap();
    let (_listener, mut peer, mut stream) = std_peer_pair(&rt);
    let bytes = pattern(2000);
    let slices: Vec<IoSlice<'_>> = bytes.chunks(1).map(IoSlice::new).collect();
    let n = rt.block_on(bounded(stream.write_vectored(&slices))).unwrap();
    assert_eq!(n, 1024, "one byte per buffer, the first 1024 buffers");
    let mut got = vec![0; n];
    peer.read_exact(&mut got).unwrap();
    assert_eq!(got, bytes[..n]);
}

#[test]
fn a_vectored_write_to_a_closed_peer_is_an_error_and_never_a_sigpipe() {
    // `writev` raises SIGPIPE on a closed connection; the default action
    // kills the process. Restore that default (the Rust runtime ignores the
    // signal before `main`) so that this test dies if kettle ever uses it.
    // Every other write in this binary goes through `send(MSG_NOSIGNAL)`.
    // SAFETY: setting a signal's disposition to SIG_DFL installs no handler
    // and touches no Rust state.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let rt = Runtime::new().unwrap();
    let (_listener, peer, mut stream) = std_peer_pair(&rt);
    drop(peer);
    let err = rt.block_on(bounded(async {
        for _ in 0..1000 {
            if let Err(e) = stream.write_vectored(&[IoSlice::new(b"anyone"), IoSlice::new(b" there?")]).await
            {
                return e;
            }
            kettle::yield_now().await;
        }
        panic!("1000 vectored writes to a closed connection all succeeded");
    }));
    assert!(matches!(err.kind(), io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset), "{err:?}");
}

#[test]
fn a_vectored_write_of_one_buffer_sends_it_whole_and_to_a_closed_peer_is_an_error_and_never_a_sigpipe() {
    // One slice takes a shorter path (a plain `send`) than several; it must
    // keep both promises: the bytes arrive, and a closed peer is an error.
    // SAFETY: as in the test above: SIG_DFL installs no handler.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let rt = Runtime::new().unwrap();
    let (_listener, mut peer, mut stream) = std_peer_pair(&rt);
    let request = b"GET / HTTP/1.1\r\nhost: kettle\r\n\r\n";
    let n = rt.block_on(bounded(stream.write_vectored(&[IoSlice::new(request)]))).unwrap();
    assert_eq!(n, request.len(), "the one buffer went out whole");
    let m = rt.block_on(bounded(poll_fn(|cx| stream.poll_write_vectored(cx, &[IoSlice::new(b"xyz")]))));
    assert_eq!(m.unwrap(), 3, "and through the poll-level method");
    let mut got = vec![0; request.len() + 3];
    peer.read_exact(&mut got).unwrap();
    assert_eq!(got, [&request[..], b"xyz"].concat());

    drop(peer);
    let err = rt.block_on(bounded(async {
        for _ in 0..1000 {
            if let Err(e) = stream.write_vectored(&[IoSlice::new(b"anyone there?")]).await {
                return e;
            }
            kettle::yield_now().await;
        }
        panic!("1000 one-buffer vectored writes to a closed connection all succeeded");
    }));
    assert!(matches!(err.kind(), io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset), "{err:?}");
}

#[test]
fn empty_buffers_are_ready_at_once_with_zero_on_every_poll_level_method() {
    let rt = Runtime::new().unwrap();
    let (_listener, _peer, stream) = std_peer_pair(&rt);
    // Nothing was sent: a real read would wait. Empty ones must not.
    assert!(matches!(poll_once(poll_fn(|cx| stream.poll_read(cx, &mut []))), Poll::Ready(Ok(0))));
    assert!(matches!(poll_once(poll_fn(|cx| stream.poll_read_uninit(cx, &mut []))), Poll::Ready(Ok(0))));
    assert!(matches!(poll_once(poll_fn(|cx| stream.poll_write(cx, &[]))), Poll::Ready(Ok(0))));
    let nothing = [IoSlice::new(&[]), IoSlice::new(&[])];
    assert!(matches!(poll_once(poll_fn(|cx| stream.poll_write_vectored(cx, &nothing))), Poll::Ready(Ok(0))));
    assert_eq!(stream.try_read(&mut []).unwrap(), 0);
    assert_eq!(stream.try_write(&[]).unwrap(), 0);
}

#[test]
fn only_the_latest_poll_read_ready_waker_is_woken() {
    // The documented limit of the poll-level API: one slot per direction.
    let rt = Runtime::new().unwrap();
    let (_listener, mut peer, stream) = std_peer_pair(&rt);
    let stream = std::rc::Rc::new(stream);
    let first = rt.spawn({
        let stream = stream.clone();
        async move { poll_fn(|cx| stream.poll_read_ready(cx)).await.unwrap() }
    });
    settle(&rt);
    let second = rt.spawn({
        let stream = stream.clone();
        async move { poll_fn(|cx| stream.poll_read_ready(cx)).await.unwrap() }
    });
    settle(&rt);
    peer.write_all(b"x").unwrap();
    assert_eq!(rt.turn(Some(LIMIT)).tasks_run, 1, "one slot, one waker");
    assert!(second.is_finished(), "the latest poll's waker was kept");
    assert!(!first.is_finished(), "the earlier poll's waker was replaced");
    first.cancel();
    settle(&rt);
}

#[test]
fn a_reader_and_a_writer_polling_one_stream_keep_separate_slots() {
    let rt = Runtime::new().unwrap();
    let (_listener, mut peer, stream) = std_peer_pair(&rt);
    let (read_half, write_half) = stream.into_split();
    let reader = rt.spawn(async move {
        poll_fn(|cx| read_half.poll_read_ready(cx)).await.unwrap();
        let mut buf = [0; 8];
        let n = poll_fn(|cx| read_half.poll_read(cx, &mut buf)).await.unwrap();
        buf[..n].to_vec()
    });
    settle(&rt);
    // The writer polls its own direction meanwhile: it must not take the
    // reader's place.
    let writer = rt.spawn(async move {
        poll_fn(|cx| write_half.poll_write_ready(cx)).await.unwrap();
        let n = poll_fn(|cx| write_half.poll_write_vectored(cx, &[IoSlice::new(b"pi"), IoSlice::new(b"ng")]))
            .await
            .unwrap();
        assert_eq!(write_half.try_write(b"!").unwrap(), 1);
        (n, write_half)
    });
    let (n, _write_half) = rt.block_on(bounded(writer)).unwrap();
    assert_eq!(n, 4);
    let mut ping = [0; 5];
    peer.read_exact(&mut ping).unwrap();
    assert_eq!(&ping, b"ping!");

    peer.write_all(b"pong").unwrap();
    assert_eq!(rt.block_on(bounded(reader)).unwrap(), b"pong", "the reader was still woken");
}

#[test]
fn poll_accept_waits_for_a_client_and_incoming_yields_each_connection() {
    let rt = Runtime::new().unwrap();
    rt.block_on(bounded(async {
        let listener = TcpListener::bind(ANY_LOCAL_PORT).unwrap();
        let addr = listener.local_addr().unwrap();
        assert!(poll_once(poll_fn(|cx| listener.poll_accept(cx))).is_pending(), "nobody connected yet");

        let first = TcpStream::connect(addr).await.unwrap();
        let (accepted, from) = poll_fn(|cx| listener.poll_accept(cx)).await.unwrap();
        assert_eq!(from, first.local_addr().unwrap());
        assert_eq!(accepted.peer_addr().unwrap(), from);

        let mut incoming = listener.incoming();
        let second = TcpStream::connect(addr).await.unwrap();
        let third = TcpStream::connect(addr).await.unwrap();
        let a = poll_fn(|cx| Pin::new(&mut incoming).poll_next(cx)).await.unwrap().unwrap();
        let b = incoming.next().await.unwrap().unwrap();
        assert_eq!(a.peer_addr().unwrap(), second.local_addr().unwrap());
        assert_eq!(b.peer_addr().unwrap(), third.local_addr().unwrap());
    }));
    assert_eq!(rt.metrics().io_sources, 0);
}

#[test]
fn a_pending_poll_accept_is_woken_by_a_connecting_client() {
    let rt = Runtime::new().unwrap();
    let listener = rt.block_on(async { TcpListener::bind(ANY_LOCAL_PORT).unwrap() });
    let addr = listener.local_addr().unwrap();
    let accepter = rt.spawn(async move {
        let mut incoming = listener.incoming();
        poll_fn(|cx| Pin::new(&mut incoming).poll_next(cx)).await.unwrap().unwrap().peer_addr().unwrap()
    });
    settle(&rt);
    assert!(!accepter.is_finished());
    let client = std::net::TcpStream::connect(addr).unwrap();
    assert_eq!(rt.block_on(bounded(accepter)).unwrap(), client.local_addr().unwrap());
}

#[test]
fn every_socket_lends_its_descriptor() {
    kettle::run(async {
        let listener = TcpListener::bind(ANY_LOCAL_PORT).unwrap();
        let addr = listener.local_addr().unwrap();
        let dup = std::net::TcpListener::from(listener.as_fd().try_clone_to_owned().unwrap());
        assert_eq!(dup.local_addr().unwrap(), addr, "the listener's own socket");
        assert_eq!(listener.as_raw_fd(), listener.as_fd().as_raw_fd());

        let client = bounded(TcpStream::connect(addr)).await.unwrap();
        let dup = std::net::TcpStream::from(client.as_fd().try_clone_to_owned().unwrap());
        assert_eq!(dup.local_addr().unwrap(), client.local_addr().unwrap());
        let raw = client.as_raw_fd();
        let (read_half, write_half) = client.into_split();
        assert_eq!((read_half.as_raw_fd(), write_half.as_fd().as_raw_fd()), (raw, raw), "one socket");

        let udp = UdpSocket::bind(ANY_LOCAL_PORT).unwrap();
        let dup = std::net::UdpSocket::from(udp.as_fd().try_clone_to_owned().unwrap());
        assert_eq!(dup.local_addr().unwrap(), udp.local_addr().unwrap());
        assert_eq!(udp.as_raw_fd(), udp.as_fd().as_raw_fd());
    });
}

#[test]
fn poll_level_calls_after_the_runtime_is_gone_fail_instead_of_hanging() {
    let rt = Runtime::new().unwrap();
    let (listener, mut peer, stream) = std_peer_pair(&rt);
    let udp = rt.block_on(async { UdpSocket::bind(ANY_LOCAL_PORT).unwrap() });
    peer.write_all(b"data").unwrap();
    settle(&rt); // the data's readiness is recorded: a try could act on it
    drop(rt);

    let gone = |result: Poll<io::Result<()>>| matches!(result, Poll::Ready(Err(e)) if e.kind() != io::ErrorKind::WouldBlock);
    assert!(gone(poll_once(poll_fn(|cx| stream.poll_read_ready(cx)))));
    assert!(gone(poll_once(poll_fn(|cx| stream.poll_write_ready(cx)))));
    assert!(gone(poll_once(poll_fn(|cx| udp.poll_read_ready(cx)))));
    assert!(gone(poll_once(poll_fn(|cx| listener.poll_accept(cx).map_ok(drop)))));
    for result in [
        stream.try_read(&mut [0; 4]).map(drop),
        stream.try_write(b"x").map(drop),
        udp.try_read(&mut [0; 4]).map(drop),
    ] {
        let err = result.unwrap_err();
        assert_ne!(err.kind(), io::ErrorKind::WouldBlock, "an error that says why, not 'try again': {err}");
    }
}

#[test]
fn a_udp_socket_polls_for_a_datagram_and_then_tries_to_take_it() {
    let rt = Runtime::new().unwrap();
    let (socket, addr) = rt.block_on(async {
        let socket = UdpSocket::bind(ANY_LOCAL_PORT).unwrap();
        let addr = socket.local_addr().unwrap();
        (socket, addr)
    });
    settle(&rt);
    assert!(is_would_block(socket.try_read(&mut [0; 8])), "nothing sent yet");
    assert!(is_would_block(socket.try_recv_from(&mut [0; 8])));
    let receiver = rt.spawn(async move {
        poll_fn(|cx| socket.poll_read_ready(cx)).await.unwrap();
        let mut buf = [0; 8];
        let (n, from) = socket.try_recv_from(&mut buf).unwrap();
        assert!(is_would_block(socket.try_recv_from(&mut buf)), "one datagram, taken");
        (buf[..n].to_vec(), from, socket)
    });
    settle(&rt);
    assert!(!receiver.is_finished());
    let sender = std::net::UdpSocket::bind(ANY_LOCAL_PORT).unwrap();
    sender.send_to(b"dgram", addr).unwrap();
    let (got, from, socket) = rt.block_on(bounded(receiver)).unwrap();
    assert_eq!((got.as_slice(), from), (&b"dgram"[..], sender.local_addr().unwrap()));

    // Connected: try_write and try_read are send and recv.
    rt.block_on(bounded(async {
        socket.connect(sender.local_addr().unwrap()).unwrap();
        poll_fn(|cx| socket.poll_write_ready(cx)).await.unwrap();
        assert_eq!(socket.try_write(b"back").unwrap(), 4);
        let mut buf = [0; 8];
        let (n, _) = sender.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"back");
        sender.send_to(b"again", addr).unwrap();
        poll_fn(|cx| socket.poll_read_ready(cx)).await.unwrap();
        let n = socket.try_read(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"again");
    }));
}

#[test]
fn udp_poll_send_to_poll_recv_from_and_poll_read_uninit_each_move_one_datagram() {
    kettle::run(bounded(async {
        let a = UdpSocket::bind(ANY_LOCAL_PORT).unwrap();
        let b = UdpSocket::bind(ANY_LOCAL_PORT).unwrap();
        let b_addr = b.local_addr().unwrap();
        assert_eq!(poll_fn(|cx| a.poll_send_to(cx, b"one", b_addr)).await.unwrap(), 3);
        assert_eq!(poll_fn(|cx| a.poll_send_to(cx, b"two!", b_addr)).await.unwrap(), 4);
        let mut buf = [0; 8];
        let (n, from) = poll_fn(|cx| b.poll_recv_from(cx, &mut buf)).await.unwrap();
        assert_eq!((&buf[..n], from), (&b"one"[..], a.local_addr().unwrap()));

        let mut uninit = [MaybeUninit::<u8>::uninit(); 2];
        let n = poll_fn(|cx| b.poll_read_uninit(cx, &mut uninit)).await.unwrap();
        assert_eq!(n, 2, "the datagram is truncated to the buffer");
        // SAFETY: poll_read_uninit initialised the first n bytes.
        let got: Vec<u8> = uninit[..n].iter().map(|byte| unsafe { byte.assume_init() }).collect();
        assert_eq!(got, b"tw");
        assert!(is_would_block(b.try_read(&mut buf)), "the rest of the datagram is gone with it");
    }));
}

#[test]
fn every_socket_debugs_as_its_descriptor_and_the_addresses_it_has() {
    kettle::run(async {
        let listener = kettle::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let listener_debug = format!("{listener:?}");
        assert!(listener_debug.starts_with("TcpListener { fd: "), "{listener_debug}");
        assert!(listener_debug.contains(&format!("local: {addr:?}")), "{listener_debug}");
        assert!(!listener_debug.contains("peer"), "a listener has no peer: {listener_debug}");

        let client = kettle::net::TcpStream::connect(addr).await.unwrap();
        let client_debug = format!("{client:?}");
        assert!(client_debug.contains(&format!("peer: {addr:?}")), "{client_debug}");
        let (read, write) = client.into_split();
        assert!(format!("{read:?}").starts_with("OwnedReadHalf { fd: "));
        assert!(format!("{write:?}").contains(&format!("peer: {addr:?}")));

        let udp = kettle::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let udp_debug = format!("{udp:?}");
        assert!(udp_debug.contains("local: ") && !udp_debug.contains("peer"), "unconnected: {udp_debug}");

        let (a, _b) = kettle::net::UnixStream::pair().unwrap();
        assert!(format!("{a:?}").starts_with("UnixStream { fd: "));
    });
}
