//! Any file descriptor on the loop: [`Async<T>`], kettle's `loop.add_reader`
//! and `loop.add_writer`.
//!
//! Sockets are not the only things a program waits for. Embedders bring
//! pipes, an inotify or eventfd descriptor, a serial port, a socket some
//! other library created. asyncio takes a callback for them
//! (`loop.add_reader(fd, cb)`); kettle takes the descriptor itself:
//! [`Async::new`] registers any `T: AsFd` with the current runtime's
//! reactor, and its futures wait on it the way kettle's own sockets do.
//!
//! # What epoll can watch
//!
//! Anything whose kernel driver can say "not now": pipes and FIFOs, sockets
//! of every family, terminals and serial ports, eventfd, timerfd, signalfd,
//! inotify, another epoll. Not regular files or directories: a disk read
//! never "would block", so epoll refuses them (`EPERM`), and so does
//! `Async::new`. Read files with [`spawn_blocking`](crate::spawn_blocking).
//!
//! # Three ways to wait
//!
//! The reactor keeps readiness per descriptor, edge-triggered: an event sets
//! a bit, and the bit stays set until an attempt proves it stale by
//! returning `WouldBlock` (the reactor's essay, `src/runtime/reactor.rs`,
//! tells the whole story). `Async` offers that record at three levels:
//!
//! - [`read_with`](Async::read_with) and [`write_with`](Async::write_with)
//!   are the complete rule, the one kettle's sockets follow: wait until the
//!   direction is ready, try the caller's non-blocking operation once, and on
//!   `WouldBlock` clear the readiness that attempt observed — that
//!   direction's bits, never the other's: a read that would block says
//!   nothing about writing — then wait for the next edge. One attempt per
//!   poll, so an operation that keeps failing waits instead of spinning.
//! - [`readable`](Async::readable) and [`writable`](Async::writable) wait
//!   for the bit and leave it set: nothing was tried, so nothing is known to
//!   be stale. The next `read_with` tries, and clears it if it must. (So a
//!   loop of `readable().await` and a raw read that ignores `WouldBlock`
//!   spins: the bit it waits for is never cleared.)
//! - The `poll_` forms ([`poll_read_with`](Async::poll_read_with),
//!   [`poll_readable`](Async::poll_readable), and their write twins) are the
//!   same steps for code that has no future to keep state in, such as an
//!   `AsyncRead` implementation. Each direction keeps only the latest such
//!   poll's waker (the reactor's "poll slot").
//!
//! The futures each own an entry in their direction's waiter list and give
//! it back when they finish or are dropped (`ops.rs`), so a `readable()`
//! cancelled by a timeout leaves nothing behind.
//!
//! Sockets take one shortcut that `Async` does not: a stream read that comes
//! back shorter than its buffer clears "readable" without waiting for
//! `WouldBlock`. For an arbitrary descriptor a short read proves nothing —
//! a datagram or `SOCK_SEQPACKET` socket returns one message however many
//! are queued, an eventfd always returns 8 bytes — so here only `WouldBlock`
//! clears readiness.
//!
//! # Non-blocking, and who else sees it
//!
//! epoll only says when to try; the try itself must not block, or the whole
//! loop stops with it. `Async::new` therefore sets `O_NONBLOCK` (with
//! `fcntl`, this module's one `unsafe` block). The flag belongs to the *open
//! file description*, not to the descriptor number: every `dup` of it sees
//! it too, and so does every process sharing it — wrapping a dup of stdin
//! makes stdin non-blocking for the whole process, and for the shell after
//! it. [`into_inner`](Async::into_inner) gives the descriptor back still
//! non-blocking.
//!
//! # Lifetimes
//!
//! An `Async` belongs to the runtime it was created in (it is `!Send`, like
//! kettle's sockets) and holds only a weak reference to it. Once that runtime
//! is dropped, every operation fails at once with an error, instead of
//! waiting for events no epoll will ever deliver; inside another runtime on
//! the same thread, an operation that would wait fails too (its own runtime
//! cannot run meanwhile, so nothing would wake it).
//!
//! Dropping an `Async` takes the descriptor out of epoll *before* `T` is
//! dropped and closes it. Closing alone is not enough when the descriptor is
//! a `dup`: epoll forgets a file only when its last descriptor closes, and
//! would go on reporting events for a registration nobody owns.
//! [`into_inner`](Async::into_inner) takes it out of epoll too, and hands `T`
//! back open.
//!
//! epoll knows a registration by its descriptor number, so one number can be
//! wrapped only once per runtime at a time: wrapping it again (two
//! `Async<&UnixStream>` of one stream, say) fails with `AlreadyExists`.
//! Wrap a `dup` instead (`try_clone`); each then has its own readiness.

mod async_fd;
#[cfg(feature = "futures-io")]
mod futures_io;
mod ops;
#[cfg(feature = "tokio-io")]
mod tokio_io;

pub use async_fd::Async;
pub use ops::{IoWith, IoWithMut, Ready};
