//! The task header: the type-erased part at the start of every task cell,
//! and what any holder may do with it.
//!
//! Every pointer to a task — a [`TaskRef`], a `Waker` — points at a
//! `Header`. It holds the state word (`state.rs`, with the reference count
//! in its upper bits), the runtime that owns the task, the loop-only flags, the join handle's waker
//! slot, and the [`Vtable`]: the typed operations of the future behind it,
//! chosen at spawn (`cell/stage.rs`). The rules R1–R5 that govern these
//! fields are stated in `cell.rs`; the methods here name the rule they
//! follow.
//!
//! This file imports neither `cell.rs` nor `stage.rs`: the header, its
//! vtable and the counted pointer to it are the types they both build on.
//!
//! # The one import circle
//!
//! A header names its runtime's injector (`owner: Arc<Shared>`, so a wake
//! from any thread can reach the loop), and the injector holds tasks
//! (`TaskRef`s waiting to be spawned or woken, `runtime/shared.rs`). That
//! pair — this file and `runtime/shared.rs` — is the only place where two of
//! kettle's files import each other, and `tests/module_dependencies.rs`
//! keeps it so.
//!
//! # Proof of the loop's thread
//!
//! The loop-only flags (R4) are reached through [`Header::flags`], which
//! takes an [`OnLoop`]: a token that only the loop makes (`Core` holds it)
//! and that cannot leave the loop's thread. So touching them from anywhere
//! else does not compile, and debug builds check that the token is the
//! owner's.

use std::panic::Location;
use std::ptr::NonNull;
use std::sync::Arc;
use std::task::{Context, Waker};

use super::id::Id;
use super::loop_flags::LoopFlags;
use super::state::{JoinWakerSet, JoinWakerUnset, State};
use crate::loom::cell::UnsafeCell;
use crate::runtime::shared::Shared;

/// The type-erased part of every task, at the start of its cell.
#[repr(C)]
pub(crate) struct Header {
    /// The state word: completion, cancellation, the join protocol, and the
    /// number of `TaskRef`s and `Waker`s pointing at this cell (`state.rs`).
    pub(in crate::task) state: State,
    pub(in crate::task) vtable: &'static Vtable,
    /// The runtime this task belongs to: fixed at spawn, read from any thread
    /// (a remote wake finds the injector through it).
    pub(in crate::task) owner: Arc<Shared>,
    /// The loop's bookkeeping on the task (R4): only through [`Header::flags`].
    flags: LoopFlags,
    /// The join handle's waker, guarded by `JOIN_WAKER` (R3).
    pub(in crate::task) join_waker: UnsafeCell<Option<Waker>>,
    // What kettle shows of the task (dumps, debug mode, traces); the
    // mechanism above needs neither.
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
    /// How many `TaskRef`s and wakers point at the cell (for tests).
    #[cfg(test)]
    pub(crate) fn refs(&self) -> usize {
        self.state.load().refs()
    }

    /// The header of a new cell: two references (the loop's and the join
    /// handle's), not yet adopted by its loop.
    pub(in crate::task) fn new(
        vtable: &'static Vtable,
        owner: Arc<Shared>,
        id: Id,
        location: &'static Location<'static>,
    ) -> Header {
        Header {
            state: State::new(),
            vtable,
            owner,
            flags: LoopFlags::new(),
            join_waker: UnsafeCell::new(None),
            id,
            location,
        }
    }

    #[inline]
    pub(crate) fn ref_inc(&self) {
        self.state.ref_inc()
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

    /// The runtime this task belongs to.
    #[inline]
    pub(crate) fn owner(&self) -> &Arc<Shared> {
        &self.owner
    }

    /// Whether the loop holding `on_loop` owns this task.
    #[inline]
    pub(crate) fn is_owned_by(&self, on_loop: &OnLoop) -> bool {
        std::ptr::eq(Arc::as_ptr(&self.owner), on_loop.owner())
    }

    /// The loop-only flags (R4), for the loop that owns the task.
    #[inline]
    pub(crate) fn flags(&self, on_loop: &OnLoop) -> &LoopFlags {
        debug_assert!(
            self.is_owned_by(on_loop),
            "the loop-only flags are read and written only by the task's own runtime (R4)"
        );
        &self.flags
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

    /// A finished task whose output its join handle may not have read yet:
    /// the handle still has interest (it has not taken the output), and
    /// someone besides the caller's one reference still holds the cell (the
    /// handle, or — rarely — a waker).
    pub(crate) fn may_be_unread(&self) -> bool {
        let state = self.state.load();
        state.has_join_interest() && state.refs() > 1
    }

    #[inline]
    pub(crate) fn release_remote_wake(&self) {
        self.state.release_remote_wake()
    }
}

/// Proof that the holder runs on the loop thread of one runtime: what
/// [`Header::flags`] asks for (R4).
///
/// `Core` makes one when it is built and hands out borrows of it; the raw
/// pointer makes it `!Send` and `!Sync`, so it — and anything that keeps a
/// copy, like a done callbacks' batch waiting in the loop's callback queue —
/// stays on the loop's thread. The pointer is only compared, never read.
#[derive(Clone, Copy, Debug)]
pub(crate) struct OnLoop {
    owner: *const Shared,
}

impl OnLoop {
    /// For `Core::new` alone: the loop of the runtime behind `owner` runs on
    /// this thread.
    pub(crate) fn new(owner: &Arc<Shared>) -> OnLoop {
        OnLoop { owner: Arc::as_ptr(owner) }
    }

    /// The runtime whose loop this proves, to compare with.
    pub(crate) fn owner(&self) -> *const Shared {
        self.owner
    }
}

/// An owning, reference-counted pointer to a task cell. Its behaviour —
/// spawning, running, completing — is in `cell.rs`; here is what any
/// pointer to a cell needs: counting, and freeing with the last one (R5).
pub(crate) struct TaskRef {
    pub(in crate::task) ptr: NonNull<Header>,
}

// SAFETY: a `TaskRef` only exposes the thread-safe parts of the cell (atomics,
// `owner`) except through methods that check they run on the owner thread
// (`run`, `shutdown` take an `OnLoop`, which is `!Send`, and assert
// ownership), or that follow the join protocol (R2, R3).
unsafe impl Send for TaskRef {}

impl TaskRef {
    pub(crate) fn header(&self) -> &Header {
        // SAFETY: a `TaskRef` keeps the cell alive (R5).
        unsafe { self.ptr.as_ref() }
    }

    pub(crate) fn as_ptr(&self) -> NonNull<Header> {
        self.ptr
    }

    /// The cell's address: unique among live tasks, which a slab key is not
    /// once its task has left the slab.
    pub(crate) fn id(&self) -> usize {
        self.ptr.as_ptr().addr()
    }

    /// Rebuilds a `TaskRef` from a pointer that carries one reference (a
    /// consumed waker).
    ///
    /// # Safety
    /// `ptr` came from a `TaskRef` or waker whose reference is being transferred.
    pub(crate) unsafe fn from_raw(ptr: NonNull<Header>) -> TaskRef {
        TaskRef { ptr }
    }
}

impl Clone for TaskRef {
    fn clone(&self) -> TaskRef {
        self.header().ref_inc();
        TaskRef { ptr: self.ptr }
    }
}

impl Drop for TaskRef {
    fn drop(&mut self) {
        if self.header().state.ref_dec() {
            // SAFETY: that was the last reference (R5).
            unsafe { (self.header().vtable.dealloc)(self.ptr) };
        }
    }
}
