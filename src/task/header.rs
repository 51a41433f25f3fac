//! The task header: the type-erased part at the start of every task cell,
//! and what any holder may do with it.
//!
//! Every pointer to a task — a [`TaskRef`](super::cell::TaskRef), a
//! `Waker` — points at a `Header`. It holds the state word (`state.rs`), the
//! reference count, the loop-only flags, the join handle's waker slot, and
//! the [`Vtable`]: the typed operations of the future behind it, chosen at
//! spawn (`cell/stage.rs`). The rules R1–R5 that govern these fields are
//! stated in `cell.rs`; the methods here name the rule they follow.
//!
//! This file imports neither `cell.rs` nor `stage.rs`: the header and its
//! vtable are the two types they both build on.

use std::panic::Location;
use std::ptr::NonNull;
use std::sync::Arc;
use std::task::{Context, Waker};

use super::id::Id;
use super::state::{JoinWakerSet, JoinWakerUnset, LoopFlags, State};
use crate::loom::cell::UnsafeCell;
use crate::loom::sync::atomic::{
    AtomicUsize,
    Ordering::{Acquire, Relaxed},
};
use crate::runtime::core::Core;
use crate::runtime::shared::Shared;

/// The type-erased part of every task, at the start of its cell.
#[repr(C)]
pub(crate) struct Header {
    /// The state word: completion, cancellation, the join protocol (`state.rs`).
    pub(in crate::task) state: State,
    /// Number of `TaskRef`s and `Waker`s pointing at this cell.
    pub(in crate::task) refs: AtomicUsize,
    pub(in crate::task) vtable: &'static Vtable,
    /// The runtime this task belongs to, and its loop-only flags (R4).
    pub(in crate::task) flags: LoopFlags,
    /// The join handle's waker, guarded by `JOIN_WAKER` (R3).
    pub(in crate::task) join_waker: UnsafeCell<Option<Waker>>,
    /// Unique in the runtime; fixed at creation, read from any thread.
    pub(in crate::task) id: Id,
    /// Where the task was spawned (`#[track_caller]`); fixed at creation.
    pub(in crate::task) location: &'static Location<'static>,
}

/// Typed operations on a cell, chosen at spawn time.
pub(crate) struct Vtable {
    /// Polls the future; on completion stores the output. Returns `true` when done.
    pub(crate) poll: unsafe fn(NonNull<Header>, &mut Context<'_>) -> bool,
    /// Drops the future in place and stores `JoinError::cancelled()`.
    pub(crate) cancel: unsafe fn(NonNull<Header>),
    /// Moves the output into `*mut Poll<Result<T, JoinError>>`.
    pub(crate) take_output: unsafe fn(NonNull<Header>, *mut ()),
    /// Drops the output if it is still there.
    pub(crate) drop_output: unsafe fn(NonNull<Header>),
    /// Calls the function with a pointer to the stored `Result<T, JoinError>`
    /// (null if there is none), valid for the length of the call.
    pub(crate) with_output: unsafe fn(NonNull<Header>, &mut dyn FnMut(*const ())),
    /// Frees the cell.
    pub(crate) dealloc: unsafe fn(NonNull<Header>),
}

impl Header {
    pub(crate) fn ref_inc(&self) {
        // Relaxed suffices for an increment: whoever increments already holds
        // a reference, so the cell cannot be freed concurrently.
        if self.refs.fetch_add(1, Relaxed) > isize::MAX as usize {
            std::process::abort();
        }
    }

    /// The task's id.
    #[inline]
    pub(crate) fn id(&self) -> Id {
        self.id
    }

    /// Where the task was spawned.
    pub(crate) fn location(&self) -> &'static Location<'static> {
        self.location
    }

    #[inline]
    pub(crate) fn owner(&self) -> &Arc<Shared> {
        self.flags.owner()
    }

    #[inline]
    pub(crate) fn is_owned_by(&self, core: &Core) -> bool {
        self.flags.is_owned_by(core)
    }

    /// Stores `waker` to be woken when the output becomes readable (R3).
    /// Answers `TakeOutput` if it became readable meanwhile.
    pub(crate) fn register_join_waker(&self, waker: &Waker) -> JoinWakerSet {
        let state = self.state.load();
        if state.is_readable() {
            return JoinWakerSet::TakeOutput;
        }
        if state.has_join_waker() {
            // SAFETY: R3 — the slot is set and only the join handle (us)
            // writes it; the loop may read it concurrently, which is fine.
            let same =
                self.join_waker.with(|slot| unsafe { &*slot }.as_ref().is_some_and(|w| w.will_wake(waker)));
            if same {
                return JoinWakerSet::Wait;
            }
            // Take the slot back before rewriting it, unless the loop has
            // made the output readable (and may be reading the slot).
            match self.state.unset_join_waker() {
                JoinWakerUnset::WriteSlot => {}
                JoinWakerUnset::TakeOutput => return JoinWakerSet::TakeOutput,
            }
        }
        // SAFETY: R3 — `JOIN_WAKER` is clear, so the slot is ours to write.
        let old = self.join_waker.with_mut(|slot| unsafe { (*slot).replace(waker.clone()) });
        drop(old); // outside the access: a waker's drop may do anything
        self.state.set_join_waker()
    }

    // ----- for the runtime: the loop-only flags and the remote wake (`state.rs`) -----

    #[inline]
    pub(crate) fn key(&self) -> usize {
        self.flags.key()
    }

    #[inline]
    pub(crate) fn adopt(&self, core: &Core, key: usize) {
        self.flags.adopt(core, key)
    }

    #[inline]
    pub(crate) fn mark_queued(&self, core: &Core) -> bool {
        self.flags.mark_queued(core)
    }

    #[inline]
    pub(crate) fn mark_dequeued(&self, core: &Core) {
        self.flags.mark_dequeued(core)
    }

    #[inline]
    pub(crate) fn has_done_callbacks(&self, core: &Core) -> bool {
        self.flags.has_done_callbacks(core)
    }

    #[inline]
    pub(crate) fn is_releasable(&self, core: &Core) -> bool {
        self.flags.is_releasable(core)
    }

    /// The loop polled the task once more.
    #[inline]
    pub(crate) fn count_poll(&self, core: &Core) {
        self.flags.count_poll(core)
    }

    /// Whether the task is done (loop-only, R4).
    pub(crate) fn is_done(&self, core: &Core) -> bool {
        self.flags.is_done(core)
    }

    /// Whether the task is in the run queue (loop-only, R4).
    pub(crate) fn is_queued(&self, core: &Core) -> bool {
        self.flags.is_queued(core)
    }

    /// A finished task whose output its join handle may not have read yet:
    /// the handle still has interest, and someone besides the caller's one
    /// reference still holds the cell (the handle, or — rarely — a waker).
    pub(crate) fn may_be_unread(&self) -> bool {
        self.state.load().has_join_interest() && self.refs.load(Acquire) > 1
    }

    pub(crate) fn polls(&self, core: &Core) -> u64 {
        self.flags.polls(core)
    }

    /// The task's entry in the loop's table of notes (`notes.rs`), if any.
    #[inline]
    pub(crate) fn notes_key(&self, core: &Core) -> Option<usize> {
        self.flags.notes_key(core)
    }

    pub(crate) fn set_notes_key(&self, core: &Core, key: Option<usize>) {
        self.flags.set_notes_key(core, key)
    }

    #[inline]
    pub(crate) fn release_remote_wake(&self) {
        self.state.release_remote_wake()
    }
}
