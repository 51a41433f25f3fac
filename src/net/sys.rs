//! The socket system calls that neither `std` nor mio offers, and with them
//! every `unsafe` block of `net/` that calls the kernel (the `tokio-io`
//! bridge adds two, in `tokio_io.rs`, that mark bytes in tokio's `ReadBuf`).
//!
//! Four needs bring `net/` down to libc:
//!
//! - **Reading into uninitialised memory** ([`recv_uninit`]). `std::io::Read`
//!   takes `&mut [u8]`, which must be initialised, so a caller holding spare
//!   capacity (hyper's read buffer) would have to zero it before every read.
//!   `recv(2)` only writes, so it may be handed memory nobody initialised.
//! - **Vectored writes that cannot raise `SIGPIPE`** ([`send_vectored`]).
//!   std's `write_vectored` is `writev(2)`, which on a connection the peer
//!   has closed raises `SIGPIPE` — and kills a process that has not ignored
//!   it (a host program embedding kettle, say). `net/`'s promise is that a
//!   closed peer is an error, never a signal, so vectored writes go through
//!   `sendmsg(2)` with `MSG_NOSIGNAL`, as std's own plain writes use `send`
//!   (and a list of one slice through `send` itself).
//! - **Plain reads and writes in one call** ([`recv`], [`send`]): the
//!   calls std makes for a socket's `read` and `write`, without the layers
//!   of wrappers around them, on the path every stream transfer takes.
//! - **A TCP socket configured before it listens or connects** (the calls
//!   behind [`TcpSocket`](super::TcpSocket): [`tcp_socket`], the boolean
//!   options, [`bind`], [`listen`], [`connect`]). std binds and listens in
//!   one step with a fixed backlog and no `SO_REUSEPORT`.
//!
//! # Safety
//!
//! Each function wraps one system call and takes only safe arguments: a
//! [`BorrowedFd`] (so the descriptor is open for the whole call), slices
//! (so pointer and length agree), plain values. Each `unsafe` block then
//! needs only what the call's man page asks of its pointers: valid for the
//! stated length, for the duration of the call. Errors come back as
//! `io::Error::last_os_error()`, read at once, before anything else can
//! change `errno`.

use std::io::{self, IoSlice};
use std::mem::{MaybeUninit, size_of};
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// The most slices one `sendmsg` takes (Linux's `UIO_MAXIOV`, 1024): a
/// longer list is sent in part, as `writev` would refuse it outright.
pub(crate) const MAX_IOVECS: usize = libc::UIO_MAXIOV as usize;

/// A system call's `-1`-means-`errno` result as an `io::Result`.
fn check(result: isize) -> io::Result<usize> {
    usize::try_from(result).map_err(|_| io::Error::last_os_error())
}

/// `recv(2)` into `buf`: a stream's plain read, in one call.
///
/// The simple version is std's `Read::read` on the mio socket, which makes
/// the same `recv` through three layers of wrappers (mio's, std's socket,
/// std's file descriptor), about 30 instructions around a call of ten, on a
/// path taken once per read.
pub(crate) fn recv(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: recv(2) writes at most `buf.len()` bytes at `buf`'s pointer;
    // an exclusive slice is valid for writes of its whole length. `fd` is
    // borrowed, so open for the call.
    let received = unsafe { libc::recv(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
    check(received)
}

/// `send(2)` of `buf` with `MSG_NOSIGNAL` (a closed peer is `BrokenPipe`,
/// never `SIGPIPE`): a stream's plain write, in one call. The simple
/// version is std's `Write::write` on the mio socket: the same call, as
/// [`recv`] says.
pub(crate) fn send(fd: BorrowedFd<'_>, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: send(2) reads at most `buf.len()` bytes at `buf`'s pointer, a
    // live shared slice, and writes nothing. `fd` is borrowed, so open for
    // the call.
    let sent = unsafe { libc::send(fd.as_raw_fd(), buf.as_ptr().cast(), buf.len(), libc::MSG_NOSIGNAL) };
    check(sent)
}

/// `recv(2)` into `buf`, which need not be initialised. On `Ok(n)` the first
/// `n` bytes of `buf` are initialised (with the data received).
pub(crate) fn recv_uninit(fd: BorrowedFd<'_>, buf: &mut [MaybeUninit<u8>]) -> io::Result<usize> {
    // SAFETY: recv(2) writes at most `buf.len()` bytes at `buf`'s pointer and
    // never reads them; an exclusive slice is valid for writes of its whole
    // length, initialised or not. `fd` is borrowed, so open for the call.
    let received = unsafe { libc::recv(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
    check(received)
}

/// A vectored write of the first [`MAX_IOVECS`] slices of `bufs`, in order,
/// with `MSG_NOSIGNAL`: a closed peer is `BrokenPipe`, never `SIGPIPE`.
///
/// A list of one slice is a plain [`send`] of it: `send(2)` takes the
/// buffer as it is, where `sendmsg(2)` first copies a message header and
/// an iovec array in from user space — 85–195 ns more per call on this
/// machine's loopback TCP, and hyper's HTTP/1.1 client hands over every
/// body-less request as one slice. The simple version is [`send_msg`] for
/// every list.
pub(crate) fn send_vectored(fd: BorrowedFd<'_>, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
    match bufs {
        [one] => send(fd, one),
        _ => send_msg(fd, bufs),
    }
}

/// `sendmsg(2)` of the first [`MAX_IOVECS`] slices of `bufs`, in order, with
/// `MSG_NOSIGNAL`.
fn send_msg(fd: BorrowedFd<'_>, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
    let bufs = &bufs[..bufs.len().min(MAX_IOVECS)];
    // A literal cannot be written: msghdr has private padding on some targets.
    // SAFETY: msghdr is plain data (pointers, integers) for which all zeroes
    // is valid: no name, no control data, no flags.
    let mut message: libc::msghdr = unsafe { std::mem::zeroed() };
    // `IoSlice` is documented to be ABI-compatible with `iovec` on Unix;
    // sendmsg only reads through this pointer, despite its `*mut` type.
    message.msg_iov = bufs.as_ptr().cast_mut().cast();
    message.msg_iovlen = bufs.len() as _;
    // SAFETY: `message` points at `bufs.len()` iovecs, each describing a live
    // `&[u8]` that outlives the call; sendmsg reads them and writes nothing.
    // `fd` is borrowed, so open for the call.
    let sent = unsafe { libc::sendmsg(fd.as_raw_fd(), &message, libc::MSG_NOSIGNAL) };
    check(sent)
}

/// A new non-blocking, close-on-exec TCP socket for IPv4 or IPv6.
pub(crate) fn tcp_socket(v6: bool) -> io::Result<OwnedFd> {
    let domain = if v6 { libc::AF_INET6 } else { libc::AF_INET };
    let kind = libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
    // SAFETY: socket(2) takes no pointers.
    let fd = unsafe { libc::socket(domain, kind, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: socket(2) just returned `fd`: it is open, and nothing else owns
    // it, so the `OwnedFd` may close it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Sets a boolean socket option (`SO_REUSEADDR`, `TCP_NODELAY`, ...).
pub(crate) fn set_flag(
    fd: BorrowedFd<'_>,
    level: libc::c_int,
    name: libc::c_int,
    on: bool,
) -> io::Result<()> {
    let value = libc::c_int::from(on);
    // SAFETY: the option value points at a live c_int, and its length is the
    // size of one; setsockopt only reads it. `fd` is open for the call.
    let result = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (&raw const value).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    check(result as isize).map(drop)
}

/// Reads a boolean socket option.
pub(crate) fn flag(fd: BorrowedFd<'_>, level: libc::c_int, name: libc::c_int) -> io::Result<bool> {
    let mut value: libc::c_int = 0;
    let mut len = size_of::<libc::c_int>() as libc::socklen_t;
    let (value_ptr, len_ptr) = ((&raw mut value).cast(), &raw mut len);
    // SAFETY: `value` is a live c_int and `len` its size; getsockopt writes
    // at most `len` bytes there, and the new length into `len`. `fd` is open.
    let result = unsafe { libc::getsockopt(fd.as_raw_fd(), level, name, value_ptr, len_ptr) };
    check(result as isize).map(|_| value != 0)
}

/// `bind(2)` to `addr`.
pub(crate) fn bind(fd: BorrowedFd<'_>, addr: &SocketAddr) -> io::Result<()> {
    let raw = RawAddr::new(addr);
    // SAFETY: `raw` holds a sockaddr_in or sockaddr_in6 of the length passed,
    // alive for the call; bind only reads it. `fd` is open for the call.
    let result = unsafe { libc::bind(fd.as_raw_fd(), raw.as_ptr(), raw.len()) };
    check(result as isize).map(drop)
}

/// `listen(2)` with room for `backlog` connections waiting to be accepted
/// (the kernel caps it at `net.core.somaxconn`).
pub(crate) fn listen(fd: BorrowedFd<'_>, backlog: u32) -> io::Result<()> {
    let backlog = libc::c_int::try_from(backlog).unwrap_or(libc::c_int::MAX);
    // SAFETY: listen(2) takes no pointers; `fd` is open for the call.
    let result = unsafe { libc::listen(fd.as_raw_fd(), backlog) };
    check(result as isize).map(drop)
}

/// Starts a non-blocking `connect(2)` to `addr`: `Ok` once the handshake is
/// under way (`EINPROGRESS`) or done; the caller waits for writability and
/// then reads the outcome from `SO_ERROR`.
pub(crate) fn connect(fd: BorrowedFd<'_>, addr: &SocketAddr) -> io::Result<()> {
    let raw = RawAddr::new(addr);
    // SAFETY: as for `bind`: a live address of the length passed, only read.
    let result = unsafe { libc::connect(fd.as_raw_fd(), raw.as_ptr(), raw.len()) };
    match check(result as isize) {
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => Ok(()),
        result => result.map(drop),
    }
}

/// A socket address in the kernel's layout.
enum RawAddr {
    V4(libc::sockaddr_in),
    V6(libc::sockaddr_in6),
}

impl RawAddr {
    fn new(addr: &SocketAddr) -> RawAddr {
        match addr {
            SocketAddr::V4(v4) => RawAddr::V4(libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: v4.port().to_be(),
                // The octets are in network order already, as the kernel
                // wants them in memory.
                sin_addr: libc::in_addr { s_addr: u32::from_ne_bytes(v4.ip().octets()) },
                sin_zero: [0; 8],
            }),
            SocketAddr::V6(v6) => RawAddr::V6(libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: v6.port().to_be(),
                sin6_flowinfo: v6.flowinfo(),
                sin6_addr: libc::in6_addr { s6_addr: v6.ip().octets() },
                sin6_scope_id: v6.scope_id(),
            }),
        }
    }

    fn as_ptr(&self) -> *const libc::sockaddr {
        match self {
            RawAddr::V4(v4) => (v4 as *const libc::sockaddr_in).cast(),
            RawAddr::V6(v6) => (v6 as *const libc::sockaddr_in6).cast(),
        }
    }

    fn len(&self) -> libc::socklen_t {
        let len = match self {
            RawAddr::V4(_) => size_of::<libc::sockaddr_in>(),
            RawAddr::V6(_) => size_of::<libc::sockaddr_in6>(),
        };
        len as libc::socklen_t
    }
}
