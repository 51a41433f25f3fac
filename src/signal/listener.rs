//! One listener — what a [`Signal`](super::Signal) or a
//! [`CtrlC`](super::CtrlC) holds: its own descriptor for the pipe, its
//! registration with the runtime that polls it, and the count of deliveries
//! it has seen.
//!
//! A poll, in four steps (the loop in [`Listener::poll`]):
//!
//! 1. **Park** the waker in the process-wide list ([`waiting`]), so a drain
//!    in another runtime can reach it.
//! 2. **Look at the counter.** Moved on since the count this listener saw?
//!    Take the new count up and resolve: every delivery since the last
//!    resolution is answered by this one.
//! 3. **Wait for the pipe**: not readable (as far as this runtime's reactor
//!    knows) — stay pending until its next edge.
//! 4. **Drain** it: readable but the counter had not moved, so the bytes
//!    are stale, another signal's, or this listener's own from a delivery it
//!    has already taken up. Read them all (any listener may: the counters
//!    decide), wake the other listeners if there were any (see
//!    [`waiting`]), forget the readiness, and go round again: the counter
//!    may have moved meanwhile.
//!
//! The second round ends at step 2 or 3, since step 4 cleared what step 3
//! saw and nothing sets readiness during a poll.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::task::{Context, Poll};

use mio::unix::SourceFd;

use super::kind::SignalKind;
use super::{handler, waiting};
use crate::runtime::context;
use crate::runtime::reactor::registration::Registration;
use crate::runtime::reactor::{Direction, WaitSlot};

/// A listener of one signal. Creating it counts as a listener for the
/// handler (installed by the first); dropping it, as one fewer.
pub(super) struct Listener {
    /// The signal's number, checked: an index into the handler's tables.
    signo: usize,
    /// Our own duplicate of the pipe's read end.
    pipe: File,
    /// The registration of `pipe` with the runtime that polled us last.
    bound: Option<Bound>,
    /// The signal's delivery count when this listener last resolved (or
    /// was created).
    seen: u64,
    /// Our key in the waiting list.
    id: u64,
}

/// A registration, and the id of the runtime it belongs to.
struct Bound {
    runtime: u32,
    registration: Registration,
}

impl Listener {
    /// Checks `kind`, takes a descriptor for the pipe (creating the pipe on
    /// first use), and counts as a listener (installing the handler if it is
    /// the first). Deliveries from now on count for it; no runtime needed.
    pub(super) fn new(kind: SignalKind) -> io::Result<Listener> {
        let signo = kind.check()?;
        let pipe = handler::dup_read_end()?;
        let seen = handler::deliveries(signo);
        handler::add_listener(signo)?;
        // From here on `Drop` removes the listener again.
        Ok(Listener { signo, pipe, bound: None, seen, id: waiting::new_id() })
    }

    /// Ready once the signal has been delivered since this listener was
    /// created or last resolved; takes all those deliveries up.
    ///
    /// `Err` if the descriptor cannot be registered with the runtime.
    ///
    /// # Panics
    /// Outside a runtime, with `what` naming the caller.
    #[track_caller]
    pub(super) fn poll(&mut self, cx: &mut Context<'_>, what: &str) -> Poll<io::Result<()>> {
        if let Err(error) = self.bind(what) {
            return Poll::Ready(Err(error));
        }
        let registration = &self.bound.as_ref().expect("bound above").registration;
        loop {
            // 1. Park first, look second (the order `waiting.rs` explains).
            waiting::park(self.id, cx.waker());
            // 2. The counter is the truth.
            let count = handler::deliveries(self.signo);
            if count > self.seen {
                self.seen = count;
                waiting::unpark(self.id);
                return Poll::Ready(Ok(()));
            }
            // 3. Wait for the pipe's next edge.
            let Poll::Ready(observed) = registration.poll_ready(cx, Direction::Read, WaitSlot::Poll) else {
                return Poll::Pending;
            };
            // 4. Drain, tell the others, and look at the counter again.
            if drain(&self.pipe) {
                waiting::wake_others(self.id);
            }
            registration.clear_readiness(observed);
        }
    }

    /// Makes sure `pipe` is registered with the runtime polling us: the
    /// first poll registers it, and a poll from another runtime than last
    /// time (the first may be gone) moves it there. Deliveries are counted
    /// whatever happens here, so none is lost in the move.
    #[track_caller]
    fn bind(&mut self, what: &str) -> io::Result<()> {
        let current = context::current_id();
        if let Some(bound) = &self.bound
            && Some(bound.runtime) != current
        {
            let old = self.bound.take().expect("checked above");
            old.registration.deregister(&mut SourceFd(&self.pipe.as_raw_fd()));
        }
        if self.bound.is_none() {
            // Panics outside a runtime, naming `what`.
            let registration =
                Registration::new(what, &mut SourceFd(&self.pipe.as_raw_fd()), mio::Interest::READABLE)?;
            let runtime = current.expect("Registration::new found a running runtime");
            self.bound = Some(Bound { runtime, registration });
        }
        Ok(())
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Some(bound) = self.bound.take() {
            // Before `pipe` closes: epoll forgets a duplicate only when told.
            bound.registration.deregister(&mut SourceFd(&self.pipe.as_raw_fd()));
        }
        waiting::unpark(self.id);
        handler::remove_listener(self.signo);
    }
}

/// Reads and discards everything in the pipe (it is non-blocking); whether
/// there was anything.
fn drain(pipe: &File) -> bool {
    let mut buf = [0u8; 64];
    let mut read_any = false;
    loop {
        match (&*pipe).read(&mut buf) {
            Ok(n) if n > 0 => read_any = true,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            // Empty (`WouldBlock`), or an error that the next drain repeats.
            // (End of file cannot happen: the write end is never closed.)
            _ => return read_any,
        }
    }
}
