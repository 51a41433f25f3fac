//! Specifies `kettle::net::UdpSocket` on real loopback sockets: datagrams
//! both ways with their senders' addresses, connected sockets, truncation,
//! edge-triggered readiness that is forgotten only on `WouldBlock`, several
//! tasks sharing one socket, cancelled receives that leave the socket usable,
//! and one reactor registration per socket for as long as it lives.

use std::cell::Cell;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::rc::Rc;
use std::time::{Duration, Instant};

use kettle::Runtime;
use kettle::net::UdpSocket;

mod common;
use common::finishes_within;
use common::net::{ANY_LOCAL_PORT, LIMIT, bounded, settle};

fn bind() -> UdpSocket {
    UdpSocket::bind(ANY_LOCAL_PORT).unwrap()
}

fn addr(socket: &UdpSocket) -> SocketAddr {
    socket.local_addr().unwrap()
}

#[test]
#[should_panic(expected = "called outside a kettle runtime")]
fn binding_a_socket_outside_a_runtime_panics() {
    let _ = UdpSocket::bind(ANY_LOCAL_PORT);
}

#[test]
fn a_socket_bound_to_port_zero_reports_the_port_it_got() {
    kettle::run(async {
        let local = addr(&bind());
        assert_eq!(local.ip(), Ipv4Addr::LOCALHOST);
        assert_ne!(local.port(), 0);
    });
}

#[test]
fn datagrams_travel_both_ways_with_their_senders_addresses() {
    kettle::run(async {
        let (a, b) = (bind(), bind());
        assert_eq!(bounded(a.send_to(b"ping", addr(&b))).await.unwrap(), 4);
        let mut buf = [0; 16];
        let (n, from) = bounded(b.recv_from(&mut buf)).await.unwrap();
        assert_eq!((&buf[..n], from), (&b"ping"[..], addr(&a)));

        assert_eq!(bounded(b.send_to(b"pong!", from)).await.unwrap(), 5);
        let (n, from) = bounded(a.recv_from(&mut buf)).await.unwrap();
        assert_eq!((&buf[..n], from), (&b"pong!"[..], addr(&b)));
    });
}

#[test]
fn a_hundred_datagrams_ping_pong_in_order() {
    kettle::run(async {
        let (a, b) = (Rc::new(bind()), bind());
        let a_addr = addr(&a);
        let echo = kettle::spawn({
            let a = a.clone();
            async move {
                let mut buf = [0; 8];
                for _ in 0..100 {
                    let (n, from) = a.recv_from(&mut buf).await.unwrap();
                    a.send_to(&buf[..n], from).await.unwrap();
                }
            }
        });
        let mut buf = [0; 8];
        for i in 0u32..100 {
            bounded(b.send_to(&i.to_le_bytes(), a_addr)).await.unwrap();
            let (n, from) = bounded(b.recv_from(&mut buf)).await.unwrap();
            assert_eq!((&buf[..n], from), (&i.to_le_bytes()[..], a_addr));
        }
        bounded(echo).await.unwrap();
    });
}

#[test]
fn a_connected_socket_sends_to_and_receives_from_its_peer_only() {
    kettle::run(async {
        let (a, b, stranger) = (bind(), bind(), bind());
        a.connect(addr(&b)).unwrap();
        assert_eq!(a.peer_addr().unwrap(), addr(&b));

        assert_eq!(bounded(a.send(b"via send")).await.unwrap(), 8);
        let mut buf = [0; 16];
        let (n, from) = bounded(b.recv_from(&mut buf)).await.unwrap();
        assert_eq!((&buf[..n], from), (&b"via send"[..], addr(&a)));

        // The stranger's datagram is sent first but filtered out.
        bounded(stranger.send_to(b"spam", addr(&a))).await.unwrap();
        bounded(b.send_to(b"reply", addr(&a))).await.unwrap();
        let n = bounded(a.recv(&mut buf)).await.unwrap();
        assert_eq!(&buf[..n], b"reply");
        let nothing_else = kettle::timeout(Duration::from_millis(20), a.recv(&mut buf)).await;
        assert!(nothing_else.is_err(), "the stranger's datagram never arrives: {nothing_else:?}");
    });
}

#[test]
fn peer_addr_is_an_error_until_the_socket_is_connected() {
    kettle::run(async {
        let (a, b) = (bind(), bind());
        assert_eq!(a.peer_addr().unwrap_err().kind(), io::ErrorKind::NotConnected);
        a.connect(addr(&b)).unwrap();
        assert_eq!(a.peer_addr().unwrap(), addr(&b));
    });
}

/// A socket connected to a port nobody listens on, that has sent a datagram
/// and received the refusal; returns it and that port's address.
async fn refused() -> (UdpSocket, SocketAddr) {
    let a = bind();
    let gone = addr(&bind());
    a.connect(gone).unwrap();
    bounded(a.send(b"hello?")).await.unwrap();
    // Loopback answers with "port unreachable", which Linux reports on the
    // connected socket's next operation.
    let err = bounded(a.recv(&mut [0; 8])).await.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
    (a, gone)
}

#[test]
fn a_connected_socket_whose_peer_is_gone_reports_refusal_instead_of_waiting() {
    kettle::run(refused());
}

#[test]
fn after_connection_refused_the_next_receive_waits_and_the_loop_keeps_serving() {
    // The refusal arrives as an error event; once the error has been
    // reported, the next `recv` finds nothing (WouldBlock) and must wait for
    // a new edge — not retry for ever inside one poll, freezing the loop.
    finishes_within(LIMIT, || {
        kettle::run(async {
            let (a, gone) = refused().await;
            let mut buf = [0; 8];

            let ticks = Rc::new(Cell::new(0));
            let ticker = kettle::spawn({
                let ticks = ticks.clone();
                async move {
                    loop {
                        kettle::sleep(Duration::from_millis(2)).await;
                        ticks.set(ticks.get() + 1);
                    }
                }
            });
            let start = Instant::now();
            let waited = kettle::timeout(Duration::from_millis(30), a.recv(&mut buf)).await;
            assert!(waited.is_err(), "nothing to receive: the timeout fires, got {waited:?}");
            let took = start.elapsed();
            assert!(took >= Duration::from_millis(30) && took < Duration::from_secs(1), "took {took:?}");
            assert!(ticks.get() >= 3, "other tasks kept running: {} ticks", ticks.get());
            ticker.cancel();

            // The peer comes back: a datagram that arrives later is received.
            let peer = UdpSocket::bind(gone).unwrap();
            bounded(peer.send_to(b"back", addr(&a))).await.unwrap();
            let n = bounded(a.recv(&mut buf)).await.unwrap();
            assert_eq!(&buf[..n], b"back");
        })
    });
}

#[test]
fn two_receives_of_one_task_each_keep_their_own_registration() {
    // One task waits in two receives on one socket; a timeout drops the
    // second. The first must still be woken by a datagram that comes later.
    finishes_within(LIMIT, || {
        kettle::run(async {
            let (a, b) = (bind(), bind());
            let (mut first, mut second) = ([0; 8], [0; 8]);
            let target = addr(&a);
            let sender = kettle::spawn(async move {
                kettle::sleep(Duration::from_millis(50)).await;
                b.send_to(b"late", target).await.unwrap();
                b
            });
            let (got, dropped) = kettle::join!(
                bounded(a.recv_from(&mut first)),
                kettle::timeout(Duration::from_millis(10), a.recv_from(&mut second)),
            );
            assert!(dropped.is_err(), "the second receive timed out and was dropped");
            let (n, _) = got.unwrap();
            assert_eq!(&first[..n], b"late");
            drop(bounded(sender).await.unwrap());
        })
    });
}

#[test]
fn a_datagram_longer_than_the_buffer_is_truncated_and_the_next_one_arrives_whole() {
    kettle::run(async {
        let (a, b) = (bind(), bind());
        bounded(a.send_to(b"0123456789", addr(&b))).await.unwrap();
        bounded(a.send_to(b"next", addr(&b))).await.unwrap();
        let mut small = [0; 4];
        let (n, _) = bounded(b.recv_from(&mut small)).await.unwrap();
        assert_eq!(&small[..n], b"0123", "the rest of the datagram is discarded");
        let mut buf = [0; 16];
        let (n, _) = bounded(b.recv_from(&mut buf)).await.unwrap();
        assert_eq!(&buf[..n], b"next");
    });
}

#[test]
fn an_empty_datagram_is_still_a_datagram() {
    kettle::run(async {
        let (a, b) = (bind(), bind());
        assert_eq!(bounded(a.send_to(&[], addr(&b))).await.unwrap(), 0);
        let mut buf = [0; 4];
        assert_eq!(bounded(b.recv_from(&mut buf)).await.unwrap(), (0, addr(&a)));
    });
}

#[test]
fn datagrams_sent_before_the_receiver_polls_are_all_received_without_new_events() {
    kettle::run(async {
        let (a, b) = (bind(), bind());
        // Three datagrams, then silence. A receiver that forgot the readiness
        // after each datagram would wait forever for an edge after the first.
        for word in [&b"one"[..], b"two", b"three"] {
            bounded(a.send_to(word, addr(&b))).await.unwrap();
        }
        let mut buf = [0; 8];
        for word in [&b"one"[..], b"two", b"three"] {
            let (n, _) = bounded(b.recv_from(&mut buf)).await.unwrap();
            assert_eq!(&buf[..n], word);
        }
    });
}

#[test]
fn a_receive_cancelled_by_a_timeout_leaves_the_socket_usable() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let (a, b) = (bind(), bind());
        let mut buf = [0; 8];
        let started = Instant::now();
        let early = kettle::timeout(Duration::from_millis(20), b.recv_from(&mut buf)).await;
        assert!(early.is_err(), "nothing was sent, so the receive timed out: {early:?}");
        assert!(started.elapsed() >= Duration::from_millis(20));

        bounded(a.send_to(b"late", addr(&b))).await.unwrap();
        let (n, from) = bounded(b.recv_from(&mut buf)).await.unwrap();
        assert_eq!((&buf[..n], from), (&b"late"[..], addr(&a)));
    });
    assert_eq!(rt.metrics().timers_pending, 0);
}

#[test]
fn a_task_cancelled_while_receiving_leaves_the_socket_usable_by_another() {
    let rt = Runtime::new().unwrap();
    let (a, b) = rt.block_on(async { (bind(), Rc::new(bind())) });
    let doomed = rt.spawn({
        let b = b.clone();
        async move { b.recv_from(&mut [0; 8]).await.map(|(n, _)| n) }
    });
    settle(&rt);
    doomed.cancel();
    settle(&rt);
    assert!(rt.block_on(doomed).unwrap_err().is_cancelled());

    let receiver = rt.spawn({
        let b = b.clone();
        async move {
            let mut buf = [0; 8];
            let (n, _) = b.recv_from(&mut buf).await.unwrap();
            buf[..n].to_vec()
        }
    });
    settle(&rt);
    rt.block_on(bounded(a.send_to(b"for you", addr(&b)))).unwrap();
    assert_eq!(rt.block_on(bounded(receiver)).unwrap(), b"for you");
    assert_eq!(rt.metrics().tasks_alive, 0);
}

#[test]
fn a_task_waiting_to_receive_does_not_stop_another_from_sending_on_the_same_socket() {
    kettle::run(async {
        let (shared, peer) = (Rc::new(bind()), bind());
        let receiver = kettle::spawn({
            let shared = shared.clone();
            async move {
                let mut buf = [0; 8];
                let (n, _) = shared.recv_from(&mut buf).await.unwrap();
                buf[..n].to_vec()
            }
        });
        kettle::yield_now().await; // the receiver is now waiting
        let sender = kettle::spawn({
            let shared = shared.clone();
            let to = addr(&peer);
            async move { shared.send_to(b"out", to).await.unwrap() }
        });
        assert_eq!(bounded(sender).await.unwrap(), 3, "sent while another task waits to receive");
        let mut buf = [0; 8];
        let (n, from) = bounded(peer.recv_from(&mut buf)).await.unwrap();
        assert_eq!((&buf[..n], from), (&b"out"[..], addr(&shared)));

        bounded(peer.send_to(b"in", addr(&shared))).await.unwrap();
        assert_eq!(bounded(receiver).await.unwrap(), b"in");
    });
}

#[test]
fn two_tasks_receiving_on_one_socket_each_get_a_datagram() {
    // UdpSocket's docs: "several tasks may send and receive on one socket".
    let rt = Runtime::new().unwrap();
    let (a, b) = rt.block_on(async { (bind(), Rc::new(bind())) });
    let received = Rc::new(Cell::new(0));
    let receivers: Vec<_> = (0..2)
        .map(|_| {
            let (b, received) = (b.clone(), received.clone());
            rt.spawn(async move {
                let mut buf = [0; 8];
                let (n, _) = b.recv_from(&mut buf).await.unwrap();
                received.set(received.get() + 1);
                buf[..n].to_vec()
            })
        })
        .collect();
    settle(&rt); // both are waiting now

    let got = rt.block_on(async {
        for word in [&b"one"[..], b"two"] {
            bounded(a.send_to(word, addr(&b))).await.unwrap();
        }
        let mut got = Vec::new();
        for receiver in receivers {
            got.push(kettle::timeout(LIMIT, receiver).await.expect("a receiver was never woken").unwrap());
        }
        got
    });
    assert_eq!(received.get(), 2);
    got.iter().for_each(|word| assert!(word == b"one" || word == b"two"));
    assert_ne!(got[0], got[1], "each datagram went to one receiver");
}

#[test]
fn each_socket_is_one_registration_for_exactly_as_long_as_it_lives() {
    let rt = Runtime::new().unwrap();
    let (a, b) = rt.block_on(async { (bind(), bind()) });
    assert_eq!(rt.metrics().io_sources, 2);
    rt.block_on(async {
        bounded(a.send_to(b"x", addr(&b))).await.unwrap();
        bounded(b.recv_from(&mut [0; 1])).await.unwrap();
    });
    assert_eq!(rt.metrics().io_sources, 2, "using a socket registers nothing more");
    drop(a);
    assert_eq!(rt.metrics().io_sources, 1);
    drop(b);
    let metrics = rt.metrics();
    assert_eq!((metrics.io_sources, metrics.tasks_alive, metrics.timers_pending), (0, 0, 0));
}
