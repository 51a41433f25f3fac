//! Recording a trace (`src/trace/`): the loop's side — starting and
//! stopping, and the points of the turn where events are recorded.
//!
//! While a trace records, [`Core::turn`] hands over to
//! [`turn_traced`](Core::turn_traced): the same five steps, in the same
//! order, with the clock read between them. The loop also times its tasks
//! meanwhile (`watch.rs`), and each timed poll and callback leaves an event.
//! With no trace, the turn pays one test of a `Cell<bool>`.

use std::time::{Duration, Instant};

use super::{Core, PollPlan};
use crate::loom::sync::atomic::AtomicBool;
use crate::loom::sync::atomic::Ordering::Acquire;
use crate::runtime::metrics::Turn;
use crate::task::header::TaskRef;
use crate::trace::{Phase, Recorder, TaskLabel, Trace, TraceEvent};

impl Core {
    /// Starts recording (`Runtime::start_trace`).
    pub(crate) fn start_trace(&self) {
        let mut trace = self.extras.watch.trace.borrow_mut();
        assert!(
            trace.is_none(),
            "kettle: Runtime::start_trace called while a trace is already recording; call stop_trace first"
        );
        *trace = Some(Recorder::new(self.extras.watch.trace_capacity));
        self.extras.watch.trace_first_turn.set(self.extras.stats.turns());
        drop(trace);
        self.extras.watch.set_tracing(true);
    }

    /// Stops recording and returns the trace (`Runtime::stop_trace`).
    pub(crate) fn stop_trace(&self) -> Trace {
        let recorder = self.extras.watch.trace.borrow_mut().take();
        let recorder = recorder.expect(
            "kettle: Runtime::stop_trace called but no trace is recording; call Runtime::start_trace first",
        );
        self.extras.watch.set_tracing(false);
        if !self.extras.watch.is_timing() {
            self.forget_unread();
        }
        recorder.finish()
    }

    /// Calls `record` with the recorder, if a trace is recording.
    #[inline]
    pub(super) fn record(&self, record: impl FnOnce(&mut Recorder)) {
        if let Some(recorder) = self.extras.watch.trace.borrow_mut().as_mut() {
            record(recorder);
        }
    }

    /// A timed poll just ended: record it, and the task's label if the
    /// trace holds none (its first poll in this trace, or the first since
    /// its older events were overwritten; `trace/recorder.rs`, "Labels").
    pub(super) fn record_poll(&self, task: &TaskRef, start: Instant, end: Instant) {
        let header = task.header();
        let id = header.id();
        self.record(|recorder| {
            let (start, end) = (recorder.offset(start), recorder.offset(end));
            let poll = TraceEvent::Poll { task: id, start, duration: end - start };
            recorder.push_for_task(poll, || {
                // The notes are a table of their own: no borrow of the trace.
                let name = self.with_notes(header, false, |notes| notes.and_then(|n| n.name.clone()));
                TaskLabel { id, name, location: header.location() }
            });
        });
    }

    /// A task spawned from another thread was adopted.
    pub(super) fn record_remote_spawn(&self, task: &TaskRef) {
        let (id, location) = (task.header().id(), task.header().location());
        self.record(|recorder| {
            let at = recorder.offset(Instant::now());
            recorder.push_for_task(TraceEvent::RemoteSpawn { task: id, at }, || TaskLabel {
                id,
                name: None,
                location,
            });
        });
    }

    /// [`Core::turn`] while a trace records: the same steps, each timed and
    /// recorded if it did anything (a skipped poll, an empty inject, no due
    /// timer, nothing to run: no event, so the picture shows work, not
    /// bookkeeping).
    #[cold]
    #[inline(never)]
    pub(super) fn turn_traced(&self, max_wait: Option<Duration>, main: Option<&AtomicBool>) -> Turn {
        self.extras.stats.on_turn();
        let turn = self.extras.stats.turns() - self.extras.watch.trace_first_turn.get();
        let main_ready = main.is_some_and(|woken| woken.load(Acquire));
        let plan = self.plan_poll(max_wait, main_ready);
        let t0 = Instant::now();
        let plan = self.announce_idle(plan, main); // 1. idle
        let t1 = Instant::now();
        let io_events = self.poll_io(plan); // 2. poll
        let t2 = Instant::now();
        let injected = self.inject(); // 3. inject
        if self.extras.clock.is_paused() {
            self.jump_to_next_timer_if_idle(plan, main_ready, io_events + injected);
        }
        let t3 = Instant::now();
        let timers_fired = self.fire_timers(); // 4. timers
        let t4 = Instant::now();
        let (callbacks_run, tasks_run) = self.run_ready(); // 5. run
        let t5 = Instant::now();
        self.record(|recorder| {
            let mut phase = |phase, from: Instant, to: Instant| {
                let start = recorder.offset(from);
                recorder.push(TraceEvent::Phase {
                    phase,
                    turn,
                    start,
                    duration: recorder.offset(to) - start,
                });
            };
            let poll = match plan {
                PollPlan::Skip => None,
                PollPlan::Peek => Some(Phase::Poll),
                PollPlan::Wait { .. } => Some(Phase::Wait),
            };
            if poll == Some(Phase::Wait) {
                phase(Phase::Idle, t0, t1);
            }
            if let Some(poll) = poll {
                phase(poll, t1, t2);
            }
            if injected > 0 {
                phase(Phase::Inject, t2, t3);
            }
            if timers_fired > 0 {
                phase(Phase::Timers, t3, t4);
            }
            if callbacks_run + tasks_run > 0 {
                phase(Phase::Run, t4, t5);
            }
            if io_events > 0 {
                let at = recorder.offset(t2);
                recorder.push(TraceEvent::Io { at, events: io_events });
            }
            let at = recorder.offset(t4);
            for _ in 0..timers_fired {
                recorder.push(TraceEvent::TimerFired { at });
            }
        });
        Turn { io_events, injected, timers_fired, callbacks_run, tasks_run }
    }
}
