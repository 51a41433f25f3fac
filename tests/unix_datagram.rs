//! Specifies `kettle::net::UnixDatagram` on real socket files in a temporary
//! directory: send_to/recv_from between bound sockets with their addresses,
//! connect/send/recv, pairs and unbound senders, one datagram per call, a
//! sender that waits while the receiver's queue is full and resumes when it
//! drains, the poll-level API, std conversions, and misuse — a path already
//! taken, nobody at the path, a path too long, a socket used after its
//! runtime is gone.

use std::future::poll_fn;
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd};

use kettle::Runtime;
use kettle::net::UnixDatagram;

mod common;
use common::net::{LIMIT, TempDir, bounded, poll_once, settle};

#[test]
#[should_panic(expected = "kettle::net::UnixDatagram::bind called outside a kettle runtime")]
fn binding_outside_a_runtime_panics() {
    let dir = TempDir::new();
    let _ = UnixDatagram::bind(dir.path("outside"));
}

#[test]
fn datagrams_sent_to_a_path_arrive_whole_with_the_senders_path() {
    let dir = TempDir::new();
    let rt = Runtime::new().unwrap();
    rt.block_on(bounded(async {
        let (a_path, b_path) = (dir.path("a"), dir.path("b"));
        let a = UnixDatagram::bind(&a_path).unwrap();
        let b = UnixDatagram::bind(&b_path).unwrap();
        assert_eq!(a.local_addr().unwrap().as_pathname(), Some(a_path.as_path()));
        assert_eq!(a.send_to(b"first", &b_path).await.unwrap(), 5);
        assert_eq!(a.send_to(b"second", &b_path).await.unwrap(), 6);
        let mut buf = [0; 16];
        let (n, from) = b.recv_from(&mut buf).await.unwrap();
        assert_eq!((&buf[..n], from.as_pathname()), (&b"first"[..], Some(a_path.as_path())));
        let (n, _) = b.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"second", "one datagram per call, in order");

        b.send_to(b"reply", &a_path).await.unwrap();
        let (n, from) = a.recv_from(&mut buf).await.unwrap();
        assert_eq!((&buf[..n], from.as_pathname()), (&b"reply"[..], Some(b_path.as_path())));
    }));
    assert_eq!(rt.metrics().io_sources, 0);
}

#[test]
fn a_connected_socket_sends_and_receives_without_addresses() {
    let dir = TempDir::new();
    kettle::run(bounded(async {
        let server_path = dir.path("server");
        let server = UnixDatagram::bind(&server_path).unwrap();
        let client = UnixDatagram::bind(dir.path("client")).unwrap();
        client.connect(&server_path).unwrap();
        assert_eq!(client.peer_addr().unwrap().as_pathname(), Some(server_path.as_path()));
        client.send(b"hello").await.unwrap();
        let mut buf = [0; 8];
        let (n, from) = server.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"hello");
        server.send_to(b"back", from.as_pathname().unwrap()).await.unwrap();
        assert_eq!(client.recv(&mut buf).await.unwrap(), 4);
        assert_eq!(&buf[..4], b"back");
    }));
}

#[test]
fn an_unbound_socket_can_send_but_has_no_address_to_reply_to() {
    let dir = TempDir::new();
    kettle::run(bounded(async {
        let path = dir.path("server");
        let server = UnixDatagram::bind(&path).unwrap();
        let client = UnixDatagram::unbound().unwrap();
        client.send_to(b"anon", &path).await.unwrap();
        let (n, from) = server.recv_from(&mut [0; 8]).await.unwrap();
        assert_eq!(n, 4);
        assert!(from.is_unnamed());
        assert!(client.local_addr().unwrap().is_unnamed());
    }));
}

#[test]
fn a_pair_is_connected_both_ways_and_truncates_long_datagrams() {
    kettle::run(bounded(async {
        let (a, b) = UnixDatagram::pair().unwrap();
        a.send(b"0123456789").await.unwrap();
        let mut small = [0; 4];
        assert_eq!(b.recv(&mut small).await.unwrap(), 4, "truncated to the buffer");
        assert_eq!(&small, b"0123");
        b.send(b"back").await.unwrap();
        assert_eq!(a.recv(&mut small).await.unwrap(), 4);
        let err = b.try_read(&mut small).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock, "the rest of the long datagram is gone");
    }));
}

#[test]
fn a_sender_waits_while_the_receivers_queue_is_full_and_resumes_when_it_drains() {
    // Unlike UDP, a local datagram is never dropped: a full queue makes the
    // sender wait for room, which the reactor reports as writability.
    let rt = Runtime::new().unwrap();
    let (a, b) = rt.block_on(async { UnixDatagram::pair().unwrap() });
    rt.block_on(bounded(poll_fn(|cx| a.poll_write_ready(cx)))).unwrap();
    let mut sent = 0;
    loop {
        match a.try_write(&[7; 512]) {
            Ok(_) => sent += 1,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => panic!("{e}"),
        }
        assert!(sent < 1_000_000, "the queue never filled");
    }
    let sender = rt.spawn(async move { a.send(b"last").await.unwrap() });
    settle(&rt);
    assert!(!sender.is_finished(), "the queue is full: the send waits");

    let received = rt.block_on(bounded(async {
        let mut buf = [0; 512];
        let mut received = 0;
        loop {
            let n = b.recv(&mut buf).await.unwrap();
            received += 1;
            if n == 4 {
                assert_eq!(&buf[..4], b"last");
                return received;
            }
        }
    }));
    assert_eq!(received, sent + 1, "every datagram arrived, the waiting one last");
    assert_eq!(rt.block_on(bounded(sender)).unwrap(), 4);
}

#[test]
fn the_poll_level_methods_wait_for_a_datagram_and_take_one_per_call() {
    let dir = TempDir::new();
    let rt = Runtime::new().unwrap();
    let path = dir.path("poll");
    let socket = rt.block_on(async { UnixDatagram::bind(&path).unwrap() });
    settle(&rt);
    assert_eq!(socket.try_read(&mut [0; 8]).unwrap_err().kind(), io::ErrorKind::WouldBlock);
    assert_eq!(socket.try_recv_from(&mut [0; 8]).unwrap_err().kind(), io::ErrorKind::WouldBlock);
    assert!(poll_once(poll_fn(|cx| socket.poll_read_ready(cx))).is_pending());

    let receiver = rt.spawn(async move {
        poll_fn(|cx| socket.poll_read_ready(cx)).await.unwrap();
        let mut buf = [0; 8];
        let (n, from) = socket.try_recv_from(&mut buf).unwrap();
        assert!(from.is_unnamed());
        let mut uninit = [MaybeUninit::uninit(); 8];
        let m = poll_fn(|cx| socket.poll_read_uninit(cx, &mut uninit)).await.unwrap();
        // SAFETY: poll_read_uninit initialised the first m bytes.
        let second: Vec<u8> = uninit[..m].iter().map(|byte| unsafe { byte.assume_init() }).collect();
        let (k, _) = poll_fn(|cx| socket.poll_recv_from(cx, &mut buf[n..])).await.unwrap();
        (buf[..n + k].to_vec(), second, socket)
    });
    settle(&rt);
    assert!(!receiver.is_finished());
    let sender = std::os::unix::net::UnixDatagram::unbound().unwrap();
    for datagram in [&b"one"[..], b"two", b"3"] {
        sender.send_to(datagram, &path).unwrap();
    }
    let (got, second, _socket) = rt.block_on(bounded(receiver)).unwrap();
    assert_eq!(got, b"one3");
    assert_eq!(second, b"two");

    rt.block_on(bounded(async {
        let client = UnixDatagram::unbound().unwrap();
        assert_eq!(poll_fn(|cx| client.poll_send_to(cx, b"ps", &path)).await.unwrap(), 2);
        poll_fn(|cx| client.poll_write_ready(cx)).await.unwrap();
        assert_eq!(client.try_send_to(b"ts", &path).unwrap(), 2);
        assert!(client.try_write(b"no peer").is_err(), "not connected");
    }));
}

#[test]
fn a_std_socket_adopted_and_handed_back_is_the_same_socket() {
    let dir = TempDir::new();
    let rt = Runtime::new().unwrap();
    let path = dir.path("std");
    let socket = rt.block_on(async {
        UnixDatagram::from_std(std::os::unix::net::UnixDatagram::bind(&path).unwrap()).unwrap()
    });
    let raw = socket.as_raw_fd();
    assert_eq!(socket.as_fd().as_raw_fd(), raw);
    let sender = std::os::unix::net::UnixDatagram::unbound().unwrap();
    sender.send_to(b"in", &path).unwrap();
    assert_eq!(rt.block_on(bounded(socket.recv(&mut [0; 8]))).unwrap(), 2);

    let back = socket.into_std();
    assert_eq!(rt.metrics().io_sources, 0);
    assert_eq!(back.local_addr().unwrap().as_pathname(), Some(path.as_path()));
    assert_eq!(back.recv(&mut [0; 8]).unwrap_err().kind(), io::ErrorKind::WouldBlock, "still non-blocking");
}

#[test]
fn misuse_binding_a_taken_path_sending_to_nobody_or_a_path_too_long_is_an_error() {
    let dir = TempDir::new();
    kettle::run(bounded(async {
        let path = dir.path("taken");
        let socket = UnixDatagram::bind(&path).unwrap();
        assert_eq!(UnixDatagram::bind(&path).err().unwrap().kind(), io::ErrorKind::AddrInUse);

        let err = socket.send_to(b"?", dir.path("nobody")).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert_eq!(socket.connect(dir.path("nobody")).unwrap_err().kind(), io::ErrorKind::NotFound);

        let too_long = dir.path(&"x".repeat(120));
        assert_eq!(UnixDatagram::bind(&too_long).err().unwrap().kind(), io::ErrorKind::InvalidInput);
        assert_eq!(UnixDatagram::bind("\0abstract").err().unwrap().kind(), io::ErrorKind::InvalidInput);
    }));
}

#[test]
fn a_socket_used_after_its_runtime_is_gone_fails_instead_of_hanging() {
    let rt = Runtime::new().unwrap();
    let (a, b) = rt.block_on(async { UnixDatagram::pair().unwrap() });
    drop(rt);
    let other = Runtime::new().unwrap();
    let received = other.block_on(async { kettle::timeout(LIMIT, a.recv(&mut [0; 8])).await });
    assert!(matches!(received, Ok(Err(_))), "failed instead of waiting: {received:?}");
    assert!(b.try_write(b"x").is_err());
    assert_eq!(other.metrics().io_sources, 0);
}
