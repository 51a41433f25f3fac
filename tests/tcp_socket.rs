//! Specifies `kettle::net::TcpSocket`, a TCP socket configured before it
//! listens or connects: the backlog a server chooses is the one the kernel
//! uses (a thousand simultaneous connects all complete before the first
//! accept), `SO_REUSEPORT` lets two listeners share a port and both get
//! connections, every option set can be read back, and connecting works —
//! or is refused — as `TcpStream::connect` does.

use std::cell::Cell;
use std::collections::HashSet;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use kettle::Runtime;
use kettle::net::{TcpListener, TcpSocket, TcpStream};

mod common;
use common::net::{ANY_LOCAL_PORT, bounded, settle};

fn loopback() -> SocketAddr {
    ANY_LOCAL_PORT.parse().unwrap()
}

#[test]
fn a_backlog_of_1024_holds_a_thousand_simultaneous_connects_until_they_are_accepted() {
    // With std's and mio's fixed backlog of 128, the kernel drops the SYNs
    // of connects beyond it while nobody accepts, and those connects never
    // complete. Here every one completes before the first accept.
    const CLIENTS: usize = 1000;
    let rt = Runtime::new().unwrap();
    rt.block_on(bounded(async {
        let socket = TcpSocket::new_v4().unwrap();
        socket.bind(loopback()).unwrap();
        let listener = socket.listen(1024).unwrap();
        let addr = listener.local_addr().unwrap();
        let connects: Vec<_> =
            (0..CLIENTS).map(|_| kettle::spawn(async move { TcpStream::connect(addr).await })).collect();
        let clients: Vec<TcpStream> =
            kettle::gather(connects).await.into_iter().map(|joined| joined.unwrap().unwrap()).collect();
        let connected: HashSet<SocketAddr> = clients.iter().map(|c| c.local_addr().unwrap()).collect();
        assert_eq!(connected.len(), CLIENTS);

        let mut accepted = HashSet::new();
        for _ in 0..CLIENTS {
            let (_, from) = listener.accept().await.unwrap();
            accepted.insert(from);
        }
        assert_eq!(accepted, connected, "every connection waited in the backlog and was accepted");
    }));
    assert_eq!(rt.metrics().io_sources, 0);
}

#[test]
fn two_listeners_with_reuseport_share_a_port_and_both_accept() {
    const CLIENTS: usize = 64;
    let rt = Runtime::new().unwrap();
    let counts = rt.block_on(bounded(async {
        let first = TcpSocket::new_v4().unwrap();
        first.set_reuseport(true).unwrap();
        first.bind(loopback()).unwrap();
        let first = first.listen(128).unwrap();
        let addr = first.local_addr().unwrap();
        let second = TcpSocket::new_v4().unwrap();
        second.set_reuseport(true).unwrap();
        second.bind(addr).unwrap();
        let second = second.listen(128).unwrap();
        assert_eq!(second.local_addr().unwrap(), addr, "the same port");

        let counts = [Rc::new(Cell::new(0)), Rc::new(Cell::new(0))];
        let accepters: Vec<_> = [first, second]
            .into_iter()
            .zip(counts.clone())
            .map(|(listener, count)| {
                kettle::spawn(async move {
                    while listener.accept().await.is_ok() {
                        count.set(count.get() + 1);
                    }
                })
            })
            .collect();
        // SO_REUSEPORT hashes each connection's addresses to one listener:
        // with 64 clients, one listener getting them all has odds of 2^-63.
        let mut clients = Vec::new();
        for _ in 0..CLIENTS {
            clients.push(TcpStream::connect(addr).await.unwrap());
        }
        while counts.iter().map(|count| count.get()).sum::<usize>() < CLIENTS {
            kettle::sleep(Duration::from_millis(1)).await;
        }
        for accepter in accepters {
            accepter.cancel();
        }
        counts.map(|count| count.get())
    }));
    assert_eq!(counts.iter().sum::<usize>(), CLIENTS);
    assert!(counts.iter().all(|&count| count > 0), "both listeners got connections: {counts:?}");
}

#[test]
fn binding_a_port_in_use_without_reuseport_is_addr_in_use() {
    kettle::run(async {
        let taken = TcpListener::bind(ANY_LOCAL_PORT).unwrap();
        let socket = TcpSocket::new_v4().unwrap();
        socket.set_reuseport(true).unwrap(); // only one side: not enough
        let err = socket.bind(taken.local_addr().unwrap()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
    });
}

#[test]
fn every_option_set_can_be_read_back() {
    let socket = TcpSocket::new_v4().unwrap();
    for on in [true, false, true] {
        socket.set_reuseaddr(on).unwrap();
        socket.set_reuseport(on).unwrap();
        socket.set_nodelay(on).unwrap();
        socket.set_keepalive(on).unwrap();
        let read = [socket.reuseaddr(), socket.reuseport(), socket.nodelay(), socket.keepalive()];
        assert!(read.iter().all(|flag| *flag.as_ref().unwrap() == on), "{read:?} after setting {on}");
    }
}

#[test]
fn options_start_off_and_need_no_runtime() {
    let socket = TcpSocket::new_v4().unwrap();
    assert!(!socket.reuseport().unwrap());
    assert!(!socket.nodelay().unwrap());
    assert!(!socket.keepalive().unwrap());
    socket.bind(loopback()).unwrap();
}

#[test]
fn a_connecting_socket_keeps_its_options_and_its_bound_address() {
    kettle::run(bounded(async {
        let listener = TcpListener::bind(ANY_LOCAL_PORT).unwrap();
        let socket = TcpSocket::new_v4().unwrap();
        socket.set_nodelay(true).unwrap();
        socket.bind(loopback()).unwrap();
        let mut stream = socket.connect(listener.local_addr().unwrap()).await.unwrap();
        let (mut server, from) = listener.accept().await.unwrap();
        assert_eq!(from, stream.local_addr().unwrap());
        assert!(stream.nodelay().unwrap());
        stream.write_all(b"ok").await.unwrap();
        let mut buf = [0; 2];
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ok");
    }));
}

#[test]
fn a_listening_socket_passes_nodelay_on_to_the_connections_it_accepts() {
    kettle::run(bounded(async {
        let socket = TcpSocket::new_v4().unwrap();
        socket.set_nodelay(true).unwrap();
        socket.bind(loopback()).unwrap();
        let listener = socket.listen(16).unwrap();
        let _client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
        let (accepted, _) = listener.accept().await.unwrap();
        assert!(accepted.nodelay().unwrap());
    }));
}

#[test]
fn connecting_to_a_closed_port_is_refused_and_leaves_nothing_registered() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let closed = TcpListener::bind(ANY_LOCAL_PORT).unwrap().local_addr().unwrap();
        let err = bounded(TcpSocket::new_v4().unwrap().connect(closed)).await.expect_err("refused");
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
    });
    settle(&rt);
    assert_eq!(rt.metrics().io_sources, 0);
}

#[test]
fn an_ipv6_socket_listens_and_connects_on_ipv6_loopback() {
    kettle::run(bounded(async {
        let socket = TcpSocket::new_v6().unwrap();
        let loopback6: SocketAddr = "[::1]:0".parse().unwrap();
        if let Err(e) = socket.bind(loopback6) {
            eprintln!("no IPv6 loopback here ({e}); skipping");
            return;
        }
        let listener = socket.listen(16).unwrap();
        let addr = listener.local_addr().unwrap();
        assert!(addr.is_ipv6());
        let client = TcpSocket::new_v6().unwrap().connect(addr).await.unwrap();
        let (_, from) = listener.accept().await.unwrap();
        assert_eq!(from, client.local_addr().unwrap());
    }));
}

#[test]
fn an_address_of_the_other_ip_version_is_an_error() {
    let v4 = TcpSocket::new_v4().unwrap();
    assert!(v4.bind("[::1]:0".parse().unwrap()).is_err());
    let v6 = TcpSocket::new_v6().unwrap();
    assert!(v6.bind(loopback()).is_err());
}

#[test]
fn listening_without_binding_picks_a_free_port() {
    kettle::run(async {
        let listener = TcpSocket::new_v4().unwrap().listen(8).unwrap();
        assert_ne!(listener.local_addr().unwrap().port(), 0);
    });
}

#[test]
#[should_panic(expected = "kettle::net::TcpSocket::listen called outside a kettle runtime")]
fn listening_outside_a_runtime_panics() {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(loopback()).unwrap();
    let _ = socket.listen(8);
}
