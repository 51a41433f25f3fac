//! A task's state: the atomic state word that every holder of the task
//! shares. The flags that only its runtime's loop keeps are `loop_flags.rs`'s.
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
//! | `JOIN_INTEREST`  | `State::new`, at allocation        | the join handle's drop, if early, or its taking the output |
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
/// A join handle still exists and has not taken the output. Set at spawn;
/// cleared when the handle is dropped before the output is readable — then
/// whoever makes it readable drops the output — or when the handle takes
/// the output ([`State::output_taken`]). A handle dropped after the output
/// became readable, and before taking it, drops the output itself.
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

    /// The join handle took the output: it has no interest left in it, so
    /// the task no longer counts as possibly unread
    /// ([`Header::may_be_unread`](crate::task::header::Header::may_be_unread)),
    /// even while the handle itself lives on (awaited through `&mut`). Nobody
    /// else reads the bit once the output is readable: the handle's drop
    /// finds the output readable and the stage empty either way.
    pub(crate) fn output_taken(&self) {
        self.0.fetch_and(!JOIN_INTEREST, Release);
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

#[cfg(test)]
mod tests;
