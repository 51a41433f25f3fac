//! What the loop tells about itself: task dumps (`Runtime::tasks`,
//! `Handle::tasks`, `task::current`) and metrics. On the loop's thread
//! only, between or inside polls; no borrow is held while a `TaskInfo` is
//! built (building one runs no user code, but reads each task's notes).

use std::time::Instant;

use super::Core;
use crate::runtime::metrics::Metrics;
use crate::task::header::{Header, TaskRef};
use crate::task::info::{TaskInfo, TaskState};

impl Core {
    /// Every task the loop holds, by id: queued, idle, the one running now
    /// (if called from inside a task), and — while the loop times its tasks
    /// — those finished whose output nobody has taken yet.
    pub(crate) fn tasks(&self) -> Vec<TaskInfo> {
        let now = Instant::now();
        // A finished task still in the slab (it finished while queued, and
        // leaves when its stale entry is popped) is listed as the other
        // finished ones are: only while timing, and only if its output may
        // still be unread. That is judged before the clone below adds a
        // reference of its own.
        // The task being polled now is in its slab entry too (`task_slab.rs`):
        // it is listed once, below, as running.
        let timing = self.extras.watch.is_timing();
        let running = self.extras.current_task.with(|header| header.map(|header| header as *const Header));
        let listed = |task: &&TaskRef| {
            let header = task.header();
            let here = !header.flags(self.on_loop()).is_done() || (timing && header.may_be_unread());
            here && running != Some(header as *const Header)
        };
        // Clones (one count each) so that no borrow of the slab is held
        // while the infos are built.
        let held: Vec<TaskRef> = self.tasks.borrow().iter().filter(listed).cloned().collect();
        let mut infos: Vec<TaskInfo> =
            held.iter().map(|task| self.task_info(task.header(), None, now)).collect();
        infos.extend(self.current_task());
        debug_assert_eq!(
            infos.iter().filter(|info| info.state != TaskState::FinishedUnread).count(),
            self.tasks_alive(),
            "a dump lists every live task once: each is in its slab entry, the one being polled as running"
        );
        self.finished_unread(now, &mut infos);
        drop(held); // may free a cell: outside any borrow
        infos.sort_by_key(|info| info.id);
        infos
    }

    /// A snapshot of the task behind `header`: in `state`, or (`None`) as
    /// its flags say.
    pub(super) fn task_info(&self, header: &Header, state: Option<TaskState>, now: Instant) -> TaskInfo {
        let flags = header.flags(self.on_loop());
        let state = state.unwrap_or_else(|| TaskState::of(flags));
        // Building the info copies a name and numbers: no user code under
        // the table's borrow.
        self.with_notes(header, false, |notes| TaskInfo::of(header, flags, notes.as_deref(), state, now))
    }

    /// The task being polled right now, if any.
    pub(crate) fn current_task(&self) -> Option<TaskInfo> {
        self.extras.current_task.with(|header| {
            header.map(|header| self.task_info(header, Some(TaskState::Running), Instant::now()))
        })
    }

    /// Tasks spawned and not finished: the slab's, but for the finished
    /// ones it still holds (see [`Core::count_if_still_queued`]).
    fn tasks_alive(&self) -> usize {
        let tasks = self.tasks.borrow().len();
        debug_assert!(
            self.extras.stats.done_in_slab() <= tasks,
            "the finished tasks in the slab are in the slab"
        );
        tasks.saturating_sub(self.extras.stats.done_in_slab())
    }

    /// The counters and sizes of `Runtime::metrics`.
    pub(crate) fn metrics(&self) -> Metrics {
        let mut metrics = Metrics {
            tasks_alive: self.tasks_alive(),
            timers_pending: self.timers.borrow().len(),
            callbacks_pending: self.callbacks.borrow().len(),
            io_sources: self.reactor.len(),
            blocking_threads: self.extras.blocking.threads().0,
            blocking_idle_threads: self.extras.blocking.threads().1,
            ..Metrics::default()
        };
        self.extras.stats.fill(&mut metrics);
        metrics
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::runtime::core::Core;
    use crate::{Builder, Runtime};

    /// How many tasks have notes in the loop's table.
    fn noted(rt: &Runtime) -> usize {
        rt.core.extras.notes.borrow().len()
    }

    /// Named tasks, awaited, detached, cancelled and left pending; timed or
    /// not: once each is gone, so are its notes.
    fn every_way_a_named_task_ends(rt: &Runtime) {
        rt.block_on(async {
            let named = || crate::task::Builder::new().name("n");
            named().spawn(async {}).await.unwrap();
            named().spawn(crate::yield_now()).detach();
            let cancelled = named().spawn(std::future::pending::<()>());
            crate::yield_now().await;
            cancelled.cancel();
            let _ = cancelled.await;
            crate::spawn(async {}).await.unwrap();
            crate::yield_now().await;
        });
    }

    #[test]
    fn a_task_that_is_gone_leaves_no_notes_behind() {
        let plain = Runtime::new().unwrap();
        every_way_a_named_task_ends(&plain);
        assert_eq!(noted(&plain), 0);

        let debug = Builder::new().slow_poll_threshold(Duration::from_secs(3600)).build().unwrap();
        every_way_a_named_task_ends(&debug);
        // Read outputs are swept when a dump asks; detached ones at once.
        assert!(debug.tasks().is_empty(), "{:?}", debug.tasks());
        assert_eq!(noted(&debug), 0);

        let traced = Runtime::new().unwrap();
        traced.start_trace();
        let unread = traced.spawn(async { 1 });
        every_way_a_named_task_ends(&traced);
        let dump = traced.tasks(); // sweeps the kept tasks read since
        assert_eq!(dump.len(), 1, "{dump:?}");
        assert_eq!(noted(&traced), 1, "the unread task's notes are kept while timing");
        let _ = traced.stop_trace();
        assert_eq!(noted(&traced), 0, "and forgotten when timing stops");
        drop(unread);
    }

    #[test]
    fn a_dump_counts_the_polls_of_a_task_whose_32_bit_count_wrapped() {
        let core = Core::new(&crate::runtime::Builder::new()).expect("epoll, eventfd and timerfd");
        let task = core.spawn(std::future::pending::<()>(), std::panic::Location::caller());
        task.header().flags(core.on_loop()).set_polls(u32::MAX - 1);
        core.turn(Some(Duration::ZERO), None);
        assert_eq!(core.tasks()[0].polls, u64::from(u32::MAX), "no carry yet");
        crate::task::waker::schedule(task.header());
        core.turn(Some(Duration::ZERO), None);
        assert_eq!(core.tasks()[0].polls, 1 << 32, "carried into the notes");
        crate::task::waker::schedule(task.header());
        core.turn(Some(Duration::ZERO), None);
        assert_eq!(core.tasks()[0].polls, (1 << 32) + 1);
        drop(task);
        core.shutdown();
    }
}
