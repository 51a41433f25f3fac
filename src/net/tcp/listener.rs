//! [`TcpListener`], and [`Incoming`]: its connections one by one.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::stream::TcpStream;
use crate::net::each_addr;
use crate::net::evented::Evented;
use crate::runtime::reactor::Direction;

/// A TCP socket listening for connections (asyncio's `start_server`, at the
/// socket level).
///
/// ```no_run
/// kettle::run(async {
///     let listener = kettle::net::TcpListener::bind("127.0.0.1:8080").unwrap();
///     loop {
///         let (mut stream, _peer) = listener.accept().await.unwrap();
///         kettle::spawn(async move {
///             let mut buf = [0; 1024];
///             while let Ok(n @ 1..) = stream.read(&mut buf).await {
///                 if stream.write_all(&buf[..n]).await.is_err() {
///                     break;
///                 }
///             }
///         });
///     }
/// });
/// ```
pub struct TcpListener {
    io: Evented<mio::net::TcpListener>,
}

impl TcpListener {
    /// Registers a listening mio socket with the current runtime.
    #[track_caller]
    pub(super) fn from_mio(what: &str, listener: mio::net::TcpListener) -> io::Result<TcpListener> {
        Ok(TcpListener { io: Evented::new(what, listener, mio::Interest::READABLE)? })
    }

    /// Binds to `addr` and starts listening, synchronously (like std's).
    /// Port 0 picks a free port; see [`local_addr`](Self::local_addr).
    ///
    /// The listen backlog is mio's, 128: connections beyond that many waiting
    /// to be accepted are dropped by the kernel, and their clients retry
    /// about a second later. Accept promptly under bursts, or choose the
    /// backlog with [`TcpSocket::listen`](super::TcpSocket::listen).
    ///
    /// # Errors
    /// If no address could be bound (in use, no permission, bad address).
    ///
    /// # Panics
    /// Outside a runtime.
    #[track_caller]
    pub fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        let listener = each_addr(addr, mio::net::TcpListener::bind)?;
        TcpListener::from_mio("kettle::net::TcpListener::bind", listener)
    }

    /// Adopts a listening `std` socket into the current runtime, switching
    /// it to non-blocking mode.
    ///
    /// # Errors
    /// If the socket cannot be made non-blocking or registered.
    ///
    /// # Panics
    /// Outside a runtime, as [`bind`](Self::bind) does.
    ///
    /// ```
    /// kettle::run(async {
    ///     let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    ///     let addr = std_listener.local_addr()?;
    ///     let listener = kettle::net::TcpListener::from_std(std_listener)?;
    ///     let _client = kettle::net::TcpStream::connect(addr).await?;
    ///     listener.accept().await?;
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    #[track_caller]
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        TcpListener::from_mio("kettle::net::TcpListener::from_std", mio::net::TcpListener::from_std(listener))
    }

    /// Leaves the runtime and returns the `std` listener, still in
    /// non-blocking mode (`accept` on it says `WouldBlock` until
    /// `set_nonblocking(false)`).
    ///
    /// ```
    /// kettle::run(async {
    ///     let listener = kettle::net::TcpListener::bind("127.0.0.1:0")?;
    ///     let std_listener = listener.into_std();
    ///     let err = std_listener.accept().unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock);
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn into_std(self) -> std::net::TcpListener {
        self.io.into_source().into()
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.source().local_addr()
    }

    /// Waits for the next incoming connection.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (stream, peer) = self.io.io(Direction::Read, |listener| listener.accept()).await?;
        Ok((TcpStream::from_mio("kettle::net::TcpListener::accept", stream)?, peer))
    }

    /// One step of [`accept`](Self::accept), for hand-written futures and
    /// streams: the next connection if one is waiting, else `Pending`
    /// with `cx`'s waker kept until one arrives. Only the latest
    /// `poll_accept`'s waker is kept (the listener has one poll slot);
    /// several tasks accepting at once should each `accept().await`.
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// kettle::run(async {
    ///     let listener = kettle::net::TcpListener::bind("127.0.0.1:0")?;
    ///     let client = kettle::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     let (_stream, from) = poll_fn(|cx| listener.poll_accept(cx)).await?;
    ///     assert_eq!(from, client.local_addr()?);
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let (stream, peer) =
            std::task::ready!(self.io.poll_io(cx, Direction::Read, |listener| listener.accept()))?;
        Poll::Ready(TcpStream::from_mio("kettle::net::TcpListener::poll_accept", stream).map(|s| (s, peer)))
    }

    /// The incoming connections, one by one, without their addresses
    /// (each stream's [`peer_addr`](TcpStream::peer_addr) has it).
    ///
    /// ```
    /// kettle::run(async {
    ///     let listener = kettle::net::TcpListener::bind("127.0.0.1:0")?;
    ///     let client = kettle::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     let mut incoming = listener.incoming();
    ///     let stream = incoming.next().await.expect("never ends")?;
    ///     assert_eq!(stream.peer_addr()?, client.local_addr()?);
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming { listener: self }
    }
}

impl AsFd for TcpListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.source().as_fd()
    }
}

impl AsRawFd for TcpListener {
    fn as_raw_fd(&self) -> RawFd {
        self.io.source().as_raw_fd()
    }
}

/// A [`TcpListener`]'s connections, one by one: from
/// [`TcpListener::incoming`].
///
/// It never ends: [`next`](Self::next) and [`poll_next`](Self::poll_next)
/// always give `Some`. A failed accept gives `Some(Err(_))` and the next
/// call tries again — after `EMFILE` (out of descriptors), say, a server
/// should wait a little before it does. Its `poll_next` has the shape of
/// `futures_core::Stream::poll_next`, so a `Stream` implementation is one
/// line.
#[must_use = "Incoming does nothing unless polled"]
pub struct Incoming<'a> {
    listener: &'a TcpListener,
}

impl Incoming<'_> {
    /// The next connection, or `Pending` with `cx`'s waker kept (only the
    /// latest, as for [`TcpListener::poll_accept`]).
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use std::pin::Pin;
    ///
    /// kettle::run(async {
    ///     let listener = kettle::net::TcpListener::bind("127.0.0.1:0")?;
    ///     let _client = kettle::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     let mut incoming = listener.incoming();
    ///     let next = poll_fn(|cx| Pin::new(&mut incoming).poll_next(cx)).await;
    ///     assert!(matches!(next, Some(Ok(_))));
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<io::Result<TcpStream>>> {
        self.listener.poll_accept(cx).map(|accepted| Some(accepted.map(|(stream, _)| stream)))
    }

    /// Waits for the next connection; always `Some`. Unlike `poll_next`,
    /// it waits with an entry of its own, as [`TcpListener::accept`] does,
    /// so it may be raced or cancelled freely.
    ///
    /// See [`TcpListener::incoming`] for an example.
    pub async fn next(&mut self) -> Option<io::Result<TcpStream>> {
        Some(self.listener.accept().await.map(|(stream, _)| stream))
    }
}
