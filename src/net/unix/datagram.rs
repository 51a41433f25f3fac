//! [`UnixDatagram`]: a Unix-domain datagram socket.

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::net::SocketAddr;
use std::path::Path;
use std::task::{Context, Poll};

use crate::net::evented::Evented;
use crate::net::sys;
use crate::runtime::reactor::Direction;

/// A Unix-domain datagram socket (asyncio's `create_datagram_endpoint` with
/// `family=AF_UNIX`, at the socket level): the [`UdpSocket`](crate::net::UdpSocket) of local sockets, with
/// the same methods. Unlike UDP, delivery between two sockets on one
/// machine is reliable and ordered; a full receiver makes the sender wait.
///
/// Methods take `&self`: several tasks may send and receive on one socket.
/// A socket that should receive replies must be bound to a path (or be one
/// of a [`pair`](Self::pair)); the file stays when it is dropped.
///
/// ```
/// use kettle::net::UnixDatagram;
///
/// let dir = std::env::temp_dir();
/// let (a_path, b_path) = (dir.join(format!("kettle-doc-dgram-a-{}", std::process::id())),
///                         dir.join(format!("kettle-doc-dgram-b-{}", std::process::id())));
/// kettle::run(async {
///     let a = UnixDatagram::bind(&a_path)?;
///     let b = UnixDatagram::bind(&b_path)?;
///     a.send_to(b"ping", &b_path).await?;
///     let mut buf = [0; 16];
///     let (n, from) = b.recv_from(&mut buf).await?;
///     assert_eq!((&buf[..n], from.as_pathname()), (&b"ping"[..], Some(a_path.as_path())));
///     Ok::<_, std::io::Error>(())
/// })
/// .unwrap();
/// std::fs::remove_file(&a_path).unwrap();
/// std::fs::remove_file(&b_path).unwrap();
/// ```
///
/// # Poll-level I/O
///
/// As on `UdpSocket`: [`poll_read_ready`](Self::poll_read_ready),
/// [`poll_write_ready`](Self::poll_write_ready), [`try_read`](Self::try_read),
/// [`try_write`](Self::try_write), [`try_recv_from`](Self::try_recv_from),
/// [`try_send_to`](Self::try_send_to), [`poll_read_uninit`](Self::poll_read_uninit),
/// [`poll_recv_from`](Self::poll_recv_from) and
/// [`poll_send_to`](Self::poll_send_to), one datagram per call. The `poll_`
/// methods keep **only the latest call's waker per direction**.
#[doc(alias = "create_datagram_endpoint")]
pub struct UnixDatagram {
    io: Evented<mio::net::UnixDatagram>,
}

impl UnixDatagram {
    #[track_caller]
    fn from_mio(what: &str, socket: mio::net::UnixDatagram) -> io::Result<UnixDatagram> {
        let interest = mio::Interest::READABLE | mio::Interest::WRITABLE;
        Ok(UnixDatagram { io: Evented::new(what, socket, interest)? })
    }

    /// Creates the socket file at `path` and binds to it, synchronously.
    ///
    /// # Errors
    /// As [`UnixListener::bind`](crate::net::UnixListener::bind):
    /// `AddrInUse` if `path` exists; `InvalidInput` for a path too long or
    /// with a NUL byte.
    ///
    /// # Panics
    /// Outside a runtime.
    ///
    /// See [`UnixDatagram`] for an example.
    #[track_caller]
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixDatagram> {
        let socket = mio::net::UnixDatagram::bind(path)?;
        UnixDatagram::from_mio("kettle::net::UnixDatagram::bind", socket)
    }

    /// A socket bound to no path: it can send (to a path, or to the peer it
    /// [`connect`](Self::connect)s to) but nobody can address a reply to it.
    ///
    /// # Panics
    /// Outside a runtime.
    ///
    /// ```
    /// let path = std::env::temp_dir().join(format!("kettle-doc-unbound-{}", std::process::id()));
    /// kettle::run(async {
    ///     let server = kettle::net::UnixDatagram::bind(&path)?;
    ///     let client = kettle::net::UnixDatagram::unbound()?;
    ///     client.send_to(b"anonymous", &path).await?;
    ///     let (n, from) = server.recv_from(&mut [0; 16]).await?;
    ///     assert_eq!((n, from.as_pathname()), (9, None));
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    #[track_caller]
    pub fn unbound() -> io::Result<UnixDatagram> {
        UnixDatagram::from_mio("kettle::net::UnixDatagram::unbound", mio::net::UnixDatagram::unbound()?)
    }

    /// Two sockets connected to each other, with no file (`socketpair(2)`).
    ///
    /// # Panics
    /// Outside a runtime.
    ///
    /// ```
    /// kettle::run(async {
    ///     let (a, b) = kettle::net::UnixDatagram::pair()?;
    ///     a.send(b"one").await?;
    ///     a.send(b"two").await?;
    ///     let mut buf = [0; 8];
    ///     assert_eq!(b.recv(&mut buf).await?, 3, "one datagram per call");
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    #[track_caller]
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = mio::net::UnixDatagram::pair()?;
        let what = "kettle::net::UnixDatagram::pair";
        Ok((UnixDatagram::from_mio(what, a)?, UnixDatagram::from_mio(what, b)?))
    }

    /// Adopts a `std` socket into the current runtime, switching it to
    /// non-blocking mode.
    ///
    /// # Errors
    /// If the socket cannot be made non-blocking or registered.
    ///
    /// # Panics
    /// Outside a runtime.
    ///
    /// ```
    /// kettle::run(async {
    ///     let (ours, theirs) = std::os::unix::net::UnixDatagram::pair()?;
    ///     let socket = kettle::net::UnixDatagram::from_std(ours)?;
    ///     theirs.send(b"hi")?;
    ///     assert_eq!(socket.recv(&mut [0; 8]).await?, 2);
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    #[track_caller]
    pub fn from_std(socket: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        socket.set_nonblocking(true)?;
        UnixDatagram::from_mio(
            "kettle::net::UnixDatagram::from_std",
            mio::net::UnixDatagram::from_std(socket),
        )
    }

    /// Leaves the runtime and returns the `std` socket, still in
    /// non-blocking mode.
    ///
    /// ```
    /// kettle::run(async {
    ///     let (a, _b) = kettle::net::UnixDatagram::pair()?;
    ///     let err = a.into_std().recv(&mut [0; 8]).unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock);
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn into_std(self) -> std::os::unix::net::UnixDatagram {
        self.io.into_source().into()
    }

    /// The address the socket is bound to (unnamed if unbound).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.source().local_addr()
    }

    /// The address [`connect`](Self::connect)ed to.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.source().peer_addr()
    }

    /// Sets the default peer for [`send`](Self::send) and filters
    /// [`recv`](Self::recv) to datagrams from it. Synchronous.
    ///
    /// # Errors
    /// `NotFound` or `ConnectionRefused` if no socket is bound at `path`.
    ///
    /// ```
    /// let path = std::env::temp_dir().join(format!("kettle-doc-dgram-connect-{}", std::process::id()));
    /// kettle::run(async {
    ///     let server = kettle::net::UnixDatagram::bind(&path)?;
    ///     let client = kettle::net::UnixDatagram::unbound()?;
    ///     client.connect(&path)?;
    ///     client.send(b"hi").await?;
    ///     assert_eq!(server.recv(&mut [0; 8]).await?, 2);
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn connect(&self, path: impl AsRef<Path>) -> io::Result<()> {
        self.io.source().connect(path)
    }

    /// Sends one datagram to the socket bound at `path`; returns the bytes
    /// sent. Waits while the receiver's queue is full.
    pub async fn send_to(&self, buf: &[u8], path: impl AsRef<Path>) -> io::Result<usize> {
        let path = path.as_ref();
        self.io.io(Direction::Write, |socket| socket.send_to(buf, path)).await
    }

    /// Receives one datagram; returns its length and sender. A datagram
    /// longer than `buf` is truncated.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.io(Direction::Read, |socket| socket.recv_from(buf)).await
    }

    /// Sends one datagram to the connected peer.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.io(Direction::Write, |socket| socket.send(buf)).await
    }

    /// Receives one datagram (from the connected peer, if connected).
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.io(Direction::Read, |socket| socket.recv(buf)).await
    }

    /// Ready when the reactor has seen a datagram arrive (or an error); the
    /// readiness stays recorded for a [`try_read`](Self::try_read) or
    /// [`try_recv_from`](Self::try_recv_from). Keeps only the latest poll's
    /// waker.
    ///
    /// # Errors
    /// If the socket's runtime is gone, or another runtime runs on this
    /// thread.
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// kettle::run(async {
    ///     let (a, b) = kettle::net::UnixDatagram::pair()?;
    ///     a.send(b"hi").await?;
    ///     poll_fn(|cx| b.poll_read_ready(cx)).await?;
    ///     assert_eq!(b.try_read(&mut [0; 8])?, 2);
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
    ///     let (a, _b) = kettle::net::UnixDatagram::pair()?;
    ///     poll_fn(|cx| a.poll_write_ready(cx)).await?;
    ///     assert_eq!(a.try_write(b"hi")?, 2);
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
    /// after all (which clears the readiness).
    ///
    /// See [`poll_read_ready`](Self::poll_read_ready) for an example.
    #[doc(alias = "try_recv")]
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_io(Direction::Read, |socket| socket.recv(buf))
    }

    /// Sends one datagram to the connected peer, as [`send`](Self::send),
    /// if the socket is ready, without waiting.
    ///
    /// # Errors
    /// `WouldBlock` if no readiness is recorded or the receiver's queue is
    /// full (which clears the readiness); an error if not connected.
    ///
    /// See [`poll_write_ready`](Self::poll_write_ready) for an example.
    #[doc(alias = "try_send")]
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.try_io(Direction::Write, |socket| socket.send(buf))
    }

    /// Receives one datagram and its sender, if the socket is ready,
    /// without waiting.
    ///
    /// # Errors
    /// As [`try_read`](Self::try_read).
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// kettle::run(async {
    ///     let (a, b) = kettle::net::UnixDatagram::pair()?;
    ///     assert!(b.try_recv_from(&mut [0; 8]).is_err(), "nothing yet: WouldBlock");
    ///     a.send(b"hi").await?;
    ///     poll_fn(|cx| b.poll_read_ready(cx)).await?;
    ///     let (n, _from) = b.try_recv_from(&mut [0; 8])?;
    ///     assert_eq!(n, 2);
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.try_io(Direction::Read, |socket| socket.recv_from(buf))
    }

    /// Sends one datagram to the socket bound at `path`, if this socket is
    /// ready, without waiting.
    ///
    /// # Errors
    /// As [`try_write`](Self::try_write), but needs no connected peer.
    ///
    /// See [`poll_send_to`](Self::poll_send_to) for an example.
    pub fn try_send_to(&self, buf: &[u8], path: impl AsRef<Path>) -> io::Result<usize> {
        self.io.try_io(Direction::Write, |socket| socket.send_to(buf, path))
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
    ///     let (a, b) = kettle::net::UnixDatagram::pair()?;
    ///     a.send(b"hi").await?;
    ///     let mut buf: Vec<u8> = Vec::with_capacity(64);
    ///     let n = poll_fn(|cx| b.poll_read_uninit(cx, buf.spare_capacity_mut())).await?;
    ///     // SAFETY: poll_read_uninit initialised the first n bytes of the spare capacity.
    ///     unsafe { buf.set_len(n) };
    ///     assert_eq!(buf, b"hi");
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
    /// See [`poll_send_to`](Self::poll_send_to) for an example.
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
    /// ```
    /// use std::future::poll_fn;
    ///
    /// let path = std::env::temp_dir().join(format!("kettle-doc-poll-send-to-{}", std::process::id()));
    /// kettle::run(async {
    ///     let server = kettle::net::UnixDatagram::bind(&path)?;
    ///     let client = kettle::net::UnixDatagram::unbound()?;
    ///     poll_fn(|cx| client.poll_send_to(cx, b"one", &path)).await?;
    ///     poll_fn(|cx| client.poll_write_ready(cx)).await?;
    ///     client.try_send_to(b"two", &path)?;
    ///     let mut buf = [0; 8];
    ///     let (n, _) = poll_fn(|cx| server.poll_recv_from(cx, &mut buf)).await?;
    ///     assert_eq!(&buf[..n], b"one");
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        path: impl AsRef<Path>,
    ) -> Poll<io::Result<usize>> {
        self.io.poll_io(cx, Direction::Write, |socket| socket.send_to(buf, path))
    }
}

impl AsFd for UnixDatagram {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.source().as_fd()
    }
}

impl AsRawFd for UnixDatagram {
    fn as_raw_fd(&self) -> RawFd {
        self.io.source().as_raw_fd()
    }
}
