//! The readiness matrix: every readiness bit × every socket operation ×
//! every outcome, on a real registration with the bits set by hand and the
//! operation's outcome scripted. It states the reactor's contract as a
//! table, so that the next readiness bug of the family "a bit that nothing
//! clears" fails here:
//!
//! - a bit outside the operation's direction does not make it try;
//! - an operation tries at most once per poll — it never spins;
//! - `WouldBlock` clears every bit the attempt observed (whatever it was),
//!   and the operation waits: polled again without a new event, it does not
//!   try again;
//! - a short read or write clears "readable"/"writable" but keeps closed and
//!   error bits; a full one keeps everything;
//! - a real error is reported once, and the next attempt's `WouldBlock`
//!   makes the operation wait again;
//! - a finished operation gives its waiter entry back.

use std::cell::Cell;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::task::{Context, Poll, Waker};

use super::registration::Registration;
use super::*;
use crate::Runtime;

const BITS: [(&str, u8); 5] = [
    ("readable", READABLE),
    ("writable", WRITABLE),
    ("read-closed", READ_CLOSED),
    ("write-closed", WRITE_CLOSED),
    ("error", ERROR),
];

/// The socket operations of `net/` with their direction, and whether they
/// are byte transfers (whose short result means "drained"), as `net/` calls
/// them (`Evented::io_bytes` for read and write, `Evented::io` otherwise).
const OPS: [(&str, Direction, bool); 6] = [
    ("read", Direction::Read, true),
    ("write", Direction::Write, true),
    ("recv", Direction::Read, false),
    ("send", Direction::Write, false),
    ("accept", Direction::Read, false),
    ("connect", Direction::Write, false),
];

#[derive(Clone, Copy, Debug, PartialEq)]
enum Outcome {
    /// As many bytes as asked for (or a datagram, a connection).
    Full,
    /// Fewer bytes than asked for (byte transfers only).
    Short,
    WouldBlock,
    Error,
}

const LEN: usize = 8;

fn attempt(outcome: Outcome) -> io::Result<usize> {
    match outcome {
        Outcome::Full => Ok(LEN),
        Outcome::Short => Ok(LEN / 2),
        Outcome::WouldBlock => Err(io::ErrorKind::WouldBlock.into()),
        Outcome::Error => Err(io::ErrorKind::ConnectionRefused.into()),
    }
}

/// A registration on one end of a socket pair, owned by `rt`.
struct Fixture {
    _rt: Runtime,
    registration: Registration,
    _ours: UnixStream,
    _theirs: UnixStream,
}

fn fixture() -> Fixture {
    let rt = Runtime::new().unwrap();
    let (ours, theirs) = UnixStream::pair().unwrap();
    ours.set_nonblocking(true).unwrap();
    let fd = ours.as_raw_fd();
    let interest = mio::Interest::READABLE | mio::Interest::WRITABLE;
    let registration =
        rt.block_on(async { Registration::new("matrix", &mut mio::unix::SourceFd(&fd), interest).unwrap() });
    Fixture { _rt: rt, registration, _ours: ours, _theirs: theirs }
}

impl Fixture {
    fn readiness(&self) -> u8 {
        self.registration.io.readiness.get()
    }

    fn set_readiness(&self, bits: u8) {
        self.registration.io.readiness.set(bits);
    }

    /// Polls an operation once; returns the result and how often it tried.
    fn poll(
        &self,
        op: (&str, Direction, bool),
        entry: &mut Option<u64>,
        outcome: Outcome,
    ) -> (Poll<io::Result<usize>>, usize) {
        let (_, direction, bytes) = op;
        let tries = Cell::new(0);
        let mut cx = Context::from_waker(Waker::noop());
        let result = self.registration.poll_io(
            &mut cx,
            direction,
            WaitSlot::Entry(entry),
            || {
                tries.set(tries.get() + 1);
                attempt(outcome)
            },
            |n| bytes && *n > 0 && *n < LEN,
        );
        (result, tries.get())
    }

    fn waiters(&self, direction: Direction) -> usize {
        self.registration.io.waiters(direction).borrow().ids.len()
    }
}

fn outcomes(bytes: bool) -> Vec<Outcome> {
    let mut all = vec![Outcome::Full, Outcome::WouldBlock, Outcome::Error];
    if bytes {
        all.push(Outcome::Short);
    }
    all
}

#[test]
fn every_bit_every_operation_every_outcome_follows_the_contract() {
    let fx = fixture();
    for op in OPS {
        let (name, direction, bytes) = op;
        for (bit_name, bit) in BITS {
            for outcome in outcomes(bytes) {
                let case = format!("{name} with «{bit_name}» set, attempt gives {outcome:?}");
                fx.set_readiness(bit);
                let mut entry = None;
                let (result, tries) = fx.poll(op, &mut entry, outcome);
                if bit & direction.mask() == 0 {
                    assert_eq!(tries, 0, "{case}: another direction's bit made it try");
                    assert!(result.is_pending(), "{case}");
                    assert!(entry.is_some(), "{case}: it waits with an entry of its own");
                    assert_eq!(fx.readiness(), bit, "{case}: the other direction's bit is left alone");
                    fx.registration.forget(direction, &mut entry);
                    continue;
                }
                assert_eq!(tries, 1, "{case}: exactly one attempt per poll");
                let finished = result.is_ready();
                match outcome {
                    Outcome::WouldBlock => {
                        assert!(result.is_pending(), "{case}");
                        assert_eq!(fx.readiness() & bit, 0, "{case}: the stale bit is cleared");
                        let (again, retries) = fx.poll(op, &mut entry, outcome);
                        assert!(again.is_pending(), "{case}");
                        assert_eq!(retries, 0, "{case}: with no new event it waits, it does not retry");
                        assert_eq!(fx.waiters(direction), 1, "{case}: one entry, kept across polls");
                        fx.registration.forget(direction, &mut entry);
                    }
                    Outcome::Full => {
                        assert!(matches!(result, Poll::Ready(Ok(LEN))), "{case}");
                        assert_eq!(fx.readiness(), bit, "{case}: a full transfer proves nothing drained");
                    }
                    Outcome::Short => {
                        assert!(matches!(result, Poll::Ready(Ok(_))), "{case}");
                        let kept = bit & !(READABLE | WRITABLE);
                        assert_eq!(fx.readiness(), kept, "{case}: only readable/writable are cleared");
                    }
                    Outcome::Error => {
                        let error = match result {
                            Poll::Ready(Err(e)) => e,
                            other => panic!("{case}: expected the error, got {other:?}"),
                        };
                        assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused, "{case}");
                        // The error was reported; the next attempt finds
                        // nothing, and the operation waits again.
                        let (next, tries) = fx.poll(op, &mut entry, Outcome::WouldBlock);
                        assert!(next.is_pending(), "{case}: after the error, it waits");
                        assert_eq!(tries, 1, "{case}");
                        assert_eq!(fx.readiness() & direction.mask(), 0, "{case}: nothing stale is left");
                        let (after, tries) = fx.poll(op, &mut entry, Outcome::Error);
                        assert!(after.is_pending() && tries == 0, "{case}: reported once, not again");
                        fx.registration.forget(direction, &mut entry);
                    }
                }
                if finished {
                    assert!(entry.is_none(), "{case}: a finished operation gives its entry back");
                }
                assert_eq!(fx.waiters(direction), 0, "{case}: no entry left behind");
            }
        }
    }
}

#[test]
fn the_try_form_clears_by_the_same_rules_and_never_leaves_a_waiter() {
    // `try_io` is `poll_io` without the wait: the same attempt and the same
    // clearing, `WouldBlock` where `poll_io` would park.
    let fx = fixture();
    for (name, direction, bytes) in OPS {
        for (bit_name, bit) in BITS {
            for outcome in outcomes(bytes) {
                let case = format!("try_{name} with «{bit_name}» set, attempt gives {outcome:?}");
                fx.set_readiness(bit);
                let tries = Cell::new(0);
                let result = fx.registration.try_io(
                    direction,
                    || {
                        tries.set(tries.get() + 1);
                        attempt(outcome)
                    },
                    |n| bytes && *n > 0 && *n < LEN,
                );
                assert_eq!(fx.waiters(direction), 0, "{case}: a try never waits");
                assert!(fx.registration.io.waiters(direction).borrow().poll.is_none(), "{case}");
                if bit & direction.mask() == 0 {
                    assert_eq!(tries.get(), 0, "{case}: another direction's bit made it try");
                    assert_eq!(result.unwrap_err().kind(), io::ErrorKind::WouldBlock, "{case}");
                    assert_eq!(fx.readiness(), bit, "{case}: the other direction's bit is left alone");
                    continue;
                }
                assert_eq!(tries.get(), 1, "{case}: exactly one attempt");
                match outcome {
                    Outcome::WouldBlock => {
                        assert_eq!(result.unwrap_err().kind(), io::ErrorKind::WouldBlock, "{case}");
                        assert_eq!(fx.readiness() & bit, 0, "{case}: the stale bit is cleared");
                    }
                    Outcome::Full => {
                        assert_eq!(result.unwrap(), LEN, "{case}");
                        assert_eq!(fx.readiness(), bit, "{case}: a full transfer proves nothing drained");
                    }
                    Outcome::Short => {
                        assert!(result.is_ok(), "{case}");
                        let kept = bit & !(READABLE | WRITABLE);
                        assert_eq!(fx.readiness(), kept, "{case}: only readable/writable are cleared");
                    }
                    Outcome::Error => {
                        assert_eq!(result.unwrap_err().kind(), io::ErrorKind::ConnectionRefused, "{case}");
                        assert_eq!(fx.readiness(), bit, "{case}: an error proves nothing stale");
                    }
                }
            }
        }
    }
}

#[test]
fn every_bit_of_an_operations_direction_lets_it_try_and_no_other_does() {
    for (name, direction, _) in OPS {
        let letting: Vec<_> =
            BITS.iter().filter(|(_, bit)| bit & direction.mask() != 0).map(|(n, _)| *n).collect();
        let expected = match direction {
            Direction::Read => ["readable", "read-closed", "error"],
            Direction::Write => ["writable", "write-closed", "error"],
        };
        assert_eq!(letting, expected, "{name}");
    }
}

#[test]
fn all_bits_at_once_clear_to_nothing_on_would_block() {
    let fx = fixture();
    for op in OPS {
        let all = READABLE | WRITABLE | READ_CLOSED | WRITE_CLOSED | ERROR;
        fx.set_readiness(all);
        let mut entry = None;
        let (result, tries) = fx.poll(op, &mut entry, Outcome::WouldBlock);
        assert!(result.is_pending() && tries == 1, "{}", op.0);
        assert_eq!(fx.readiness() & op.1.mask(), 0, "{}: every observed bit is stale", op.0);
        assert_eq!(
            fx.readiness() & !op.1.mask(),
            all & !op.1.mask(),
            "{}: the other direction keeps its own",
            op.0
        );
        fx.registration.forget(op.1, &mut entry);
    }
}
