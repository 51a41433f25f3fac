//! The task cell: one heap block per task, and the only place that touches it.
//!
//! A spawned future lives in a `TaskCell<F>` (`cell/stage.rs`): a [`Header`]
//! (`header.rs`) followed by the future's stage (the future while it runs,
//! then its output, then nothing). One allocation holds both, so spawning
//! allocates exactly once.
//!
//! Everything else in kettle holds a task through a type-erased pointer to the
//! header: [`TaskRef`] (owning, reference-counted) or a `Waker` (which is a
//! `TaskRef` in disguise, see `waker.rs`). The header's `vtable` knows the
//! concrete `F` and performs the typed operations (poll, cancel, read output,
//! free); this file holds `TaskRef`, the type-erased side, which calls them.
//!
//! # Who may touch what
//!
//! The cell is shared by three kinds of holder, on possibly different threads:
//!
//! 1. **the loop** (the runtime's own thread): polls and drops the future, writes
//!    the output, and owns the loop-only flags (`key`, `queued`, `done`, the
//!    count of pending done callbacks);
//! 2. **the join handle** (any thread, if `T: Send`): reads the output once it
//!    is readable, and manages the join-waker slot (rule R3 below; the
//!    steps are `Header::register_join_waker`'s);
//! 3. **wakers** (any thread): touch only `state` (the reference count is
//!    in it) and the owner.
//!
//! The state word has its own file, `state.rs`, and the loop-only flags
//! theirs, `loop_flags.rs`: there each change of state says what must
//! happen next (drop the output, wake the join handle, ...). This file does it.
//!
//! The rules that make this sound:
//!
//! - R1. The future is only polled or dropped on the owner thread — or, for a
//!   task that never reached its loop (the runtime was already gone), by the
//!   thread that created it, which is then the only holder that can reach it.
//! - R2. The output is written before `COMPLETE` is set (release) and read only
//!   after it is observed readable (acquire), by exactly one party: the join
//!   handle if it still exists when the output becomes readable, else the loop.
//! - R3. The join-waker slot is written only by the join handle, and only while
//!   `JOIN_WAKER` is clear; once `JOIN_WAKER` is set the loop may read it, and
//!   after `COMPLETE` nobody writes it again (it is dropped with the cell).
//! - R4. The loop-only flags are plain `Cell`s, read and written only by the
//!   owner's loop thread.
//! - R5. The cell is freed when the reference count (in the state word)
//!   drops to zero. The runtime's task slab
//!   holds a reference for as long as the future exists, so the last reference
//!   never drops a future (R1) — only an already-consumed stage.
//!
//! # Safety
//!
//! Every `unsafe` block below relies on one of R1–R5, named in its comment.

mod stage;

use std::cell::Cell;
use std::future::Future;
use std::panic::Location;
use std::ptr::NonNull;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use super::error::JoinError;
use super::header::{Header, OnLoop, TaskRef};
use super::id::Id;
use super::lazy::Lazy;
use super::state::{Completed, JoinDropped};
use crate::contain;
use crate::runtime::shared::{Remote, Shared};
use stage::TaskCell;

impl TaskRef {
    /// Creates a task for `future` on its owner's loop thread, which
    /// `on_loop` proves. Returns the slab's reference and the join handle's.
    pub(crate) fn new_local<F>(
        future: F,
        owner: &Arc<Shared>,
        on_loop: &OnLoop,
        id: Id,
        location: &'static Location<'static>,
    ) -> (TaskRef, TaskRef)
    where
        F: Future + 'static,
    {
        debug_assert!(
            std::ptr::eq(on_loop.owner(), Arc::as_ptr(owner)),
            "a local spawn is on its owner's loop"
        );
        // SAFETY: `owner`'s `OnLoop` proves we are on the owner thread (it is
        // `!Send` and `!Sync`), so the future never changes threads (R1).
        let ptr = unsafe { TaskCell::allocate(future, owner.clone(), id, location) };
        (TaskRef { ptr }, TaskRef { ptr })
    }

    /// Creates a task on any thread for the runtime behind `owner` and hands it
    /// to the loop through the injector. Returns the join handle's reference.
    /// If the runtime is gone, the task is cancelled at once, on this thread.
    pub(crate) fn spawn_remote<F>(
        future: F,
        owner: &Arc<Shared>,
        location: &'static Location<'static>,
    ) -> TaskRef
    where
        F: Future + Send + 'static,
    {
        // SAFETY: `F: Send`, so moving it to the loop thread is sound (R1).
        unsafe { Self::inject(future, owner, location) }
    }

    /// Like [`TaskRef::spawn_remote`], but the future is built on the loop
    /// thread by `make`, so the future itself need not be `Send`.
    pub(crate) fn spawn_remote_with<M, Fut>(
        make: M,
        owner: &Arc<Shared>,
        location: &'static Location<'static>,
    ) -> TaskRef
    where
        M: FnOnce() -> Fut + Send + 'static,
        Fut: Future + 'static,
        Fut::Output: Send,
    {
        // SAFETY: the `Lazy` value crosses threads only in its `Make` state,
        // which holds just an `M: Send`; it becomes `Running(Fut)` inside `poll`,
        // on the loop thread, and stays there (R1).
        unsafe { TaskRef::inject(Lazy::Make { make: Some(make) }, owner, location) }
    }

    /// Creates a task for the runtime behind `owner` and pushes it into its
    /// injector.
    ///
    /// # Safety
    /// As for [`TaskCell::allocate`].
    unsafe fn inject<F: Future + 'static>(
        future: F,
        owner: &Arc<Shared>,
        location: &'static Location<'static>,
    ) -> TaskRef {
        let id = Id::from_u64(owner.take_task_ids(1));
        // SAFETY: forwarded from the caller.
        let ptr = unsafe { TaskCell::allocate(future, owner.clone(), id, location) };
        let (task, join) = (TaskRef { ptr }, TaskRef { ptr });
        if let Err(Remote::Spawn(task)) = owner.push(Remote::Spawn(task)) {
            // The runtime is gone. Nobody else can reach this cell yet, so this
            // thread is its only holder and may drop the future (R1's exception).
            // SAFETY: exclusive access, as just argued.
            unsafe { (task.header().vtable.cancel)(task.ptr) };
            // No loop will ever run the task or read its loop flags: completing
            // it is the state word's part alone.
            task.hand_over(task.header().state.complete(false));
        }
        join
    }

    /// Runs the task once on its loop: drops it if cancellation was requested,
    /// otherwise polls it with `waker` (the loop lends one that points back
    /// at this task, `waker.rs`). Completes the task when it finishes.
    pub(crate) fn run(&self, on_loop: &OnLoop, waker: &Waker) -> RunOutcome {
        let header = self.header();
        assert!(header.is_owned_by(on_loop), "a task is only run by its own runtime");
        if header.flags(on_loop).is_done() {
            return RunOutcome::AlreadyDone;
        }
        if header.state.load().is_cancel_requested() {
            // SAFETY: R1 — on the owner thread, as asserted above.
            unsafe { (header.vtable.cancel)(self.ptr) };
            self.complete(on_loop);
            return RunOutcome::Cancelled;
        }
        let mut cx = Context::from_waker(waker);
        header.flags(on_loop).count_poll();
        // SAFETY: R1 — on the owner thread, as asserted above.
        if unsafe { (header.vtable.poll)(self.ptr, &mut cx) } {
            self.complete(on_loop);
            RunOutcome::Finished
        } else {
            RunOutcome::Pending
        }
    }

    /// Drops the future of a task that is still running (runtime shutdown).
    pub(crate) fn shutdown(&self, on_loop: &OnLoop) {
        let header = self.header();
        assert!(header.is_owned_by(on_loop), "a task is only shut down by its own runtime");
        if !header.flags(on_loop).is_done() {
            // SAFETY: R1 — on the owner thread, as asserted above.
            unsafe { (header.vtable.cancel)(self.ptr) };
            self.complete(on_loop);
        }
    }

    /// Marks the task complete (its output is stored). Unless done callbacks
    /// are pending — they hold the output back until they have run — the
    /// output is handed over to the join handle at once.
    fn complete(&self, on_loop: &OnLoop) {
        let header = self.header();
        header.flags(on_loop).mark_done();
        self.hand_over(header.state.complete(header.flags(on_loop).has_done_callbacks()));
    }

    /// Does what completing, or releasing the done callbacks' hold, asked
    /// for (R2): drop the output here, or wake the join handle.
    fn hand_over(&self, completed: Completed) {
        let header = self.header();
        match completed {
            Completed::HeldForDoneCallbacks | Completed::Nothing => {}
            // SAFETY: R2 — no join handle exists, so the loop owns the output.
            Completed::DropOutput => unsafe { (header.vtable.drop_output)(self.ptr) },
            // The waker may be a foreign executor's: its panic stays here.
            Completed::WakeJoiner => header.join_waker.with(|slot| {
                // SAFETY: R3 — `JOIN_WAKER` was set before the output became
                // readable, so the slot is initialised and no longer written.
                if let Some(waker) = unsafe { &*slot } {
                    contain::call(|| waker.wake_by_ref());
                }
            }),
        }
    }

    /// Done callbacks side: one more callback is pending. If the task has
    /// already completed, this also holds the output back from the join
    /// handle until the callback has run, and returns `true`. Panics if the
    /// output was already taken.
    pub(crate) fn hold_for_done_callback(&self, on_loop: &OnLoop) -> bool {
        let header = self.header();
        assert!(header.is_owned_by(on_loop), "done callbacks are added on the task's own runtime");
        let done = header.flags(on_loop).is_done();
        if done {
            let mut present = false;
            self.with_output(on_loop, |output| present = !output.is_null());
            assert!(
                present,
                "JoinHandle::add_done_callback called after the handle already returned the task's output"
            );
            header.state.hold_for_done_callbacks();
        }
        header.flags(on_loop).add_done_callback();
        done
    }

    /// Done callbacks side: runs `callbacks` with a borrow of the output
    /// (each under `catch_unwind`, so one panicking callback does not stop the
    /// others or the loop).
    pub(crate) fn run_done_callbacks(&self, on_loop: &OnLoop, callbacks: Vec<DoneCallback>) {
        let mut callbacks = Some(callbacks);
        self.with_output(on_loop, |output| {
            debug_assert!(!output.is_null(), "the gate keeps the output in place until the callbacks ran");
            for callback in callbacks.take().into_iter().flatten() {
                // SAFETY: `output` points at this task's `Result<T, JoinError>`,
                // the type every callback registered through its `JoinHandle<T>`
                // expects; the gate keeps the join handle from taking it meanwhile.
                contain::call(|| unsafe { callback.call(output) });
            }
        });
    }

    /// Done callbacks side: `count` callbacks ran or were dropped. When none
    /// is pending any more, the output is released to the join handle.
    pub(crate) fn release_done_callbacks(&self, on_loop: &OnLoop, count: u32) {
        let header = self.header();
        if header.flags(on_loop).release_done_callbacks(count) {
            self.hand_over(header.state.release_done_callbacks());
        }
    }

    /// Calls `f` with a pointer to the output (null if there is none).
    fn with_output(&self, _on_loop: &OnLoop, mut f: impl FnMut(*const ())) {
        // SAFETY: on the owner thread (R1), reading where the output is.
        unsafe { (self.header().vtable.with_output)(self.ptr, &mut f) }
    }

    /// Moves the output into `out` once complete (join handle side, R2).
    ///
    /// # Safety
    /// `T` is the task's output type, and the caller is the join handle.
    pub(crate) unsafe fn take_output<T>(&self, out: &mut Poll<Result<T, JoinError>>) {
        // SAFETY: forwarded from the caller.
        unsafe { (self.header().vtable.take_output)(self.ptr, (out as *mut Poll<_>).cast()) }
    }

    /// The join handle is going away (R2, R3): give up interest in the output,
    /// or drop it if the task already completed.
    ///
    /// # Safety
    /// The caller is the join handle, and calls this once.
    pub(crate) unsafe fn drop_join_interest(&self) {
        let header = self.header();
        match header.state.drop_join_interest() {
            // SAFETY: R3 — we cleared `JOIN_WAKER` before the output became
            // readable, so the loop will not read the slot; we may empty it.
            JoinDropped::DropWaker => drop(header.join_waker.with_mut(|slot| unsafe { (*slot).take() })),
            // SAFETY: R2 — readable while we still had interest: ours to drop.
            JoinDropped::DropOutput => unsafe { (header.vtable.drop_output)(self.ptr) },
        }
    }
}

/// The task the loop is polling right now, if any: what
/// [`task::current`](crate::task::current) reads.
///
/// A plain pointer, set by the loop around each poll, because during a poll
/// the task's slab entry keeps it alive (`TaskSlab::lend`, `core.rs`) and a
/// clone would cost an atomic increment per poll.
pub(crate) struct CurrentTask(Cell<Option<NonNull<Header>>>);

impl CurrentTask {
    pub(crate) const fn none() -> CurrentTask {
        CurrentTask(Cell::new(None))
    }

    /// Runs `poll` with `task` as the running task, then clears it. (A
    /// task's panic is caught inside its vtable's `poll`, so `poll` returns.)
    #[inline]
    pub(crate) fn enter<R>(&self, task: &TaskRef, poll: impl FnOnce() -> R) -> R {
        debug_assert!(self.0.get().is_none(), "the loop polls one task at a time");
        self.0.set(Some(task.as_ptr()));
        let result = poll();
        self.0.set(None);
        result
    }

    /// Calls `f` with the running task's header, or `None` between polls.
    pub(crate) fn with<R>(&self, f: impl FnOnce(Option<&Header>) -> R) -> R {
        let header = self.0.get().map(|ptr| {
            // The pointer is set only inside `enter`, and cleared before it returns.
            // SAFETY: `enter`'s caller holds a `TaskRef` to the cell meanwhile (R5
            // keeps it alive); only the loop's thread reads it (`Core` is `!Send`).
            unsafe { ptr.as_ref() }
        });
        f(header)
    }
}

/// What [`TaskRef::run`] did.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum RunOutcome {
    /// Polled; not finished.
    Pending,
    /// Polled to completion.
    Finished,
    /// Cancellation was requested; the future was dropped unpolled.
    Cancelled,
    /// Completed earlier; a stale queue entry.
    AlreadyDone,
}

/// A done callback with its output type erased, so that callbacks of every
/// task fit one list. It is only ever called by
/// [`TaskRef::run_done_callbacks`] with the output of the task it was
/// registered on — the one thing that makes the cast inside sound.
pub(crate) struct DoneCallback(Box<dyn FnOnce(*const ())>);

impl DoneCallback {
    pub(crate) fn new<T: 'static>(callback: impl FnOnce(&Result<T, JoinError>) + 'static) -> DoneCallback {
        DoneCallback(Box::new(move |output: *const ()| {
            // SAFETY: `call`'s contract: `output` is a live `Result<T, JoinError>`.
            callback(unsafe { &*output.cast::<Result<T, JoinError>>() })
        }))
    }

    /// # Safety
    /// `output` points at a live `Result<T, JoinError>` of the `T` this
    /// callback was created for, not mutated during the call.
    unsafe fn call(self, output: *const ()) {
        (self.0)(output)
    }
}

#[cfg(all(test, loom))]
mod loom_model;
