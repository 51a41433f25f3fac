//! Specifies what a connection the peer has *reset* (an RST, not a FIN)
//! looks like: reads report the reset once, and shutting down a direction
//! that the reset already shut is success, not the `NotConnected` the system
//! call reports — for `TcpStream::shutdown` in every direction, for
//! `OwnedWriteHalf::shutdown`, and for dropping the write half. hyper shuts
//! down every connection it finishes, so an error here turned ordinary
//! disconnects into logged failures. (The futures-io `poll_close` case is in
//! `tests/futures_io.rs`.)

use std::io;
use std::net::Shutdown;

use kettle::Runtime;
use kettle::net::TcpStream;

mod common;
use common::net::{bounded, reset, std_peer_pair};

/// A kettle stream whose peer has reset the connection, with the reset
/// already seen by a read (so the kernel has processed it).
fn reset_stream(rt: &Runtime) -> (kettle::net::TcpListener, TcpStream) {
    let (listener, peer, mut stream) = std_peer_pair(rt);
    reset(peer);
    let read = rt.block_on(bounded(stream.read(&mut [0; 8])));
    assert_eq!(read.unwrap_err().kind(), io::ErrorKind::ConnectionReset);
    (listener, stream)
}

#[test]
fn a_reset_is_reported_once_by_a_read_then_reads_see_end_of_file() {
    let rt = Runtime::new().unwrap();
    let (_listener, mut stream) = reset_stream(&rt);
    let again = rt.block_on(bounded(stream.read(&mut [0; 8])));
    assert_eq!(again.unwrap(), 0, "after the reset is reported, the stream is at its end");
}

#[test]
fn shutting_down_any_direction_of_a_reset_connection_is_ok() {
    let rt = Runtime::new().unwrap();
    for how in [Shutdown::Write, Shutdown::Read, Shutdown::Both] {
        let (_listener, stream) = reset_stream(&rt);
        assert!(stream.shutdown(how).is_ok(), "{how:?}: {:?}", stream.shutdown(how));
    }
}

#[test]
fn shutting_down_the_write_half_of_a_reset_connection_is_ok() {
    let rt = Runtime::new().unwrap();
    let (_listener, stream) = reset_stream(&rt);
    let (_read, write) = stream.into_split();
    assert!(write.shutdown().is_ok(), "{:?}", write.shutdown());
    drop(write); // shuts down again, silently
}

#[test]
fn shutting_down_twice_is_ok_too() {
    let rt = Runtime::new().unwrap();
    let (_listener, _peer, stream) = std_peer_pair(&rt);
    stream.shutdown(Shutdown::Write).unwrap();
    stream.shutdown(Shutdown::Write).unwrap();
}

#[test]
fn writing_to_a_reset_connection_is_still_an_error() {
    // Only shutdown treats "already shut" as done: a write has data that
    // did not arrive, and says so.
    let rt = Runtime::new().unwrap();
    let (_listener, mut stream) = reset_stream(&rt);
    let write = rt.block_on(bounded(stream.write(b"lost")));
    assert!(write.is_err(), "{write:?}");
}
