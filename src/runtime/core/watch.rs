//! Watching the loop: timing its tasks and callbacks, for debug mode
//! (`runtime/debug.rs`) and task dumps.
//!
//! The loop *times* its tasks while debug mode is on or a trace records.
//! Then, and only then, it reads the clock around every poll and every
//! callback, adds each poll's duration to the task's `busy` time, stamps
//! each spawn, reports the steps slower than debug mode's threshold, hands
//! each poll and callback to the trace (`record.rs`), and keeps the
//! finished tasks whose output nobody has read, so that a dump and the
//! drop-time listing can name them.
//!
//! Off, all of this costs the hot path one test of a `Cell<bool>` per poll
//! and per callback (`Core::run_task`, `Core::run_callbacks`): the timed
//! versions below are separate functions, marked cold, so the untimed path
//! stays as it was. The trace's own fields live here too, beside the flag
//! they set, and `record.rs` uses them.

use std::cell::{Cell, RefCell};
use std::time::{Duration, Instant};

use super::{Callback, Core, Lent};
use crate::contain;
use crate::runtime::debug::{DebugMode, SlowPoll, SlowPollHook};
use crate::task::cell::RunOutcome;
use crate::task::header::TaskRef;
use crate::task::info::{TaskInfo, TaskState};
use crate::task::waker::waker_ref;
use crate::trace::{Recorder, TraceEvent};

/// What the loop watches about itself; part of `Core`.
pub(crate) struct Watch {
    /// Time every poll and callback: debug mode is on, or a trace records.
    timing: Cell<bool>,
    debug: Option<DebugMode>,
    /// A trace records: `trace` is `Some` (`record.rs`).
    tracing: Cell<bool>,
    pub(super) trace: RefCell<Option<Recorder>>,
    /// The loop's turn count when the trace started: trace turns count from it.
    pub(super) trace_first_turn: Cell<u64>,
    /// The ring buffer's capacity for the next trace, in events.
    pub(super) trace_capacity: usize,
    /// Finished tasks whose join handle may not have read the output yet,
    /// kept while timing (each entry holds one reference).
    unread: RefCell<Vec<TaskRef>>,
    /// Where the next look at `unread` starts ([`Core::sweep_some_unread`]).
    sweep_cursor: Cell<usize>,
}

/// How many kept tasks are looked at per timed poll and per task kept: two,
/// so that the list's garbage is collected faster than it can grow.
const SWEEP_STEP: usize = 2;

impl Watch {
    pub(crate) fn new(debug: Option<DebugMode>, trace_capacity: usize) -> Watch {
        Watch {
            timing: Cell::new(debug.is_some()),
            debug,
            tracing: Cell::new(false),
            trace: RefCell::new(None),
            trace_first_turn: Cell::new(0),
            trace_capacity,
            unread: RefCell::new(Vec::new()),
            sweep_cursor: Cell::new(0),
        }
    }

    /// Whether the loop times its tasks: the one branch the hot path pays.
    #[inline]
    pub(crate) fn is_timing(&self) -> bool {
        self.timing.get()
    }

    pub(crate) fn is_debug(&self) -> bool {
        self.debug.is_some()
    }

    /// Whether a trace records: the one branch a turn pays.
    #[inline]
    pub(crate) fn is_tracing(&self) -> bool {
        self.tracing.get()
    }

    /// A trace starts or stops; timing follows.
    pub(super) fn set_tracing(&self, on: bool) {
        self.tracing.set(on);
        self.timing.set(on || self.debug.is_some());
    }

    /// How many finished tasks are kept for dumps (`Core::shutdown` lets go
    /// of them with the rest; the side-table tests count them).
    pub(super) fn unread_len(&self) -> usize {
        self.unread.borrow().len()
    }

    /// Whether a step that took `took` is reported.
    fn is_slow(&self, took: Duration) -> bool {
        self.debug.as_ref().is_some_and(|debug| took > debug.threshold)
    }

    /// Reports `slow` to the hook if it exceeds the threshold. The hook is
    /// user code: contained, and called with no borrow held.
    fn check(&self, slow: impl FnOnce(Duration) -> SlowPoll, took: Duration) {
        let Some(debug) = &self.debug else { return };
        if took > debug.threshold {
            let report = slow(debug.threshold);
            let hook = SlowPollHook::clone(&debug.hook);
            contain::call(|| hook(&report));
        }
    }
}

impl Core {
    /// A task was just adopted; stamp its spawn time if timing.
    #[inline]
    pub(super) fn note_spawn(&self, task: &TaskRef) {
        if self.extras.watch.is_timing() {
            self.stamp_spawn(task);
        }
    }

    #[cold]
    #[inline(never)]
    fn stamp_spawn(&self, task: &TaskRef) {
        let now = Instant::now();
        self.with_notes(task.header(), true, |notes| notes.expect("created").spawned_at = Some(now));
    }

    /// [`Core::run_task`] while timing: the same poll with the clock read
    /// around it, the same settling, and then — with the task settled in its
    /// slab entry, or gone, so that a dump taken by the hook finds it where
    /// it lives — debug mode's report.
    #[cold]
    #[inline(never)]
    pub(super) fn run_task_timed(&self, key: usize, task: Lent) {
        let (start, outcome, end) = {
            let waker = waker_ref(&task);
            let start = Instant::now();
            let outcome = self.extras.current_task.enter(&task, || task.run(self.on_loop(), &waker));
            (start, outcome, Instant::now())
        };
        let took = end - start;
        let header = task.header();
        let (id, location) = (header.id(), header.location());
        // The name is copied only for a report; the rest is arithmetic.
        let slow =
            self.extras.watch.is_slow(took) && matches!(outcome, RunOutcome::Pending | RunOutcome::Finished);
        let name = self.with_notes(header, true, |notes| {
            let notes = notes.expect("created");
            notes.busy += took;
            if slow { notes.name.clone() } else { None }
        });
        if self.extras.watch.is_tracing() {
            self.record_poll(&task, start, end);
        }
        self.settle(key, task, outcome);
        self.sweep_some_unread();
        if slow {
            self.extras.watch.check(
                |threshold| SlowPoll { task: Some(id), name, location, duration: took, threshold },
                took,
            );
        }
    }

    /// Runs a callback while timing.
    #[cold]
    #[inline(never)]
    pub(super) fn run_callback_timed(&self, callback: Callback) {
        let location = callback.location;
        let start = Instant::now();
        contain::call(callback.run);
        let end = Instant::now();
        let took = end - start;
        self.record(|recorder| {
            let (start, end) = (recorder.offset(start), recorder.offset(end));
            recorder.push(TraceEvent::Callback { location, start, duration: end - start });
        });
        self.extras.watch.check(
            |threshold| SlowPoll { task: None, name: None, location, duration: took, threshold },
            took,
        );
    }

    /// The loop lets go of a finished task that has notes. While timing,
    /// one whose output its join handle may still read is kept instead —
    /// notes and all — for dumps (`FinishedUnread`).
    ///
    /// The kept ones whose output has been read since (or whose handle
    /// went) are let go of a few at a time: each task kept, and each timed
    /// poll, looks at [`SWEEP_STEP`] of them in turn. So the list holds at
    /// most about twice the tasks really unread, for O(1) a step, and a
    /// burst of kept tasks is cleared by the polls that follow, whether or
    /// not more tasks finish. (A dump sweeps the whole list first.)
    #[cold]
    pub(super) fn release_noted(&self, task: TaskRef) {
        if self.extras.watch.is_timing() && task.header().may_be_unread() {
            self.extras.watch.unread.borrow_mut().push(task);
            self.sweep_some_unread();
        } else {
            self.drop_notes(task.header());
            drop(task); // may free the cell: outside any borrow
        }
    }

    /// Looks at the next [`SWEEP_STEP`] kept tasks, round-robin, and lets
    /// go of those whose output has been read.
    fn sweep_some_unread(&self) {
        for _ in 0..SWEEP_STEP {
            let mut unread = self.extras.watch.unread.borrow_mut();
            if unread.is_empty() {
                return;
            }
            let at = self.extras.watch.sweep_cursor.get() % unread.len();
            if unread[at].header().may_be_unread() {
                self.extras.watch.sweep_cursor.set(at + 1);
                continue;
            }
            let read = unread.swap_remove(at); // the last one moves to `at`: looked at next
            drop(unread);
            self.drop_notes(read.header());
            drop(read); // may free the cell: outside the borrow
        }
    }

    /// Lets go of all the kept tasks whose output has been read.
    fn sweep_unread(&self) {
        let all = std::mem::take(&mut *self.extras.watch.unread.borrow_mut());
        let (keep, read): (Vec<TaskRef>, Vec<TaskRef>) =
            all.into_iter().partition(|task| task.header().may_be_unread());
        *self.extras.watch.unread.borrow_mut() = keep;
        for task in read {
            self.drop_notes(task.header());
            drop(task); // may free the cell: outside the borrow
        }
    }

    /// Lets go of the finished tasks kept for dumps (timing stopped).
    pub(super) fn forget_unread(&self) {
        let unread = std::mem::take(&mut *self.extras.watch.unread.borrow_mut());
        for task in unread {
            self.drop_notes(task.header());
            drop(task); // may free the cell: outside the borrow
        }
    }

    /// Adds the finished-unread tasks to a dump (nothing unless timing).
    pub(super) fn finished_unread(&self, now: Instant, infos: &mut Vec<TaskInfo>) {
        if !self.extras.watch.is_timing() {
            return;
        }
        self.sweep_unread();
        let unread = self.extras.watch.unread.borrow().clone();
        infos.extend(
            unread.iter().map(|task| self.task_info(task.header(), Some(TaskState::FinishedUnread), now)),
        );
        drop(unread);
    }

    /// Debug mode, at the runtime's drop: the lines naming the tasks still
    /// pending and those finished but never read (asyncio's "Task was
    /// destroyed but it is pending!"). Empty when not in debug mode.
    pub(crate) fn leftover_report(&self) -> Vec<String> {
        if !self.extras.watch.is_debug() {
            return Vec::new();
        }
        let mut lines = Vec::new();
        for info in self.tasks() {
            let what = match info.state {
                TaskState::FinishedUnread => "finished but its output was never read",
                _ => "was destroyed but it is pending",
            };
            let name = info.name.as_ref().map(|n| format!(" {n:?}")).unwrap_or_default();
            lines.push(format!("kettle: task {}{name} (spawned at {}) {what}", info.id, info.location));
        }
        lines
    }
}
