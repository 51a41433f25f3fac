//! TCP: [`TcpListener`], [`TcpStream`] and its owned halves.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, ToSocketAddrs};
use std::rc::Rc;

use super::each_addr;
use super::evented::Evented;
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
    /// Binds to `addr` and starts listening, synchronously (like std's).
    /// Port 0 picks a free port; see [`local_addr`](Self::local_addr).
    ///
    /// The listen backlog is mio's, 128: connections beyond that many waiting
    /// to be accepted are dropped by the kernel, and their clients retry
    /// about a second later. Accept promptly under bursts.
    ///
    /// # Errors
    /// If no address could be bound (in use, no permission, bad address).
    ///
    /// # Panics
    /// Outside a runtime.
    #[track_caller]
    pub fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        let listener = each_addr(addr, mio::net::TcpListener::bind)?;
        Ok(TcpListener {
            io: Evented::new("kettle::net::TcpListener::bind", listener, mio::Interest::READABLE)?,
        })
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.source().local_addr()
    }

    /// Waits for the next incoming connection.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (stream, peer) = self.io.io(Direction::Read, |listener| listener.accept()).await?;
        Ok((TcpStream::from_mio(stream)?, peer))
    }
}

/// A TCP connection (asyncio's `StreamReader`/`StreamWriter` pair).
///
/// One task may read while another writes: see
/// [`into_split`](TcpStream::into_split).
pub struct TcpStream {
    pub(super) io: Rc<Evented<mio::net::TcpStream>>,
}

impl TcpStream {
    fn from_mio(stream: mio::net::TcpStream) -> io::Result<TcpStream> {
        let interest = mio::Interest::READABLE | mio::Interest::WRITABLE;
        Ok(TcpStream { io: Rc::new(Evented::new("kettle::net::TcpStream", stream, interest)?) })
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
            match TcpStream::connect_one(addr).await {
                Ok(stream) => return Ok(stream),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no addresses to connect to")))
    }

    async fn connect_one(addr: SocketAddr) -> io::Result<TcpStream> {
        let stream = TcpStream::from_mio(mio::net::TcpStream::connect(addr)?)?;
        // A non-blocking connect completes when the socket turns writable;
        // its outcome is then in SO_ERROR. Until the handshake is done,
        // `peer_addr` says `NotConnected`: keep waiting.
        stream
            .io
            .io(Direction::Write, |socket| {
                if let Some(error) = socket.take_error()? {
                    return Err(error);
                }
                match socket.peer_addr() {
                    Ok(_) => Ok(()),
                    Err(e) if e.kind() == io::ErrorKind::NotConnected => {
                        Err(io::ErrorKind::WouldBlock.into())
                    }
                    Err(e) => Err(e),
                }
            })
            .await?;
        Ok(stream)
    }

    /// Reads into `buf`; `Ok(0)` means the peer closed its end (or `buf` is
    /// empty).
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        read(&self.io, buf).await
    }

    /// Reads exactly `buf.len()` bytes (asyncio's `readexactly`).
    ///
    /// # Errors
    /// `UnexpectedEof` if the peer closes first.
    #[doc(alias = "readexactly")]
    pub async fn read_exact(&mut self, buf: &mut [u8]) -> io::Result<()> {
        read_exact(&self.io, buf).await
    }

    /// Writes some of `buf`, returning how much.
    pub async fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        write(&self.io, buf).await
    }

    /// Writes all of `buf` (asyncio's `write` + `drain`).
    #[doc(alias = "drain")]
    pub async fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        write_all(&self.io, buf).await
    }

    /// Does nothing: kettle does not buffer writes, so there is nothing to
    /// flush. There for symmetry with buffered writers.
    pub async fn flush(&mut self) -> io::Result<()> {
        Ok(())
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
        shutdown(&self.io, how)
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

/// The reading half of a [`TcpStream`], from [`TcpStream::into_split`].
pub struct OwnedReadHalf {
    pub(super) io: Rc<Evented<mio::net::TcpStream>>,
}

impl OwnedReadHalf {
    /// As [`TcpStream::read`].
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        read(&self.io, buf).await
    }

    /// As [`TcpStream::read_exact`].
    pub async fn read_exact(&mut self, buf: &mut [u8]) -> io::Result<()> {
        read_exact(&self.io, buf).await
    }

    /// The remote address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.source().peer_addr()
    }
}

/// The writing half of a [`TcpStream`], from [`TcpStream::into_split`].
///
/// Dropping it shuts down the writing side of the connection (the peer reads
/// end-of-file), as dropping a whole stream would.
pub struct OwnedWriteHalf {
    pub(super) io: Rc<Evented<mio::net::TcpStream>>,
}

impl OwnedWriteHalf {
    /// As [`TcpStream::write`].
    pub async fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        write(&self.io, buf).await
    }

    /// As [`TcpStream::write_all`].
    pub async fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        write_all(&self.io, buf).await
    }

    /// As [`TcpStream::flush`]: nothing to do.
    pub async fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// Shuts down the writing side now. As for [`TcpStream::shutdown`], a
    /// connection the peer already reset counts as shut: `Ok(())`.
    pub fn shutdown(&self) -> io::Result<()> {
        shutdown(&self.io, Shutdown::Write)
    }

    /// The remote address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.source().peer_addr()
    }
}

impl Drop for OwnedWriteHalf {
    fn drop(&mut self) {
        // The peer may already be gone; nothing to report from a destructor.
        let _ = shutdown(&self.io, Shutdown::Write);
    }
}

/// `shutdown(2)`, with "not connected" — the peer reset or closed the
/// connection first — meaning done, not failed.
pub(super) fn shutdown(io: &Evented<mio::net::TcpStream>, how: Shutdown) -> io::Result<()> {
    match io.source().shutdown(how) {
        Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
        result => result,
    }
}

async fn read(io: &Evented<mio::net::TcpStream>, buf: &mut [u8]) -> io::Result<usize> {
    if buf.is_empty() {
        return Ok(0);
    }
    let len = buf.len();
    io.io_bytes(Direction::Read, len, |mut socket| socket.read(buf)).await
}

async fn read_exact(io: &Evented<mio::net::TcpStream>, mut buf: &mut [u8]) -> io::Result<()> {
    while !buf.is_empty() {
        match read(io, buf).await? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => buf = &mut buf[n..],
        }
    }
    Ok(())
}

async fn write(io: &Evented<mio::net::TcpStream>, buf: &[u8]) -> io::Result<usize> {
    if buf.is_empty() {
        return Ok(0);
    }
    io.io_bytes(Direction::Write, buf.len(), |mut socket| socket.write(buf)).await
}

async fn write_all(io: &Evented<mio::net::TcpStream>, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        match write(io, buf).await? {
            0 => return Err(io::ErrorKind::WriteZero.into()),
            n => buf = &buf[n..],
        }
    }
    Ok(())
}
