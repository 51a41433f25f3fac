//! What the loop reports about itself: [`Metrics`] and [`Turn`].
//!
//! The loop calls the `Stats` hooks at a few named points (a spawn, a poll, a
//! turn); everything else in [`Metrics`] is read off the data structures when
//! asked, so counting costs the hot path one non-atomic increment.
//!
//! Three ways to ask, one snapshot (`Core::metrics`): [`Runtime::metrics`]
//! for the runtime's owner, [`metrics()`](crate::metrics()) (in `mod.rs`)
//! for code running inside it, and [`Handle::metrics`] from anywhere — which, from another thread, asks the
//! loop to take the snapshot on its own thread (`handle.rs` explains why).
//!
//! [`Runtime::metrics`]: crate::Runtime::metrics
//! [`Handle::metrics`]: crate::Handle::metrics

use std::cell::Cell;

/// A snapshot of a runtime's counters, from [`Runtime::metrics`](crate::Runtime::metrics),
/// [`kettle::metrics`](crate::metrics()) or [`Handle::metrics`](crate::Handle::metrics).
///
/// Tests use it to prove that nothing leaks: after work finishes,
/// `tasks_alive`, `timers_pending` and `callbacks_pending` return to zero.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Metrics {
    /// Tasks spawned and not yet finished (still owned by the runtime).
    pub tasks_alive: usize,
    /// Tasks spawned since the runtime was created, locally or remotely.
    pub tasks_spawned: u64,
    /// Times a task's future was polled.
    pub polls: u64,
    /// Loop iterations run.
    pub turns: u64,
    /// Timers (sleeps, timeouts, `call_later`/`call_at`) waiting to fire.
    pub timers_pending: usize,
    /// Tasks submitted from other threads through a [`Handle`](crate::Handle).
    pub remote_spawns: u64,
    /// Callbacks queued to run on the next turn (`call_soon` and due timers).
    pub callbacks_pending: usize,
    /// File descriptors registered with the reactor (sockets, signal pipes).
    pub io_sources: usize,
    /// Threads in the [`spawn_blocking`](crate::spawn_blocking) pool, busy or idle.
    pub blocking_threads: usize,
    /// Of those, the threads waiting for a job.
    pub blocking_idle_threads: usize,
}

/// What one loop iteration did, returned by [`Runtime::turn`](crate::Runtime::turn).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Turn {
    /// Readiness events returned by the poll: I/O, and the loop's own waker
    /// (not its timerfd).
    pub io_events: usize,
    /// Requests taken from the injector (remote spawns, wakes and callbacks).
    pub injected: usize,
    /// Timers whose deadline had passed and that fired.
    pub timers_fired: usize,
    /// Callbacks run.
    pub callbacks_run: usize,
    /// Tasks run (polled, or dropped because they were cancelled).
    pub tasks_run: usize,
}

/// The loop's counters; one non-atomic cell each.
#[derive(Default)]
pub(crate) struct Stats {
    tasks_spawned: Cell<u64>,
    remote_spawns: Cell<u64>,
    polls: Cell<u64>,
    turns: Cell<u64>,
    /// Tasks that finished while queued (woken, or cancelled, during their
    /// last poll): done, but still in the slab until their stale run-queue
    /// entry is popped. `tasks_alive` leaves them out.
    done_in_slab: Cell<usize>,
}

fn bump(cell: &Cell<u64>) {
    cell.set(cell.get() + 1);
}

impl Stats {
    pub(crate) fn on_spawn(&self) {
        bump(&self.tasks_spawned);
    }

    pub(crate) fn on_remote_spawn(&self) {
        bump(&self.tasks_spawned);
        bump(&self.remote_spawns);
    }

    pub(crate) fn on_poll(&self) {
        bump(&self.polls);
    }

    /// Task polls so far.
    pub(crate) fn polls(&self) -> u64 {
        self.polls.get()
    }

    /// Turns so far.
    pub(crate) fn turns(&self) -> u64 {
        self.turns.get()
    }

    pub(crate) fn on_turn(&self) {
        bump(&self.turns);
    }

    /// A task finished while queued: it stays in the slab for now.
    pub(crate) fn on_done_while_queued(&self) {
        self.done_in_slab.set(self.done_in_slab.get() + 1);
    }

    /// A finished task's stale queue entry was popped: it leaves the slab.
    pub(crate) fn on_stale_entry_popped(&self) {
        debug_assert!(self.done_in_slab.get() > 0, "a stale entry is popped once per task counted");
        self.done_in_slab.set(self.done_in_slab.get().saturating_sub(1));
    }

    /// Finished tasks still in the slab (see `done_in_slab`).
    pub(crate) fn done_in_slab(&self) -> usize {
        self.done_in_slab.get()
    }

    /// The runtime's shutdown emptied the slab.
    pub(crate) fn on_slab_emptied(&self) {
        self.done_in_slab.set(0);
    }

    /// Fills the counter fields of `metrics`.
    pub(crate) fn fill(&self, metrics: &mut Metrics) {
        metrics.tasks_spawned = self.tasks_spawned.get();
        metrics.remote_spawns = self.remote_spawns.get();
        metrics.polls = self.polls.get();
        metrics.turns = self.turns.get();
    }
}
