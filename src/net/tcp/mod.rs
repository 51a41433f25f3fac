//! TCP: [`TcpListener`] and its [`Incoming`] connections, [`TcpStream`] and
//! its owned halves, and [`TcpSocket`] for a socket configured before it
//! listens or connects.
//!
//! The byte-stream operations themselves are shared with Unix streams and
//! written once, in `net/byte_stream.rs`; the files here give them their
//! public, documented shape.

mod listener;
mod socket;
mod split;
mod stream;

pub use listener::{Incoming, TcpListener};
pub use socket::TcpSocket;
pub use split::{OwnedReadHalf, OwnedWriteHalf};
pub use stream::TcpStream;
