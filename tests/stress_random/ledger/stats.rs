//! What a seed exercised, counted by the ledger as it books events: printed with
//! `-- --nocapture`, and checked by the tests, which would otherwise pass on a workload that
//! never reaches the paths it claims to.

/// What a seed exercised, to prove the workload reaches every path it claims to.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    pub ops: u64,
    pub tasks: u64,
    pub remote_tasks: u64,
    pub cancelled_unstarted: u64,
    pub cancelled_pending: u64,
    pub cancelled_finished: u64,
    pub timeouts_fired: u64,
    pub inner_won: u64,
    pub callbacks_ran: u64,
    pub timers_cancelled: u64,
    pub done_callbacks_ran: u64,
    pub items_received: u64,
    pub items_returned: u64,
    pub puts_abandoned: u64,
    pub woken_then_cancelled: u64,
    pub queues_closed: u64,
    pub sleeps_moved: u64,
    /// The generator's state at the end: equal runs of a seed drew the same numbers.
    pub draws: u64,
}

impl Stats {
    pub fn assert_covered_everything(&self, seed: u64) {
        let covered = [
            ("tasks cancelled before their first poll", self.cancelled_unstarted),
            ("tasks cancelled while pending", self.cancelled_pending),
            ("tasks cancelled after finishing", self.cancelled_finished),
            ("timeouts that fired", self.timeouts_fired),
            ("timeouts whose inner future won", self.inner_won),
            ("callbacks run", self.callbacks_ran),
            ("timers cancelled", self.timers_cancelled),
            ("done callbacks run", self.done_callbacks_ran),
            ("items received", self.items_received),
            ("items handed back", self.items_returned),
            ("puts dropped by a timeout", self.puts_abandoned),
            ("woken waiters cancelled", self.woken_then_cancelled),
            ("remote tasks", self.remote_tasks),
            ("queues closed", self.queues_closed),
            ("sleeps moved between threads", self.sleeps_moved),
        ];
        for (what, count) in covered {
            assert!(count > 0, "seed {seed:#x}: the workload produced no {what}: {self:?}");
        }
    }
}
