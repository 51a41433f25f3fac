//! [`TcpSocket`]: a TCP socket configured before it listens or connects.
//!
//! `TcpListener::bind` and `TcpStream::connect` make the socket and use it
//! in one step, with the defaults: a backlog of 128, no `SO_REUSEPORT`. A
//! `TcpSocket` is the socket between those steps — made, optioned, bound —
//! built on the few libc calls in `net/sys.rs`. It is not registered with
//! any runtime until [`listen`](TcpSocket::listen) or
//! [`connect`](TcpSocket::connect) turns it into a listener or a stream,
//! so it can be made and configured anywhere.

use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

use super::listener::TcpListener;
use super::stream::TcpStream;
use crate::net::sys;

/// A TCP socket not yet listening or connected: set its options, bind it,
/// then [`listen`](Self::listen) with the backlog of your choice or
/// [`connect`](Self::connect).
///
/// A server that must absorb bursts of connections, or several runtimes —
/// one per core, each on its own thread — sharing one port:
///
/// ```
/// use kettle::net::TcpSocket;
///
/// kettle::run(async {
///     let socket = TcpSocket::new_v4()?;
///     socket.set_reuseaddr(true)?;
///     socket.set_reuseport(true)?; // another socket with it may bind this port too
///     socket.bind("127.0.0.1:0".parse().unwrap())?;
///     let listener = socket.listen(1024)?;
///     let client = kettle::net::TcpStream::connect(listener.local_addr()?).await?;
///     let (_stream, from) = listener.accept().await?;
///     assert_eq!(from, client.local_addr()?);
///     Ok::<_, std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub struct TcpSocket {
    fd: OwnedFd,
}

impl TcpSocket {
    /// A new IPv4 TCP socket (non-blocking, close-on-exec).
    ///
    /// # Errors
    /// If the system is out of descriptors or memory.
    ///
    /// ```
    /// let socket = kettle::net::TcpSocket::new_v4()?;
    /// assert!(!socket.reuseport()?, "options start off");
    /// # Ok::<_, std::io::Error>(())
    /// ```
    pub fn new_v4() -> io::Result<TcpSocket> {
        Ok(TcpSocket { fd: sys::tcp_socket(false)? })
    }

    /// A new IPv6 TCP socket (non-blocking, close-on-exec).
    ///
    /// # Errors
    /// If the system is out of descriptors or memory, or has no IPv6.
    ///
    /// ```no_run
    /// let socket = kettle::net::TcpSocket::new_v6()?;
    /// socket.bind("[::1]:0".parse().unwrap())?;
    /// # Ok::<_, std::io::Error>(())
    /// ```
    pub fn new_v6() -> io::Result<TcpSocket> {
        Ok(TcpSocket { fd: sys::tcp_socket(true)? })
    }

    /// Sets `SO_REUSEADDR`: the port may be bound again while connections
    /// from an earlier listener on it linger in `TIME_WAIT` (a restarted
    /// server needs it).
    ///
    /// ```
    /// let socket = kettle::net::TcpSocket::new_v4()?;
    /// socket.set_reuseaddr(true)?;
    /// assert!(socket.reuseaddr()?);
    /// # Ok::<_, std::io::Error>(())
    /// ```
    pub fn set_reuseaddr(&self, reuseaddr: bool) -> io::Result<()> {
        sys::set_flag(self.fd.as_fd(), libc::SOL_SOCKET, libc::SO_REUSEADDR, reuseaddr)
    }

    /// Whether `SO_REUSEADDR` is set.
    ///
    /// See [`set_reuseaddr`](Self::set_reuseaddr) for an example.
    pub fn reuseaddr(&self) -> io::Result<bool> {
        sys::flag(self.fd.as_fd(), libc::SOL_SOCKET, libc::SO_REUSEADDR)
    }

    /// Sets `SO_REUSEPORT`: several sockets that all set it (in one process
    /// and user) may bind the same address and port, and the kernel spreads
    /// incoming connections across their listeners — one runtime per core
    /// sharing a port.
    ///
    /// ```
    /// let socket = kettle::net::TcpSocket::new_v4()?;
    /// socket.set_reuseport(true)?;
    /// assert!(socket.reuseport()?);
    /// # Ok::<_, std::io::Error>(())
    /// ```
    pub fn set_reuseport(&self, reuseport: bool) -> io::Result<()> {
        sys::set_flag(self.fd.as_fd(), libc::SOL_SOCKET, libc::SO_REUSEPORT, reuseport)
    }

    /// Whether `SO_REUSEPORT` is set.
    ///
    /// See [`set_reuseport`](Self::set_reuseport) for an example.
    pub fn reuseport(&self) -> io::Result<bool> {
        sys::flag(self.fd.as_fd(), libc::SOL_SOCKET, libc::SO_REUSEPORT)
    }

    /// Sets `TCP_NODELAY` (no Nagle delay for small writes). On a listening
    /// socket, Linux passes it on to the connections it accepts.
    ///
    /// ```
    /// let socket = kettle::net::TcpSocket::new_v4()?;
    /// socket.set_nodelay(true)?;
    /// assert!(socket.nodelay()?);
    /// # Ok::<_, std::io::Error>(())
    /// ```
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        sys::set_flag(self.fd.as_fd(), libc::IPPROTO_TCP, libc::TCP_NODELAY, nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    ///
    /// See [`set_nodelay`](Self::set_nodelay) for an example.
    pub fn nodelay(&self) -> io::Result<bool> {
        sys::flag(self.fd.as_fd(), libc::IPPROTO_TCP, libc::TCP_NODELAY)
    }

    /// Sets `SO_KEEPALIVE`: the kernel probes an idle connection and
    /// reports a dead peer as an error, with the system's timings (two
    /// hours idle by default on Linux).
    ///
    /// ```
    /// let socket = kettle::net::TcpSocket::new_v4()?;
    /// socket.set_keepalive(true)?;
    /// assert!(socket.keepalive()?);
    /// # Ok::<_, std::io::Error>(())
    /// ```
    pub fn set_keepalive(&self, keepalive: bool) -> io::Result<()> {
        sys::set_flag(self.fd.as_fd(), libc::SOL_SOCKET, libc::SO_KEEPALIVE, keepalive)
    }

    /// Whether `SO_KEEPALIVE` is set.
    ///
    /// See [`set_keepalive`](Self::set_keepalive) for an example.
    pub fn keepalive(&self) -> io::Result<bool> {
        sys::flag(self.fd.as_fd(), libc::SOL_SOCKET, libc::SO_KEEPALIVE)
    }

    /// Binds the socket to `addr` (port 0: a free port, chosen now).
    ///
    /// # Errors
    /// `AddrInUse` if another socket has the address (unless both set
    /// [`set_reuseport`](Self::set_reuseport)); an error if `addr` is of
    /// the other IP version than the socket.
    ///
    /// ```
    /// let socket = kettle::net::TcpSocket::new_v4()?;
    /// socket.bind("127.0.0.1:0".parse().unwrap())?;
    /// # Ok::<_, std::io::Error>(())
    /// ```
    pub fn bind(&self, addr: SocketAddr) -> io::Result<()> {
        sys::bind(self.fd.as_fd(), &addr)
    }

    /// Starts listening, with room for `backlog` connections waiting to be
    /// accepted (the kernel caps it at `net.core.somaxconn`, 4096 on
    /// current Linux), and registers the listener with the current runtime.
    /// Connections beyond the backlog are dropped by the kernel and their
    /// clients retry about a second later, so size it for your bursts.
    ///
    /// # Errors
    /// If the socket cannot listen (not bound to a usable address, say).
    ///
    /// # Panics
    /// Outside a runtime, as [`TcpListener::bind`] does.
    ///
    /// See [`TcpSocket`] for an example.
    #[track_caller]
    pub fn listen(self, backlog: u32) -> io::Result<TcpListener> {
        sys::listen(self.fd.as_fd(), backlog)?;
        let listener = mio::net::TcpListener::from_std(std::net::TcpListener::from(self.fd));
        TcpListener::from_mio("kettle::net::TcpSocket::listen", listener)
    }

    /// Connects to `addr`, as [`TcpStream::connect`] does, with this
    /// socket's options (and address, if bound).
    ///
    /// # Errors
    /// As `TcpStream::connect`: a refused connection is
    /// `ConnectionRefused`, never a hang.
    ///
    /// # Panics
    /// Outside a runtime.
    ///
    /// ```
    /// kettle::run(async {
    ///     let listener = kettle::net::TcpListener::bind("127.0.0.1:0")?;
    ///     let socket = kettle::net::TcpSocket::new_v4()?;
    ///     socket.set_nodelay(true)?;
    ///     let stream = socket.connect(listener.local_addr()?).await?;
    ///     assert!(stream.nodelay()?);
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    #[doc(alias = "open_connection")]
    pub async fn connect(self, addr: SocketAddr) -> io::Result<TcpStream> {
        sys::connect(self.fd.as_fd(), &addr)?;
        let stream = mio::net::TcpStream::from_std(std::net::TcpStream::from(self.fd));
        TcpStream::connecting("kettle::net::TcpSocket::connect", stream).await
    }
}

impl AsFd for TcpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for TcpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}
