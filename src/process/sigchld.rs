//! The fallback for kernels (or sandboxes) that refuse `pidfd_open`:
//! `SIGCHLD`, through kettle's own signal listeners ([`crate::signal`]).
//!
//! `SIGCHLD` says "some child changed state", never which, and deliveries
//! coalesce. So every child waiting this way is on one list per thread, and
//! a delivery wakes the whole list: each child then asks the kernel about
//! its own pid (`waitpid(pid, WNOHANG)`, through std's `try_wait`). Never
//! `waitpid(-1)`: that would reap children other code in the process is
//! waiting for. The price is a `waitpid` per waiting child per delivery,
//! which is why the pidfd way comes first.
//!
//! The thread's [`SigchldWatch`] owns one [`Signal`] listener for `SIGCHLD`
//! (so one descriptor per thread, not one per child). Its waker is not a
//! task's: it is the list itself ([`WakeAll`]), so whichever waiting child
//! polled the listener last, a delivery wakes them all.
//!
//! # No lost wake-up
//!
//! A child's poll (in `reap.rs`) goes: put its waker on the list, then
//! `try_wait`, then poll the listener. An exit before the `try_wait` is
//! seen by it; an exit after it raises `SIGCHLD` after the waker was
//! listed, so the delivery wakes it — or the listener poll right after
//! reports the delivery, and the child loops. The listener counts every
//! delivery since it was created, and it is created before the first child
//! waits this way.

use std::cell::RefCell;
use std::io;
use std::rc::Rc;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

use slab::Slab;

use crate::signal::{Signal, SignalKind, signal};

thread_local! {
    static WATCH: RefCell<Option<Rc<SigchldWatch>>> = const { RefCell::new(None) };
}

/// This thread's `SIGCHLD` listener and the children waiting on it.
pub(super) struct SigchldWatch {
    signal: RefCell<Signal>,
    list: Arc<WakeAll>,
    /// `list` as a waker, for polling `signal`.
    waker: Waker,
}

/// The wakers of the children waiting for a `SIGCHLD`; waking it wakes them
/// all and empties the list.
#[derive(Default)]
struct WakeAll {
    waiting: Mutex<Waiting>,
}

#[derive(Default)]
struct Waiting {
    /// Bumped each time the list is emptied, so a stale [`Listed`] is known.
    generation: u64,
    wakers: Slab<Waker>,
}

/// Where one child's waker sits on the list: (generation, key), if listed.
#[derive(Default, Debug)]
pub(super) struct Listed(Option<(u64, usize)>);

impl Wake for WakeAll {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // Collect under the lock, fire after it (a waker may re-enter).
        let wakers = {
            let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
            waiting.generation += 1;
            std::mem::take(&mut waiting.wakers)
        };
        for (_, waker) in wakers {
            waker.wake();
        }
    }
}

/// This thread's watch, created with its listener on first use.
pub(super) fn watch() -> io::Result<Rc<SigchldWatch>> {
    WATCH.with_borrow_mut(|slot| {
        if let Some(watch) = slot {
            return Ok(watch.clone());
        }
        let signal = signal(SignalKind::from_raw(libc::SIGCHLD))?;
        let list = Arc::new(WakeAll::default());
        let waker = Waker::from(list.clone());
        let watch = Rc::new(SigchldWatch { signal: RefCell::new(signal), list, waker });
        *slot = Some(watch.clone());
        Ok(watch)
    })
}

impl SigchldWatch {
    /// Puts `waker` on the list (or refreshes it there) until the next
    /// delivery.
    pub(super) fn list(&self, listed: &mut Listed, waker: &Waker) {
        let mut waiting = self.list.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        match listed.0 {
            Some((generation, key)) if generation == waiting.generation => {
                let stored = &mut waiting.wakers[key];
                if !stored.will_wake(waker) {
                    stored.clone_from(waker);
                }
            }
            _ => {
                let key = waiting.wakers.insert(waker.clone());
                listed.0 = Some((waiting.generation, key));
            }
        }
    }

    /// Takes a child off the list (it was reaped, or stopped waiting).
    pub(super) fn unlist(&self, listed: &mut Listed) {
        let Some((generation, key)) = listed.0.take() else { return };
        let mut waiting = self.list.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        if generation == waiting.generation {
            waiting.wakers.remove(key);
        }
    }

    /// Ready if a `SIGCHLD` arrived since the last ready poll, having woken
    /// every listed child; otherwise the list will be woken by the next one.
    pub(super) fn poll_delivery(&self) -> Poll<()> {
        let mut cx = Context::from_waker(&self.waker);
        let delivered = self.signal.borrow_mut().poll_recv(&mut cx).is_ready();
        if delivered {
            self.list.wake_by_ref();
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}
