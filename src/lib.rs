//! # kettle
//!
//! A small single-threaded async runtime, written from scratch on
//! [mio](https://docs.rs/mio) and [slab](https://docs.rs/slab), that speaks
//! Python asyncio's vocabulary in Rust.
//!
//! ```
//! use std::time::{Duration, Instant};
//!
//! kettle::run(async {
//!     let start = Instant::now();
//!     let downloads: Vec<_> = [30, 10, 20]
//!         .into_iter()
//!         .map(|ms| kettle::spawn(async move {
//!             kettle::sleep(Duration::from_millis(ms)).await;
//!             ms
//!         }))
//!         .collect();
//!     for download in downloads {
//!         download.await.unwrap();
//!     }
//!     // Concurrent: about as long as the slowest, not the sum.
//!     assert!(start.elapsed() < Duration::from_millis(60));
//! });
//! ```
//!
//! # A map for readers
//!
//! kettle is meant to be read. The README at the repository root gives a
//! reading path that answers seven questions in about 45 minutes, starting
//! with `kettle-mini` (`mini/` in the repository): the same loop with every
//! shortcut replaced by its simple version and no extras, checked against
//! this one. `DESIGN.md` walks one loop turn and one task's life end to end
//! and explains the choices. The modules:
//!
//! - [`runtime`]: the loop — `Core` (the loop thread's state and the turn:
//!   the mechanism first, the shortcuts' state and the extras behind one
//!   field each), the run queue, `Shared` (the injector other threads use),
//!   the thread-local context, the reactor (readiness from mio, a waiter
//!   list per direction), the blocking pool's threads; debug mode and task
//!   dumps;
//! - [`task`]: the task cell (one allocation per task), its state word,
//!   wakers, join handles, done callbacks; ids, names, [`task::TaskInfo`];
//! - [`trace`]: a timeline of the loop's turns, drawn as SVG or written for
//!   Perfetto;
//! - [`time`]: the timer heap, sleeps, timeouts, intervals, callbacks,
//!   and [`time::now`], the clock they all read (paused in tests);
//! - [`combinators`]: `gather`, `try_gather`, `race`, `join!`, `TaskGroup`;
//! - [`sync`]: `Queue`, `Event`, `Mutex`, `Semaphore`, `oneshot`, on one
//!   FIFO waiter list;
//! - [`net`]: TCP, UDP and Unix sockets — each operation an async method, a
//!   poll-level method for adapters, or a `try_` method;
//! - [`io`]: [`io::Async`], any pollable file descriptor (a pipe, an eventfd,
//!   another library's socket) on the reactor;
//! - [`process`]: child processes, waited for on the reactor (a pidfd,
//!   or `SIGCHLD`), with async pipes;
//! - [`spawn_blocking`] (a thread pool) and [`signal`] (any signal, on a
//!   self-pipe);
//! - [`fs`]: files and directories, each operation a trip to the blocking
//!   pool, and a buffered [`fs::File`];
//! - [`test`](mod@test): [`test::check`], a test body run over many seeds of
//!   [`Builder::seed`], with [`Builder::start_paused`] for time.
//!
//! # asyncio → kettle
//!
//! | asyncio                              | kettle                                   |
//! |--------------------------------------|------------------------------------------|
//! | `asyncio.run(main())`                | [`run`]                                  |
//! | `loop.run_until_complete(f)`         | [`Runtime::block_on`]                    |
//! | `loop.run_forever()` / `loop.stop()` | [`Runtime::run_forever`] / [`Handle::stop`] |
//! | `loop.close()`                      | [`Runtime::shutdown`] (or dropping the runtime) |
//! | `asyncio.create_task(c)`             | [`spawn`]                                |
//! | `task.cancel()`, `task.done()`       | [`JoinHandle::cancel`], [`JoinHandle::is_finished`] |
//! | `asyncio.sleep(s)`                   | [`sleep`]                                |
//! | `asyncio.wait_for(c, s)`             | [`timeout`]                              |
//! | `loop.call_soon/call_later/call_at`  | [`call_soon`], [`call_later`], [`call_at`] |
//! | `run_coroutine_threadsafe(c, loop)`  | [`Handle::spawn`], [`Handle::spawn_with`] |
//! | `loop.call_soon_threadsafe(f)`       | [`Handle::call_soon`]                    |
//! | `task.add_done_callback(cb)`         | [`JoinHandle::add_done_callback`]        |
//! | `asyncio.gather(*aws)`               | [`gather`], [`join!`]                    |
//! | `gather(..., return_exceptions=True)`| [`gather`] over `Result`s                |
//! | `asyncio.wait(FIRST_COMPLETED)`      | [`race`]                                 |
//! | `asyncio.TaskGroup()`                | [`TaskGroup`]                            |
//! | `asyncio.Queue`, `Event`, `Lock`, `Semaphore` | [`sync::Queue`], [`sync::Event`], [`sync::Mutex`], [`sync::Semaphore`] |
//! | `loop.run_in_executor(None, f)`      | [`spawn_blocking`]                       |
//! | `aiofiles.open(path)`                | [`fs::File::open`], [`fs::read`], [`fs::write`] |
//! | `loop.time()`                        | [`time::now`]                            |
//! | `loop.add_signal_handler(SIGINT, …)` | [`signal::ctrl_c`]                       |
//! | `loop.add_signal_handler(sig, …)`    | [`signal::signal`], then `recv().await`  |
//! | `create_task(c, name=…)`             | [`task::Builder`]                        |
//! | `asyncio.all_tasks()`, `current_task()` | [`Runtime::tasks`], [`Handle::tasks`], [`task::current`] |
//! | `loop.set_debug(True)`               | [`Builder::slow_poll_threshold`], `KETTLE_DEBUG=1` |
//! | `asyncio.open_connection` / `start_server` | [`net::TcpStream::connect`] / [`net::TcpListener::bind`] |
//! | `asyncio.open_unix_connection` / `start_unix_server` | [`net::UnixStream::connect`] / [`net::UnixListener::bind`] |
//! | `create_subprocess_exec` / `proc.communicate()` | [`process::Command::spawn`] / [`process::Child::wait_with_output`] |
//!
//! # Cargo features
//!
//! All are off by default; each is a bridge to another crate and adds
//! trait impls (and, for hyper, the three small types that carry them),
//! never behaviour — every impl calls an inherent method that exists
//! without the feature.
//!
//! - `futures-io`: `AsyncRead` and `AsyncWrite` for [`net::TcpStream`],
//!   [`net::UnixStream`] and their halves (see [`net`]), a child's
//!   pipes ([`process::ChildStdin`], [`process::ChildStdout`],
//!   [`process::ChildStderr`]); `AsyncRead`, `AsyncWrite` and `AsyncSeek`
//!   for [`fs::File`].
//! - `futures-core`: `Stream` (and `FusedStream`) for [`Interval`] (its
//!   ticks, over [`Interval::poll_tick`]) and [`sync::QueueStream`] (a
//!   queue's items until it is closed and drained, from
//!   [`sync::Queue::stream`], over [`sync::QueueStream::poll_next`]), a
//!   listener's connections ([`net::TcpListener::incoming`],
//!   [`net::UnixListener::incoming`]), a [`signal::Signal`]'s deliveries
//!   and a directory's entries ([`fs::ReadDir`]).
//! - `hyper`: `kettle::hyper` — hyper's I/O traits over kettle's streams
//!   (`KettleIo`), its executor (`KettleExecutor`, for `!Send` futures) and
//!   its timer (`KettleTimer`), with hyper's HTTP/1.1 server and client;
//!   `hyper-http2` adds hyper's HTTP/2 (and the `h2` crate's build time).
//! - `tokio-io`: tokio's `AsyncRead` and `AsyncWrite` (tokio without its
//!   runtime: the traits and `ReadBuf` only) for [`net::TcpStream`],
//!   [`net::UnixStream`], their halves, `&TcpStream`, `&UnixStream` and
//!   [`io::Async<T>`](io::Async), a child's pipes (see [`process`]) and
//!   [`fs::File`] (with `AsyncSeek`), so tokio-util's codecs and tokio-rustls
//!   run on kettle without a compat layer; socket reads fill tokio's
//!   `ReadBuf` without zeroing it.

#![deny(missing_docs)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod blocking;
pub mod combinators;
mod contain;
pub mod fs;
#[cfg(feature = "hyper")]
pub mod hyper;
pub mod io;
mod loom;
pub mod net;
pub mod process;
pub mod runtime;
pub mod signal;
mod stderr;
#[cfg(feature = "futures-core")]
mod stream;
pub mod sync;
pub mod task;
pub mod test;
pub mod time;
pub mod trace;

pub use blocking::spawn_blocking;
#[doc(hidden)]
pub use combinators::__private;
pub use combinators::{TaskGroup, gather, race, try_gather};

pub use runtime::{
    Builder, Handle, Metrics, Runtime, RuntimeClosed, SlowPoll, Turn, TurnError, metrics, run,
};
pub use task::{JoinError, JoinHandle, RemoteJoinHandle, spawn, yield_now};
pub use time::{
    Elapsed, Interval, Sleep, TimerHandle, call_at, call_later, call_soon, interval, interval_at, sleep,
    sleep_until, timeout, timeout_at,
};
pub use trace::{Phase, TaskLabel, Trace, TraceEvent};
