//! Specifies `from_std` and `into_std` on `TcpStream`, `TcpListener` and
//! `UdpSocket`: a std socket adopted into a runtime is switched to
//! non-blocking mode and works like one kettle made; handed back, it leaves
//! the reactor (no registration left behind), stays non-blocking, and is the
//! same socket; adopting outside a runtime panics as `bind` does; and a
//! socket can be handed back even after its runtime is gone.

use std::io::{self, Read, Write};

use kettle::Runtime;
use kettle::net::{TcpListener, TcpStream, UdpSocket};

mod common;
use common::net::{ANY_LOCAL_PORT, bounded, settle};

#[test]
fn a_std_stream_adopted_and_handed_back_is_the_same_connection() {
    let rt = Runtime::new().unwrap();
    let std_listener = std::net::TcpListener::bind(ANY_LOCAL_PORT).unwrap();
    let std_stream = std::net::TcpStream::connect(std_listener.local_addr().unwrap()).unwrap();
    let (mut peer, _) = std_listener.accept().unwrap();
    let local = std_stream.local_addr().unwrap();

    let mut stream = rt.block_on(async { TcpStream::from_std(std_stream).unwrap() });
    assert_eq!(rt.metrics().io_sources, 1, "adopted: registered");
    assert_eq!(stream.local_addr().unwrap(), local);
    peer.write_all(b"to kettle").unwrap();
    let mut buf = [0; 9];
    rt.block_on(bounded(stream.read_exact(&mut buf))).unwrap();
    assert_eq!(&buf, b"to kettle");
    rt.block_on(bounded(stream.write_all(b"from kettle"))).unwrap();

    let mut back = stream.into_std();
    assert_eq!(rt.metrics().io_sources, 0, "handed back: deregistered");
    assert_eq!(back.local_addr().unwrap(), local, "the same socket");
    let mut reply = [0; 11];
    peer.read_exact(&mut reply).unwrap();
    assert_eq!(&reply, b"from kettle");

    let err = back.read(&mut buf).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::WouldBlock, "still non-blocking, as documented");
    back.set_nonblocking(false).unwrap();
    peer.write_all(b"blocking").unwrap();
    back.read_exact(&mut buf[..8]).unwrap();
    assert_eq!(&buf[..8], b"blocking");
}

#[test]
fn a_handed_back_stream_leaves_the_reactor_for_good() {
    let rt = Runtime::new().unwrap();
    let std_listener = std::net::TcpListener::bind(ANY_LOCAL_PORT).unwrap();
    let std_stream = std::net::TcpStream::connect(std_listener.local_addr().unwrap()).unwrap();
    let (mut peer, _) = std_listener.accept().unwrap();
    let stream = rt.block_on(async { TcpStream::from_std(std_stream).unwrap() });
    settle(&rt);
    let _back = stream.into_std();
    peer.write_all(b"anyone?").unwrap();
    let turn = rt.turn(Some(std::time::Duration::from_millis(50)));
    assert_eq!(turn.io_events, 0, "epoll no longer watches the socket");
}

#[test]
fn a_std_listener_adopted_accepts_and_handed_back_is_non_blocking() {
    let rt = Runtime::new().unwrap();
    let std_listener = std::net::TcpListener::bind(ANY_LOCAL_PORT).unwrap();
    let addr = std_listener.local_addr().unwrap();
    let listener = rt.block_on(async { TcpListener::from_std(std_listener).unwrap() });
    let client = std::net::TcpStream::connect(addr).unwrap();
    let (_, from) = rt.block_on(bounded(listener.accept())).unwrap();
    assert_eq!(from, client.local_addr().unwrap());

    let back = listener.into_std();
    assert_eq!(rt.metrics().io_sources, 0);
    assert_eq!(back.local_addr().unwrap(), addr);
    assert_eq!(back.accept().unwrap_err().kind(), io::ErrorKind::WouldBlock, "nobody waiting, no block");
    let second = std::net::TcpStream::connect(addr).unwrap();
    back.set_nonblocking(false).unwrap();
    assert_eq!(back.accept().unwrap().1, second.local_addr().unwrap());
}

#[test]
fn a_std_udp_socket_adopted_and_handed_back_keeps_its_address() {
    let rt = Runtime::new().unwrap();
    let std_socket = std::net::UdpSocket::bind(ANY_LOCAL_PORT).unwrap();
    let addr = std_socket.local_addr().unwrap();
    let socket = rt.block_on(async { UdpSocket::from_std(std_socket).unwrap() });
    let sender = std::net::UdpSocket::bind(ANY_LOCAL_PORT).unwrap();
    sender.send_to(b"hi", addr).unwrap();
    let mut buf = [0; 4];
    let (n, from) = rt.block_on(bounded(socket.recv_from(&mut buf))).unwrap();
    assert_eq!((&buf[..n], from), (&b"hi"[..], sender.local_addr().unwrap()));

    let back = socket.into_std();
    assert_eq!(rt.metrics().io_sources, 0);
    assert_eq!(back.local_addr().unwrap(), addr);
    assert_eq!(back.recv_from(&mut buf).unwrap_err().kind(), io::ErrorKind::WouldBlock);
}

#[test]
fn sockets_can_be_handed_back_after_their_runtime_is_gone() {
    let rt = Runtime::new().unwrap();
    let (listener, udp) = rt.block_on(async {
        (TcpListener::bind(ANY_LOCAL_PORT).unwrap(), UdpSocket::bind(ANY_LOCAL_PORT).unwrap())
    });
    let addr = listener.local_addr().unwrap();
    drop(rt);
    let back = listener.into_std();
    assert_eq!(back.local_addr().unwrap(), addr);
    drop(udp.into_std());
}

#[test]
#[should_panic(expected = "kettle::net::TcpStream::from_std called outside a kettle runtime")]
fn adopting_a_stream_outside_a_runtime_panics_as_bind_does() {
    let std_listener = std::net::TcpListener::bind(ANY_LOCAL_PORT).unwrap();
    let std_stream = std::net::TcpStream::connect(std_listener.local_addr().unwrap()).unwrap();
    let _ = TcpStream::from_std(std_stream);
}

#[test]
#[should_panic(expected = "kettle::net::TcpListener::from_std called outside a kettle runtime")]
fn adopting_a_listener_outside_a_runtime_panics_as_bind_does() {
    let _ = TcpListener::from_std(std::net::TcpListener::bind(ANY_LOCAL_PORT).unwrap());
}

#[test]
#[should_panic(expected = "kettle::net::UdpSocket::from_std called outside a kettle runtime")]
fn adopting_a_udp_socket_outside_a_runtime_panics_as_bind_does() {
    let _ = UdpSocket::from_std(std::net::UdpSocket::bind(ANY_LOCAL_PORT).unwrap());
}
