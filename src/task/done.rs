//! Done callbacks: `JoinHandle::add_done_callback` (asyncio's
//! `Task.add_done_callback`).
//!
//! A done callback runs on the loop thread once its task has finished, with a
//! borrow of the task's result; afterwards the join handle still yields that
//! result. Three pieces make that work:
//!
//! - **Storage.** Callbacks of a task that is still running wait in a side
//!   table of the runtime, keyed by the task cell's address (so tasks without
//!   callbacks pay nothing). When the task completes, the loop takes them out
//!   and queues them, in registration order, as one loop callback: a
//!   [`DoneBatch`]. A callback added to a task that already finished becomes
//!   a batch of its own, queued at once (asyncio's `call_soon`).
//! - **The gate.** While any callback of a task is pending, its output is held
//!   back from the join handle (the `DONE_CALLBACKS` state bit, see
//!   `state.rs`): the callbacks borrow the output on the loop thread, and the
//!   handle, which may live on another thread, must not take it from under
//!   them. The handle just waits a little longer.
//! - **Release.** A batch releases its hold when it is dropped — after
//!   running, or unrun because the runtime is shutting down — so the join
//!   handle always gets its result in the end. A panicking callback is caught
//!   and does not stop the others.

use std::cell::RefCell;
use std::collections::HashMap;

use super::cell::DoneCallback;
use super::header::{OnLoop, TaskRef};

/// The done callbacks of tasks that have not finished, by the address of
/// the task's cell ([`TaskRef::id`]). Not by slab key: shutdown empties the
/// slab while entries wait, and a task spawned meanwhile by a destructor
/// reuses a key, which would mix its callbacks with an old task's.
///
/// Kept by the loop among its extras (`runtime/core/extras.rs`); the loop
/// queues each [`DoneBatch`] it returns as a callback.
#[derive(Default)]
pub(crate) struct DoneCallbacks {
    waiting: RefCell<HashMap<usize, Vec<DoneCallback>>>,
}

impl DoneCallbacks {
    /// Registers `callback` on `task`: kept until the task completes, or —
    /// if it already has — returned at once as a batch of its own, to queue.
    pub(crate) fn add(&self, on_loop: &OnLoop, task: &TaskRef, callback: DoneCallback) -> Option<DoneBatch> {
        if task.hold_for_done_callback(on_loop) {
            return Some(DoneBatch::new(*on_loop, task.clone(), vec![callback]));
        }
        self.waiting.borrow_mut().entry(task.id()).or_default().push(callback);
        None
    }

    /// `task` has just completed: its callbacks, if it has any, as one batch
    /// to queue. (The loop asks the task's flags first: most tasks have
    /// none, and the flags are cheaper than the table.)
    pub(crate) fn take(&self, on_loop: &OnLoop, task: &TaskRef) -> Option<DoneBatch> {
        let callbacks = self.waiting.borrow_mut().remove(&task.id())?;
        Some(DoneBatch::new(*on_loop, task.clone(), callbacks))
    }

    /// Tasks with callbacks waiting (a table beside the slab must not
    /// outgrow it: `core/side_tables.rs`).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.waiting.borrow().len()
    }
}

/// The done callbacks of one task, queued to run as one loop callback.
pub(crate) struct DoneBatch {
    /// The loop the batch waits in: a copy of its token, which keeps the
    /// batch on the loop's thread (it is `!Send`).
    on_loop: OnLoop,
    task: TaskRef,
    callbacks: Vec<DoneCallback>,
    /// How many callbacks this batch accounts for (run or dropped).
    count: u32,
}

impl DoneBatch {
    fn new(on_loop: OnLoop, task: TaskRef, callbacks: Vec<DoneCallback>) -> DoneBatch {
        let count = u32::try_from(callbacks.len()).expect("fewer than 2^32 done callbacks per task");
        DoneBatch { on_loop, task, callbacks, count }
    }

    /// Where the task was spawned: what a trace or debug mode reports for
    /// the loop callback that runs the batch.
    pub(crate) fn location(&self) -> &'static std::panic::Location<'static> {
        self.task.header().location()
    }

    /// Runs the callbacks; dropping `self` afterwards releases the output.
    pub(crate) fn run(mut self) {
        let callbacks = std::mem::take(&mut self.callbacks);
        self.task.run_done_callbacks(&self.on_loop, callbacks);
    }
}

impl Drop for DoneBatch {
    /// After running, or unrun because the runtime is shutting down: either
    /// way on the loop's thread, in its callback queue.
    fn drop(&mut self) {
        self.task.release_done_callbacks(&self.on_loop, self.count);
    }
}
