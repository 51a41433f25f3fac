//! The reactor: readiness from mio, a waiter list per direction.
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
//! not for as long as it lasts. So kettle remembers readiness itself. The
//! turn's poll step ORs each event into the source's readiness bits and
//! wakes the operations waiting for that direction; the bits stay set while
//! tasks perform I/O. Every I/O operation is therefore the same step,
//! [`Registration::poll_io`]: if the direction is ready, try the operation
//! once; on `WouldBlock`, clear the readiness bits that attempt observed and
//! wait for the next edge.
//!
//! A bit is state, and each one is set in one place and cleared in two:
//!
//! - every bit is set by an event, in the poll step;
//! - every bit an operation acted on is cleared by its `WouldBlock` —
//!   *whatever* the bit: `WouldBlock` proves the readiness was stale, be it
//!   "readable", "closed" or "error";
//! - "readable" (or "writable") is also cleared by a stream read (or write)
//!   that comes back shorter than its buffer: it has certainly emptied (or
//!   filled) the kernel buffer, so the `WouldBlock` that would follow is not
//!   worth a system call. Closed and error bits stay: a short read says
//!   nothing about them.
//!
//! The short-read rule relies on epoll's edge-triggered behaviour, beyond
//! mio's documented contract. mio promises another event only after an
//! operation has returned `WouldBlock` ("Draining readiness" in its `Poll`
//! docs), because that is all some of its platforms guarantee. epoll, which
//! kettle runs on, raises a new edge whenever data arrives (or room frees
//! up), and epoll(7) names a short read or write on a stream as proof that
//! the buffer is exhausted; tokio relies on the same. The rule is used only
//! where the caller passes a length (`Evented::io_bytes` in
//! `src/net/evented.rs`, and its poll form): on another backend, those
//! would have to wait for `WouldBlock` like every other operation.
//!
//! An operation never retries inside one poll: one attempt, then either a
//! result or a wait — so an operation whose bit nothing clears cannot spin
//! and freeze the loop. `src/runtime/reactor/matrix.rs` runs every bit
//! against every operation and outcome.
//!
//! Clearing can't race with a new event: events are only recorded in the
//! poll step, and I/O operations only run in the run step (or between
//! turns), on the same thread. An edge that happens after our `WouldBlock`
//! or short read is reported by the next `epoll_wait`.
//!
//! # Lifetimes
//!
//! A registration holds only a weak reference to the runtime: sockets may
//! outlive it (their operations then fail with an error instead of keeping
//! the epoll descriptor alive). Owners deregister the descriptor before
//! closing it, and dropping the registration frees its slot. An operation
//! that would wait while *another* runtime runs on its thread fails too: its
//! own runtime cannot run meanwhile, so it would never be woken.
//!
//! # Waiters
//!
//! Each direction keeps a short list of waiting operations, one entry per
//! operation: several may wait on one socket (a shared listener, a UDP
//! socket), even several of one task (two `recv_from`s in one `join!`). An
//! entry is a waker tagged with an id that is never reused, and the
//! operation keeps the id — its [`WaitSlot`]. An event wakes every waiter of
//! its direction and empties the list; the first to retry gets the data, the
//! others see `WouldBlock` and wait again, each with a new entry. An
//! operation that completes or is dropped (a task cancelled, a timeout)
//! removes the entry with its id, if it is still there — never another
//! operation's, even of the same task. That is why entries are found by id
//! and not by waker: two operations of one task carry equal wakers, and
//! the first to be dropped would take the other's wake-up with it.
//!
//! The poll-level API (`poll_read_ready`, `futures-io`'s `poll_read`, say)
//! has no operation object to own an entry: it uses the direction's single
//! poll slot, where only the waker of the latest poll is kept. Its `try_`
//! form ([`Registration::try_io`]) never waits, so it needs no slot at all.

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

/// Where an operation leaves its waker while it waits.
pub(crate) enum WaitSlot<'a> {
    /// The operation's own entry in the direction's waiter list: its id,
    /// once it has one. The operation gives it back with
    /// [`Registration::forget`] when it completes or is dropped.
    Entry(&'a mut Option<u64>),
    /// The direction's poll slot, for the poll-level API.
    Poll,
}

/// The waiters of one direction.
#[derive(Default)]
struct Waiters {
    /// The wakers of operations that own an entry ([`WaitSlot::Entry`]),
    /// and, at the same index, their ids; usually none or one, so a list
    /// searched by id beats any map. Two vectors, so that an event can hand
    /// all the wakers over in one move.
    wakers: Vec<Waker>,
    ids: Vec<u64>,
    /// The id of the next entry: ids are never reused, so an operation
    /// whose entry was woken and taken cannot remove another's by mistake.
    next_id: u64,
    /// The waker of the latest poll-level call ([`WaitSlot::Poll`]).
    poll: Option<Waker>,
}

impl Waiters {
    /// Wakes everyone: every entry (emptying the list), and the poll slot.
    fn take_all(&mut self, wake: &mut Vec<Waker>) {
        wake.append(&mut self.wakers);
        self.ids.clear();
        wake.extend(self.poll.take());
    }

    fn position(&self, id: u64) -> Option<usize> {
        self.ids.iter().position(|entry| *entry == id)
    }
}

/// What the reactor knows about one registered descriptor.
#[derive(Default)]
pub(crate) struct ScheduledIo {
    readiness: Cell<u8>,
    readers: RefCell<Waiters>,
    writers: RefCell<Waiters>,
}

impl ScheduledIo {
    fn waiters(&self, direction: Direction) -> &RefCell<Waiters> {
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

    /// Adds a descriptor's readiness record; its slab key is its mio token.
    pub(crate) fn insert(&self, io: Rc<ScheduledIo>) -> mio::Token {
        mio::Token(self.sources.borrow_mut().insert(io))
    }

    /// Removes the record under `token`. Returns whether there was one. The
    /// record is dropped outside the borrow (its last reference may be here).
    pub(crate) fn remove(&self, token: mio::Token) -> bool {
        let removed = self.sources.borrow_mut().try_remove(token.0);
        removed.is_some()
    }

    /// Records one event and collects the wakers it releases into `wake`
    /// (fired by the caller once every borrow is released).
    pub(crate) fn dispatch(&self, event: &mio::event::Event, wake: &mut Vec<Waker>) {
        let sources = self.sources.borrow();
        // A token with no source: the descriptor was deregistered after the
        // kernel queued the event. Nothing waits for it any more.
        let Some(io) = sources.get(event.token().0) else { return };
        let bits = readiness_of(event);
        io.readiness.set(io.readiness.get() | bits);
        for direction in [Direction::Read, Direction::Write] {
            if bits & direction.mask() != 0 {
                io.waiters(direction).borrow_mut().take_all(wake);
            }
        }
    }
}

/// The readiness bits an event reports.
fn readiness_of(event: &mio::event::Event) -> u8 {
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
    bits
}

/// A descriptor's registration with the current runtime's reactor.
pub(crate) struct Registration {
    core: Weak<Core>,
    /// The runtime's id, to compare with the one running (no upgrade).
    runtime: u32,
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
            let token = core.register_source(source, interest, io.clone())?;
            Ok(Registration { core: Rc::downgrade(core), runtime: core.id(), token, io })
        })
    }

    /// Ready when the kernel has reported readiness in `direction`; returns
    /// the readiness bits seen (pass them to [`clear_readiness`](Self::clear_readiness)).
    /// Otherwise leaves `cx`'s waker in `slot` and returns `Pending`.
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        slot: WaitSlot<'_>,
    ) -> Poll<u8> {
        let ready = self.io.readiness.get() & direction.mask();
        if ready != 0 {
            return Poll::Ready(ready);
        }
        self.park(cx.waker(), direction, slot);
        Poll::Pending
    }

    /// Leaves `waker` in `slot` until the next event in `direction`.
    fn park(&self, waker: &Waker, direction: Direction, slot: WaitSlot<'_>) {
        let mut waiters = self.io.waiters(direction).borrow_mut();
        match slot {
            WaitSlot::Entry(id) => match id.and_then(|id| waiters.position(id)) {
                // Still waiting: keep the latest poll's waker.
                Some(at) => {
                    let stored = &mut waiters.wakers[at];
                    if !stored.will_wake(waker) {
                        stored.clone_from(waker);
                    }
                }
                // First wait, or woken (the entry was taken) and the
                // readiness used up before this retry: a new entry.
                None => {
                    let new = waiters.next_id;
                    waiters.next_id += 1;
                    waiters.wakers.push(waker.clone());
                    waiters.ids.push(new);
                    *id = Some(new);
                }
            },
            WaitSlot::Poll => match &mut waiters.poll {
                Some(stored) if stored.will_wake(waker) => {}
                stored => *stored = Some(waker.clone()),
            },
        }
    }

    /// Forgets `observed` readiness, so the next poll waits for a new edge:
    /// every bit an attempt saw, once it hit `WouldBlock` (all of it was
    /// stale), or only "readable"/"writable" after a short read or write
    /// (see the module docs).
    pub(crate) fn clear_readiness(&self, observed: u8) {
        self.io.readiness.set(self.io.readiness.get() & !observed);
    }

    /// Performs `op` if the descriptor is ready in `direction`, else waits
    /// (one step of the edge-triggered loop in the module docs): at most one
    /// attempt per call, so no operation can spin inside a poll.
    ///
    /// `drained` says, from a successful result, whether the operation
    /// certainly emptied (or filled) the kernel buffer — a read or write that
    /// came back short. "Readable" (or "writable") is then cleared at once,
    /// saving the system call that would only have returned `WouldBlock`;
    /// any data that arrives later raises a new edge, as after a `WouldBlock`.
    /// Closed and error bits stay: a short read says nothing about them.
    /// The simple version would clear readiness only on `WouldBlock`, at the
    /// price of one failing system call after every read that drains.
    ///
    /// # Errors
    /// What `op` returns, other than `WouldBlock`; an error without calling
    /// `op` if the runtime is gone; and an error instead of waiting if
    /// another runtime is running on this thread.
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        mut slot: WaitSlot<'_>,
        op: impl FnOnce() -> io::Result<R>,
        drained: impl FnOnce(&R) -> bool,
    ) -> Poll<io::Result<R>> {
        if !self.is_alive() {
            return Poll::Ready(Err(runtime_gone()));
        }
        let observed = self.io.readiness.get() & direction.mask();
        if observed != 0 {
            match self.attempt(observed, op, drained) {
                Attempt::WouldBlock(_) => {}
                Attempt::Done(result) => {
                    if let WaitSlot::Entry(key) = &mut slot {
                        self.forget(direction, key);
                    }
                    return Poll::Ready(result);
                }
            }
        }
        if let Err(e) = self.check_can_wait() {
            return Poll::Ready(Err(e));
        }
        self.park(cx.waker(), direction, slot);
        Poll::Pending
    }

    /// The form of [`poll_io`](Self::poll_io) that never waits, for the
    /// poll-level API's `try_read` and kin: performs `op` if the descriptor
    /// is ready in `direction`, and otherwise fails at once with
    /// `WouldBlock`, leaving no waker anywhere. Readiness is cleared by the
    /// same rules, so a `WouldBlock` from `op` means "wait for the next
    /// edge" here too.
    ///
    /// # Errors
    /// `WouldBlock` if not ready or if `op` says so; what `op` returns; an
    /// error without calling `op` if the runtime is gone.
    pub(crate) fn try_io<R>(
        &self,
        direction: Direction,
        op: impl FnOnce() -> io::Result<R>,
        drained: impl FnOnce(&R) -> bool,
    ) -> io::Result<R> {
        if !self.is_alive() {
            return Err(runtime_gone());
        }
        let observed = self.io.readiness.get() & direction.mask();
        if observed == 0 {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        match self.attempt(observed, op, drained) {
            Attempt::Done(result) => result,
            Attempt::WouldBlock(e) => Err(e),
        }
    }

    /// One attempt at `op`, given the readiness bits it `observed`, clearing
    /// what its outcome proves stale: every observed bit on `WouldBlock`,
    /// "readable"/"writable" alone when `drained` says the transfer came
    /// back short.
    ///
    /// It answers which of the two it was, so that no caller asks the error
    /// for its kind again (a call, not a field read, on a path taken once
    /// per read).
    fn attempt<R>(
        &self,
        observed: u8,
        op: impl FnOnce() -> io::Result<R>,
        drained: impl FnOnce(&R) -> bool,
    ) -> Attempt<R> {
        match op() {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.clear_readiness(observed);
                Attempt::WouldBlock(e)
            }
            Ok(value) => {
                if drained(&value) {
                    self.clear_readiness(observed & (READABLE | WRITABLE));
                }
                Attempt::Done(Ok(value))
            }
            result => Attempt::Done(result),
        }
    }

    /// Whether the runtime is still there: once it is dropped its epoll is
    /// closed, and nothing would ever report readiness again.
    #[inline]
    fn is_alive(&self) -> bool {
        self.core.strong_count() != 0
    }

    /// Whether an operation may wait: no other runtime is running on this
    /// thread, which would keep this one from running (and waking it) until
    /// that one returns. Checked only before waiting — an operation that
    /// can finish at once never hangs — so the ready path pays nothing.
    fn check_can_wait(&self) -> io::Result<()> {
        match context::current_id() {
            Some(current) if current != self.runtime => Err(io::Error::other(format!(
                "a socket or descriptor of kettle runtime #{} was used inside runtime #{current}, on \
                 the same thread: its own runtime cannot run until this one returns, so it would \
                 never be woken. Use each one inside the runtime that registered it.",
                self.runtime
            ))),
            _ => Ok(()),
        }
    }

    /// Gives back the entry an operation owns in `direction`'s waiter list
    /// (when it completes or is dropped), leaving every other operation's
    /// entry where it is.
    pub(crate) fn forget(&self, direction: Direction, id: &mut Option<u64>) {
        if let Some(id) = id.take() {
            let mut waiters = self.io.waiters(direction).borrow_mut();
            if let Some(at) = waiters.position(id) {
                waiters.wakers.swap_remove(at);
                waiters.ids.swap_remove(at);
            }
        }
    }

    /// Removes `source` from the runtime's epoll. Owners call it before
    /// closing the descriptor: closing alone is not enough when the
    /// descriptor is a `dup` (epoll forgets a file only when its last
    /// descriptor closes). A registration whose runtime is gone has nothing
    /// to undo.
    pub(crate) fn deregister(&self, source: &mut impl mio::event::Source) {
        // Fails only if the descriptor was already closed, which removed it
        // from epoll anyway.
        let _ = self.try_deregister(source);
    }

    /// [`deregister`](Self::deregister), reporting epoll's refusal (for
    /// `kettle::io::Async::into_inner`, which returns it).
    pub(crate) fn try_deregister(&self, source: &mut impl mio::event::Source) -> io::Result<()> {
        match self.core.upgrade() {
            Some(core) => core.deregister_source(source),
            None => Ok(()),
        }
    }
}

/// What one [`attempt`](Registration::attempt) came to.
enum Attempt<R> {
    /// A result to hand back: success, or an error other than `WouldBlock`.
    Done(io::Result<R>),
    /// `WouldBlock`: the readiness it acted on was stale, and is cleared.
    WouldBlock(io::Error),
}

/// The error of an operation whose runtime has been dropped.
#[cold]
fn runtime_gone() -> io::Error {
    io::Error::other("the kettle runtime this socket or descriptor was registered with has been dropped")
}

impl Drop for Registration {
    /// Frees the slot. Any event still queued for this token finds no source
    /// (or, if the slot was reused, causes one spurious wake-up, which every
    /// poller tolerates).
    fn drop(&mut self) {
        if let Some(core) = self.core.upgrade() {
            let removed = core.release_source(self.token);
            debug_assert!(removed, "a registration owns its slab slot until dropped");
        }
    }
}

#[cfg(test)]
mod matrix;

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
        registration.poll_ready(&mut cx, direction, WaitSlot::Poll).is_ready()
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
        let Poll::Ready(observed) = registration.poll_ready(&mut cx, Direction::Read, WaitSlot::Poll) else {
            panic!()
        };
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
            reg.poll_ready(cx, Direction::Read, WaitSlot::Poll).map(|_| ())
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
