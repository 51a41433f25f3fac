//! The listeners waiting for a delivery, across every runtime of the
//! process: the wakers a listener calls when it drains the pipe.
//!
//! Each listener watches the pipe through its own descriptor, and in the
//! common case that is enough: every epoll watching the pipe gets each
//! write's edge. But an edge-triggered epoll looks at the descriptor again
//! when it hands the event out, and drops the event if the descriptor is no
//! longer readable. So when listener A, on runtime A's thread, drains the
//! pipe before runtime B's thread has collected its event — B was busy
//! running a task, say — B's listener never hears of the signal. Its edge
//! was eaten.
//!
//! The fix is for the drainer to tell everyone: a listener that drained
//! bytes wakes every other waiting listener, and each looks at its own
//! counter. The order of two steps makes that airtight:
//!
//! 1. a listener leaves its waker here ([`park`]) *before* it looks at its
//!    counter;
//! 2. the handler bumps the counter *before* writing the byte, and the
//!    drainer reads the byte before it takes the wakers ([`wake_others`]).
//!
//! Either the drainer's take comes after the listener's park (the listener
//! is woken), or before it (then the listener's look at its counter comes
//! after the drain, which came after the bump: it sees the delivery). The
//! list's lock orders the two.
//!
//! The list is a `Vec` searched by id: a process has a handful of signal
//! listeners, and the lock is taken only when a listener is polled — when
//! it starts waiting, or when the pipe had something to say.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::task::Waker;

/// The waker of each waiting listener, with the listener's id.
static WAITING: Mutex<Vec<(u64, Waker)>> = Mutex::new(Vec::new());

/// A fresh listener id (never reused).
pub(super) fn new_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn waiting() -> MutexGuard<'static, Vec<(u64, Waker)>> {
    WAITING.lock().unwrap_or_else(|e| e.into_inner())
}

/// Leaves (or refreshes) listener `id`'s waker in the list.
pub(super) fn park(id: u64, waker: &Waker) {
    let mut waiting = waiting();
    match waiting.iter_mut().find(|(entry, _)| *entry == id) {
        Some((_, stored)) => {
            if !stored.will_wake(waker) {
                stored.clone_from(waker);
            }
        }
        None => waiting.push((id, waker.clone())),
    }
}

/// Takes listener `id` off the list (it resolved, or it is dropped), so the
/// list holds no waker of a task that no longer waits.
pub(super) fn unpark(id: u64) {
    let mut waiting = waiting();
    if let Some(at) = waiting.iter().position(|(entry, _)| *entry == id) {
        waiting.swap_remove(at);
    }
}

/// Wakes every waiting listener but `drainer` (which is being polled, and
/// parks again before it waits). Collect, release, then fire: a waker may
/// run code that parks again.
pub(super) fn wake_others(drainer: u64) {
    let taken = std::mem::take(&mut *waiting());
    for (id, waker) in taken {
        if id != drainer {
            waker.wake();
        }
    }
}
