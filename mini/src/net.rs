//! TCP on mio's readiness events. A socket is registered with epoll once, for
//! both directions, under a token naming its `Waiters`. An operation simply
//! *tries the call*: done, or an error — or `WouldBlock`, and then it leaves
//! its task's waker in that direction's list and waits. mio is edge-triggered:
//! the next event comes when the socket becomes ready again, after a call said
//! `WouldBlock`; step 1 of the turn then wakes the list, and each task retries.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::{future::poll_fn, rc::Rc, rc::Weak, task::Poll, task::Waker};

use mio::{Interest, Token, event::Source};

use crate::{Core, expect_current};

/// The wakers waiting on one socket: `[read, write]`.
// kettle: readiness bits per socket, cleared by `WouldBlock` or a short read, and a
// waiter entry per operation, gone when it completes or is dropped — Reactor::dispatch,
// src/runtime/reactor.rs; Evented::io_bytes, src/net/evented.rs (DESIGN: "a short read").
pub(crate) type Waiters = [Vec<Waker>; 2];

/// Step 1 of a turn: takes the wakers of each direction `event` concerns.
pub(crate) fn take_ready(waiters: &mut Waiters, event: &mio::event::Event, wake: &mut Vec<Waker>) {
    let read = event.is_readable() || event.is_read_closed() || event.is_error();
    let write = event.is_writable() || event.is_write_closed() || event.is_error();
    // kettle: the usual one waiter (or none) moved by hand — Waiters::take_all, src/runtime/reactor.rs.
    for (list, ready) in waiters.iter_mut().zip([read, write]) {
        if ready {
            wake.append(list);
        }
    }
}

/// A mio socket registered with the current runtime.
struct Io<S: Source> {
    source: S,
    token: usize,
    core: Weak<Core>,
}

impl<S: Source> Io<S> {
    #[track_caller]
    fn new(mut source: S) -> io::Result<Io<S>> {
        let core = expect_current("registering a kettle-mini socket");
        let state = &mut *core.state.borrow_mut();
        let token = state.sources.insert(Waiters::default());
        let interest = Interest::READABLE | Interest::WRITABLE;
        if let Err(e) = state.poll.registry().register(&mut source, Token(token), interest) {
            state.sources.remove(token);
            return Err(e);
        }
        Ok(Io { source, token, core: Rc::downgrade(&core) })
    }

    /// Tries `op` until it does not block, then waits in direction `dir` (0 read, 1 write).
    async fn io<R>(&self, dir: usize, mut op: impl FnMut(&S) -> io::Result<R>) -> io::Result<R> {
        poll_fn(|cx| {
            loop {
                match op(&self.source) {
                    Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                    // kettle: EAGAIN by its OS code first — is_would_block, src/runtime/reactor/registration.rs.
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                    result => return Poll::Ready(result),
                }
                if let Some(core) = self.core.upgrade()
                    && let Some(waiters) = core.state.borrow_mut().sources.get_mut(self.token)
                    && !waiters[dir].iter().any(|waker| waker.will_wake(cx.waker()))
                {
                    waiters[dir].push(cx.waker().clone());
                }
                return Poll::Pending;
            }
        })
        .await
    }
}

impl<S: Source> Drop for Io<S> {
    fn drop(&mut self) {
        if let Some(core) = self.core.upgrade() {
            let mut state = core.state.borrow_mut();
            let _ = state.poll.registry().deregister(&mut self.source);
            let waiters = state.sources.try_remove(self.token);
            drop(state);
            drop(waiters); // wakers: dropped after the borrow
        }
    }
}

/// The first address `addr` resolves to (kettle tries each in turn).
fn first(addr: impl ToSocketAddrs) -> io::Result<SocketAddr> {
    addr.to_socket_addrs()?.next().ok_or_else(|| io::Error::new(ErrorKind::InvalidInput, "no address"))
}

/// A listening socket (asyncio's `start_server`).
pub struct TcpListener {
    io: Io<mio::net::TcpListener>,
}

impl TcpListener {
    /// Binds to `addr` and listens. Panics outside a runtime.
    #[track_caller]
    pub fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        Ok(TcpListener { io: Io::new(mio::net::TcpListener::bind(first(addr)?)?)? })
    }
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.source.local_addr()
    }
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (stream, peer) = self.io.io(0, |listener| listener.accept()).await?;
        Ok((TcpStream { io: Io::new(stream)? }, peer))
    }
}

/// A TCP connection.
pub struct TcpStream {
    io: Io<mio::net::TcpStream>,
}

impl TcpStream {
    /// Connects to `addr` (asyncio's `open_connection`).
    pub async fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        let stream = TcpStream { io: Io::new(mio::net::TcpStream::connect(first(addr)?)?)? };
        // Connected once the socket has an error to report, or a peer.
        let connected = |socket: &mio::net::TcpStream| match socket.take_error()? {
            Some(e) => Err(e),
            None => socket.peer_addr().map_err(|e| {
                if e.kind() == ErrorKind::NotConnected { ErrorKind::WouldBlock.into() } else { e }
            }),
        };
        stream.io.io(1, connected).await.map(|_| stream)
    }
    /// Reads into `buf`; `Ok(0)` means the peer closed its end.
    // kettle: the reactor's future itself, no async fn around it — Transfer, src/net/evented.rs;
    // and recv(2) called directly, not through std's and mio's Read — sys::recv, src/net/sys.rs.
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.io(0, |mut socket| socket.read(buf)).await
    }
    pub async fn read_exact(&mut self, mut buf: &mut [u8]) -> io::Result<()> {
        while !buf.is_empty() {
            match self.read(buf).await? {
                0 => return Err(ErrorKind::UnexpectedEof.into()),
                n => buf = &mut buf[n..],
            }
        }
        Ok(())
    }
    // kettle: one future looping over sends (WriteAll, src/net/byte_stream.rs), each a direct
    // send(2) with MSG_NOSIGNAL (sys::send, src/net/sys.rs).
    pub async fn write_all(&mut self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            match self.io.io(1, |mut socket| socket.write(buf)).await? {
                0 => return Err(ErrorKind::WriteZero.into()),
                n => buf = &buf[n..],
            }
        }
        Ok(())
    }
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.source.set_nodelay(nodelay)
    }
}
