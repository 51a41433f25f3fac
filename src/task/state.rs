//! A task's state: the atomic state word, the loop-only flags, and every
//! protocol that runs on them.
//!
//! # The state word
//!
//! | bit              | set by                          | cleared by                          |
//! |------------------|---------------------------------|-------------------------------------|
//! | `COMPLETE`       | the loop, after writing the output | never                            |
//! | `CANCELLED`      | `JoinHandle::cancel`, any thread | never                              |
//! | `JOIN_INTEREST`  | spawn                           | the join handle's drop, if early    |
//! | `JOIN_WAKER`     | the join handle, slot written   | the join handle, to rewrite the slot |
//! | `REMOTE_QUEUED`  | a remote wake, entry pushed     | the loop, entry drained             |
//! | `DONE_CALLBACKS` | the loop, callbacks pending     | the loop, callbacks run or dropped  |
//!
//! The join handle may take the output once the task is **readable**:
//! `COMPLETE` is set and `DONE_CALLBACKS` is not. The gate exists because done
//! callbacks borrow the output on the loop thread while the join handle may
//! live on another: until they have run, the output is not the handle's.
//! Every rule in `cell.rs` that speaks of the join handle and the output
//! (R2, R3) is about readability, not merely completion.
//!
//! # The loop-only flags
//!
//! `key`, `queued`, `done` and the count of pending done callbacks are plain
//! `Cell`s (rule R4): only the owner thread touches them, which the `&Core`
//! parameter of their methods proves (`Core` is `!Send`).

use crate::loom::sync::atomic::Ordering::{AcqRel, Acquire};
use std::task::Waker;

use super::cell::Header;
use crate::runtime::core::Core;

/// The task has finished (output or error stored); the future is gone.
pub(crate) const COMPLETE: usize = 1 << 0;
/// Cancellation was requested; the loop acts on it when it next runs the task.
pub(crate) const CANCELLED: usize = 1 << 1;
/// A join handle still exists. Cleared when it is dropped before the output
/// is readable; then the loop drops the output itself.
pub(crate) const JOIN_INTEREST: usize = 1 << 2;
/// The join-waker slot holds a waker that the loop may read (rule R3).
pub(crate) const JOIN_WAKER: usize = 1 << 3;
/// A remote wake of this task already sits in the injector, so further remote
/// wakes need not queue another.
pub(crate) const REMOTE_QUEUED: usize = 1 << 4;
/// Done callbacks are pending: the output is held back from the join handle.
pub(crate) const DONE_CALLBACKS: usize = 1 << 5;

/// Whether the join handle may take the output.
pub(crate) fn is_readable(state: usize) -> bool {
    state & COMPLETE != 0 && state & DONE_CALLBACKS == 0
}

impl Header {
    // ----- loop-only scheduling flags (R4) -------------------------------------

    pub(crate) fn key(&self) -> usize {
        self.key.get()
    }

    /// Adopts the task into the slab at `key`; the caller pushes it onto the
    /// run queue (it is marked queued from birth).
    pub(crate) fn adopt(&self, _core: &Core, key: usize) {
        debug_assert!(self.queued.get(), "a task is born queued and first runs after adoption");
        self.key.set(key);
    }

    /// Marks the task queued unless it already is or is done. Returns `true`
    /// if the caller must push it onto the run queue.
    pub(crate) fn mark_queued(&self, _core: &Core) -> bool {
        if self.queued.get() || self.done.get() {
            return false;
        }
        self.queued.set(true);
        true
    }

    /// The task was popped from the run queue.
    pub(crate) fn mark_dequeued(&self, _core: &Core) {
        debug_assert!(self.queued.get(), "a task is in the run queue exactly when its queued flag is set");
        self.queued.set(false);
    }

    /// Whether done callbacks are registered and not yet run or dropped.
    pub(crate) fn has_done_callbacks(&self, _core: &Core) -> bool {
        self.done_callbacks.get() > 0
    }

    /// A done task that is not queued can leave the slab.
    pub(crate) fn is_releasable(&self, _core: &Core) -> bool {
        self.done.get() && !self.queued.get()
    }

    // ----- any thread ----------------------------------------------------------

    pub(crate) fn is_complete(&self) -> bool {
        self.state.load(Acquire) & COMPLETE != 0
    }

    pub(crate) fn is_readable(&self) -> bool {
        is_readable(self.state.load(Acquire))
    }

    /// Requests cancellation. Returns `true` if the task must be scheduled so
    /// the loop sees the request.
    pub(crate) fn request_cancel(&self) -> bool {
        self.state.fetch_or(CANCELLED, AcqRel) & (COMPLETE | CANCELLED) == 0
    }

    pub(crate) fn is_cancel_requested(&self) -> bool {
        self.state.load(Acquire) & CANCELLED != 0
    }

    /// Sets `REMOTE_QUEUED`; returns `true` if it was clear (the caller then
    /// pushes a wake into the injector).
    pub(crate) fn claim_remote_wake(&self) -> bool {
        self.state.fetch_or(REMOTE_QUEUED, AcqRel) & REMOTE_QUEUED == 0
    }

    /// The injector entry was drained; later remote wakes queue anew.
    pub(crate) fn release_remote_wake(&self) {
        self.state.fetch_and(!REMOTE_QUEUED, AcqRel);
    }

    // ----- the join handle's side (R2, R3) -------------------------------------

    /// Stores `waker` to be woken when the output becomes readable. Returns
    /// `false` if it became readable meanwhile (take the output now).
    pub(crate) fn register_join_waker(&self, waker: &Waker) -> bool {
        let state = self.state.load(Acquire);
        if is_readable(state) {
            return false;
        }
        if state & JOIN_WAKER != 0 {
            // SAFETY: R3 — the slot is set and only the join handle (us)
            // writes it; the loop may read it concurrently, which is fine.
            let same =
                self.join_waker.with(|slot| unsafe { &*slot }.as_ref().is_some_and(|w| w.will_wake(waker)));
            if same {
                return true;
            }
            // Take the slot back before rewriting it, unless the loop has
            // made the output readable (and may be reading the slot).
            if self.update_unless_readable(|s| s & !JOIN_WAKER).is_err() {
                return false;
            }
        }
        // SAFETY: R3 — `JOIN_WAKER` is clear, so the slot is ours to write.
        let old = self.join_waker.with_mut(|slot| unsafe { (*slot).replace(waker.clone()) });
        drop(old); // outside the access: a waker's drop may do anything
        self.update_unless_readable(|s| s | JOIN_WAKER).is_ok()
    }

    /// Applies `f` to the state word unless the output is readable.
    pub(crate) fn update_unless_readable(&self, f: impl Fn(usize) -> usize) -> Result<usize, usize> {
        self.state.fetch_update(AcqRel, Acquire, |s| (!is_readable(s)).then(|| f(s)))
    }
}
