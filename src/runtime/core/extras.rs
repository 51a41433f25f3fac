//! Everything `Core` holds that is not the loop's mechanism, behind one
//! field: what kettle shows of itself (counters, task notes and dumps,
//! debug mode and traces), the test options (the paused clock, the seeded
//! order), done callbacks, `spawn_blocking`'s threads, and whether a host
//! loop drives the runtime.
//!
//! The turn (`core.rs`) touches these only at named points — a counter
//! bumped, "is a trace recording?", "is the clock paused?" — each one
//! branch or one increment when the extra is off. `kettle-mini` has none of
//! them.

use std::cell::{Cell, RefCell};

use slab::Slab;

use crate::runtime::Builder;
use crate::runtime::blocking_pool::Pool;
use crate::runtime::clock::Clock;
use crate::runtime::metrics::Stats;
use crate::runtime::shuffle::Shuffle;
use crate::task::cell::CurrentTask;
use crate::task::done::DoneCallbacks;
use crate::task::notes::Notes;

use super::watch::Watch;

/// The extras of one runtime (see the module docs).
pub(super) struct Extras {
    /// Counters behind [`Metrics`](crate::Metrics) (`metrics.rs`).
    pub(super) stats: Stats,
    /// Where "now" comes from: `Instant::now()`, or a paused clock
    /// (`clock.rs`).
    pub(super) clock: Clock,
    /// The seeded order of step 5's tasks, if the runtime has a seed
    /// (`shuffle.rs`); `None`: wake order.
    pub(super) shuffle: Option<Shuffle>,
    /// The task being polled, for `task::current` (`task/cell.rs`).
    pub(super) current_task: CurrentTask,
    /// Tasks' names and timings (`task/notes.rs`), for the tasks that have
    /// any; each such task's loop flags hold its key here.
    pub(super) notes: RefCell<Slab<Notes>>,
    /// Debug mode, task timing and traces (`core/watch.rs`).
    pub(super) watch: Watch,
    /// Done callbacks of tasks that have not finished (`task/done.rs`).
    pub(super) done_callbacks: DoneCallbacks,
    /// Threads for `spawn_blocking` (`blocking_pool.rs`).
    pub(super) blocking: Pool,
    /// A host loop drives this runtime — it has asked for the poll fd or
    /// turned the loop itself — so leaving the loop hands over to it
    /// (`core/host.rs`).
    pub(super) hosted: Cell<bool>,
}

impl Extras {
    pub(super) fn new(config: &Builder) -> Extras {
        Extras {
            stats: Stats::default(),
            clock: Clock::new(config.start_paused),
            shuffle: config.seed.map(Shuffle::new),
            current_task: CurrentTask::none(),
            notes: RefCell::new(Slab::new()),
            watch: Watch::new(config.debug_mode(), config.trace_capacity),
            done_callbacks: DoneCallbacks::default(),
            blocking: Pool::new(config.max_blocking_threads, config.blocking_keep_alive),
            // A wake callback is for a host: hosted from the start.
            hosted: Cell::new(config.on_wake.0.is_some()),
        }
    }
}
