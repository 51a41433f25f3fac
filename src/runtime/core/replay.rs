//! Deterministic time and order, the loop's side: where a paused clock
//! jumps, and where a seeded runtime shuffles its ready tasks. The clock
//! itself is `runtime/clock.rs`, the shuffle's generator
//! `runtime/shuffle.rs`; `DESIGN.md` ("One turn") says where each acts in
//! the turn.
//!
//! # In the turn
//!
//! Two options of the [`Builder`](crate::Builder) change the turn, each
//! behind one branch when off. With `start_paused`, the loop's time is a
//! paused clock (`clock.rs`): a turn that has nothing to do but wait for a
//! timer peeks instead, and if nothing arrived, the clock jumps to that
//! timer between steps 3 and 4, so step 4 fires it at once. With `seed`,
//! step 5 runs its tasks (not its callbacks) in an order drawn from the
//! seed instead of wake order (`shuffle.rs`).

use std::time::Instant;

use super::{Core, PollPlan};
use crate::runtime::clock::Clock;

impl Core {
    /// Between steps 3 and 4, for a paused clock only: if this turn polled
    /// (it did not skip the poll), and the poll and the injector brought
    /// nothing (`arrived` counts both), nothing is queued, `block_on`'s own
    /// future is not ready, and no blocking job is in flight, then only a
    /// timer can happen next: the clock jumps to the earliest deadline, and
    /// step 4 fires it now. A real clock would have waited for it instead.
    #[cold]
    pub(super) fn jump_to_next_timer_if_idle(&self, plan: PollPlan, main_ready: bool, arrived: usize) {
        let Some(paused) = self.extras.clock.paused() else { return };
        if plan == PollPlan::Skip
            || main_ready
            || arrived > 0
            || self.is_busy()
            || paused.blocking_in_flight()
        {
            return;
        }
        let next = self.timers.borrow().next_deadline();
        if let Some(deadline) = next {
            paused.advance_to(deadline);
        }
    }

    /// Seeded runtimes only: puts the tasks queued when step 5 starts — the
    /// whole run queue, then — in an order drawn from the seed
    /// (`shuffle.rs`). The simple version, and the default, runs them in
    /// wake order: first in, first out.
    #[cold]
    pub(super) fn shuffle_ready_tasks(&self) {
        let Some(shuffle) = &self.extras.shuffle else { return };
        self.run_queue.with_keys(|keys| shuffle.shuffle(keys.make_contiguous()));
    }

    /// The loop's time: `Instant::now()`, or the paused clock's (`clock.rs`).
    /// Every timer reads this, through [`kettle::time::now`](crate::time::now).
    #[inline]
    pub(crate) fn now(&self) -> Instant {
        self.extras.clock.now()
    }

    /// This runtime's clock.
    pub(crate) fn clock(&self) -> &Clock {
        &self.extras.clock
    }
}
