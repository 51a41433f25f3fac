//! [`UnixStream`]: one Unix-domain stream connection.
//!
//! # A full backlog
//!
//! A listener keeps connections it has not accepted yet in a backlog of
//! limited length. When it is full, a *blocking* `connect(2)` sleeps in the
//! kernel until the listener accepts one and makes room; a non-blocking one
//! — all kettle has — fails at once with `EAGAIN` instead, which is
//! `WouldBlock`, the poll protocol's "try again". Unlike a TCP connect that
//! is still in progress, the socket gives no readiness event when room
//! appears (epoll reports an unconnected Unix socket as hung up), so there
//! is nothing to wait on. [`UnixStream::connect`] therefore tries again
//! after a pause that doubles from 100 µs up to 10 ms: a waiting connect
//! costs three system calls per try, and comes in at most 10 ms after
//! room appears. No awaited future in kettle returns `WouldBlock`. The
//! pauses are kettle sleeps, so under a paused clock they pass in virtual
//! time — a `timeout` around the connect expires after its virtual
//! duration even if the listener never accepts.

use std::future::Future;
use std::io::{self, IoSlice};
use std::mem::MaybeUninit;
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::net::SocketAddr;
use std::path::Path;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use super::split::{OwnedReadHalf, OwnedWriteHalf};
use crate::net::evented::Evented;
use crate::runtime::reactor::Direction;

/// A Unix-domain stream connection (asyncio's `StreamReader`/`StreamWriter`
/// pair from `open_unix_connection`): the [`TcpStream`](crate::net::TcpStream)
/// of local sockets, with the same methods.
///
/// One task may read while another writes: see
/// [`into_split`](UnixStream::into_split).
///
/// # Poll-level I/O
///
/// As on `TcpStream`: [`poll_read_ready`](Self::poll_read_ready) and
/// [`poll_write_ready`](Self::poll_write_ready) wait,
/// [`try_read`](Self::try_read) and [`try_write`](Self::try_write) act
/// without waiting, and [`poll_read`](Self::poll_read),
/// [`poll_read_uninit`](Self::poll_read_uninit),
/// [`poll_write`](Self::poll_write) and
/// [`poll_write_vectored`](Self::poll_write_vectored) do both, all taking
/// `&self`. **Only the waker of the latest poll-level call in each
/// direction is kept**; the `async` methods each keep their own.
pub struct UnixStream {
    pub(super) io: Rc<Evented<mio::net::UnixStream>>,
}

/// The first pause before trying a connect again, and the longest.
const FIRST_PAUSE: Duration = Duration::from_micros(100);
const LONGEST_PAUSE: Duration = Duration::from_millis(10);

/// Connects a non-blocking socket to `path`, trying again while the
/// listener's backlog is full (see "A full backlog").
async fn connect_when_there_is_room(path: &Path) -> io::Result<mio::net::UnixStream> {
    let mut pause = FIRST_PAUSE;
    loop {
        match mio::net::UnixStream::connect(path) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                crate::sleep(pause).await;
                pause = (pause * 2).min(LONGEST_PAUSE);
            }
            connected => return connected,
        }
    }
}

impl UnixStream {
    #[track_caller]
    pub(super) fn from_mio(what: &str, stream: mio::net::UnixStream) -> io::Result<UnixStream> {
        let interest = mio::Interest::READABLE | mio::Interest::WRITABLE;
        Ok(UnixStream { io: Rc::new(Evented::new(what, stream, interest)?) })
    }

    /// Connects to the socket listening at `path` (asyncio's
    /// `open_unix_connection`).
    ///
    /// If the listener's backlog is full — it is not accepting as fast as
    /// clients come — the connect waits until there is room, as a blocking
    /// `connect(2)` does (see "A full backlog" in the module docs); put a
    /// [`timeout`](crate::timeout) around it to bound the wait.
    ///
    /// # Errors
    /// `NotFound` if nothing is at `path`, `ConnectionRefused` if the file
    /// is there but nobody listens on it; `InvalidInput` for a path too long
    /// or with a NUL.
    ///
    /// # Panics
    /// Outside a runtime.
    ///
    /// ```
    /// use kettle::net::{UnixListener, UnixStream};
    ///
    /// let path = std::env::temp_dir().join(format!("kettle-doc-connect-{}.sock", std::process::id()));
    /// kettle::run(async {
    ///     let listener = UnixListener::bind(&path)?;
    ///     let client = UnixStream::connect(&path).await?;
    ///     assert_eq!(client.peer_addr()?.as_pathname(), Some(path.as_path()));
    ///     listener.accept().await?;
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    #[doc(alias = "open_unix_connection")]
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        // Misuse is told before anything waits (a full backlog would).
        crate::runtime::context::expect_current("kettle::net::UnixStream::connect", |_| ());
        let stream = connect_when_there_is_room(path.as_ref()).await?;
        let stream = UnixStream::from_mio("kettle::net::UnixStream::connect", stream)?;
        stream.io.connected().await?;
        Ok(stream)
    }

    /// Two streams connected to each other, with no file and no listener
    /// (`socketpair(2)`).
    ///
    /// # Errors
    /// If the system is out of descriptors.
    ///
    /// # Panics
    /// Outside a runtime.
    ///
    /// ```
    /// kettle::run(async {
    ///     let (mut a, mut b) = kettle::net::UnixStream::pair()?;
    ///     a.write_all(b"ping").await?;
    ///     let mut buf = [0; 4];
    ///     b.read_exact(&mut buf).await?;
    ///     assert_eq!(&buf, b"ping");
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    #[track_caller]
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = mio::net::UnixStream::pair()?;
        let what = "kettle::net::UnixStream::pair";
        Ok((UnixStream::from_mio(what, a)?, UnixStream::from_mio(what, b)?))
    }

    /// Adopts a connected `std` stream into the current runtime, switching
    /// it to non-blocking mode.
    ///
    /// # Errors
    /// If the socket cannot be made non-blocking or registered.
    ///
    /// # Panics
    /// Outside a runtime.
    ///
    /// ```
    /// kettle::run(async {
    ///     let (ours, mut theirs) = std::os::unix::net::UnixStream::pair()?;
    ///     let mut stream = kettle::net::UnixStream::from_std(ours)?;
    ///     std::io::Write::write_all(&mut theirs, b"hi")?;
    ///     let mut buf = [0; 2];
    ///     stream.read_exact(&mut buf).await?;
    ///     assert_eq!(&buf, b"hi");
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    #[track_caller]
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        stream.set_nonblocking(true)?;
        UnixStream::from_mio("kettle::net::UnixStream::from_std", mio::net::UnixStream::from_std(stream))
    }

    /// Leaves the runtime and returns the `std` stream, still in
    /// non-blocking mode.
    ///
    /// ```
    /// kettle::run(async {
    ///     let (a, _b) = kettle::net::UnixStream::pair()?;
    ///     let std_stream = a.into_std();
    ///     let err = std::io::Read::read(&mut &std_stream, &mut [0; 4]).unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock);
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn into_std(self) -> std::os::unix::net::UnixStream {
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

    /// Writes from several buffers in order, in one `sendmsg` (a `send` for
    /// a single buffer), returning how many bytes went out (maybe only
    /// part; at most 1024 buffers per call), as
    /// [`TcpStream::write_vectored`](crate::net::TcpStream::write_vectored).
    ///
    /// ```
    /// use std::io::IoSlice;
    ///
    /// kettle::run(async {
    ///     let (mut a, mut b) = kettle::net::UnixStream::pair()?;
    ///     assert_eq!(a.write_vectored(&[IoSlice::new(b"head "), IoSlice::new(b"body")]).await?, 9);
    ///     let mut buf = [0; 9];
    ///     b.read_exact(&mut buf).await?;
    ///     assert_eq!(&buf, b"head body");
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

    /// Does nothing: writes are not buffered.
    pub async fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// Ready when the reactor has seen the stream readable (or closed, or in
    /// error); the readiness stays recorded for [`try_read`](Self::try_read).
    /// As [`TcpStream::poll_read_ready`](crate::net::TcpStream::poll_read_ready),
    /// errors included.
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// kettle::run(async {
    ///     let (mut a, b) = kettle::net::UnixStream::pair()?;
    ///     a.write_all(b"hi").await?;
    ///     poll_fn(|cx| b.poll_read_ready(cx)).await?;
    ///     let mut buf = [0; 8];
    ///     assert_eq!(b.try_read(&mut buf)?, 2);
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready(cx, Direction::Read)
    }

    /// Ready when the reactor has seen the stream writable; the twin of
    /// [`poll_read_ready`](Self::poll_read_ready).
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// kettle::run(async {
    ///     let (a, _b) = kettle::net::UnixStream::pair()?;
    ///     poll_fn(|cx| a.poll_write_ready(cx)).await?;
    ///     assert_eq!(a.try_write(b"hi")?, 2);
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready(cx, Direction::Write)
    }

    /// Reads into `buf` if the stream is ready, without waiting.
    ///
    /// # Errors
    /// `WouldBlock` if no readiness is recorded, or the kernel has no data
    /// after all (which clears the readiness); other errors as
    /// [`read`](Self::read).
    ///
    /// See [`poll_read_ready`](Self::poll_read_ready) for an example.
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_read(buf)
    }

    /// Writes some of `buf` if the stream is ready, without waiting.
    ///
    /// # Errors
    /// `WouldBlock` if no readiness is recorded or the kernel buffer is full
    /// (which clears the readiness); other errors as [`write`](Self::write).
    ///
    /// See [`poll_write_ready`](Self::poll_write_ready) for an example.
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.try_write(buf)
    }

    /// One step of [`read`](Self::read): reads if ready, else `Pending`
    /// (keeping only the latest poll's waker).
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// kettle::run(async {
    ///     let (mut a, b) = kettle::net::UnixStream::pair()?;
    ///     a.write_all(b"hi").await?;
    ///     let mut buf = [0; 8];
    ///     assert_eq!(poll_fn(|cx| b.poll_read(cx, &mut buf)).await?, 2);
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.io.poll_read(cx, buf)
    }

    /// [`poll_read`](Self::poll_read) into memory that need not be
    /// initialised. On `Ready(Ok(n))` the first `n` bytes of `buf` hold the
    /// data (and are initialised); `Ok(0)` is end of file (or an empty
    /// `buf`).
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// kettle::run(async {
    ///     let (mut a, b) = kettle::net::UnixStream::pair()?;
    ///     a.write_all(b"hi").await?;
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
        self.io.poll_read_uninit(cx, buf)
    }

    /// One step of [`write`](Self::write): writes if ready, else `Pending`
    /// (keeping only the latest poll's waker).
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// kettle::run(async {
    ///     let (a, _b) = kettle::net::UnixStream::pair()?;
    ///     assert_eq!(poll_fn(|cx| a.poll_write(cx, b"hi")).await?, 2);
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io.poll_write(cx, buf)
    }

    /// One step of [`write_vectored`](Self::write_vectored).
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use std::io::IoSlice;
    ///
    /// kettle::run(async {
    ///     let (a, _b) = kettle::net::UnixStream::pair()?;
    ///     let bufs = [IoSlice::new(b"head "), IoSlice::new(b"body")];
    ///     assert_eq!(poll_fn(|cx| a.poll_write_vectored(cx, &bufs)).await?, 9);
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn poll_write_vectored(&self, cx: &mut Context<'_>, bufs: &[IoSlice<'_>]) -> Poll<io::Result<usize>> {
        self.io.poll_write_vectored(cx, bufs)
    }

    /// Shuts down reading, writing or both (asyncio's `write_eof` for
    /// `Shutdown::Write`). A connection the peer already closed counts as
    /// shut: `Ok(())`.
    ///
    /// ```
    /// use std::net::Shutdown;
    ///
    /// kettle::run(async {
    ///     let (a, mut b) = kettle::net::UnixStream::pair()?;
    ///     a.shutdown(Shutdown::Write)?;
    ///     assert_eq!(b.read(&mut [0; 8]).await?, 0, "end of file");
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    #[doc(alias = "write_eof")]
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.shutdown(how)
    }

    /// The address of the socket at the other end: the listener's path for
    /// a client, unnamed for an accepted stream or a pair.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.source().peer_addr()
    }

    /// This end's address: unnamed for a client (its socket is not bound),
    /// the listener's path for an accepted stream.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.source().local_addr()
    }

    /// Splits the stream into a read half and a write half that can move
    /// into two different tasks, as
    /// [`TcpStream::into_split`](crate::net::TcpStream::into_split) does.
    ///
    /// ```
    /// kettle::run(async {
    ///     let (a, mut b) = kettle::net::UnixStream::pair()?;
    ///     let (mut read_half, mut write_half) = a.into_split();
    ///     let echo = kettle::spawn(async move {
    ///         let mut buf = [0; 4];
    ///         read_half.read_exact(&mut buf).await.unwrap();
    ///         buf
    ///     });
    ///     b.write_all(b"echo").await?;
    ///     write_half.write_all(&echo.await.unwrap()).await?;
    ///     let mut buf = [0; 4];
    ///     b.read_exact(&mut buf).await?;
    ///     assert_eq!(&buf, b"echo");
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        (OwnedReadHalf { io: self.io.clone() }, OwnedWriteHalf { io: self.io })
    }
}

impl AsFd for UnixStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.source().as_fd()
    }
}

impl AsRawFd for UnixStream {
    fn as_raw_fd(&self) -> RawFd {
        self.io.source().as_raw_fd()
    }
}
