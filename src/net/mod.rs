//! Networking: TCP, UDP and Unix-domain sockets driven by the loop's reactor.
//!
//! Each socket is a non-blocking mio socket registered once with the
//! runtime's epoll when it is created ([`TcpListener::bind`],
//! [`TcpStream::connect`], [`UdpSocket::bind`], [`UnixListener::bind`], ...)
//! and deregistered when it is dropped. Every operation is the same small
//! loop (`evented.rs`): wait until the reactor has seen the socket ready in
//! the needed direction, try the non-blocking system call, and on
//! `WouldBlock` forget that readiness and wait for the next edge. Read and
//! write readiness have separate wakers, so one task can read while another
//! writes — which is what [`TcpStream::into_split`] is for.
//!
//! # The files
//!
//! - `evented.rs`: a registered mio socket, and the `Io` future every
//!   `async` operation is (`Transfer` for a stream's reads and writes);
//! - `byte_stream.rs`: the byte-stream operations, written once for TCP and
//!   Unix streams;
//! - `tcp/` ([`TcpListener`] and [`Incoming`], [`TcpStream`] and its halves,
//!   [`TcpSocket`]), `udp.rs`, and `unix/` ([`UnixListener`],
//!   [`UnixStream`], [`UnixDatagram`], and in [`unix`] the halves and
//!   `Incoming` of Unix streams): the public types, each method one line
//!   over the two files above;
//! - `sys.rs`: the few libc calls std lacks, and so every `unsafe` of `net/`
//!   but `tokio_io.rs`'s two (marking the bytes `recv` wrote in tokio's
//!   `ReadBuf`);
//! - `futures_io.rs`: the `futures-io` traits, behind that feature;
//! - `tokio_io.rs`: tokio's `AsyncRead`/`AsyncWrite`, behind `tokio-io`;
//!   `poll_io.rs`: the read side and write side of each stream as two
//!   traits, shared by that bridge and hyper's.
//!
//! # Three ways to wait
//!
//! Each operation comes in up to three forms. The `async` one (`read`,
//! `accept`, `send_to`) is a future that owns its entry in the socket's
//! waiter list, so any number of them may wait on one socket and each may
//! be cancelled freely. The poll-level one (`poll_read_ready`,
//! `poll_read_uninit`, `poll_accept`, ...) is one step for hand-written
//! futures and adapters such as an HTTP library's I/O traits: having no
//! future to own an entry, it leaves its waker in the direction's single
//! poll slot, so **only the latest poll's waker per direction is kept** (as
//! tokio documents for its `poll_` methods). The `try_` one (`try_read`,
//! `try_send_to`) never waits: `WouldBlock` if no readiness is recorded, and
//! a `WouldBlock` from the kernel clears the readiness it acted on, so the
//! next poll waits for a new edge. `poll_read_ready` and `poll_write_ready`
//! report readiness without clearing it.
//!
//! A stream's `read`, `write`, `write_vectored`, `read_exact` and
//! `write_all` are written as functions that return `impl Future` rather
//! than as `async fn`s: the same to call and await, but each hands back the
//! future below it as it is, with no state machine of its own around it,
//! which every poll would pass through.
//!
//! Sockets belong to the runtime whose thread created them (they are `!Send`,
//! like the tasks that use them). Creating one outside a runtime panics, as
//! other runtime-bound functions do; `from_std` adopts a std socket into the
//! current runtime (switching it to non-blocking mode) and `into_std` hands
//! it back. Name resolution in `bind` and `connect` uses the standard
//! library's blocking resolver: fine for literal addresses and `localhost`;
//! resolve other names with [`spawn_blocking`](crate::spawn_blocking) first
//! if they may be slow.
//!
//! A peer that has closed its end makes `read` return `Ok(0)` and later
//! writes fail with an error such as `BrokenPipe` — never a `SIGPIPE` that
//! kills the process: sends, vectored ones included, use `MSG_NOSIGNAL`.
//!
//! With the `futures-io` cargo feature, [`TcpStream`], [`UnixStream`] and
//! their halves also implement `futures_io::AsyncRead` and `AsyncWrite`, so
//! the wider ecosystem (codecs, TLS wrappers) works on kettle; with
//! `tokio-io`, they (and `&TcpStream`, `&UnixStream`) implement tokio's
//! `AsyncRead` and `AsyncWrite`, for tokio-util's codecs and tokio-rustls.

mod byte_stream;
mod debug;
mod evented;
#[cfg(feature = "futures-io")]
mod futures_io;
#[cfg(any(feature = "hyper", feature = "tokio-io"))]
pub(crate) mod poll_io;
mod sys;
mod tcp;
#[cfg(feature = "tokio-io")]
mod tokio_io;
mod udp;
pub mod unix;

pub use tcp::{Incoming, OwnedReadHalf, OwnedWriteHalf, TcpListener, TcpSocket, TcpStream};
pub use udp::UdpSocket;
pub use unix::datagram::UnixDatagram;
pub use unix::listener::UnixListener;
pub use unix::stream::UnixStream;

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
