//! `Debug` for every socket: its descriptor and its addresses, as far as the
//! operating system will tell them (an address it refuses, say the peer of
//! an unconnected socket, is left out rather than shown as an error).

use std::fmt;
use std::os::fd::{AsRawFd, RawFd};

use super::unix::{OwnedReadHalf as UnixReadHalf, OwnedWriteHalf as UnixWriteHalf};
use super::{
    OwnedReadHalf, OwnedWriteHalf, TcpListener, TcpSocket, TcpStream, UdpSocket, UnixDatagram, UnixListener,
    UnixStream,
};

/// Writes `name { fd, local, peer }`, leaving out the addresses not known.
fn socket(
    f: &mut fmt::Formatter<'_>,
    name: &str,
    fd: RawFd,
    local: Option<&dyn fmt::Debug>,
    peer: Option<&dyn fmt::Debug>,
) -> fmt::Result {
    let mut out = f.debug_struct(name);
    out.field("fd", &fd);
    if let Some(local) = local {
        out.field("local", local);
    }
    if let Some(peer) = peer {
        out.field("peer", peer);
    }
    out.finish()
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        socket(f, "TcpListener", self.as_raw_fd(), self.local_addr().ok().as_ref().map(|a| a as _), None)
    }
}

impl fmt::Debug for TcpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        socket(f, "TcpSocket", self.as_raw_fd(), None, None)
    }
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (local, peer) = (self.local_addr().ok(), self.peer_addr().ok());
        socket(
            f,
            "UdpSocket",
            self.as_raw_fd(),
            local.as_ref().map(|a| a as _),
            peer.as_ref().map(|a| a as _),
        )
    }
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        socket(f, "UnixListener", self.as_raw_fd(), self.local_addr().ok().as_ref().map(|a| a as _), None)
    }
}

impl fmt::Debug for UnixDatagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (local, peer) = (self.local_addr().ok(), self.peer_addr().ok());
        socket(
            f,
            "UnixDatagram",
            self.as_raw_fd(),
            local.as_ref().map(|a| a as _),
            peer.as_ref().map(|a| a as _),
        )
    }
}

// Connected streams and their halves: each has both addresses.

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (local, peer) = (self.local_addr().ok(), self.peer_addr().ok());
        socket(
            f,
            "TcpStream",
            self.as_raw_fd(),
            local.as_ref().map(|a| a as _),
            peer.as_ref().map(|a| a as _),
        )
    }
}

impl fmt::Debug for OwnedReadHalf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (local, peer) = (self.local_addr().ok(), self.peer_addr().ok());
        socket(
            f,
            "OwnedReadHalf",
            self.as_raw_fd(),
            local.as_ref().map(|a| a as _),
            peer.as_ref().map(|a| a as _),
        )
    }
}

impl fmt::Debug for OwnedWriteHalf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (local, peer) = (self.local_addr().ok(), self.peer_addr().ok());
        socket(
            f,
            "OwnedWriteHalf",
            self.as_raw_fd(),
            local.as_ref().map(|a| a as _),
            peer.as_ref().map(|a| a as _),
        )
    }
}

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (local, peer) = (self.local_addr().ok(), self.peer_addr().ok());
        socket(
            f,
            "UnixStream",
            self.as_raw_fd(),
            local.as_ref().map(|a| a as _),
            peer.as_ref().map(|a| a as _),
        )
    }
}

impl fmt::Debug for UnixReadHalf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (local, peer) = (self.local_addr().ok(), self.peer_addr().ok());
        socket(
            f,
            "unix::OwnedReadHalf",
            self.as_raw_fd(),
            local.as_ref().map(|a| a as _),
            peer.as_ref().map(|a| a as _),
        )
    }
}

impl fmt::Debug for UnixWriteHalf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (local, peer) = (self.local_addr().ok(), self.peer_addr().ok());
        socket(
            f,
            "unix::OwnedWriteHalf",
            self.as_raw_fd(),
            local.as_ref().map(|a| a as _),
            peer.as_ref().map(|a| a as _),
        )
    }
}
