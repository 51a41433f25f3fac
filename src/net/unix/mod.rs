//! Unix domain sockets: [`UnixListener`](super::UnixListener),
//! [`UnixStream`](super::UnixStream) and [`UnixDatagram`](super::UnixDatagram)
//! (re-exported at [`kettle::net`](super)), and here the pieces whose TCP
//! twins have the same name: a stream's [`OwnedReadHalf`] and
//! [`OwnedWriteHalf`], and a listener's [`Incoming`] connections.
//!
//! A Unix socket is addressed by a path in the file system instead of an IP
//! address and port, and never leaves the machine. Each type has the shape
//! of its TCP or UDP counterpart — the same methods, the same readiness
//! rules, the byte-stream operations shared through `net/byte_stream.rs` —
//! so code moves between the two by changing the addresses. Addresses come
//! back as [`std::os::unix::net::SocketAddr`] (`as_pathname()` gives the
//! path; an unbound socket has none).
//!
//! Binding creates the socket file, and **nothing removes it**: not dropping
//! the listener (as with std and tokio; asyncio's `start_unix_server` does
//! since Python 3.13). Binding a path that exists fails with `AddrInUse`,
//! so a server that restarts should remove a stale file first. Paths are
//! limited to 107 bytes (`sun_path`) and may not contain a NUL byte; Linux's
//! abstract names are not supported.
//!
//! ```
//! use kettle::net::{UnixListener, UnixStream};
//!
//! let path = std::env::temp_dir().join(format!("kettle-doc-unix-{}.sock", std::process::id()));
//! kettle::run(async {
//!     let listener = UnixListener::bind(&path)?;
//!     let mut client = UnixStream::connect(&path).await?;
//!     let (mut server, _) = listener.accept().await?;
//!     client.write_all(b"over a file").await?;
//!     let mut buf = [0; 11];
//!     server.read_exact(&mut buf).await?;
//!     assert_eq!(&buf, b"over a file");
//!     Ok::<_, std::io::Error>(())
//! })
//! .unwrap();
//! std::fs::remove_file(&path).unwrap();
//! ```

// The three socket types are re-exported by `net` itself, from these
// modules, so that each has one public path.
pub(super) mod datagram;
pub(super) mod listener;
mod split;
pub(super) mod stream;

pub use listener::Incoming;
pub use split::{OwnedReadHalf, OwnedWriteHalf};
