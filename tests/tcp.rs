//! Specifies `kettle::net`'s TCP layer on real loopback sockets: listening,
//! connecting (and being refused), reading and writing with end-of-file and
//! broken-pipe semantics, half-close, owned halves in separate tasks,
//! edge-triggered readiness that is forgotten only on `WouldBlock`, waiters
//! that leave no waker behind when cancelled, and one reactor registration
//! per socket for exactly as long as the socket lives.

use std::cell::Cell;
use std::collections::HashSet;
use std::io::{self, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr};
use std::rc::Rc;
use std::task::Poll;
use std::time::{Duration, Instant};

use kettle::Runtime;
use kettle::net::{TcpListener, TcpStream};
use kettle::sync::{Event, Semaphore};

mod common;
use common::net::{
    ANY_LOCAL_PORT, LIMIT, NOW, assert_peer_receives_what_was_sent, bounded, pattern, poll_once, settle,
    std_peer_pair,
};

/// A listener on loopback, and a (client, server) connection through it.
async fn connected_pair() -> (TcpListener, TcpStream, TcpStream) {
    let listener = TcpListener::bind(ANY_LOCAL_PORT).unwrap();
    let client = bounded(TcpStream::connect(listener.local_addr().unwrap())).await.unwrap();
    let (server, _) = bounded(listener.accept()).await.unwrap();
    (listener, client, server)
}

#[test]
#[should_panic(expected = "called outside a kettle runtime")]
fn binding_a_listener_outside_a_runtime_panics() {
    let _ = TcpListener::bind(ANY_LOCAL_PORT);
}

#[test]
#[should_panic(expected = "called outside a kettle runtime")]
fn polling_a_connect_outside_a_runtime_panics() {
    let target = std::net::TcpListener::bind(ANY_LOCAL_PORT).unwrap();
    let _ = poll_once(TcpStream::connect(target.local_addr().unwrap()));
}

#[test]
fn a_listener_bound_to_port_zero_reports_the_port_it_got() {
    kettle::run(async {
        let listener = TcpListener::bind(ANY_LOCAL_PORT).unwrap();
        let addr = listener.local_addr().unwrap();
        assert_eq!(addr.ip(), Ipv4Addr::LOCALHOST);
        assert_ne!(addr.port(), 0, "the kernel's choice, not the 0 asked for");
    });
}

#[test]
fn both_ends_of_a_connection_agree_on_its_addresses() {
    kettle::run(async {
        let listener = TcpListener::bind(ANY_LOCAL_PORT).unwrap();
        let client = bounded(TcpStream::connect(listener.local_addr().unwrap())).await.unwrap();
        let (server, from) = bounded(listener.accept()).await.unwrap();
        assert_eq!(from, client.local_addr().unwrap(), "accept reports the client's address");
        assert_eq!(server.peer_addr().unwrap(), client.local_addr().unwrap());
        assert_eq!(client.peer_addr().unwrap(), server.local_addr().unwrap());
        assert_eq!(client.peer_addr().unwrap(), listener.local_addr().unwrap());
        let (read_half, write_half) = client.into_split();
        assert_eq!(read_half.peer_addr().unwrap(), listener.local_addr().unwrap());
        assert_eq!(write_half.peer_addr().unwrap(), listener.local_addr().unwrap());
    });
}

#[test]
fn connecting_to_a_closed_port_is_refused_rather_than_hanging() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let closed: SocketAddr = {
            let listener = TcpListener::bind(ANY_LOCAL_PORT).unwrap();
            listener.local_addr().unwrap()
        };
        let err = bounded(TcpStream::connect(closed)).await.expect_err("nobody listens there");
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
    });
    let metrics = rt.metrics();
    assert_eq!(metrics.io_sources, 0, "the failed socket was deregistered");
    assert_eq!(metrics.timers_pending, 0);
}

#[test]
fn accept_takes_connections_from_several_concurrent_clients() {
    const CLIENTS: u8 = 8;
    let rt = Runtime::new().unwrap();
    rt.block_on(bounded(async {
        let listener = TcpListener::bind(ANY_LOCAL_PORT).unwrap();
        let addr = listener.local_addr().unwrap();
        let clients: Vec<_> = (0..CLIENTS)
            .map(|i| {
                kettle::spawn(async move {
                    let mut stream = TcpStream::connect(addr).await.unwrap();
                    stream.write_all(&[i]).await.unwrap();
                    let mut echo = [0; 1];
                    stream.read_exact(&mut echo).await.unwrap();
                    assert_eq!(echo, [i], "each client got its own connection's answer");
                    (stream.local_addr().unwrap(), i)
                })
            })
            .collect();

        let mut accepted = HashSet::new();
        for _ in 0..CLIENTS {
            let (mut stream, from) = listener.accept().await.unwrap();
            assert_eq!(stream.peer_addr().unwrap(), from);
            let mut byte = [0; 1];
            stream.read_exact(&mut byte).await.unwrap();
            stream.write_all(&byte).await.unwrap();
            assert!(accepted.insert((from, byte[0])), "{from} accepted twice");
        }
        let connected: HashSet<_> = kettle::gather(clients).await.into_iter().map(Result::unwrap).collect();
        assert_eq!(accepted, connected, "one accept per client, each with that client's address");
    }));
    assert_eq!(rt.metrics().tasks_alive, 0);
}

#[test]
fn bytes_written_on_one_end_are_read_on_the_other() {
    kettle::run(async {
        let (_listener, mut client, mut server) = connected_pair().await;
        let n = bounded(client.write(b"hello")).await.unwrap();
        assert!(n > 0 && n <= 5);
        bounded(client.write_all(&b"hello, world"[n..])).await.unwrap();
        bounded(client.flush()).await.unwrap();

        let mut got = vec![0; 12];
        bounded(server.read_exact(&mut got)).await.unwrap();
        assert_eq!(got, b"hello, world");

        bounded(server.write_all(b"hi")).await.unwrap();
        let mut buf = [0; 16];
        let n = bounded(client.read(&mut buf)).await.unwrap();
        assert!(n >= 1);
        bounded(client.read_exact(&mut buf[n..2])).await.unwrap();
        assert_eq!(&buf[..2], b"hi");
    });
}

#[test]
fn read_exact_fails_with_unexpected_eof_when_the_peer_closes_early() {
    kettle::run(async {
        let (_listener, mut client, mut server) = connected_pair().await;
        bounded(client.write_all(b"abc")).await.unwrap();
        drop(client);
        let mut buf = [0; 5];
        let err = bounded(server.read_exact(&mut buf)).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        assert_eq!(&buf[..3], b"abc", "what did arrive was delivered");
    });
}

#[test]
fn after_shutting_down_writing_the_peer_reads_end_of_file_and_can_still_reply() {
    kettle::run(async {
        let (_listener, mut client, mut server) = connected_pair().await;
        bounded(client.write_all(b"question")).await.unwrap();
        client.shutdown(Shutdown::Write).unwrap();

        let mut question = Vec::new();
        let mut buf = [0; 64];
        loop {
            match bounded(server.read(&mut buf)).await.unwrap() {
                0 => break,
                n => question.extend_from_slice(&buf[..n]),
            }
        }
        assert_eq!(question, b"question");
        assert_eq!(bounded(server.read(&mut buf)).await.unwrap(), 0, "end of file stays end of file");

        bounded(server.write_all(b"answer")).await.unwrap();
        drop(server);
        let mut answer = [0; 6];
        bounded(client.read_exact(&mut answer)).await.unwrap();
        assert_eq!(&answer, b"answer", "the other direction still works");
        assert_eq!(bounded(client.read(&mut buf)).await.unwrap(), 0);
    });
}

#[test]
fn when_the_peer_closes_read_returns_zero_and_writes_fail_without_killing_the_process() {
    // The Rust runtime ignores SIGPIPE before `main`, which would hide a
    // write that raises it. Restore the default (death) so that this test
    // proves kettle's writes never raise it. Every write in this binary goes
    // through `send(MSG_NOSIGNAL)` (kettle's and std's), so no other test
    // depends on the signal being ignored.
    // SAFETY: setting a signal's disposition to SIG_DFL installs no handler
    // and touches no Rust state.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    kettle::run(async {
        let (_listener, mut client, server) = connected_pair().await;
        drop(server);
        let mut buf = [0; 16];
        assert_eq!(bounded(client.read(&mut buf)).await.unwrap(), 0, "the peer's close reads as end of file");

        // The first write may still be accepted (the peer answers it with a
        // reset); one of the next ones must fail.
        let err = bounded(async {
            for _ in 0..1000 {
                if let Err(e) = client.write(b"anyone there?").await {
                    return e;
                }
                kettle::yield_now().await;
            }
            panic!("1000 writes to a closed connection all succeeded");
        })
        .await;
        assert!(
            matches!(err.kind(), io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset),
            "unexpected error {err:?}"
        );
        let again = bounded(client.write_all(b"still?")).await.unwrap_err();
        assert!(matches!(again.kind(), io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset));
    });
}

#[test]
fn nodelay_can_be_set_and_read_back() {
    kettle::run(async {
        let (_listener, client, server) = connected_pair().await;
        for stream in [&client, &server] {
            stream.set_nodelay(true).unwrap();
            assert!(stream.nodelay().unwrap());
            stream.set_nodelay(false).unwrap();
            assert!(!stream.nodelay().unwrap());
        }
    });
}

#[test]
fn reading_into_an_empty_buffer_returns_zero_at_once() {
    kettle::run(async {
        let (_listener, mut client, mut server) = connected_pair().await;
        // Nothing was sent: a real read would wait. An empty one must not.
        assert!(matches!(poll_once(server.read(&mut [])), Poll::Ready(Ok(0))));
        assert!(matches!(poll_once(client.write(&[])), Poll::Ready(Ok(0))));
        assert!(matches!(poll_once(server.read_exact(&mut [])), Poll::Ready(Ok(()))));
        assert!(matches!(poll_once(client.write_all(&[])), Poll::Ready(Ok(()))));
        assert!(matches!(poll_once(client.flush()), Poll::Ready(Ok(()))));
    });
}

#[test]
fn a_read_cancelled_by_a_timeout_leaves_the_stream_usable() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let (_listener, mut client, mut server) = connected_pair().await;
        let mut buf = [0; 16];
        let started = Instant::now();
        let result = kettle::timeout(Duration::from_millis(20), server.read(&mut buf)).await;
        assert!(result.is_err(), "nothing was sent, so the read timed out: {result:?}");
        assert!(started.elapsed() >= Duration::from_millis(20));

        bounded(client.write_all(b"late")).await.unwrap();
        let n = bounded(server.read(&mut buf)).await.unwrap();
        assert_eq!(&buf[..n], b"late"[..n].as_ref());
        bounded(server.read_exact(&mut buf[n..4])).await.unwrap();
        assert_eq!(&buf[..4], b"late");
    });
    assert_eq!(rt.metrics().timers_pending, 0);
}

#[test]
fn a_read_cancelled_by_a_timeout_leaves_no_waker_behind() {
    let rt = Runtime::new().unwrap();
    let (_listener, mut peer, mut stream) = std_peer_pair(&rt);
    let timed_out = Rc::new(Cell::new(false));
    let go = Event::new();
    let task = rt.spawn({
        let (timed_out, go) = (timed_out.clone(), go.clone());
        async move {
            let mut buf = [0; 16];
            let first = kettle::timeout(Duration::from_millis(20), stream.read(&mut buf)).await;
            assert!(first.is_err());
            timed_out.set(true);
            go.wait().await;
            let n = bounded(stream.read(&mut buf)).await.unwrap();
            buf[..n].to_vec()
        }
    });
    let deadline = Instant::now() + LIMIT;
    while !timed_out.get() {
        assert!(Instant::now() < deadline, "the 20 ms timeout never fired");
        rt.turn(Some(Duration::from_millis(100)));
    }
    settle(&rt);
    assert_eq!(rt.metrics().timers_pending, 0, "the timeout's timer is gone");

    // Data arrives on the socket the cancelled read was waiting on. The task
    // now waits on something else: if the read had left its waker in the
    // socket's slot, this event would wake the task for nothing.
    peer.write_all(b"x").unwrap();
    let turn = rt.turn(Some(LIMIT));
    assert!(turn.io_events >= 1, "the loop saw the socket turn readable");
    assert_eq!(turn.tasks_run, 0, "the socket's event woke nobody");

    go.set();
    let got = rt.block_on(bounded(task)).unwrap();
    assert_eq!(got, b"x", "the readiness recorded meanwhile was kept for the next read");
}

#[test]
fn a_reader_waiting_for_data_is_not_polled_again_until_data_arrives() {
    let rt = Runtime::new().unwrap();
    let (_listener, mut peer, mut stream) = std_peer_pair(&rt);
    let reader = rt.spawn(async move {
        let mut buf = [0; 8];
        let n = stream.read(&mut buf).await.unwrap();
        buf[..n].to_vec()
    });
    settle(&rt);
    for _ in 0..3 {
        assert_eq!(rt.turn(NOW).tasks_run, 0, "waiting, not spinning");
    }
    // The stream is writable all along; that is no reason to wake a reader.
    assert!(!reader.is_finished());

    peer.write_all(b"data").unwrap();
    let turn = rt.turn(Some(LIMIT));
    assert_eq!(turn.tasks_run, 1, "the data woke the reader");
    assert!(reader.is_finished());
    assert_eq!(rt.block_on(reader).unwrap(), b"data");
}

#[test]
fn bytes_written_before_the_reader_polls_are_all_read_one_at_a_time_without_new_events() {
    let rt = Runtime::new().unwrap();
    let (_listener, mut peer, mut stream) = std_peer_pair(&rt);
    // Three chunks, then silence: the connection stays open, so the only
    // readiness events are those of these writes. A reader that forgot the
    // readiness after each successful read would wait forever for a new edge.
    let chunks: [&[u8]; 3] = [b"first chunk|", b"2|", b"and the third and last chunk"];
    for chunk in chunks {
        peer.write_all(chunk).unwrap();
    }
    let expected = chunks.concat();
    let got = rt.block_on(bounded(async {
        let mut got = Vec::new();
        let mut byte = [0; 1];
        while got.len() < expected.len() {
            assert_eq!(stream.read(&mut byte).await.unwrap(), 1);
            got.push(byte[0]);
        }
        got
    }));
    assert_eq!(got, expected);
    drop(peer);
}

#[test]
fn data_sent_before_the_connection_is_accepted_is_read_after_it() {
    kettle::run(async {
        let listener = TcpListener::bind(ANY_LOCAL_PORT).unwrap();
        let mut peer = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        peer.write_all(b"early bird").unwrap();
        // The accepted socket is registered after its data arrived.
        let (mut stream, _) = bounded(listener.accept()).await.unwrap();
        let mut buf = [0; 10];
        bounded(stream.read_exact(&mut buf)).await.unwrap();
        assert_eq!(&buf, b"early bird");
    });
}

#[test]
fn a_mebibyte_echoed_through_split_halves_in_two_tasks_comes_back_intact() {
    const LEN: usize = 1 << 20;
    let rt = Runtime::new().unwrap();
    let echoed = rt.block_on(bounded(async {
        let listener = TcpListener::bind(ANY_LOCAL_PORT).unwrap();
        let addr = listener.local_addr().unwrap();
        let server = kettle::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut buf = vec![0; 16 * 1024];
            let mut total = 0;
            loop {
                match stream.read(&mut buf).await.unwrap() {
                    0 => return total,
                    n => {
                        stream.write_all(&buf[..n]).await.unwrap();
                        total += n;
                    }
                }
            }
        });

        let client = TcpStream::connect(addr).await.unwrap();
        let (mut read_half, mut write_half) = client.into_split();
        let writer = kettle::spawn(async move {
            let data = pattern(LEN);
            // Uneven pieces, to exercise partial writes as well as write_all.
            for piece in data.chunks(7919) {
                write_half.write_all(piece).await.unwrap();
            }
            write_half.flush().await.unwrap();
            // Dropping the write half ends the request: the server sees EOF.
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
        assert_eq!(server.await.unwrap(), LEN, "the server echoed everything");
        reader.await.unwrap()
    }));
    assert_eq!(echoed.len(), LEN);
    assert!(echoed == pattern(LEN), "the echo differs from what was sent");
    let metrics = rt.metrics();
    assert_eq!((metrics.tasks_alive, metrics.io_sources, metrics.timers_pending), (0, 0, 0));
}

#[test]
fn a_reader_and_a_blocked_writer_on_the_two_halves_of_one_stream_both_progress() {
    let rt = Runtime::new().unwrap();
    let (_listener, mut peer, stream) = std_peer_pair(&rt);
    let (mut read_half, mut write_half) = stream.into_split();
    let stop = Rc::new(Cell::new(false));
    // Writes until told to stop. It only ever waits when the socket is full,
    // which, with a peer that does not read yet, is soon.
    let writer = rt.spawn({
        let stop = stop.clone();
        async move {
            let chunk = pattern(251 * 256); // whole periods: chunks continue the pattern
            let mut sent = 0;
            while !stop.get() {
                write_half.write_all(&chunk).await.unwrap();
                sent += chunk.len();
            }
            sent
            // Dropping the half here shuts down writing: the peer's read ends.
        }
    });
    let reader = rt.spawn(async move {
        let mut buf = [0; 5];
        read_half.read_exact(&mut buf).await.unwrap();
        buf
    });
    settle(&rt);
    assert!(!reader.is_finished(), "the reader waits for the peer");
    // The writer is waiting too, and it waits only on a full socket.

    // The read direction moves while the write direction is blocked.
    peer.write_all(b"hello").unwrap();
    assert_eq!(&rt.block_on(bounded(reader)).unwrap(), b"hello");
    assert!(!writer.is_finished());

    // Now the write direction: drain on another thread, until end of file.
    stop.set(true);
    assert_peer_receives_what_was_sent(&rt, peer, writer);
}

#[test]
fn dropping_the_write_half_makes_the_peer_read_end_of_file_while_the_read_half_lives_on() {
    kettle::run(async {
        let (_listener, client, mut server) = connected_pair().await;
        let (mut read_half, mut write_half) = client.into_split();
        let writer = kettle::spawn(async move {
            write_half.write_all(b"bye").await.unwrap();
        });
        bounded(writer).await.unwrap();

        let mut got = Vec::new();
        let mut buf = [0; 8];
        loop {
            match bounded(server.read(&mut buf)).await.unwrap() {
                0 => break,
                n => got.extend_from_slice(&buf[..n]),
            }
        }
        assert_eq!(got, b"bye");

        bounded(server.write_all(b"ok")).await.unwrap();
        let reader = kettle::spawn(async move {
            let mut buf = [0; 2];
            read_half.read_exact(&mut buf).await.unwrap();
            buf
        });
        assert_eq!(&bounded(reader).await.unwrap(), b"ok", "the read half still reads");
    });
}

#[test]
fn shutting_down_the_write_half_makes_the_peer_read_end_of_file_while_the_half_is_held() {
    kettle::run(async {
        let (_listener, client, mut server) = connected_pair().await;
        let (_read_half, mut write_half) = client.into_split();
        bounded(write_half.write_all(b"done")).await.unwrap();
        write_half.shutdown().unwrap();
        let mut got = [0; 4];
        bounded(server.read_exact(&mut got)).await.unwrap();
        assert_eq!(&got, b"done");
        assert_eq!(bounded(server.read(&mut got)).await.unwrap(), 0);
        let err = bounded(write_half.write(b"more")).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe, "no writing after shutdown");
    });
}

#[test]
fn two_hundred_concurrent_connections_each_complete_ten_round_trips() {
    const CONNECTIONS: usize = 200;
    const TRIPS: usize = 10;
    // The kernel queues at most 128 connections that were not accepted yet
    // (mio's listen backlog); a SYN beyond that is dropped and retried only
    // a second later. So at most 64 clients connect at any moment, each
    // holding its permit until the server has answered its first trip.
    const CONNECTING_AT_ONCE: usize = 64;
    let rt = Runtime::new().unwrap();
    let started = Instant::now();
    let done = rt.block_on(bounded(async {
        let listener = TcpListener::bind(ANY_LOCAL_PORT).unwrap();
        let addr = listener.local_addr().unwrap();
        let server = kettle::spawn(async move {
            let mut handlers = Vec::with_capacity(CONNECTIONS);
            for _ in 0..CONNECTIONS {
                let (mut stream, _) = listener.accept().await.unwrap();
                stream.set_nodelay(true).unwrap();
                handlers.push(kettle::spawn(async move {
                    let mut buf = [0; 64];
                    loop {
                        match stream.read(&mut buf).await.unwrap() {
                            0 => return,
                            n => stream.write_all(&buf[..n]).await.unwrap(),
                        }
                    }
                }));
            }
            for handler in handlers {
                handler.await.unwrap();
            }
        });

        let connecting = Semaphore::new(CONNECTING_AT_ONCE);
        let connected = Rc::new(Cell::new(0));
        let all_connected = Event::new();
        let clients = (0..CONNECTIONS).map(|c| {
            let (connecting, connected, all_connected) =
                (connecting.clone(), connected.clone(), all_connected.clone());
            kettle::spawn(async move {
                let round_trip = async |stream: &mut TcpStream, trip: usize| {
                    let message = format!("client {c:03} trip {trip:02}");
                    stream.write_all(message.as_bytes()).await.unwrap();
                    let mut echo = vec![0; message.len()];
                    stream.read_exact(&mut echo).await.unwrap();
                    assert_eq!(echo, message.as_bytes());
                };
                let permit = connecting.acquire().await;
                let mut stream = TcpStream::connect(addr).await.unwrap();
                stream.set_nodelay(true).unwrap();
                round_trip(&mut stream, 0).await;
                drop(permit);
                connected.set(connected.get() + 1);
                if connected.get() == CONNECTIONS {
                    all_connected.set();
                }
                // The other trips run with all the connections open at once.
                all_connected.wait().await;
                for trip in 1..TRIPS {
                    round_trip(&mut stream, trip).await;
                }
                c
            })
        });
        let done: Vec<usize> = kettle::gather(clients).await.into_iter().map(Result::unwrap).collect();
        server.await.unwrap();
        done
    }));
    assert_eq!(done, (0..CONNECTIONS).collect::<Vec<_>>(), "every client finished its round trips");
    assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
    let metrics = rt.metrics();
    assert_eq!((metrics.tasks_alive, metrics.io_sources, metrics.timers_pending), (0, 0, 0));
}

#[test]
fn five_hundred_connect_close_cycles_leave_no_task_or_registration_behind() {
    const CYCLES: usize = 500;
    let rt = Runtime::new().unwrap();
    let listener = Rc::new(rt.block_on(async { TcpListener::bind(ANY_LOCAL_PORT).unwrap() }));
    let addr = listener.local_addr().unwrap();
    rt.block_on(bounded(async {
        for cycle in 0..CYCLES {
            let server = kettle::spawn({
                let listener = listener.clone();
                async move {
                    let (mut stream, _) = listener.accept().await.unwrap();
                    let mut byte = [0; 1];
                    stream.read_exact(&mut byte).await.unwrap();
                    stream.write_all(&byte).await.unwrap();
                }
            });
            let mut client = TcpStream::connect(addr).await.unwrap();
            let sent = [cycle as u8];
            client.write_all(&sent).await.unwrap();
            let mut echo = [0; 1];
            client.read_exact(&mut echo).await.unwrap();
            assert_eq!(echo, sent);
            if cycle % 2 == 0 {
                drop(client);
                server.await.unwrap();
            } else {
                server.await.unwrap();
                drop(client);
            }
        }
    }));
    let metrics = rt.metrics();
    assert_eq!(metrics.tasks_alive, 0);
    assert_eq!(metrics.io_sources, 1, "only the listener is still registered");
    assert_eq!(metrics.timers_pending, 0);
    drop(listener);
    assert_eq!(rt.metrics().io_sources, 0);
}

#[test]
fn each_socket_is_one_registration_for_exactly_as_long_as_it_lives() {
    let rt = Runtime::new().unwrap();
    let sources = || rt.metrics().io_sources;
    let listener = rt.block_on(async { TcpListener::bind(ANY_LOCAL_PORT).unwrap() });
    assert_eq!(sources(), 1, "the listener");
    let addr = listener.local_addr().unwrap();
    let client = rt.block_on(bounded(TcpStream::connect(addr))).unwrap();
    assert_eq!(sources(), 2, "+ the connecting stream");
    let (server, _) = rt.block_on(bounded(listener.accept())).unwrap();
    assert_eq!(sources(), 3, "+ the accepted stream");

    let (read_half, write_half) = client.into_split();
    assert_eq!(sources(), 3, "the halves share the stream's registration");
    drop(write_half);
    assert_eq!(sources(), 3, "the read half still holds it");
    drop(read_half);
    assert_eq!(sources(), 2, "the last half deregistered the stream");
    drop(server);
    assert_eq!(sources(), 1);
    drop(listener);
    assert_eq!(sources(), 0);
}

#[test]
fn an_accept_cancelled_by_a_timeout_leaves_the_listener_usable() {
    kettle::run(async {
        let listener = TcpListener::bind(ANY_LOCAL_PORT).unwrap();
        let early = kettle::timeout(Duration::from_millis(20), listener.accept()).await;
        assert!(early.is_err(), "nobody connected, so the accept timed out");

        let client = bounded(TcpStream::connect(listener.local_addr().unwrap())).await.unwrap();
        let (_server, from) = bounded(listener.accept()).await.unwrap();
        assert_eq!(from, client.local_addr().unwrap());
    });
}

#[test]
fn a_task_cancelled_while_waiting_in_accept_leaves_the_listener_usable() {
    let rt = Runtime::new().unwrap();
    let listener = Rc::new(rt.block_on(async { TcpListener::bind(ANY_LOCAL_PORT).unwrap() }));
    let doomed = rt.spawn({
        let listener = listener.clone();
        async move { listener.accept().await.map(|(_, from)| from) }
    });
    settle(&rt);
    doomed.cancel();
    settle(&rt);
    assert!(rt.block_on(doomed).unwrap_err().is_cancelled());

    let accepter = rt.spawn({
        let listener = listener.clone();
        async move { listener.accept().await.map(|(_, from)| from) }
    });
    let from_client = rt.block_on(bounded(async {
        let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
        client.local_addr().unwrap()
    }));
    let accepted = rt.block_on(bounded(accepter)).unwrap().unwrap();
    assert_eq!(accepted, from_client, "the new accept got the connection");
    assert_eq!(rt.metrics().tasks_alive, 0);
}

#[test]
fn two_tasks_accepting_on_one_listener_each_get_a_connection() {
    // `accept` takes `&self`, so several tasks may wait on one listener.
    let rt = Runtime::new().unwrap();
    let listener = Rc::new(rt.block_on(async { TcpListener::bind(ANY_LOCAL_PORT).unwrap() }));
    let accepters: Vec<_> = (0..2)
        .map(|_| {
            let listener = listener.clone();
            rt.spawn(async move { listener.accept().await.map(|(_, from)| from).unwrap() })
        })
        .collect();
    settle(&rt); // both are waiting now

    let addr = listener.local_addr().unwrap();
    let (clients, accepted) = rt.block_on(async {
        let mut clients = HashSet::new();
        let mut streams = Vec::new();
        for _ in 0..2 {
            let stream = bounded(TcpStream::connect(addr)).await.unwrap();
            clients.insert(stream.local_addr().unwrap());
            streams.push(stream);
        }
        let mut accepted = HashSet::new();
        for accepter in accepters {
            accepted.insert(
                kettle::timeout(LIMIT, accepter).await.expect("an accepter was never woken").unwrap(),
            );
        }
        (clients, accepted)
    });
    assert_eq!(accepted, clients);
}

#[test]
fn two_accepts_of_one_task_each_keep_their_own_registration() {
    // One task waits in two accepts on one listener; a timeout drops the
    // second. The first must still be woken by a client that comes later.
    common::finishes_within(LIMIT, || {
        kettle::run(async {
            let listener = TcpListener::bind(ANY_LOCAL_PORT).unwrap();
            let addr = listener.local_addr().unwrap();
            let client = kettle::spawn(async move {
                kettle::sleep(Duration::from_millis(50)).await;
                TcpStream::connect(addr).await.unwrap()
            });
            let (accepted, dropped) = kettle::join!(
                bounded(listener.accept()),
                kettle::timeout(Duration::from_millis(10), listener.accept()),
            );
            assert!(dropped.is_err(), "the second accept timed out and was dropped");
            let (_, from) = accepted.unwrap();
            assert_eq!(from, bounded(client).await.unwrap().local_addr().unwrap());
        })
    });
}

#[test]
fn cancelling_a_task_that_owns_a_waiting_stream_closes_and_deregisters_it() {
    let rt = Runtime::new().unwrap();
    let (listener, mut client, server) = rt.block_on(connected_pair());
    assert_eq!(rt.metrics().io_sources, 3);
    let reader = rt.spawn(async move {
        let mut server = server;
        let mut buf = [0; 8];
        server.read(&mut buf).await
    });
    settle(&rt);
    reader.cancel();
    settle(&rt);
    assert!(rt.block_on(reader).unwrap_err().is_cancelled());
    let metrics = rt.metrics();
    assert_eq!(metrics.io_sources, 2, "the stream went with the task");
    assert_eq!(metrics.tasks_alive, 0);

    let mut buf = [0; 8];
    assert_eq!(rt.block_on(bounded(client.read(&mut buf))).unwrap(), 0, "the peer sees the close");
    drop((listener, client));
    assert_eq!(rt.metrics().io_sources, 0);
}

#[test]
fn a_stream_that_outlives_its_runtime_can_still_be_inspected_and_dropped() {
    let rt = Runtime::new().unwrap();
    let (listener, client, server) = rt.block_on(connected_pair());
    let client_addr = client.local_addr().unwrap();
    drop(rt);

    assert_eq!(client.local_addr().unwrap(), client_addr);
    assert_eq!(server.peer_addr().unwrap(), client_addr);
    drop((client, server, listener));
}

#[test]
fn a_stream_used_after_its_runtime_is_gone_fails_instead_of_hanging() {
    let rt = Runtime::new().unwrap();
    let (_listener, mut peer, mut stream) = std_peer_pair(&rt);
    drop(rt);
    // The reactor's docs: sockets may outlive their runtime and "then fail
    // with an error". Data is even waiting; but no reactor will ever report
    // it, so a read that waits for readiness waits forever.
    peer.write_all(b"data").unwrap();
    let other = Runtime::new().unwrap();
    let read = other.block_on(async { kettle::timeout(LIMIT, stream.read(&mut [0; 4])).await });
    assert!(matches!(read, Ok(Err(_))), "expected an error, got {read:?}");
    assert_eq!(other.metrics().io_sources, 0, "the orphaned stream never joined the new runtime");
}
