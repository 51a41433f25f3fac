//! [`UnixListener`], and [`Incoming`]: its connections one by one.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::stream::UnixStream;
use crate::net::evented::Evented;
use crate::runtime::reactor::Direction;

/// A Unix-domain socket listening for connections at a path (asyncio's
/// `start_unix_server`, at the socket level): the
/// [`TcpListener`](crate::net::TcpListener) of local sockets.
///
/// The socket file stays when the listener is dropped; remove it yourself
/// (see [the module docs](crate::net::unix)).
///
/// ```
/// use kettle::net::{UnixListener, UnixStream};
///
/// let path = std::env::temp_dir().join(format!("kettle-doc-listener-{}.sock", std::process::id()));
/// kettle::run(async {
///     let listener = UnixListener::bind(&path)?;
///     let server = kettle::spawn(async move {
///         let (mut stream, _) = listener.accept().await?;
///         let mut buf = [0; 5];
///         stream.read_exact(&mut buf).await?;
///         stream.write_all(&buf).await // echo
///     });
///     let mut client = UnixStream::connect(&path).await?;
///     client.write_all(b"hello").await?;
///     let mut buf = [0; 5];
///     client.read_exact(&mut buf).await?;
///     assert_eq!(&buf, b"hello");
///     server.await.unwrap()
/// })
/// .unwrap();
/// std::fs::remove_file(&path).unwrap();
/// ```
pub struct UnixListener {
    io: Evented<mio::net::UnixListener>,
}

impl UnixListener {
    #[track_caller]
    fn from_mio(what: &str, listener: mio::net::UnixListener) -> io::Result<UnixListener> {
        Ok(UnixListener { io: Evented::new(what, listener, mio::Interest::READABLE)? })
    }

    /// Creates the socket file at `path` and starts listening,
    /// synchronously (like std's). The backlog is the kernel's maximum
    /// (`net.core.somaxconn`).
    ///
    /// # Errors
    /// `AddrInUse` if `path` exists (even a stale socket file: remove it
    /// first); `NotFound` or `PermissionDenied` for the directory;
    /// `InvalidInput` for a path longer than 107 bytes or with a NUL byte.
    ///
    /// # Panics
    /// Outside a runtime.
    ///
    /// See [`UnixListener`] for an example.
    #[doc(alias = "start_unix_server")]
    #[track_caller]
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        let listener = mio::net::UnixListener::bind(path)?;
        UnixListener::from_mio("kettle::net::UnixListener::bind", listener)
    }

    /// Adopts a listening `std` socket into the current runtime, switching
    /// it to non-blocking mode.
    ///
    /// # Errors
    /// If the socket cannot be made non-blocking or registered.
    ///
    /// # Panics
    /// Outside a runtime.
    ///
    /// ```
    /// let path = std::env::temp_dir().join(format!("kettle-doc-from-std-{}.sock", std::process::id()));
    /// kettle::run(async {
    ///     let listener = kettle::net::UnixListener::from_std(std::os::unix::net::UnixListener::bind(&path)?)?;
    ///     let _client = kettle::net::UnixStream::connect(&path).await?;
    ///     listener.accept().await?;
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    #[track_caller]
    pub fn from_std(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        listener.set_nonblocking(true)?;
        UnixListener::from_mio(
            "kettle::net::UnixListener::from_std",
            mio::net::UnixListener::from_std(listener),
        )
    }

    /// Leaves the runtime and returns the `std` listener, still in
    /// non-blocking mode.
    ///
    /// ```
    /// let path = std::env::temp_dir().join(format!("kettle-doc-into-std-{}.sock", std::process::id()));
    /// kettle::run(async {
    ///     let listener = kettle::net::UnixListener::bind(&path)?.into_std();
    ///     assert_eq!(listener.accept().unwrap_err().kind(), std::io::ErrorKind::WouldBlock);
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn into_std(self) -> std::os::unix::net::UnixListener {
        self.io.into_source().into()
    }

    /// The address the listener is bound to (`as_pathname()` gives the
    /// path).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.source().local_addr()
    }

    /// Waits for the next incoming connection. The client's address is
    /// usually unnamed: clients do not bind their sockets.
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let (stream, peer) = self.io.io(Direction::Read, |listener| listener.accept()).await?;
        Ok((UnixStream::from_mio("kettle::net::UnixListener::accept", stream)?, peer))
    }

    /// One step of [`accept`](Self::accept): the next connection if one is
    /// waiting, else `Pending`, keeping only the latest poll's waker (as
    /// [`TcpListener::poll_accept`](crate::net::TcpListener::poll_accept)).
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// let path = std::env::temp_dir().join(format!("kettle-doc-poll-accept-{}.sock", std::process::id()));
    /// kettle::run(async {
    ///     let listener = kettle::net::UnixListener::bind(&path)?;
    ///     let _client = kettle::net::UnixStream::connect(&path).await?;
    ///     let (stream, _) = poll_fn(|cx| listener.poll_accept(cx)).await?;
    ///     assert_eq!(stream.local_addr()?.as_pathname(), Some(path.as_path()));
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        let (stream, peer) =
            std::task::ready!(self.io.poll_io(cx, Direction::Read, |listener| listener.accept()))?;
        Poll::Ready(UnixStream::from_mio("kettle::net::UnixListener::poll_accept", stream).map(|s| (s, peer)))
    }

    /// The incoming connections, one by one, without their (usually
    /// unnamed) addresses.
    ///
    /// ```
    /// let path = std::env::temp_dir().join(format!("kettle-doc-incoming-{}.sock", std::process::id()));
    /// kettle::run(async {
    ///     let listener = kettle::net::UnixListener::bind(&path)?;
    ///     let _client = kettle::net::UnixStream::connect(&path).await?;
    ///     let mut incoming = listener.incoming();
    ///     let _stream = incoming.next().await.expect("never ends")?;
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming { listener: self }
    }
}

impl AsFd for UnixListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.source().as_fd()
    }
}

impl AsRawFd for UnixListener {
    fn as_raw_fd(&self) -> RawFd {
        self.io.source().as_raw_fd()
    }
}

/// A [`UnixListener`]'s connections, one by one: from
/// [`UnixListener::incoming`]. The twin of TCP's
/// [`Incoming`](crate::net::Incoming): it never ends, a failed accept gives
/// `Some(Err(_))`, and its `poll_next` has the shape of
/// `futures_core::Stream::poll_next`.
#[must_use = "Incoming does nothing unless polled"]
pub struct Incoming<'a> {
    listener: &'a UnixListener,
}

impl Incoming<'_> {
    /// The next connection, or `Pending` with `cx`'s waker kept (only the
    /// latest, as for [`UnixListener::poll_accept`]).
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use std::pin::Pin;
    ///
    /// let path = std::env::temp_dir().join(format!("kettle-doc-poll-next-{}.sock", std::process::id()));
    /// kettle::run(async {
    ///     let listener = kettle::net::UnixListener::bind(&path)?;
    ///     let _client = kettle::net::UnixStream::connect(&path).await?;
    ///     let mut incoming = listener.incoming();
    ///     let next = poll_fn(|cx| Pin::new(&mut incoming).poll_next(cx)).await;
    ///     assert!(matches!(next, Some(Ok(_))));
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<io::Result<UnixStream>>> {
        self.listener.poll_accept(cx).map(|accepted| Some(accepted.map(|(stream, _)| stream)))
    }

    /// Waits for the next connection; always `Some`. It waits with an entry
    /// of its own, as [`UnixListener::accept`] does, so it may be raced or
    /// cancelled freely.
    ///
    /// See [`UnixListener::incoming`] for an example.
    pub async fn next(&mut self) -> Option<io::Result<UnixStream>> {
        Some(self.listener.accept().await.map(|(stream, _)| stream))
    }
}
