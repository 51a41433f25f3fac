//! Dropping a runtime: every task, callback and timer is dropped exactly
//! once, on the loop's thread, with each destructor contained.

use super::Core;
use crate::contain;
use crate::runtime::registry;
use crate::runtime::shared::Remote;
use crate::task::header::TaskRef;

impl Core {
    /// Drops every task, callback and timer exactly once. Destructors may
    /// spawn, wake or schedule more; those are dropped in the next round, until
    /// a round finds nothing.
    pub(crate) fn shutdown(&self) {
        registry::unregister(self.id());
        self.extras.blocking.shutdown();
        let mut remote = self.shared.close();
        // Finished tasks are kept until the run queue is cleared, so that no
        // destructor running meanwhile can free a cell the queue still names.
        // Letting go of them — and of those kept for dumps while timing
        // (`watch.rs`), whose handles a destructor may have dropped — may
        // free cells, whose leftovers (a join waker) are user code too: what
        // that spawns or queues takes another pass.
        let mut finished = Vec::new();
        loop {
            self.drop_everything(&mut remote, &mut finished);
            self.run_queue.with_keys(|keys| keys.clear());
            let kept = self.extras.watch.unread_len();
            if finished.is_empty() && kept == 0 {
                break;
            }
            drop(std::mem::take(&mut finished));
            self.forget_unread();
        }
        // Names and timings of tasks that are all gone now (no user code).
        self.extras.notes.borrow_mut().clear();
    }

    /// The rounds of [`shutdown`](Core::shutdown): drops every task (kept
    /// in `finished`), callback and timer, and what `remote` holds; each
    /// destructor may spawn, wake or schedule more, dropped in the next
    /// round, until a round finds nothing.
    fn drop_everything(&self, remote: &mut Vec<Remote>, finished: &mut Vec<TaskRef>) {
        loop {
            let mut found = !remote.is_empty();
            for item in remote.drain(..) {
                match item {
                    Remote::Spawn(task) => {
                        task.shutdown(self.on_loop());
                        finished.push(task);
                    }
                    other => contain::drop_value(other),
                }
            }
            let tasks: Vec<TaskRef> = self.tasks.borrow_mut().take_all();
            self.extras.stats.on_slab_emptied();
            found |= !tasks.is_empty();
            for task in tasks {
                task.shutdown(self.on_loop());
                // Queued, then dropped unrun next round: that releases the
                // output to the join handle (a cancelled error).
                self.queue_done_callbacks(&task);
                finished.push(task);
            }
            let callbacks = std::mem::take(&mut *self.callbacks.borrow_mut());
            let timers = self.timers.borrow_mut().take_all();
            found |= !callbacks.is_empty() || !timers.is_empty();
            // Callbacks' captures and timers' wakers are user values: each is
            // dropped on its own, contained, so one that panics neither skips
            // the rest nor unwinds out of `drop(runtime)`.
            callbacks.into_iter().for_each(contain::drop_value);
            timers.into_iter().for_each(contain::drop_value);
            if !found {
                return;
            }
        }
    }
}
