//! hyper on kettle, without glue (cargo feature `hyper`): the three things
//! hyper asks of a runtime, for kettle's sockets, tasks and timers.
//!
//! [hyper](https://docs.rs/hyper) is an HTTP library that owns no runtime.
//! It speaks HTTP over any value implementing its own I/O traits
//! (`hyper::rt::Read` and `Write`), runs its background work — HTTP/2
//! streams, a client connection's pieces — on whatever implements
//! `rt::Executor`, and waits for its timeouts (a request head that takes too
//! long, HTTP/2 keep-alive pings) through `rt::Timer`. This module has one
//! type for each:
//!
//! - [`KettleIo<T>`] wraps a kettle stream — [`TcpStream`], [`UnixStream`],
//!   or a half of either — and implements `rt::Read` if it can read
//!   ([`PollRead`]) and `rt::Write` if it can write ([`PollWrite`]);
//! - [`KettleExecutor`] spawns hyper's futures as tasks on the current
//!   runtime; they need not be `Send`, as no kettle task does;
//! - [`KettleTimer`] makes kettle [`Sleep`]s and resets them
//!   in place.
//!
//! Each is a thin layer over a method kettle has anyway: the streams'
//! poll-level methods (`poll_read_uninit`, `poll_write_vectored`, ...),
//! [`spawn`](crate::spawn), [`sleep_until`](crate::sleep_until) and
//! [`Sleep::reset`](crate::Sleep::reset).
//!
//! ```
//! use std::convert::Infallible;
//! use hyper::{Request, Response, service::service_fn};
//! use kettle::hyper::{KettleIo, KettleTimer};
//! use kettle::net::{TcpListener, TcpStream};
//!
//! kettle::run(async {
//!     let listener = TcpListener::bind("127.0.0.1:0")?;
//!     let addr = listener.local_addr()?;
//!     // The server: hyper's HTTP/1.1 connection, one task per client.
//!     kettle::spawn(async move {
//!         while let Ok((stream, _)) = listener.accept().await {
//!             let hello = service_fn(|_| async { Ok::<_, Infallible>(Response::new("hello\n".to_string())) });
//!             let connection = hyper::server::conn::http1::Builder::new()
//!                 .timer(KettleTimer::new())
//!                 .serve_connection(KettleIo::new(stream), hello);
//!             kettle::spawn(connection).detach();
//!         }
//!     })
//!     .detach();
//!     // A client: hyper's client::conn over a kettle stream.
//!     let stream = KettleIo::new(TcpStream::connect(addr).await?);
//!     let (mut sender, connection) = hyper::client::conn::http1::handshake(stream).await?;
//!     kettle::spawn(connection).detach();
//!     let request = Request::get("/").header("host", "kettle").body(String::new())?;
//!     let response = sender.send_request(request).await?;
//!     assert_eq!(response.status(), 200);
//!     Ok::<_, Box<dyn std::error::Error>>(())
//! })
//! .unwrap();
//! ```
//!
//! # Reading without zeroing
//!
//! hyper reads into the spare capacity of its own buffer, handed over as a
//! `ReadBufCursor`: memory that may be uninitialised. A bridge that only has
//! `read(&mut [u8])` must zero that memory first (a `&mut [u8]` over
//! uninitialised bytes is undefined behaviour), a `memset` of the whole
//! spare capacity — 8 KiB and more — before every read. kettle's streams
//! have [`poll_read_uninit`](TcpStream::poll_read_uninit), a `recv` into
//! `&mut [MaybeUninit<u8>]`, so [`KettleIo`] reads straight into the
//! cursor's spare capacity and then advances the cursor over the bytes the
//! kernel wrote. Those two steps are this module's only `unsafe`. The read
//! itself is shared with the `tokio-io` feature's bridge, which does the
//! same for tokio's `ReadBuf` (`src/net/poll_io.rs`).
//!
//! # Writing
//!
//! hyper's HTTP/1.1 encoder keeps a response's head and body as separate
//! buffers and, when the transport says [`is_write_vectored`], hands them
//! over together: `KettleIo` says yes, and one `sendmsg` sends them (not the
//! trait's default, one buffer per call; a lone buffer, such as a body-less
//! request's head, goes as a plain `send`). Nothing is buffered in user space,
//! so `poll_flush` has nothing to do; `poll_shutdown` shuts down the writing
//! side, and a connection the peer has already reset counts as shut (`Ok`),
//! so a client that hangs up does not turn hyper's closing of the connection
//! into an error.
//!
//! [`is_write_vectored`]: ::hyper::rt::Write::is_write_vectored
//!
//! # Wakers
//!
//! The poll-level methods keep **one waker per direction** (the latest
//! poll's; see [`TcpStream`]'s "Poll-level I/O"). hyper polls each
//! connection from one task, reads and writes alike, so that is all it
//! needs. A stream split into halves, each in its own `KettleIo`, keeps one
//! waker per half, since each half has one direction.
//!
//! # Timers
//!
//! hyper requires its sleeps to be `Send + Sync`. A kettle `Sleep` is: it is
//! plain data — a deadline and the key of its timer — and binds to the
//! runtime that first polls it. hyper resets a sleep to move its deadline
//! (the header-read timeout of each new request, the keep-alive ping);
//! [`KettleTimer`] recognises its own sleeps and calls
//! [`Sleep::reset`](crate::Sleep::reset) in place, keeping the allocation.
//! As with hyper's own default (which builds a new sleep), a reset sleep
//! waits again from its next poll.
//!
//! # What works, and what does not
//!
//! Works: hyper's servers (`hyper::server::conn::http1`, and `http2` with
//! [`KettleExecutor`] when hyper's `http2` feature is on — kettle's
//! `hyper-http2` feature turns it on) and its connection-level clients
//! (`hyper::client::conn::http1::handshake`, and `http2`), over TCP or Unix
//! sockets. Graceful shutdown is hyper's own
//! (`Connection::graceful_shutdown`); `examples/hyper_hello.rs` shows a
//! whole server.
//!
//! Does not: hyper-util's pooled client (`hyper_util::client::legacy`)
//! requires its connections to be `Send`, and its executor to run `Send`
//! futures from any thread. kettle's sockets are `!Send` (they belong to
//! the runtime whose thread made them), so that client cannot hold them;
//! use `client::conn` and keep the connections yourself.

use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use ::hyper::rt::{self, ReadBufCursor};

use crate::net::poll_io as sealed;
use crate::net::{OwnedReadHalf, OwnedWriteHalf, TcpStream, UnixStream, unix};
use crate::runtime::context;
use crate::time::Sleep;

/// A kettle stream (or half of one) as hyper's I/O: `hyper::rt::Read` when
/// `T` can read ([`PollRead`]), `hyper::rt::Write` when `T` can write
/// ([`PollWrite`]).
///
/// `T` is one of [`TcpStream`], [`UnixStream`], and their read and write
/// halves ([`OwnedReadHalf`], [`OwnedWriteHalf`], [`unix::OwnedReadHalf`],
/// [`unix::OwnedWriteHalf`]). Reads go into hyper's buffer without zeroing
/// it first, vectored writes are one `sendmsg`, and nothing is buffered
/// (module docs).
///
/// ```
/// use hyper::rt::Write as _;
/// use kettle::hyper::KettleIo;
///
/// let (io, _peer) = kettle::run(async { kettle::net::UnixStream::pair() })?;
/// let io = KettleIo::new(io);
/// assert!(io.is_write_vectored());
/// # Ok::<_, std::io::Error>(())
/// ```
pub struct KettleIo<T> {
    inner: T,
}

impl<T> KettleIo<T> {
    /// Wraps `inner` for hyper.
    ///
    /// ```
    /// kettle::run(async {
    ///     let listener = kettle::net::TcpListener::bind("127.0.0.1:0")?;
    ///     let stream = kettle::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     let io = kettle::hyper::KettleIo::new(stream);
    ///     // `io` is ready for hyper::server::conn or hyper::client::conn.
    ///     # drop(io);
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn new(inner: T) -> KettleIo<T> {
        KettleIo { inner }
    }

    /// The wrapped stream.
    ///
    /// ```
    /// kettle::run(async {
    ///     let listener = kettle::net::TcpListener::bind("127.0.0.1:0")?;
    ///     let stream = kettle::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     let io = kettle::hyper::KettleIo::new(stream);
    ///     assert_eq!(io.inner().peer_addr()?, listener.local_addr()?);
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn inner(&self) -> &T {
        &self.inner
    }

    /// The wrapped stream, mutably (for its `async` methods, which take
    /// `&mut self`).
    ///
    /// ```
    /// kettle::run(async {
    ///     let (a, mut b) = kettle::net::UnixStream::pair()?;
    ///     let mut io = kettle::hyper::KettleIo::new(a);
    ///     io.inner_mut().write_all(b"hi").await?;
    ///     let mut buf = [0; 2];
    ///     b.read_exact(&mut buf).await?;
    ///     assert_eq!(&buf, b"hi");
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn inner_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Unwraps the stream: after an HTTP/1.1 upgrade, say, once hyper has
    /// handed its connection back (`Connection::into_parts`).
    ///
    /// ```
    /// kettle::run(async {
    ///     let (a, _b) = kettle::net::UnixStream::pair()?;
    ///     let io = kettle::hyper::KettleIo::new(a);
    ///     let a: kettle::net::UnixStream = io.into_inner();
    ///     a.shutdown(std::net::Shutdown::Both)?;
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn into_inner(self) -> T {
        self.inner
    }
}

/// `Unpin` whatever `T` is (hyper requires its I/O to be `Unpin`): the
/// stream is never pinned, as every method reaches it through `&self`.
impl<T> Unpin for KettleIo<T> {}

impl<T: PollRead> rt::Read for KettleIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        // SAFETY: no initialised byte is made uninitialised again (`as_mut`'s
        // contract): only `recv` writes the slice, and it stores bytes.
        let spare = unsafe { buf.as_mut() };
        let n = ready!(self.inner.poll_read_spare(cx, spare))?;
        // SAFETY: the next `n` bytes are initialised (`advance`'s contract):
        // `poll_read_spare`'s `Ok(n)` means `spare`'s first `n` hold data.
        unsafe { buf.advance(n) };
        Poll::Ready(Ok(()))
    }
}

impl<T: PollWrite> rt::Write for KettleIo<T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        sealed::WriteSide::poll_write(&self.inner, cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        sealed::WriteSide::poll_write_vectored(&self.inner, cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    /// Nothing to flush: every write goes straight to the socket.
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Shuts down the writing side; `Ok` if the peer has already reset the
    /// connection.
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.inner.shutdown_write())
    }
}

/// kettle's streams that can read: [`TcpStream`], [`UnixStream`],
/// [`OwnedReadHalf`] and [`unix::OwnedReadHalf`]. A [`KettleIo`] over one
/// implements `hyper::rt::Read`.
///
/// Sealed: its method is the stream's own `poll_read_uninit`, and it is
/// implemented for kettle's types only.
///
/// ```
/// fn readable<T: kettle::hyper::PollRead>() {}
/// readable::<kettle::net::OwnedReadHalf>();
/// readable::<kettle::net::unix::OwnedReadHalf>();
/// ```
///
/// A write half cannot read:
///
/// ```compile_fail
/// fn readable<T: kettle::hyper::PollRead>() {}
/// readable::<kettle::net::OwnedWriteHalf>();
/// ```
pub trait PollRead: sealed::ReadSide {}

/// kettle's streams that can write: [`TcpStream`], [`UnixStream`],
/// [`OwnedWriteHalf`] and [`unix::OwnedWriteHalf`]. A [`KettleIo`] over one
/// implements `hyper::rt::Write`.
///
/// Sealed: its methods are the stream's own `poll_write`,
/// `poll_write_vectored` and write-side `shutdown`, and it is implemented
/// for kettle's types only.
///
/// ```
/// fn writable<T: kettle::hyper::PollWrite>() {}
/// writable::<kettle::net::OwnedWriteHalf>();
/// writable::<kettle::net::unix::OwnedWriteHalf>();
/// ```
///
/// A read half cannot write:
///
/// ```compile_fail
/// fn writable<T: kettle::hyper::PollWrite>() {}
/// writable::<kettle::net::unix::OwnedReadHalf>();
/// ```
pub trait PollWrite: sealed::WriteSide {}

// The traits behind `PollRead` and `PollWrite`, and their impls for each
// stream, are shared with the `tokio-io` bridge (`src/net/poll_io.rs`), out
// of reach of other crates, so that nothing else can implement them.
impl PollRead for TcpStream {}
impl PollRead for UnixStream {}
impl PollRead for OwnedReadHalf {}
impl PollRead for unix::OwnedReadHalf {}
impl PollWrite for TcpStream {}
impl PollWrite for UnixStream {}
impl PollWrite for OwnedWriteHalf {}
impl PollWrite for unix::OwnedWriteHalf {}

/// hyper's `rt::Executor`: runs each future hyper hands over as a detached
/// task on the current runtime, as [`spawn`](crate::spawn) does. The futures
/// need not be `Send`.
///
/// hyper's HTTP/1.1 server and client need no executor; HTTP/2 does (its
/// builders take one), and so does anything else of hyper's that runs work
/// in the background.
///
/// # Panics
/// `execute` panics outside a runtime, as `spawn` does: hyper calls it from
/// the connection's own poll, so serve connections inside one.
///
/// ```
/// use hyper::rt::Executor;
/// use std::{cell::Cell, rc::Rc};
///
/// kettle::run(async {
///     let ran = Rc::new(Cell::new(false)); // not Send, and that is fine
///     let flag = ran.clone();
///     kettle::hyper::KettleExecutor::new().execute(async move { flag.set(true) });
///     kettle::yield_now().await; // the task runs on the loop's next turn
///     assert!(ran.get());
/// });
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct KettleExecutor {
    _private: (),
}

impl KettleExecutor {
    /// An executor for the runtime current wherever `execute` is called (it
    /// holds nothing; build it anywhere).
    ///
    /// ```
    /// let executor = kettle::hyper::KettleExecutor::new(); // no runtime needed yet
    /// # let _ = executor;
    /// ```
    pub const fn new() -> KettleExecutor {
        KettleExecutor { _private: () }
    }
}

impl<F: Future + 'static> rt::Executor<F> for KettleExecutor {
    #[track_caller]
    fn execute(&self, future: F) {
        let location = std::panic::Location::caller();
        let task =
            context::expect_current("hyper's KettleExecutor::execute", |core| core.spawn(future, location));
        crate::JoinHandle::<F::Output>::new(task).detach();
    }
}

/// hyper's `rt::Timer`, on kettle's timers: its sleeps are kettle
/// [`Sleep`]s, and `reset` moves one's deadline in place.
///
/// Give it to a server builder (`.timer(KettleTimer::new())`) for the
/// header-read timeout and HTTP/2 keep-alive. hyper's HTTP/1.1 server has a
/// 30-second header-read timeout by default but applies it only if it has
/// a timer — without one, a client that never sends a request head holds
/// its connection open for good — and panics if a timeout is set without
/// one.
///
/// Its `now()` is [`kettle::time::now`](crate::time::now), so in a runtime
/// built with [`start_paused(true)`](crate::Builder::start_paused) hyper's
/// timeouts follow the paused clock like every kettle timer: a test can
/// watch a 30-second header-read timeout fire in no real time.
///
/// ```
/// use std::time::{Duration, Instant};
/// use hyper::rt::Timer;
///
/// kettle::run(async {
///     let timer = kettle::hyper::KettleTimer::new();
///     let start = Instant::now();
///     let mut sleep = timer.sleep(Duration::from_millis(50));
///     timer.reset(&mut sleep, start + Duration::from_millis(5)); // sooner, same sleep
///     sleep.await;
///     assert!(start.elapsed() < Duration::from_millis(50));
/// });
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct KettleTimer {
    _private: (),
}

impl KettleTimer {
    /// A timer for the runtime that polls its sleeps (it holds nothing;
    /// build it anywhere).
    ///
    /// ```
    /// let mut builder = hyper::server::conn::http1::Builder::new();
    /// builder.timer(kettle::hyper::KettleTimer::new()).header_read_timeout(std::time::Duration::from_secs(5));
    /// ```
    pub const fn new() -> KettleTimer {
        KettleTimer { _private: () }
    }
}

impl rt::Timer for KettleTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn rt::Sleep>> {
        Box::pin(TimerSleep(crate::sleep(duration)))
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn rt::Sleep>> {
        Box::pin(TimerSleep(crate::sleep_until(deadline)))
    }

    /// [`kettle::time::now`](crate::time::now): the runtime's paused clock
    /// in a runtime built with `start_paused(true)`, so hyper's deadlines
    /// (it adds its timeouts to this) are on the clock its sleeps wait on.
    fn now(&self) -> Instant {
        crate::time::now()
    }

    /// Moves the deadline of a sleep this timer made, in place; any other
    /// sleep is replaced by one of ours.
    fn reset(&self, sleep: &mut Pin<Box<dyn rt::Sleep>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<TimerSleep>() {
            Some(ours) => ours.get_mut().0.reset(new_deadline),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

/// A kettle [`Sleep`] as hyper's `rt::Sleep`. Private: hyper sees it as
/// `dyn rt::Sleep`, and only [`KettleTimer::reset`](rt::Timer::reset) needs
/// its type, to find it again.
struct TimerSleep(Sleep);

impl Future for TimerSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx)
    }
}

impl rt::Sleep for TimerSleep {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kettle_sleep_is_send_and_sync_as_hyper_requires() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Sleep>();
        send_sync::<TimerSleep>();
        send_sync::<KettleExecutor>();
        send_sync::<KettleTimer>();
    }

    #[test]
    fn the_timer_tells_hyper_the_paused_clocks_time() {
        use rt::Timer;
        let rt = crate::Builder::new().start_paused(true).build().unwrap();
        rt.block_on(async {
            let timer = KettleTimer::new();
            let start = timer.now();
            assert_eq!(start, crate::time::now());
            timer.sleep(Duration::from_secs(30)).await; // hyper's header-read timeout, say
            assert_eq!(timer.now() - start, Duration::from_secs(30));
        });
    }
}
