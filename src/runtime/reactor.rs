//! The reactor: readiness from mio, a waker per direction.
//!
//! An I/O object (a socket, the signal pipe) registers its file descriptor
//! once with the runtime's mio poll and gets a [`Registration`]. The
//! registration's slab key is the mio token, and its [`ScheduledIo`] keeps two
//! things per direction (read, write): what readiness the kernel last reported,
//! and the wakers of the tasks waiting for it.
//!
//! # Edge-triggered readiness
//!
//! mio registers descriptors edge-triggered: epoll reports a change *once*,
//! not for as long as it lasts. So kettle remembers readiness itself. Step 1
//! of a turn ORs each event into the source's readiness bits and wakes the
//! waiting task; the bits stay set while the task performs I/O, and are
//! cleared only when the operating system says `WouldBlock` — at which point
//! the next edge is guaranteed to produce a new event. Every I/O operation is
//! therefore the same loop, [`Registration::poll_io`]: wait until ready, try
//! the operation, and on `WouldBlock` clear exactly the readiness bits that
//! attempt observed, then wait again.
//!
//! Clearing can't race with a new event: events are only recorded in step 1,
//! and I/O operations only run in step 4 (or between turns), on the same
//! thread. An edge that happens after our `WouldBlock` is reported by the next
//! `epoll_wait`.
//!
//! # Lifetimes
//!
//! A registration holds only a weak reference to the runtime: sockets may
//! outlive it (their operations then fail with an error instead of keeping
//! the epoll descriptor alive). Owners deregister the descriptor before
//! closing it, and dropping the registration frees its slot.
//!
//! # Waiters
//!
//! Each direction keeps a short list of waiting tasks' wakers, not just one:
//! several tasks may wait on one socket (a shared listener, a UDP socket).
//! An event wakes every waiter of its direction and empties the list; the
//! first to retry gets the data, the others see `WouldBlock` and wait again.
//! A waiting operation that is dropped (its task cancelled, a timeout)
//! removes its waker ([`Registration::forget_waker`]), so no stale waker
//! stays behind.

use std::cell::{Cell, RefCell};
use std::io;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};

use slab::Slab;

use super::context;
use super::core::Core;

/// Readiness bits, as recorded from mio events.
const READABLE: u8 = 1 << 0;
const WRITABLE: u8 = 1 << 1;
const READ_CLOSED: u8 = 1 << 2;
const WRITE_CLOSED: u8 = 1 << 3;
const ERROR: u8 = 1 << 4;

/// Which half of a descriptor an operation needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Reading, accepting, receiving.
    Read,
    /// Writing, connecting, sending.
    Write,
}

impl Direction {
    /// The readiness bits that let an operation in this direction proceed
    /// (closed and error states do too: the operation then reports them).
    fn mask(self) -> u8 {
        match self {
            Direction::Read => READABLE | READ_CLOSED | ERROR,
            Direction::Write => WRITABLE | WRITE_CLOSED | ERROR,
        }
    }
}

/// What the reactor knows about one registered descriptor.
#[derive(Default)]
pub(crate) struct ScheduledIo {
    readiness: Cell<u8>,
    /// Tasks waiting to read (usually one; several share a listener or a UDP
    /// socket). All are woken by a readiness event: the first to try gets the
    /// data, the others see `WouldBlock` and wait again.
    readers: RefCell<Vec<Waker>>,
    /// Tasks waiting to write, likewise.
    writers: RefCell<Vec<Waker>>,
}

impl ScheduledIo {
    fn waiters(&self, direction: Direction) -> &RefCell<Vec<Waker>> {
        match direction {
            Direction::Read => &self.readers,
            Direction::Write => &self.writers,
        }
    }
}

/// All descriptors registered with one runtime, by mio token.
#[derive(Default)]
pub(crate) struct Reactor {
    sources: RefCell<Slab<Rc<ScheduledIo>>>,
}

impl Reactor {
    /// Number of registered descriptors.
    pub(crate) fn len(&self) -> usize {
        self.sources.borrow().len()
    }

    /// Records one event and collects the wakers it releases into `wake`
    /// (fired by the caller once every borrow is released).
    pub(crate) fn dispatch(&self, event: &mio::event::Event, wake: &mut Vec<Waker>) {
        let sources = self.sources.borrow();
        // A token with no source: the descriptor was deregistered after the
        // kernel queued the event. Nothing waits for it any more.
        let Some(io) = sources.get(event.token().0) else { return };
        let mut bits = 0;
        if event.is_readable() {
            bits |= READABLE;
        }
        if event.is_writable() {
            bits |= WRITABLE;
        }
        if event.is_read_closed() {
            bits |= READ_CLOSED;
        }
        if event.is_write_closed() {
            bits |= WRITE_CLOSED;
        }
        if event.is_error() {
            bits |= ERROR;
        }
        io.readiness.set(io.readiness.get() | bits);
        for direction in [Direction::Read, Direction::Write] {
            if bits & direction.mask() != 0 {
                wake.append(&mut io.waiters(direction).borrow_mut());
            }
        }
    }
}

/// A descriptor's registration with the current runtime's reactor.
pub(crate) struct Registration {
    core: Weak<Core>,
    token: mio::Token,
    io: Rc<ScheduledIo>,
}

impl Registration {
    /// Registers `source` with the runtime running on this thread.
    ///
    /// # Panics
    /// Outside a runtime (with `what` naming the caller).
    #[track_caller]
    pub(crate) fn new(
        what: &str,
        source: &mut impl mio::event::Source,
        interest: mio::Interest,
    ) -> io::Result<Registration> {
        context::expect_current(what, |core| {
            let io = Rc::new(ScheduledIo::default());
            let token = mio::Token(core.reactor.sources.borrow_mut().insert(io.clone()));
            if let Err(e) = core.registry(|registry| registry.register(source, token, interest)) {
                core.reactor.sources.borrow_mut().remove(token.0);
                return Err(e);
            }
            Ok(Registration { core: Rc::downgrade(core), token, io })
        })
    }

    /// Ready when the kernel has reported readiness in `direction`; returns
    /// the readiness bits seen (pass them to [`clear_readiness`](Self::clear_readiness)).
    pub(crate) fn poll_ready(&self, cx: &mut Context<'_>, direction: Direction) -> Poll<u8> {
        let ready = self.io.readiness.get() & direction.mask();
        if ready != 0 {
            return Poll::Ready(ready);
        }
        let mut waiters = self.io.waiters(direction).borrow_mut();
        if !waiters.iter().any(|waiter| waiter.will_wake(cx.waker())) {
            waiters.push(cx.waker().clone());
        }
        Poll::Pending
    }

    /// The operation hit `WouldBlock`: forget the readiness it observed, so
    /// the next poll waits for a new edge. Closed and error states stay.
    pub(crate) fn clear_readiness(&self, observed: u8) {
        let clear = observed & (READABLE | WRITABLE);
        self.io.readiness.set(self.io.readiness.get() & !clear);
    }

    /// Performs `op` once the descriptor is ready in `direction`, retrying
    /// after each `WouldBlock` (the edge-triggered loop in the module docs).
    ///
    /// `drained` says, from a successful result, whether the operation
    /// certainly emptied (or filled) the kernel buffer — a read or write that
    /// came back short. Readiness is then cleared at once, saving the system
    /// call that would only have returned `WouldBlock`; any data that arrives
    /// later raises a new edge, as after a `WouldBlock`.
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        mut op: impl FnMut() -> io::Result<R>,
        drained: impl Fn(&R) -> bool,
    ) -> Poll<io::Result<R>> {
        if self.core.strong_count() == 0 {
            // Its epoll is closed: nothing would ever report readiness again.
            return Poll::Ready(Err(io::Error::other(
                "the kettle runtime this socket was created in has been dropped",
            )));
        }
        loop {
            let Poll::Ready(observed) = self.poll_ready(cx, direction) else {
                return Poll::Pending;
            };
            match op() {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.clear_readiness(observed),
                Ok(value) => {
                    if drained(&value) {
                        self.clear_readiness(observed);
                    }
                    return Poll::Ready(Ok(value));
                }
                result => return Poll::Ready(result),
            }
        }
    }

    /// Removes `waker` from `direction`'s waiters: a waiter going away
    /// leaves no stale waker behind. (Two operations of one task waiting on
    /// the same socket in the same direction share one entry; the other one
    /// registers again on its task's next poll.)
    pub(crate) fn forget_waker(&self, direction: Direction, waker: &Waker) {
        let mut waiters = self.io.waiters(direction).borrow_mut();
        if let Some(position) = waiters.iter().position(|waiter| waiter.will_wake(waker)) {
            waiters.swap_remove(position);
        }
    }

    /// Removes `source` from the runtime's epoll. Owners call it before
    /// closing the descriptor: closing alone is not enough when the
    /// descriptor is a `dup` (epoll forgets a file only when its last
    /// descriptor closes). A registration whose runtime is gone has nothing
    /// to undo.
    pub(crate) fn deregister(&self, source: &mut impl mio::event::Source) {
        if let Some(core) = self.core.upgrade() {
            // Fails only if the descriptor was already closed, which removed
            // it from epoll anyway.
            let _ = core.registry(|registry| registry.deregister(source));
        }
    }
}

impl Drop for Registration {
    /// Frees the slot. Any event still queued for this token finds no source
    /// (or, if the slot was reused, causes one spurious wake-up, which every
    /// poller tolerates).
    fn drop(&mut self) {
        if let Some(core) = self.core.upgrade() {
            let removed = core.reactor.sources.borrow_mut().try_remove(self.token.0);
            debug_assert!(removed.is_some(), "a registration owns its slab slot until dropped");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Runtime;
    use std::io::{Read, Write};
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;
    use std::time::Duration;

    /// Polls `registration` for `direction` once, with a no-op waker.
    fn ready(registration: &Registration, direction: Direction) -> bool {
        let mut cx = Context::from_waker(Waker::noop());
        registration.poll_ready(&mut cx, direction).is_ready()
    }

    #[test]
    fn readiness_lasts_until_cleared_after_would_block_then_waits_for_a_new_edge() {
        let rt = Runtime::new().unwrap();
        let (mut ours, mut theirs) = UnixStream::pair().unwrap();
        ours.set_nonblocking(true).unwrap();
        let fd = ours.as_raw_fd();
        let registration = rt.block_on(async {
            Registration::new("test", &mut mio::unix::SourceFd(&fd), mio::Interest::READABLE).unwrap()
        });
        assert_eq!(rt.metrics().io_sources, 1);
        assert!(!ready(&registration, Direction::Read), "nothing reported yet");

        theirs.write_all(b"ab").unwrap();
        rt.turn(Some(Duration::from_secs(1)));
        assert!(ready(&registration, Direction::Read), "the edge was recorded");
        let mut byte = [0u8; 1];
        ours.read_exact(&mut byte).unwrap();
        rt.turn(Some(Duration::ZERO));
        assert!(ready(&registration, Direction::Read), "still ready: no WouldBlock seen yet");
        ours.read_exact(&mut byte).unwrap();
        let mut cx = Context::from_waker(Waker::noop());
        let Poll::Ready(observed) = registration.poll_ready(&mut cx, Direction::Read) else { panic!() };
        assert_eq!(ours.read(&mut byte).unwrap_err().kind(), io::ErrorKind::WouldBlock);
        registration.clear_readiness(observed);
        assert!(!ready(&registration, Direction::Read), "cleared after WouldBlock");

        theirs.write_all(b"c").unwrap();
        rt.turn(Some(Duration::from_secs(1)));
        assert!(ready(&registration, Direction::Read), "a new edge after the drain is reported");

        registration.deregister(&mut mio::unix::SourceFd(&fd));
        drop(registration);
        assert_eq!(rt.metrics().io_sources, 0, "the slot is freed");
    }

    #[test]
    fn an_event_wakes_the_waiting_direction_only() {
        let rt = Runtime::new().unwrap();
        let (ours, theirs) = UnixStream::pair().unwrap();
        ours.set_nonblocking(true).unwrap();
        let fd = ours.as_raw_fd();
        let log = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let registration = std::rc::Rc::new(rt.block_on(async {
            Registration::new("test", &mut mio::unix::SourceFd(&fd), mio::Interest::READABLE).unwrap()
        }));
        let (reg, reader_log) = (registration.clone(), log.clone());
        let _reader = rt.spawn(std::future::poll_fn(move |cx| {
            reader_log.borrow_mut().push("reader polled");
            reg.poll_ready(cx, Direction::Read).map(|_| ())
        }));
        rt.turn(Some(Duration::ZERO));
        assert_eq!(rt.turn(Some(Duration::ZERO)).tasks_run, 0, "waiting, not spinning");
        (&theirs).write_all(b"x").unwrap();
        let turn = rt.turn(Some(Duration::from_secs(1)));
        assert_eq!(turn.io_events, 1);
        assert_eq!(turn.tasks_run, 1, "the reader was woken by the event");
        assert_eq!(*log.borrow(), ["reader polled", "reader polled"]);
        registration.deregister(&mut mio::unix::SourceFd(&fd));
    }
}
