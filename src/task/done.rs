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

use super::cell::{DoneCallback, TaskRef};
use crate::runtime::context;

/// The done callbacks of one task, queued to run as one loop callback.
pub(crate) struct DoneBatch {
    task: TaskRef,
    callbacks: Vec<DoneCallback>,
    /// How many callbacks this batch accounts for (run or dropped).
    count: u32,
}

impl DoneBatch {
    pub(crate) fn new(task: TaskRef, callbacks: Vec<DoneCallback>) -> DoneBatch {
        let count = u32::try_from(callbacks.len()).expect("fewer than 2^32 done callbacks per task");
        DoneBatch { task, callbacks, count }
    }

    /// Runs the callbacks; dropping `self` afterwards releases the output.
    pub(crate) fn run(mut self) {
        let callbacks = std::mem::take(&mut self.callbacks);
        context::expect_current("running done callbacks", |core| {
            self.task.run_done_callbacks(core, callbacks)
        });
    }
}

impl Drop for DoneBatch {
    fn drop(&mut self) {
        // Batches live in the loop's callback queue, so they are run or
        // dropped on the loop thread with the runtime entered.
        context::with_current(|core| {
            if let Some(core) = core {
                self.task.release_done_callbacks(core, self.count);
            }
        });
    }
}
