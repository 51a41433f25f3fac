//! A task's state: the atomic state word that every holder of the task
//! shares, and the flags that only its runtime's loop keeps.
//!
//! Each change of state is one method here, and each returns what the caller
//! must do next — `complete` answers "drop the output" or "wake the join
//! handle", `drop_join_interest` answers "drop your waker" or "drop the
//! output" — as a `#[must_use]` enum. The decisions live here, where the tests
//! below check them one by one; the effects (the output, the join waker's
//! slot: everything `unsafe`) live in `cell.rs`, which performs them.
//!
//! # The state word ([`State`])
//!
//! | bit              | set by                             | cleared by                           |
//! |------------------|------------------------------------|--------------------------------------|
//! | `COMPLETE`       | the loop, after writing the output | never                                |
//! | `CANCELLED`      | `JoinHandle::cancel`, any thread   | never                                |
//! | `JOIN_INTEREST`  | `State::new`, at allocation        | the join handle's drop, if early     |
//! | `JOIN_WAKER`     | the join handle, slot written      | the join handle, to rewrite the slot |
//! | `REMOTE_QUEUED`  | a remote wake, entry pushed        | the loop, entry drained              |
//! | `DONE_CALLBACKS` | the loop, callbacks pending        | the loop, callbacks run or dropped   |
//!
//! The bits above [`REF_ONE`] count the task's references: every `TaskRef`
//! and every `Waker` of the task holds one, and the last to go frees the
//! cell (R5). The simple version keeps the count in a word of its own; one
//! word for both makes the header a word smaller
//! ([`State::ref_inc`], [`State::ref_dec`]), and no transition of the
//! flags disturbs the count, nor a count change the flags.
//!
//! The join handle may take the output once the task is **readable**:
//! `COMPLETE` is set and `DONE_CALLBACKS` is not. The gate exists because done
//! callbacks borrow the output on the loop thread while the join handle may
//! live on another: until they have run, the output is not the handle's.
//! Every rule in `cell.rs` that speaks of the join handle and the output
//! (R2, R3) is about readability, not merely completion.
//!
//! ```text
//!               complete(hold = false)
//!   RUNNING ─────────────────────────────────▶ READABLE
//!      │                                        │    ▲
//!      │ complete(hold = true)                  │    │
//!      │                hold_for_done_callbacks │    │ release_done_callbacks
//!      ▼                                        │    │
//!    HELD ◀─────────────────────────────────────┘    │
//!      └─────────────────────────────────────────────┘
//! ```
//!
//! Whoever makes the output readable hands it over at once: it drops the
//! output if no join handle is left, or wakes the handle if it parked a
//! waker ([`Completed`]). A join handle that parks its waker, or goes away,
//! does so only while the output is *not* readable; once it is, the handle
//! takes the output (or drops it) itself. So exactly one side holds the
//! output at every moment, and nothing is woken twice or never.
//!
//! # The loop-only flags ([`LoopFlags`])
//!
//! `key`, `queued`, `done`, the poll count and the count of pending done
//! callbacks are plain `Cell`s (rule R4 in `cell.rs`): only the owner's loop thread touches them.
//! The header hands them out only for the owner loop's `OnLoop` token,
//! which proves the thread (it is `!Send`); debug builds also check that it
//! is the owner's token and not another runtime's on the same thread.

use std::cell::Cell;
use std::fmt;

use crate::loom::sync::atomic::AtomicUsize;
use crate::loom::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};
use crate::loom::sync::atomic::fence;

/// The task has finished: its output (a value or a `JoinError`) is stored and
/// its future is gone. Set once, by the loop, after it wrote the output (R2);
/// never cleared.
const COMPLETE: usize = 1 << 0;
/// Cancellation was requested; the loop drops the future unpolled when it
/// next runs the task. Set by `JoinHandle::cancel` on any thread, at any time
/// (on a finished task it changes nothing); never cleared.
const CANCELLED: usize = 1 << 1;
/// A join handle still exists. Set at spawn; cleared when the handle is
/// dropped before the output is readable — then whoever makes it readable
/// drops the output. Never cleared after that point: a handle dropped later
/// drops the output itself.
const JOIN_INTEREST: usize = 1 << 2;
/// The join-waker slot holds the handle's waker, and the loop may read it
/// (R3). Set by the join handle after writing the slot, cleared by it before
/// rewriting the slot or when it goes away; neither happens once the output
/// is readable, so from then on the slot is read-only.
const JOIN_WAKER: usize = 1 << 3;
/// A remote wake of this task sits in the injector, so further remote wakes
/// need not queue another. Set by the remote wake that pushes the entry,
/// cleared by the loop when it drains that entry.
const REMOTE_QUEUED: usize = 1 << 4;
/// Done callbacks are pending: the output is held back from the join handle.
/// Set by the loop only on a complete task (at completion, or when a
/// callback is added later), cleared by the loop when the last pending
/// callback has run or been dropped.
const DONE_CALLBACKS: usize = 1 << 5;
/// One reference (a `TaskRef` or a `Waker`): the count is the word shifted
/// right by six. A new task has two, the loop's and the join handle's.
const REF_ONE: usize = 1 << 6;
/// The flag bits, below the count.
const FLAGS: usize = REF_ONE - 1;

/// The task's atomic state word: the bits above, changed only through the
/// transitions below.
pub(crate) struct State(AtomicUsize);

/// One reading of the state word.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Snapshot(usize);

/// What the loop must do after the output was written ([`State::complete`])
/// or after done callbacks released it ([`State::release_done_callbacks`]).
#[must_use]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Completed {
    /// Done callbacks are pending: the output stays where it is, and is
    /// handed over when they release it.
    HeldForDoneCallbacks,
    /// No join handle is left: the output is the loop's to drop (R2).
    DropOutput,
    /// The join handle parked a waker: wake it (R3: the slot is read-only now).
    WakeJoiner,
    /// The join handle exists but has parked no waker: its next poll, or the
    /// registration it is in the middle of, finds the output readable.
    Nothing,
}

/// What the join handle's drop must do ([`State::drop_join_interest`]).
#[must_use]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum JoinDropped {
    /// The output is not readable yet: the loop will drop it, and will not
    /// read the waker slot, so empty the slot.
    DropWaker,
    /// The output is readable and nobody else will touch it: drop it (R2).
    DropOutput,
}

/// What the join handle does after taking its waker slot back
/// ([`State::unset_join_waker`]).
#[must_use]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum JoinWakerUnset {
    /// The slot is the handle's again: write the new waker.
    WriteSlot,
    /// The output became readable meanwhile (the loop may be reading the
    /// slot): leave the slot alone and take the output.
    TakeOutput,
}

/// What the join handle does after publishing its waker
/// ([`State::set_join_waker`]).
#[must_use]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum JoinWakerSet {
    /// The loop will wake the waker when the output becomes readable: wait.
    Wait,
    /// The output became readable before the waker was published: take it.
    TakeOutput,
}

/// What the canceller must do after [`State::request_cancel`].
#[must_use]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum CancelRequested {
    /// Schedule the task, so that the loop sees the request.
    Schedule,
    /// The task has finished, or a cancel already scheduled it.
    Nothing,
}

/// What a wake from off the loop must do after [`State::claim_remote_wake`].
#[must_use]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum RemoteWake {
    /// Push a wake of the task into its runtime's injector.
    Push,
    /// One is there already, not yet drained: the loop will run the task.
    AlreadyQueued,
}

impl State {
    /// A new task's state: a join handle exists, nothing else has happened;
    /// two references, the loop's and the join handle's.
    pub(crate) fn new() -> State {
        State(AtomicUsize::new(JOIN_INTEREST | (2 * REF_ONE)))
    }

    // ----- references (R5) -----------------------------------------------------

    /// One more reference. Relaxed suffices for an increment: whoever
    /// increments already holds a reference, so the cell cannot be freed
    /// concurrently.
    #[inline]
    pub(crate) fn ref_inc(&self) {
        if self.0.fetch_add(REF_ONE, Relaxed) > isize::MAX as usize {
            std::process::abort(); // a leak of 2^57 wakers: better stop here
        }
    }

    /// One reference fewer. Returns `true` if it was the last: the caller
    /// frees the cell, and sees every write made through the others.
    #[inline]
    pub(crate) fn ref_dec(&self) -> bool {
        let prev = self.0.fetch_sub(REF_ONE, Release);
        debug_assert!(prev >= REF_ONE, "a reference is released at most once");
        if prev & !FLAGS != REF_ONE {
            return false;
        }
        fence(Acquire);
        true
    }

    #[inline]
    pub(crate) fn load(&self) -> Snapshot {
        Snapshot(self.0.load(Acquire))
    }

    // ----- the loop's side -----------------------------------------------------

    /// The loop wrote the output. With `hold` (done callbacks are pending)
    /// the output stays held back; otherwise it becomes readable, and the
    /// answer says how to hand it over.
    #[inline]
    pub(crate) fn complete(&self, hold: bool) -> Completed {
        let gate = if hold { DONE_CALLBACKS } else { 0 };
        let prev = Snapshot(self.0.fetch_or(COMPLETE | gate, AcqRel));
        debug_assert!(!prev.is_complete(), "a task completes exactly once");
        if hold { Completed::HeldForDoneCallbacks } else { prev.hand_over() }
    }

    /// A done callback was added to a complete task: hold the output back
    /// until it has run. The caller makes sure the output is still there
    /// (the join handle has not taken it).
    pub(crate) fn hold_for_done_callbacks(&self) {
        let prev = self.0.fetch_or(DONE_CALLBACKS, AcqRel);
        debug_assert!(prev & COMPLETE != 0, "the output is held back only once it exists");
    }

    /// The last pending done callback has run or was dropped: the output
    /// becomes readable, and the answer says how to hand it over.
    pub(crate) fn release_done_callbacks(&self) -> Completed {
        let prev = Snapshot(self.0.fetch_and(!DONE_CALLBACKS, AcqRel));
        debug_assert!(prev.is_complete() && !prev.is_readable(), "only a held output is released");
        Snapshot(prev.0 & !DONE_CALLBACKS).hand_over()
    }

    /// The loop drained the injector entry of a remote wake; later remote
    /// wakes queue anew.
    #[inline]
    pub(crate) fn release_remote_wake(&self) {
        let prev = Snapshot(self.0.fetch_and(!REMOTE_QUEUED, AcqRel));
        debug_assert!(
            prev.is_remote_queued(),
            "each injector entry of a wake was claimed by one remote wake"
        );
    }

    // ----- any thread ----------------------------------------------------------

    /// Requests cancellation.
    #[inline]
    pub(crate) fn request_cancel(&self) -> CancelRequested {
        let prev = Snapshot(self.0.fetch_or(CANCELLED, AcqRel));
        if prev.is_complete() || prev.is_cancel_requested() {
            CancelRequested::Nothing
        } else {
            CancelRequested::Schedule
        }
    }

    /// A wake from off the loop: claims the right to push it into the
    /// injector. Many remote wakes before the loop drains the first cost
    /// one entry.
    #[inline]
    pub(crate) fn claim_remote_wake(&self) -> RemoteWake {
        if self.0.fetch_or(REMOTE_QUEUED, AcqRel) & REMOTE_QUEUED == 0 {
            RemoteWake::Push
        } else {
            RemoteWake::AlreadyQueued
        }
    }

    // ----- the join handle's side (R2, R3) -------------------------------------

    /// The join handle takes its waker slot back to rewrite it, unless the
    /// output has become readable.
    pub(crate) fn unset_join_waker(&self) -> JoinWakerUnset {
        match self.update_unless_readable(|s| s & !JOIN_WAKER) {
            Ok(_) => JoinWakerUnset::WriteSlot,
            Err(_) => JoinWakerUnset::TakeOutput,
        }
    }

    /// The join handle wrote its waker into the slot and publishes it to the
    /// loop, unless the output has become readable.
    pub(crate) fn set_join_waker(&self) -> JoinWakerSet {
        match self.update_unless_readable(|s| s | JOIN_WAKER) {
            Ok(_) => JoinWakerSet::Wait,
            Err(_) => JoinWakerSet::TakeOutput,
        }
    }

    /// The join handle is going away: if the output is not readable yet,
    /// the loop is to drop it (and not to wake the handle's waker).
    pub(crate) fn drop_join_interest(&self) -> JoinDropped {
        match self.update_unless_readable(|s| s & !(JOIN_INTEREST | JOIN_WAKER)) {
            Ok(_) => JoinDropped::DropWaker,
            Err(_) => JoinDropped::DropOutput,
        }
    }

    /// Applies `f` to the state word unless the output is readable; on
    /// success returns the state before, else the readable state found.
    fn update_unless_readable(&self, f: impl Fn(usize) -> usize) -> Result<usize, usize> {
        self.0.fetch_update(AcqRel, Acquire, |s| (!Snapshot(s).is_readable()).then(|| f(s)))
    }
}

impl Snapshot {
    #[inline]
    pub(crate) fn is_complete(self) -> bool {
        self.0 & COMPLETE != 0
    }

    /// Whether the join handle may take the output.
    #[inline]
    pub(crate) fn is_readable(self) -> bool {
        self.is_complete() && !self.is_held()
    }

    #[inline]
    pub(crate) fn is_cancel_requested(self) -> bool {
        self.0 & CANCELLED != 0
    }

    #[inline]
    pub(crate) fn has_join_interest(self) -> bool {
        self.0 & JOIN_INTEREST != 0
    }

    #[inline]
    pub(crate) fn has_join_waker(self) -> bool {
        self.0 & JOIN_WAKER != 0
    }

    #[inline]
    pub(crate) fn is_remote_queued(self) -> bool {
        self.0 & REMOTE_QUEUED != 0
    }

    /// Whether done callbacks hold the (complete) output back.
    #[inline]
    pub(crate) fn is_held(self) -> bool {
        self.0 & DONE_CALLBACKS != 0
    }

    /// How many `TaskRef`s and `Waker`s point at the cell.
    #[inline]
    pub(crate) fn refs(self) -> usize {
        self.0 / REF_ONE
    }

    /// How to hand over an output that has just become readable; `self` is
    /// the state just before, without `DONE_CALLBACKS`.
    #[inline]
    fn hand_over(self) -> Completed {
        if !self.has_join_interest() {
            Completed::DropOutput
        } else if self.has_join_waker() {
            Completed::WakeJoiner
        } else {
            Completed::Nothing
        }
    }
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [(usize, &str); 6] = [
            (COMPLETE, "COMPLETE"),
            (CANCELLED, "CANCELLED"),
            (JOIN_INTEREST, "JOIN_INTEREST"),
            (JOIN_WAKER, "JOIN_WAKER"),
            (REMOTE_QUEUED, "REMOTE_QUEUED"),
            (DONE_CALLBACKS, "DONE_CALLBACKS"),
        ];
        let mut set: Vec<String> =
            NAMES.iter().filter(|(bit, _)| self.0 & bit != 0).map(|(_, name)| name.to_string()).collect();
        if self.refs() > 0 {
            set.push(format!("refs: {}", self.refs()));
        }
        if set.is_empty() { f.write_str("{}") } else { f.write_str(&set.join(" | ")) }
    }
}

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
    /// ([`State::release_done_callbacks`]).
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
mod tests;
