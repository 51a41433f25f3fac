//! [`TcpStream`]: one TCP connection.

use std::future::Future;
use std::io::{self, IoSlice};
use std::mem::MaybeUninit;
use std::net::{Shutdown, SocketAddr, ToSocketAddrs};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::rc::Rc;
use std::task::{Context, Poll};

use super::split::{OwnedReadHalf, OwnedWriteHalf};
use crate::net::evented::Evented;
use crate::runtime::reactor::Direction;

/// A TCP connection (asyncio's `StreamReader`/`StreamWriter` pair).
///
/// One task may read while another writes: see
/// [`into_split`](TcpStream::into_split).
///
/// # Poll-level I/O
///
/// Besides the `async` methods, a stream offers one-step methods for
/// hand-written futures and adapters (an HTTP library's I/O traits, say):
/// [`poll_read_ready`](Self::poll_read_ready) and
/// [`poll_write_ready`](Self::poll_write_ready) to wait,
/// [`try_read`](Self::try_read) and [`try_write`](Self::try_write) to act
/// without waiting, and [`poll_read`](Self::poll_read),
/// [`poll_read_uninit`](Self::poll_read_uninit),
/// [`poll_write`](Self::poll_write) and
/// [`poll_write_vectored`](Self::poll_write_vectored), which do both. They
/// take `&self`.
///
/// Having no future of their own, the `poll_` methods leave their waker in
/// one slot per direction: **only the waker of the latest poll-level call
/// in each direction is kept** (as with tokio's `poll_` methods). Two tasks
/// polling reads on one stream would steal each other's wake-ups; the
/// `async` methods, which each keep their own, do not have that limit.
pub struct TcpStream {
    pub(super) io: Rc<Evented<mio::net::TcpStream>>,
}

impl TcpStream {
    /// Registers a mio stream with the current runtime; `what` names the
    /// caller in the panic outside a runtime.
    #[track_caller]
    pub(super) fn from_mio(what: &str, stream: mio::net::TcpStream) -> io::Result<TcpStream> {
        let interest = mio::Interest::READABLE | mio::Interest::WRITABLE;
        Ok(TcpStream { io: Rc::new(Evented::new(what, stream, interest)?) })
    }

    /// Connects to `addr` (asyncio's `open_connection`), trying each
    /// address it resolves to in turn.
    ///
    /// # Errors
    /// If every address fails; a refused connection is an error
    /// (`ConnectionRefused`), never a hang.
    ///
    /// # Panics
    /// Outside a runtime.
    #[doc(alias = "open_connection")]
    pub async fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        let mut last = None;
        for addr in addr.to_socket_addrs()? {
            let socket = mio::net::TcpStream::connect(addr)?;
            match TcpStream::connecting("kettle::net::TcpStream::connect", socket).await {
                Ok(stream) => return Ok(stream),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no addresses to connect to")))
    }

    /// Registers a socket whose non-blocking connect has started, and waits
    /// for the handshake's outcome.
    pub(super) async fn connecting(what: &str, socket: mio::net::TcpStream) -> io::Result<TcpStream> {
        let stream = TcpStream::from_mio(what, socket)?;
        stream.io.connected().await?;
        Ok(stream)
    }

    /// Adopts a connected `std` stream into the current runtime.
    ///
    /// The socket is switched to non-blocking mode (kettle waits for
    /// readiness instead), which the caller sees too if it kept a duplicate
    /// of the descriptor.
    ///
    /// # Errors
    /// If the socket cannot be made non-blocking or registered.
    ///
    /// # Panics
    /// Outside a runtime, as [`connect`](Self::connect) does.
    ///
    /// ```
    /// kettle::run(async {
    ///     let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    ///     let std_stream = std::net::TcpStream::connect(listener.local_addr()?)?;
    ///     let stream = kettle::net::TcpStream::from_std(std_stream)?;
    ///     assert_eq!(stream.peer_addr()?, listener.local_addr()?);
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    #[track_caller]
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        TcpStream::from_mio("kettle::net::TcpStream::from_std", mio::net::TcpStream::from_std(stream))
    }

    /// Leaves the runtime and returns the `std` stream, still in
    /// non-blocking mode: call `set_nonblocking(false)` on it before
    /// blocking reads. Works after the runtime is gone, too.
    ///
    /// ```
    /// use std::io::Write;
    ///
    /// kettle::run(async {
    ///     let listener = kettle::net::TcpListener::bind("127.0.0.1:0")?;
    ///     let client = kettle::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     let (mut server, _) = listener.accept().await?;
    ///     let mut std_client = client.into_std();
    ///     std_client.set_nonblocking(false)?;
    ///     std_client.write_all(b"from std")?;
    ///     let mut buf = [0; 8];
    ///     server.read_exact(&mut buf).await?;
    ///     assert_eq!(&buf, b"from std");
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn into_std(self) -> std::net::TcpStream {
        let evented = Rc::into_inner(self.io).expect("a whole stream is the only owner of its registration");
        evented.into_source().into()
    }

    /// Reads into `buf`; `Ok(0)` means the peer closed its end (or `buf` is
    /// empty).
    pub fn read<'a>(&'a mut self, buf: &'a mut [u8]) -> impl Future<Output = io::Result<usize>> + 'a {
        self.io.read(buf)
    }

    /// Reads exactly `buf.len()` bytes (asyncio's `readexactly`).
    ///
    /// # Errors
    /// `UnexpectedEof` if the peer closes first.
    #[doc(alias = "readexactly")]
    pub fn read_exact<'a>(&'a mut self, buf: &'a mut [u8]) -> impl Future<Output = io::Result<()>> + 'a {
        self.io.read_exact(buf)
    }

    /// Writes some of `buf`, returning how much.
    pub fn write<'a>(&'a mut self, buf: &'a [u8]) -> impl Future<Output = io::Result<usize>> + 'a {
        self.io.write(buf)
    }

    /// Writes all of `buf` (asyncio's `write` + `drain`).
    #[doc(alias = "drain")]
    pub fn write_all<'a>(&'a mut self, buf: &'a [u8]) -> impl Future<Output = io::Result<()>> + 'a {
        self.io.write_all(buf)
    }

    /// Writes from several buffers in order, in one system call
    /// (`sendmsg`; a plain `send` for a single buffer), returning how many bytes went out: a response's head
    /// and body leave together without being copied into one buffer. Like
    /// [`write`](Self::write), it may write only part; at most 1024 buffers
    /// are offered per call (the kernel's limit).
    ///
    /// asyncio's `writelines`, without the buffering.
    ///
    /// ```
    /// use std::io::IoSlice;
    ///
    /// kettle::run(async {
    ///     let listener = kettle::net::TcpListener::bind("127.0.0.1:0")?;
    ///     let mut client = kettle::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     let (mut server, _) = listener.accept().await?;
    ///     let (head, body) = (b"HTTP/1.1 200 OK\r\n\r\n", b"hello");
    ///     let n = server.write_vectored(&[IoSlice::new(head), IoSlice::new(body)]).await?;
    ///     assert_eq!(n, head.len() + body.len()); // small enough to go out whole
    ///     let mut got = [0; 24];
    ///     client.read_exact(&mut got).await?;
    ///     assert!(got.ends_with(b"\r\n\r\nhello"));
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    #[doc(alias = "writelines")]
    pub fn write_vectored<'a>(
        &'a mut self,
        bufs: &'a [IoSlice<'_>],
    ) -> impl Future<Output = io::Result<usize>> + 'a {
        self.io.write_vectored(bufs)
    }

    /// Does nothing: kettle does not buffer writes, so there is nothing to
    /// flush. There for symmetry with buffered writers.
    pub async fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// Ready when the reactor has seen the stream readable (or closed, or
    /// in error), and `Pending` until then; the readiness stays recorded,
    /// so a [`try_read`](Self::try_read) can act on it. Keeps only the
    /// latest poll's waker (see [Poll-level I/O](Self#poll-level-io)).
    ///
    /// Readiness may be stale — another reader got the data first — so
    /// `try_read` can still say `WouldBlock`; that clears the readiness,
    /// and the next `poll_read_ready` waits for new data.
    ///
    /// # Errors
    /// If the stream's runtime is gone, or another runtime runs on this
    /// thread (it would never be woken).
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use std::io::ErrorKind;
    ///
    /// kettle::run(async {
    ///     let listener = kettle::net::TcpListener::bind("127.0.0.1:0")?;
    ///     let mut client = kettle::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     let (server, _) = listener.accept().await?;
    ///     client.write_all(b"hi").await?;
    ///     let mut buf = [0; 8];
    ///     let n = loop {
    ///         poll_fn(|cx| server.poll_read_ready(cx)).await?;
    ///         match server.try_read(&mut buf) {
    ///             Err(e) if e.kind() == ErrorKind::WouldBlock => continue, // stale: wait again
    ///             result => break result?,
    ///         }
    ///     };
    ///     assert_eq!(&buf[..n], b"hi");
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready(cx, Direction::Read)
    }

    /// Ready when the reactor has seen the stream writable (or closed, or
    /// in error); the write-side twin of
    /// [`poll_read_ready`](Self::poll_read_ready), with the same errors.
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// kettle::run(async {
    ///     let listener = kettle::net::TcpListener::bind("127.0.0.1:0")?;
    ///     let client = kettle::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     poll_fn(|cx| client.poll_write_ready(cx)).await?; // a new connection has room
    ///     assert_eq!(client.try_write(b"hi")?, 2);
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready(cx, Direction::Write)
    }

    /// Reads into `buf` if the stream is ready, without waiting: `Ok(0)` at
    /// end of file (or for an empty `buf`).
    ///
    /// # Errors
    /// `WouldBlock` if no readiness is recorded, or if the kernel has no
    /// data after all (which clears the readiness: wait with
    /// [`poll_read_ready`](Self::poll_read_ready)); other errors as
    /// [`read`](Self::read).
    ///
    /// ```
    /// kettle::run(async {
    ///     let listener = kettle::net::TcpListener::bind("127.0.0.1:0")?;
    ///     let _client = kettle::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     let (server, _) = listener.accept().await?;
    ///     let err = server.try_read(&mut [0; 8]).unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock); // nothing sent yet
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_read(buf)
    }

    /// Writes some of `buf` if the stream is ready, without waiting.
    ///
    /// # Errors
    /// `WouldBlock` if no readiness is recorded or the kernel buffer is
    /// full (which clears the readiness: wait with
    /// [`poll_write_ready`](Self::poll_write_ready)); other errors as
    /// [`write`](Self::write).
    ///
    /// See [`poll_write_ready`](Self::poll_write_ready) for an example.
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.try_write(buf)
    }

    /// One step of [`read`](Self::read), for hand-written futures: reads
    /// into `buf` if the stream is ready, else leaves `cx`'s waker
    /// (replacing any earlier poll's, see
    /// [Poll-level I/O](Self#poll-level-io)) and returns `Pending`.
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// kettle::run(async {
    ///     let listener = kettle::net::TcpListener::bind("127.0.0.1:0")?;
    ///     let mut client = kettle::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     let (server, _) = listener.accept().await?;
    ///     client.write_all(b"hi").await?;
    ///     let mut buf = [0; 8];
    ///     let n = poll_fn(|cx| server.poll_read(cx, &mut buf)).await?;
    ///     assert_eq!(&buf[..n], &b"hi"[..n]);
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.io.poll_read(cx, buf)
    }

    /// [`poll_read`](Self::poll_read) into memory that need not be
    /// initialised — a `Vec`'s spare capacity, an HTTP library's read
    /// buffer — so nothing has to be zeroed before each read. On
    /// `Ready(Ok(n))` the first `n` bytes of `buf` hold the data read (and
    /// are initialised); the rest is untouched. `Ok(0)` is end of file (or
    /// an empty `buf`).
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// kettle::run(async {
    ///     let listener = kettle::net::TcpListener::bind("127.0.0.1:0")?;
    ///     let mut client = kettle::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     let (server, _) = listener.accept().await?;
    ///     client.write_all(b"hi").await?;
    ///     let mut buf: Vec<u8> = Vec::with_capacity(64);
    ///     let n = poll_fn(|cx| server.poll_read_uninit(cx, buf.spare_capacity_mut())).await?;
    ///     // SAFETY: poll_read_uninit initialised the first n bytes of the spare capacity.
    ///     unsafe { buf.set_len(n) };
    ///     assert_eq!(buf, &b"hi"[..n]);
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn poll_read_uninit(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        self.io.poll_read_uninit(cx, buf)
    }

    /// One step of [`write`](Self::write), for hand-written futures: writes
    /// some of `buf` if the stream is ready, else leaves `cx`'s waker
    /// (replacing any earlier poll's) and returns `Pending`.
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// kettle::run(async {
    ///     let listener = kettle::net::TcpListener::bind("127.0.0.1:0")?;
    ///     let client = kettle::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     assert_eq!(poll_fn(|cx| client.poll_write(cx, b"hi")).await?, 2);
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io.poll_write(cx, buf)
    }

    /// One step of [`write_vectored`](Self::write_vectored): one `sendmsg`
    /// (or `send`, for a single buffer) of the buffers in order if the stream is ready, else `Pending`
    /// (keeping only the latest poll's waker).
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use std::io::IoSlice;
    ///
    /// kettle::run(async {
    ///     let listener = kettle::net::TcpListener::bind("127.0.0.1:0")?;
    ///     let client = kettle::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     let bufs = [IoSlice::new(b"head "), IoSlice::new(b"body")];
    ///     assert_eq!(poll_fn(|cx| client.poll_write_vectored(cx, &bufs)).await?, 9);
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn poll_write_vectored(&self, cx: &mut Context<'_>, bufs: &[IoSlice<'_>]) -> Poll<io::Result<usize>> {
        self.io.poll_write_vectored(cx, bufs)
    }

    /// Shuts down reading, writing or both (asyncio's `write_eof` for
    /// `Shutdown::Write`).
    ///
    /// A connection the peer has already reset or closed counts as shut:
    /// that is `Ok(())`, not the `NotConnected` the system call reports,
    /// because the direction is as shut as it will ever be. (hyper shuts
    /// down every connection it finishes, so that error would turn ordinary
    /// disconnects into logged failures.)
    #[doc(alias = "write_eof")]
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.shutdown(how)
    }

    /// The remote address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.source().peer_addr()
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.source().local_addr()
    }

    /// Sets `TCP_NODELAY` (no Nagle delay for small writes).
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.source().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.source().nodelay()
    }

    /// Splits the stream into a read half and a write half that can move
    /// into two different tasks. They share the one registration; reads and
    /// writes have separate wakers.
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        (OwnedReadHalf { io: self.io.clone() }, OwnedWriteHalf { io: self.io })
    }
}

impl AsFd for TcpStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.source().as_fd()
    }
}

impl AsRawFd for TcpStream {
    fn as_raw_fd(&self) -> RawFd {
        self.io.source().as_raw_fd()
    }
}
