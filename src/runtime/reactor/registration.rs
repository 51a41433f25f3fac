//! A descriptor's registration: the I/O object's side of the reactor.
//!
//! A socket (or any descriptor) registers once, on the runtime running on
//! this thread, and keeps the [`Registration`]: every operation asks it
//! whether its direction is ready, tries the call, and parks its waker on
//! `WouldBlock` ([`Registration::poll_io`]). The readiness rules it follows
//! are the parent's essay (`reactor.rs`).
//!
//! # Lifetimes
//!
//! A registration holds only a weak reference to the runtime: sockets may
//! outlive it (their operations then fail with an error instead of keeping
//! the epoll descriptor alive). Owners deregister the descriptor before
//! closing it, and dropping the registration frees its slot. An operation
//! that would wait while *another* runtime runs on its thread fails too: its
//! own runtime cannot run meanwhile, so it would never be woken.

use std::io;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};

use super::{Direction, READABLE, ScheduledIo, WRITABLE, WaitSlot};
use crate::runtime::context;
use crate::runtime::core::Core;

/// A descriptor's registration with the current runtime's reactor.
pub(crate) struct Registration {
    core: Weak<Core>,
    /// The runtime's id, to compare with the one running (no upgrade).
    runtime: u32,
    token: mio::Token,
    pub(super) io: Rc<ScheduledIo>,
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
            let token = core.reactor().register(source, interest, io.clone())?;
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
    ///
    /// A waker it replaces is dropped after the list's borrow is released:
    /// dropping a waker is another executor's code (the last waker of a task
    /// may own it, and its future an operation on this very socket).
    fn park(&self, waker: &Waker, direction: Direction, slot: WaitSlot<'_>) {
        let mut waiters = self.io.waiters(direction).borrow_mut();
        let replaced = match slot {
            WaitSlot::Entry(id) => match id.and_then(|id| waiters.position(id)) {
                // Still waiting: keep the latest poll's waker.
                Some(at) => {
                    let stored = &mut waiters.wakers[at];
                    if stored.will_wake(waker) {
                        return;
                    }
                    Some(std::mem::replace(stored, waker.clone()))
                }
                // First wait, or woken (the entry was taken) and the
                // readiness used up before this retry: a new entry.
                None => {
                    let new = waiters.next_id;
                    waiters.next_id += 1;
                    waiters.wakers.push(waker.clone());
                    waiters.ids.push(new);
                    *id = Some(new);
                    return;
                }
            },
            WaitSlot::Poll => match &mut waiters.poll {
                Some(stored) if stored.will_wake(waker) => return,
                stored => stored.replace(waker.clone()),
            },
        };
        drop(waiters);
        drop(replaced);
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
            Err(e) if is_would_block(&e) => {
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
    #[inline]
    fn check_can_wait(&self) -> io::Result<()> {
        match context::current_id() {
            Some(current) if current != self.runtime => Err(wrong_runtime(self.runtime, current)),
            _ => Ok(()),
        }
    }

    /// Gives back the entry an operation owns in `direction`'s waiter list
    /// (when it completes or is dropped), leaving every other operation's
    /// entry where it is.
    #[inline]
    pub(crate) fn forget(&self, direction: Direction, id: &mut Option<u64>) {
        if let Some(id) = id.take()
            && self.has_entries(direction)
        {
            self.remove_entry(direction, id);
        }
    }

    /// Whether `direction`'s waiter list holds any entry: [`forget`](Self::forget)'s
    /// inlined test before its search. An operation that waited and was
    /// woken finds the list emptied by the event (it usually is: one
    /// waiter per direction), and skips the call. The simple version
    /// searches the list in every case.
    #[inline]
    fn has_entries(&self, direction: Direction) -> bool {
        !self.io.waiters(direction).borrow().ids.is_empty()
    }

    /// [`forget`](Self::forget)'s search, out of line: the operations that
    /// never waited (most of them) pass `None` and pay one test, inlined
    /// into their poll and their drop.
    ///
    /// The entry's waker is dropped after the list's borrow is released
    /// (see [`park`](Self::park)).
    #[inline(never)]
    fn remove_entry(&self, direction: Direction, id: u64) {
        let mut waiters = self.io.waiters(direction).borrow_mut();
        let Some(at) = waiters.position(id) else { return };
        let removed = waiters.wakers.swap_remove(at);
        waiters.ids.swap_remove(at);
        drop(waiters);
        drop(removed);
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
            Some(core) => core.reactor().deregister(source),
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

/// Whether `e` is `WouldBlock`, reading the error's OS code first: `EAGAIN`
/// is by far the commonest error here (every drained descriptor ends with
/// one) and its test is a few inlined instructions. The simple version is
/// `e.kind() == io::ErrorKind::WouldBlock`, a call into std's table of error
/// codes for each `EAGAIN`.
#[inline]
fn is_would_block(e: &io::Error) -> bool {
    e.raw_os_error() == Some(libc::EAGAIN) || e.kind() == io::ErrorKind::WouldBlock
}

/// The error of an operation that would wait for runtime `ours` while
/// runtime `running` runs on its thread.
#[cold]
fn wrong_runtime(ours: u32, running: u32) -> io::Error {
    io::Error::other(format!(
        "a socket or descriptor of kettle runtime #{ours} was used inside runtime #{running}, on the \
         same thread: its own runtime cannot run until this one returns, so it would never be woken. \
         Use each one inside the runtime that registered it."
    ))
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
            let removed = core.reactor().release(self.token);
            debug_assert!(removed, "a registration owns its slab slot until dropped");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn would_block_is_recognised_with_an_os_code_and_without_one_and_nothing_else_is() {
        assert!(is_would_block(&io::Error::from_raw_os_error(libc::EAGAIN)), "EAGAIN, as the kernel says it");
        assert!(
            is_would_block(&io::ErrorKind::WouldBlock.into()),
            "a WouldBlock made in user code (an op's own)"
        );
        assert!(is_would_block(&io::Error::new(io::ErrorKind::WouldBlock, "not yet")), "with a message");
        assert!(!is_would_block(&io::Error::from_raw_os_error(libc::ECONNRESET)), "another OS error");
        assert!(
            !is_would_block(&io::Error::from_raw_os_error(libc::EINTR)),
            "EINTR is not a drained descriptor"
        );
        assert!(!is_would_block(&io::ErrorKind::UnexpectedEof.into()), "another kind");
    }
}
