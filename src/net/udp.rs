//! UDP: [`UdpSocket`].

use std::io;
use std::mem::MaybeUninit;
use std::net::{SocketAddr, ToSocketAddrs};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::task::{Context, Poll};

use super::each_addr;
use super::evented::Evented;
use super::sys;
use crate::runtime::reactor::Direction;

/// A UDP socket (asyncio's `create_datagram_endpoint`, at the socket level).
///
/// Methods take `&self`: several tasks may send and receive on one socket.
///
/// ```
/// kettle::run(async {
///     let a = kettle::net::UdpSocket::bind("127.0.0.1:0").unwrap();
///     let b = kettle::net::UdpSocket::bind("127.0.0.1:0").unwrap();
///     a.send_to(b"ping", b.local_addr().unwrap()).await.unwrap();
///     let mut buf = [0; 16];
///     let (n, from) = b.recv_from(&mut buf).await.unwrap();
///     assert_eq!((&buf[..n], from), (&b"ping"[..], a.local_addr().unwrap()));
/// });
/// ```
///
/// # Poll-level I/O
///
/// For hand-written futures and adapters: [`poll_read_ready`](Self::poll_read_ready)
/// and [`poll_write_ready`](Self::poll_write_ready) wait;
/// [`try_read`](Self::try_read), [`try_write`](Self::try_write),
/// [`try_recv_from`](Self::try_recv_from) and [`try_send_to`](Self::try_send_to)
/// act without waiting; [`poll_read_uninit`](Self::poll_read_uninit),
/// [`poll_recv_from`](Self::poll_recv_from) and
/// [`poll_send_to`](Self::poll_send_to) do both. Each datagram is one call.
/// The `poll_` methods keep **only the latest call's waker per direction**;
/// tasks sharing the socket should use the `async` methods, which each keep
/// their own.
#[doc(alias = "create_datagram_endpoint")]
pub struct UdpSocket {
    io: Evented<mio::net::UdpSocket>,
}

impl UdpSocket {
    fn from_mio(what: &str, socket: mio::net::UdpSocket) -> io::Result<UdpSocket> {
        let interest = mio::Interest::READABLE | mio::Interest::WRITABLE;
        Ok(UdpSocket { io: Evented::new(what, socket, interest)? })
    }

    /// Binds to `addr`, synchronously (like std's). Port 0 picks a free port.
    ///
    /// # Errors
    /// If no address could be bound.
    ///
    /// # Panics
    /// Outside a runtime.
    #[track_caller]
    pub fn bind(addr: impl ToSocketAddrs) -> io::Result<UdpSocket> {
        let socket = each_addr(addr, mio::net::UdpSocket::bind)?;
        UdpSocket::from_mio("kettle::net::UdpSocket::bind", socket)
    }

    /// Adopts a `std` socket into the current runtime, switching it to
    /// non-blocking mode.
    ///
    /// # Errors
    /// If the socket cannot be made non-blocking or registered.
    ///
    /// # Panics
    /// Outside a runtime, as [`bind`](Self::bind) does.
    ///
    /// ```
    /// kettle::run(async {
    ///     let socket = kettle::net::UdpSocket::from_std(std::net::UdpSocket::bind("127.0.0.1:0")?)?;
    ///     socket.send_to(b"self", socket.local_addr()?).await?;
    ///     let mut buf = [0; 8];
    ///     assert_eq!(socket.recv_from(&mut buf).await?.0, 4);
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    #[track_caller]
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        socket.set_nonblocking(true)?;
        UdpSocket::from_mio("kettle::net::UdpSocket::from_std", mio::net::UdpSocket::from_std(socket))
    }

    /// Leaves the runtime and returns the `std` socket, still in
    /// non-blocking mode.
    ///
    /// ```
    /// kettle::run(async {
    ///     let socket = kettle::net::UdpSocket::bind("127.0.0.1:0")?;
    ///     let addr = socket.local_addr()?;
    ///     let std_socket = socket.into_std();
    ///     assert_eq!(std_socket.local_addr()?, addr);
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn into_std(self) -> std::net::UdpSocket {
        self.io.into_source().into()
    }

    /// The address the socket is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.source().local_addr()
    }

    /// The address [`connect`](Self::connect)ed to.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.source().peer_addr()
    }

    /// Sends one datagram to `target`; returns the bytes sent.
    pub async fn send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.io.io(Direction::Write, |socket| socket.send_to(buf, target)).await
    }

    /// Receives one datagram; returns its length and sender. A datagram
    /// longer than `buf` is truncated.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.io(Direction::Read, |socket| socket.recv_from(buf)).await
    }

    /// Sets the default peer for [`send`](Self::send) and filters
    /// [`recv`](Self::recv) to datagrams from it. Synchronous: a UDP connect
    /// sends nothing.
    pub fn connect(&self, addr: impl ToSocketAddrs) -> io::Result<()> {
        each_addr(addr, |addr| self.io.source().connect(addr))
    }

    /// Sends one datagram to the connected peer.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.io(Direction::Write, |socket| socket.send(buf)).await
    }

    /// Receives one datagram from the connected peer.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.io(Direction::Read, |socket| socket.recv(buf)).await
    }

    /// Ready when the reactor has seen a datagram arrive (or an error), and
    /// `Pending` until then; the readiness stays recorded for a
    /// [`try_read`](Self::try_read) or [`try_recv_from`](Self::try_recv_from)
    /// to act on. Keeps only the latest poll's waker.
    ///
    /// # Errors
    /// If the socket's runtime is gone, or another runtime runs on this
    /// thread.
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// kettle::run(async {
    ///     let socket = kettle::net::UdpSocket::bind("127.0.0.1:0")?;
    ///     socket.send_to(b"self", socket.local_addr()?).await?;
    ///     poll_fn(|cx| socket.poll_read_ready(cx)).await?;
    ///     let mut buf = [0; 8];
    ///     let (n, from) = socket.try_recv_from(&mut buf)?;
    ///     assert_eq!((&buf[..n], from), (&b"self"[..], socket.local_addr()?));
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready(cx, Direction::Read)
    }

    /// Ready when the reactor has seen the socket writable; the twin of
    /// [`poll_read_ready`](Self::poll_read_ready).
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// kettle::run(async {
    ///     let socket = kettle::net::UdpSocket::bind("127.0.0.1:0")?;
    ///     poll_fn(|cx| socket.poll_write_ready(cx)).await?;
    ///     assert_eq!(socket.try_send_to(b"self", socket.local_addr()?)?, 4);
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready(cx, Direction::Write)
    }

    /// Receives one datagram, as [`recv`](Self::recv), if the socket is
    /// ready, without waiting.
    ///
    /// # Errors
    /// `WouldBlock` if no readiness is recorded, or no datagram is queued
    /// after all (which clears the readiness: wait with
    /// [`poll_read_ready`](Self::poll_read_ready)).
    ///
    /// ```
    /// kettle::run(async {
    ///     let socket = kettle::net::UdpSocket::bind("127.0.0.1:0")?;
    ///     let err = socket.try_read(&mut [0; 8]).unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock);
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    #[doc(alias = "try_recv")]
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_io(Direction::Read, |socket| socket.recv(buf))
    }

    /// Sends one datagram to the connected peer, as [`send`](Self::send),
    /// if the socket is ready, without waiting.
    ///
    /// # Errors
    /// `WouldBlock` if no readiness is recorded or the send buffer is full
    /// (which clears the readiness); an error if not connected.
    ///
    /// ```
    /// kettle::run(async {
    ///     let socket = kettle::net::UdpSocket::bind("127.0.0.1:0")?;
    ///     socket.connect(socket.local_addr()?)?;
    ///     std::future::poll_fn(|cx| socket.poll_write_ready(cx)).await?;
    ///     assert_eq!(socket.try_write(b"self")?, 4);
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    #[doc(alias = "try_send")]
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.try_io(Direction::Write, |socket| socket.send(buf))
    }

    /// Receives one datagram and its sender, as
    /// [`recv_from`](Self::recv_from), if the socket is ready, without
    /// waiting.
    ///
    /// # Errors
    /// As [`try_read`](Self::try_read).
    ///
    /// See [`poll_read_ready`](Self::poll_read_ready) for an example.
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.try_io(Direction::Read, |socket| socket.recv_from(buf))
    }

    /// Sends one datagram to `target`, as [`send_to`](Self::send_to), if
    /// the socket is ready, without waiting.
    ///
    /// # Errors
    /// As [`try_write`](Self::try_write), but needs no connected peer.
    ///
    /// See [`poll_write_ready`](Self::poll_write_ready) for an example.
    pub fn try_send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.io.try_io(Direction::Write, |socket| socket.send_to(buf, target))
    }

    /// Receives one datagram into memory that need not be initialised, or
    /// `Pending` (keeping only the latest poll's waker). On `Ready(Ok(n))`
    /// the first `n` bytes of `buf` hold the datagram (truncated to `buf`'s
    /// length) and are initialised.
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// kettle::run(async {
    ///     let socket = kettle::net::UdpSocket::bind("127.0.0.1:0")?;
    ///     socket.send_to(b"self", socket.local_addr()?).await?;
    ///     let mut buf: Vec<u8> = Vec::with_capacity(64);
    ///     let n = poll_fn(|cx| socket.poll_read_uninit(cx, buf.spare_capacity_mut())).await?;
    ///     // SAFETY: poll_read_uninit initialised the first n bytes of the spare capacity.
    ///     unsafe { buf.set_len(n) };
    ///     assert_eq!(buf, b"self");
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn poll_read_uninit(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        self.io.poll_io(cx, Direction::Read, |socket| sys::recv_uninit(socket.as_fd(), buf))
    }

    /// One step of [`recv_from`](Self::recv_from): a datagram and its
    /// sender, or `Pending` (keeping only the latest poll's waker).
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// kettle::run(async {
    ///     let socket = kettle::net::UdpSocket::bind("127.0.0.1:0")?;
    ///     poll_fn(|cx| socket.poll_send_to(cx, b"self", socket.local_addr().unwrap())).await?;
    ///     let mut buf = [0; 8];
    ///     let (n, _from) = poll_fn(|cx| socket.poll_recv_from(cx, &mut buf)).await?;
    ///     assert_eq!(&buf[..n], b"self");
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        self.io.poll_io(cx, Direction::Read, |socket| socket.recv_from(buf))
    }

    /// One step of [`send_to`](Self::send_to): the datagram sent, or
    /// `Pending` (keeping only the latest poll's waker).
    ///
    /// See [`poll_recv_from`](Self::poll_recv_from) for an example.
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        self.io.poll_io(cx, Direction::Write, |socket| socket.send_to(buf, target))
    }
}

impl AsFd for UdpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.source().as_fd()
    }
}

impl AsRawFd for UdpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.io.source().as_raw_fd()
    }
}
