//! The loop-only flags of a task ([`LoopFlags`]): its slab key, whether it
//! is queued or done, its poll count, its count of pending done callbacks
//! and its entry in the loop's table of notes.
//!
//! They are plain `Cell`s (rule R4 in `cell.rs`): only the owner's loop
//! thread touches them. The header hands them out only for the owner loop's
//! `OnLoop` token, which proves the thread (it is `!Send`); debug builds also
//! check that it is the owner's token and not another runtime's on the same
//! thread. The task's atomic state word, which every holder shares, is
//! `state.rs`'s.

use std::cell::Cell;

/// `LoopFlags::notes` when the task has no notes.
const NO_NOTES: u32 = u32::MAX;

/// `LoopFlags::bits`: the task is in the run queue.
const IN_QUEUE: u32 = 1 << 31;
/// `LoopFlags::bits`: the task completed.
const DONE: u32 = 1 << 30;
/// `LoopFlags::bits`: the poll count went past 2^32 and the loop has not yet
/// carried it into the task's notes.
const POLL_CARRY: u32 = 1 << 29;
/// `LoopFlags::bits`: the count of pending done callbacks, below the flags.
const CALLBACKS: u32 = POLL_CARRY - 1;

/// The bookkeeping a task's loop keeps on it: its slab key, whether it is
/// queued or done, its notes and counts. Four 32-bit words, 16 bytes.
///
/// Read and written only by the task's own runtime, on its loop thread (R4):
/// the header hands them out only for that loop's `OnLoop` token
/// (`Header::flags`, in `header.rs`), which cannot leave the loop's thread,
/// and debug builds check that the token is the owner's.
pub(crate) struct LoopFlags {
    /// The task's key in its runtime's slab. Set once, when the loop adopts
    /// the task; meaningless before (`u32::MAX`). 32 bits: four billion live
    /// tasks would need hundreds of gigabytes.
    key: Cell<u32>,
    /// The task's entry in the loop's table of notes (its name and timings,
    /// `task/notes.rs`), or [`NO_NOTES`]. Most tasks have none.
    notes: Cell<u32>,
    /// How many times the loop has polled the task (`info.rs`), modulo
    /// 2^32: see [`LoopFlags::count_poll`].
    polls: Cell<u32>,
    /// Three flags and a count, packed ([`LoopFlags::bits`]'s constants):
    ///
    /// - `IN_QUEUE`: the task is in the run queue — exactly while this is
    ///   set, and at most once. Set from birth (adoption pushes the task)
    ///   and by `mark_queued`, which refuses a task already queued or done;
    ///   cleared by `mark_dequeued` when the loop pops the task.
    /// - `DONE`: the task completed (finished, cancelled or shut down) and
    ///   is never polled again. Set once, by `mark_done`; never cleared. A
    ///   task may be done and still queued: it woke itself during its last
    ///   poll, and the loop pops that stale entry without running it.
    /// - `POLL_CARRY`: set by `count_poll` when `polls` wraps, cleared by
    ///   the loop when it has added 2^32 to the task's notes.
    /// - `CALLBACKS` (the low 29 bits): done callbacks registered and not
    ///   yet run or dropped. Raised by `add_done_callback` until the output
    ///   has left; lowered by `release_done_callbacks` as their batches run
    ///   or are dropped.
    bits: Cell<u32>,
}

impl LoopFlags {
    /// The flags of a task not yet adopted by its loop: born queued, because
    /// adoption pushes it onto the run queue. Until then a wake (a cancel,
    /// say, before the loop has taken a remote spawn from the injector) must
    /// not push it a second time.
    pub(crate) fn new() -> LoopFlags {
        LoopFlags {
            key: Cell::new(u32::MAX),
            notes: Cell::new(NO_NOTES),
            polls: Cell::new(0),
            bits: Cell::new(IN_QUEUE),
        }
    }

    /// The task's slab key, as the run queue holds it.
    #[inline]
    pub(crate) fn key(&self) -> u32 {
        self.key.get()
    }

    /// Adopts the task into the slab at `key`; the caller pushes it onto the
    /// run queue (it is marked queued from birth).
    pub(crate) fn adopt(&self, key: usize) {
        debug_assert!(self.is_queued(), "a task is born queued and first runs after adoption");
        debug_assert!(u32::try_from(key).is_ok(), "fewer than 2^32 live tasks: each takes 72 bytes");
        self.key.set(key as u32);
    }

    /// Marks the task queued unless it already is or is done. Returns `true`
    /// if the caller must push it onto the run queue.
    #[inline]
    pub(crate) fn mark_queued(&self) -> bool {
        let bits = self.bits.get();
        if bits & (IN_QUEUE | DONE) != 0 {
            return false;
        }
        self.bits.set(bits | IN_QUEUE);
        true
    }

    /// The task was popped from the run queue.
    #[inline]
    pub(crate) fn mark_dequeued(&self) {
        debug_assert!(self.is_queued(), "a task is in the run queue exactly when its queued flag is set");
        self.bits.set(self.bits.get() & !IN_QUEUE);
    }

    /// The task's entry in the loop's table of notes, if it has one.
    #[inline]
    pub(crate) fn notes_key(&self) -> Option<usize> {
        let key = self.notes.get();
        (key != NO_NOTES).then_some(key as usize)
    }

    /// Records (or, with `None`, clears) the task's entry in the table of notes.
    pub(crate) fn set_notes_key(&self, key: Option<usize>) {
        let key =
            key.map_or(NO_NOTES, |key| u32::try_from(key).expect("kettle: more than 2^32 tasks with notes"));
        self.notes.set(key);
    }

    /// Whether the task is in the run queue (for a task dump).
    #[inline]
    pub(crate) fn is_queued(&self) -> bool {
        self.bits.get() & IN_QUEUE != 0
    }

    #[inline]
    pub(crate) fn is_done(&self) -> bool {
        self.bits.get() & DONE != 0
    }

    /// The task completed; it is never polled or queued again.
    #[inline]
    pub(crate) fn mark_done(&self) {
        debug_assert!(!self.is_done(), "a task completes exactly once");
        self.bits.set(self.bits.get() | DONE);
    }

    /// A done task that is not queued can leave the slab.
    #[inline]
    pub(crate) fn is_releasable(&self) -> bool {
        self.bits.get() & (DONE | IN_QUEUE) == DONE
    }

    /// Whether the loop has anything to do about the task after a poll:
    /// it is done, or its poll count must be carried. One test where the
    /// simple version would make two, on every poll.
    #[inline]
    pub(crate) fn is_done_or_carrying(&self) -> bool {
        self.bits.get() & (DONE | POLL_CARRY) != 0
    }

    /// Whether done callbacks are registered and not yet run or dropped.
    #[inline]
    pub(crate) fn has_done_callbacks(&self) -> bool {
        self.bits.get() & CALLBACKS != 0
    }

    /// One more done callback is pending.
    pub(crate) fn add_done_callback(&self) {
        let bits = self.bits.get();
        assert!(bits & CALLBACKS != CALLBACKS, "kettle: more than 2^29 done callbacks pending on one task");
        self.bits.set(bits + 1);
    }

    /// The loop polled the task once more.
    ///
    /// The simple version is a 64-bit count. Here the flags keep the low 32
    /// bits, and on the rare wrap (every 2^32 polls of one task) they raise
    /// `POLL_CARRY`; the loop then adds 2^32 to the task's notes
    /// ([`LoopFlags::take_poll_carry`]). That keeps the flags in 16 bytes.
    #[inline]
    pub(crate) fn count_poll(&self) {
        let polls = self.polls.get().wrapping_add(1);
        self.polls.set(polls);
        if polls == 0 {
            self.bits.set(self.bits.get() | POLL_CARRY);
        }
    }

    /// Clears `POLL_CARRY`; returns whether it was set (the caller adds
    /// 2^32 polls to the task's notes).
    pub(crate) fn take_poll_carry(&self) -> bool {
        let bits = self.bits.get();
        self.bits.set(bits & !POLL_CARRY);
        bits & POLL_CARRY != 0
    }

    /// The poll count, given the carries (multiples of 2^32) already moved
    /// into the task's notes.
    pub(crate) fn polls(&self, carried: u64) -> u64 {
        let pending = if self.bits.get() & POLL_CARRY != 0 { 1 << 32 } else { 0 };
        carried + pending + u64::from(self.polls.get())
    }

    /// `count` done callbacks ran or were dropped. Returns `true` if that
    /// was the last of a done task's: the caller then releases the output
    /// ([`State::release_done_callbacks`](crate::task::state::State::release_done_callbacks)).
    pub(crate) fn release_done_callbacks(&self, count: u32) -> bool {
        let bits = self.bits.get();
        debug_assert!(count <= bits & CALLBACKS, "only pending done callbacks are released");
        let bits = bits - count;
        self.bits.set(bits);
        bits & CALLBACKS == 0 && bits & DONE != 0
    }

    /// Sets the poll count's low 32 bits (tests of the carry).
    #[cfg(test)]
    pub(crate) fn set_polls(&self, polls: u32) {
        self.polls.set(polls);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `test` with the flags of a task not yet adopted. (Which loop may
    /// touch them is the header's check, `Header::flags`: tested with the run
    /// queue, in `runtime/run_queue.rs`.)
    fn on_a_loop(test: impl FnOnce(&LoopFlags)) {
        test(&LoopFlags::new());
    }

    #[test]
    fn a_task_is_born_queued_so_a_wake_before_its_first_run_pushes_nothing() {
        on_a_loop(|flags| {
            assert!(!flags.mark_queued());
            flags.adopt(7);
            assert_eq!(flags.key(), 7);
            assert!(!flags.mark_queued(), "adoption pushed it already");
        });
    }

    #[test]
    fn a_woken_task_is_pushed_once_until_the_loop_pops_it() {
        on_a_loop(|flags| {
            flags.adopt(0);
            flags.mark_dequeued();
            assert!(flags.mark_queued());
            assert!(!flags.mark_queued(), "already in the run queue");
            flags.mark_dequeued();
            assert!(flags.mark_queued());
        });
    }

    #[test]
    fn a_done_task_is_never_queued_again_and_leaves_the_slab_once_popped() {
        on_a_loop(|flags| {
            flags.adopt(0);
            flags.mark_dequeued();
            assert!(flags.mark_queued(), "it woke itself during its last poll");
            flags.mark_done();
            assert!(flags.is_done());
            assert!(!flags.is_releasable(), "its stale queue entry still names its key");
            flags.mark_dequeued();
            assert!(flags.is_releasable());
            assert!(!flags.mark_queued(), "a done task is never queued again");
        });
    }

    #[test]
    fn done_callbacks_release_the_output_when_the_last_of_a_done_tasks_is_gone() {
        on_a_loop(|flags| {
            flags.add_done_callback();
            flags.add_done_callback();
            assert!(flags.has_done_callbacks());
            assert!(!flags.release_done_callbacks(2), "not done: completion finds no hold");
            flags.add_done_callback();
            flags.mark_done();
            flags.add_done_callback();
            assert!(!flags.release_done_callbacks(1), "one is still pending");
            assert!(flags.release_done_callbacks(1));
            assert!(!flags.has_done_callbacks());
        });
    }

    #[test]
    fn a_poll_count_past_2_to_the_32_carries_and_is_never_lost() {
        on_a_loop(|flags| {
            flags.set_polls(u32::MAX);
            assert!(!flags.is_done_or_carrying());
            flags.count_poll();
            assert!(flags.is_done_or_carrying(), "the loop must carry the wrapped count");
            assert_eq!(flags.polls(0), 1 << 32, "counted while the carry waits");
            assert!(flags.take_poll_carry());
            assert!(!flags.take_poll_carry(), "carried once");
            assert_eq!(flags.polls(1 << 32), 1 << 32, "the notes hold the carry now");
            flags.count_poll();
            assert_eq!(flags.polls(1 << 32), (1 << 32) + 1);
        });
    }

    #[test]
    fn the_done_callbacks_count_leaves_the_queued_and_done_flags_alone() {
        on_a_loop(|flags| {
            flags.add_done_callback();
            assert!(flags.is_queued() && !flags.is_done());
            flags.mark_done();
            assert!(!flags.release_done_callbacks(0), "one still pending");
            assert!(flags.release_done_callbacks(1));
            assert!(flags.is_queued() && flags.is_done() && !flags.is_releasable());
        });
    }

    #[test]
    #[cfg(all(target_pointer_width = "64", not(loom)))] // loom's atomics are larger
    fn the_loop_flags_fit_in_16_bytes() {
        // The key, the notes' key, the poll count (its carries in the notes)
        // and three flags beside the callback count, 32 bits each. With the
        // owner, the id and the spawn location the task header is 72 bytes (64
        // before task dumps, issue 12; 88 until the reference count joined the
        // state word and the flags shrank to 16 bytes, issue 21).
        assert_eq!(size_of::<LoopFlags>(), 16);
        assert_eq!(size_of::<crate::task::header::Header>(), 72);
    }
}
