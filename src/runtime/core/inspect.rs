//! What the loop tells about itself: task dumps (`Runtime::tasks`,
//! `Handle::tasks`, `task::current`) and metrics. On the loop's thread
//! only, between or inside polls; no borrow is held while a `TaskInfo` is
//! built (building one runs no user code, but reads each task's notes).

use std::time::Instant;

use super::Core;
use crate::runtime::metrics::Metrics;
use crate::task::{TaskInfo, TaskRef, TaskState};

impl Core {
    /// Every task the loop holds, by id: queued, idle, the one running now
    /// (if called from inside a task), and — while the loop times its tasks
    /// — those finished whose output nobody has taken yet.
    pub(crate) fn tasks(&self) -> Vec<TaskInfo> {
        let now = Instant::now();
        // Clones (one count each) so that no borrow of the slab is held
        // while the infos are built.
        let held: Vec<TaskRef> = self.tasks.borrow().iter().filter_map(|(_, task)| task.clone()).collect();
        let mut infos: Vec<TaskInfo> = held
            .iter()
            .map(|task| TaskInfo::of(self, task.header(), TaskState::of(self, task.header(), false), now))
            .collect();
        infos.extend(self.current_task());
        self.finished_unread(now, &mut infos);
        drop(held); // may free a cell: outside any borrow
        infos.sort_by_key(|info| info.id);
        infos
    }

    /// The task being polled right now, if any.
    pub(crate) fn current_task(&self) -> Option<TaskInfo> {
        self.running.with(|header| {
            header.map(|header| TaskInfo::of(self, header, TaskState::of(self, header, true), Instant::now()))
        })
    }

    /// The counters and sizes of `Runtime::metrics`.
    pub(crate) fn metrics(&self) -> Metrics {
        let mut metrics = Metrics {
            tasks_alive: self.tasks.borrow().len(),
            timers_pending: self.timers.borrow().len(),
            callbacks_pending: self.callbacks.borrow().len(),
            io_sources: self.reactor.len(),
            blocking_threads: self.blocking.threads().0,
            blocking_idle_threads: self.blocking.threads().1,
            ..Metrics::default()
        };
        self.stats.fill(&mut metrics);
        metrics
    }
}
