//! Networking: TCP and UDP sockets driven by the loop's reactor.
//!
//! Each socket is a non-blocking mio socket registered once with the
//! runtime's epoll when it is created ([`TcpListener::bind`],
//! [`TcpStream::connect`], [`UdpSocket::bind`]) and deregistered when it is
//! dropped. Every operation is the same small loop (`evented.rs`): wait until
//! the reactor has seen the socket ready in the needed direction, try the
//! non-blocking system call, and on `WouldBlock` forget that readiness and
//! wait for the next edge. Read and write readiness have separate wakers, so
//! one task can read while another writes — which is what
//! [`TcpStream::into_split`] is for.
//!
//! Sockets belong to the runtime whose thread created them (they are `!Send`,
//! like the tasks that use them). Creating one outside a runtime panics, as
//! other runtime-bound functions do. Name resolution in `bind` and `connect`
//! uses the standard library's blocking resolver: fine for literal addresses
//! and `localhost`; resolve other names with
//! [`spawn_blocking`](crate::spawn_blocking) first if they may be slow.
//!
//! A peer that has closed its end makes `read` return `Ok(0)` and later
//! writes fail with an error such as `BrokenPipe` — never a `SIGPIPE` that
//! kills the process: Linux sends use `MSG_NOSIGNAL`.
//!
//! With the `futures-io` cargo feature, [`TcpStream`] and its halves also
//! implement `futures_io::AsyncRead` and `AsyncWrite`, so the wider ecosystem
//! (codecs, TLS wrappers) works on kettle.

mod byte_stream;
mod evented;
#[cfg(feature = "futures-io")]
mod futures_io;
mod sys;
mod tcp;
mod udp;

pub use tcp::{Incoming, OwnedReadHalf, OwnedWriteHalf, TcpListener, TcpSocket, TcpStream};
pub use udp::UdpSocket;

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

/// Tries `f` on each address `addrs` resolves to, returning the first
/// success or the last error.
pub(crate) fn each_addr<T>(
    addrs: impl ToSocketAddrs,
    mut f: impl FnMut(SocketAddr) -> io::Result<T>,
) -> io::Result<T> {
    let mut last = None;
    for addr in addrs.to_socket_addrs()? {
        match f(addr) {
            Ok(value) => return Ok(value),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no addresses to try")))
}
