//! What the loop remembers about a task for people rather than for
//! scheduling: its name, and — while the loop times its tasks (debug mode,
//! or a trace recording) — when it was spawned and how long its polls took.
//!
//! Kept out of line, in a table on the loop (`Core::with_notes`) that the
//! task's loop flags index, so that an unnamed task spawned while nobody
//! watches pays 32 bits in its header, no allocation, and nothing when it
//! is freed. `info.rs` turns these notes, with the header's id, location
//! and poll count, into the public [`TaskInfo`](super::TaskInfo).

use std::time::{Duration, Instant};

/// A task's name and timings; loop-only, like the flags (R4 in `cell.rs`).
#[derive(Default, Debug)]
pub(crate) struct Notes {
    /// Given with [`task::Builder::name`](super::Builder::name).
    pub(crate) name: Option<String>,
    /// When the task was spawned (or, spawned from another thread, adopted
    /// by the loop), if the loop was timing its tasks then.
    pub(crate) spawned_at: Option<Instant>,
    /// Time spent inside this task's polls while the loop timed them.
    pub(crate) busy: Duration,
    /// Polls beyond what the loop flags count: 2^32 for each time their
    /// 32-bit count wrapped (`LoopFlags::count_poll`).
    pub(crate) polls_carried: u64,
}
