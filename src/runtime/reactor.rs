//! The reactor: readiness from mio, a waiter list per direction.
//!
//! An I/O object (a socket, the signal pipe) registers its file descriptor
//! once with the runtime's mio poll and gets a
//! [`Registration`](registration::Registration) (`reactor/registration.rs`,
//! the I/O object's side). The registration's slab key is the mio token,
//! and its [`ScheduledIo`] keeps two
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
//! wait for the next edge. A new registration starts with no bits set: its
//! first operation waits, without a system call, for the descriptor's first
//! event — which epoll reports at once if it is already ready when
//! registered. (kettle-mini simply tries the call every time: the simple
//! version.)
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
//!
//! [`Registration::poll_io`]: registration::Registration::poll_io
//! [`Registration::try_io`]: registration::Registration::try_io

use std::cell::{Cell, RefCell};
use std::io;
use std::rc::Rc;
use std::task::Waker;

use slab::Slab;

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
    /// [`Registration::forget`](registration::Registration::forget) when it
    /// completes or is dropped.
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
    ///
    /// Moves the usual one waiter (or none) by hand. The simple version is
    /// `wake.append(&mut self.wakers)`, which reserves and copies (a
    /// `memcpy` call) even for an empty list, and an event names both
    /// directions of a socket whose other side nobody waits on.
    fn take_all(&mut self, wake: &mut Vec<Waker>) {
        match self.wakers.len() {
            0 => {}
            1 => wake.extend(self.wakers.pop()),
            _ => wake.append(&mut self.wakers),
        }
        self.ids.clear();
        if let Some(waker) = self.poll.take() {
            wake.push(waker);
        }
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

/// The runtime's epoll instance, and every descriptor registered with it,
/// by mio token.
pub(crate) struct Reactor {
    poll: RefCell<mio::Poll>,
    sources: RefCell<Slab<Rc<ScheduledIo>>>,
}

impl Reactor {
    pub(crate) fn new(poll: mio::Poll) -> Reactor {
        Reactor { poll: RefCell::new(poll), sources: RefCell::default() }
    }

    /// The epoll descriptor, for an embedder's own loop to watch.
    pub(crate) fn poll_fd(&self) -> std::os::fd::RawFd {
        use std::os::fd::AsRawFd;
        self.poll.borrow().as_raw_fd()
    }

    /// Whether the epoll descriptor is readable now — an event is waiting
    /// that no `epoll_wait` has collected — without collecting it: one
    /// `poll(2)` with a zero timeout.
    pub(crate) fn is_readable(&self) -> bool {
        let mut fd = libc::pollfd { fd: self.poll_fd(), events: libc::POLLIN, revents: 0 };
        // SAFETY: `fd` is one valid `pollfd` on the stack, for the call only;
        // the descriptor is our epoll's, open while `self` lives.
        let ready = unsafe { libc::poll(&mut fd, 1, 0) };
        ready > 0 && fd.revents & libc::POLLIN != 0
    }

    /// `epoll_wait`: fills `events`, blocking at most `timeout`. The turn's
    /// step 2 hands each event back to [`dispatch`](Reactor::dispatch)
    /// (those of its own two tokens, the eventfd and the timerfd, aside).
    pub(crate) fn wait(
        &self,
        events: &mut mio::Events,
        timeout: Option<std::time::Duration>,
    ) -> io::Result<()> {
        self.poll.borrow_mut().poll(events, timeout)
    }

    /// Registers `source` with epoll under a new token, whose events will
    /// set `io`'s readiness and wake its waiters (step 2). Returns the token.
    pub(crate) fn register(
        &self,
        source: &mut impl mio::event::Source,
        interest: mio::Interest,
        io: Rc<ScheduledIo>,
    ) -> io::Result<mio::Token> {
        let token = mio::Token(self.sources.borrow_mut().insert(io));
        let registered = self.poll.borrow().registry().register(source, token, interest);
        if let Err(e) = registered {
            self.release(token);
            return Err(e);
        }
        Ok(token)
    }

    /// Removes `source` from epoll (before its descriptor closes). Its
    /// token stays taken until [`release`](Reactor::release).
    pub(crate) fn deregister(&self, source: &mut impl mio::event::Source) -> io::Result<()> {
        self.poll.borrow().registry().deregister(source)
    }

    /// Number of registered descriptors.
    pub(crate) fn len(&self) -> usize {
        self.sources.borrow().len()
    }

    /// Frees a registration's token and its readiness record. Returns
    /// whether it was taken. The record is dropped outside the borrow (its
    /// last reference may be here).
    pub(crate) fn release(&self, token: mio::Token) -> bool {
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

pub(crate) mod registration;

#[cfg(test)]
mod matrix;

#[cfg(test)]
mod tests {
    use super::registration::Registration;
    use super::*;
    use crate::Runtime;
    use std::io::{Read, Write};
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;
    use std::task::{Context, Poll};
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

    /// A waker that counts its wake-ups.
    struct Counter(std::sync::atomic::AtomicUsize);

    impl std::task::Wake for Counter {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }

    #[test]
    fn an_event_hands_over_every_waiter_once_whether_none_one_or_several_wait() {
        use std::sync::{Arc, atomic::Ordering};
        for entries in [0, 1, 3] {
            for with_poll_slot in [false, true] {
                let case = format!("{entries} entries, poll slot {with_poll_slot}");
                let counters: Vec<_> = (0..=entries).map(|_| Arc::new(Counter(0.into()))).collect();
                let mut waiters = Waiters::default();
                for counter in &counters[..entries] {
                    waiters.wakers.push(Waker::from(counter.clone()));
                    waiters.ids.push(waiters.next_id);
                    waiters.next_id += 1;
                }
                if with_poll_slot {
                    waiters.poll = Some(Waker::from(counters[entries].clone()));
                }
                let mut wake = vec![Waker::noop().clone()]; // the turn's earlier events
                waiters.take_all(&mut wake);
                assert_eq!(wake.len(), 1 + entries + usize::from(with_poll_slot), "{case}");
                assert!(waiters.wakers.is_empty() && waiters.ids.is_empty(), "{case}: the list is emptied");
                assert!(waiters.poll.is_none(), "{case}: the poll slot is emptied");
                wake.drain(..).for_each(Waker::wake);
                for (i, counter) in counters.iter().enumerate() {
                    let expected = usize::from(i < entries || with_poll_slot);
                    assert_eq!(counter.0.load(Ordering::Relaxed), expected, "{case}: waiter {i}");
                }
                waiters.take_all(&mut wake);
                assert!(wake.is_empty(), "{case}: a second event finds nobody waiting");
            }
        }
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
