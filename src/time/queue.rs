//! The timer queue: an indexed binary min-heap.
//!
//! Every pending timer is an [`Entry`] in a slab, and a small [`Slot`]
//! `(when, order, key)` in a binary heap ordered by `(when, order)`. The
//! entry remembers its slot's position in the heap, so a timer can be removed
//! from the middle in O(log n) — and its memory is reused at once: cancelled
//! timers leave no tombstones behind. A sequence number `seq` grows with
//! every insert: its low 32 bits (`order`) make timers with equal deadlines
//! fire first-in, first-out, and the whole of it is a generation: a
//! [`TimerKey`] names one insertion, so a stale key (the timer already fired,
//! and its slab slot went to a new timer) matches nothing.
//!
//! | operation   | cost     |
//! |-------------|----------|
//! | insert      | O(log n) |
//! | remove      | O(log n) |
//! | next due    | O(1)     |
//! | pop due     | O(log n) |
//!
//! # Size
//!
//! Memory per pending timer is one of kettle's benchmark figures, so the
//! layout is tight. A slot is 16 bytes: the deadline as nanoseconds since
//! the queue was made (`when`, exact: `Instant` counts nanoseconds too), the
//! order, and a 32-bit slab key. An entry is 40: position, sequence number,
//! and the waker or callback. And both containers grow by an eighth (at
//! least 64 slots) instead of doubling, so spare capacity stays under 12.5%
//! where doubling leaves up to half of it empty; growth still costs O(1)
//! moves per insert, amortised (about eight instead of two), and only until
//! the queue reaches its working size.
//!
//! After warm-up no operation allocates: the heap vector and the slab keep
//! their capacity.

use std::num::NonZeroU64;
use std::task::Waker;
use std::time::{Duration, Instant};

use slab::Slab;

use crate::runtime::core::Callback;

/// What a timer does when it fires.
pub(crate) enum Action {
    /// Wake a task (a sleep, timeout or interval).
    Wake(Waker),
    /// Queue a callback (`call_later`, `call_at`).
    Call(Callback),
}

/// Names one inserted timer — its runtime, its slab slot and its insertion
/// — in 16 bytes; stale keys are harmless.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TimerKey {
    runtime: u32,
    key: u32,
    /// Never zero, so an `Option` of a struct holding a key costs no tag.
    seq: NonZeroU64,
}

struct Slot {
    /// The deadline, in nanoseconds since the queue's `origin`.
    when: u64,
    /// The low 32 bits of the timer's `seq`: first-in, first-out among equal
    /// deadlines (see [`Slot::is_before`]).
    order: u32,
    key: u32,
}

impl Slot {
    /// Earlier deadline first; among equal deadlines, the earlier insert.
    /// `order` is compared with wrapping arithmetic, which is right as long
    /// as timers due at the very same nanosecond were inserted fewer than
    /// 2³¹ inserts apart.
    fn is_before(&self, other: &Slot) -> bool {
        self.when < other.when
            || (self.when == other.when && (self.order.wrapping_sub(other.order) as i32) < 0)
    }
}

struct Entry {
    /// Index of this timer's slot in the heap.
    pos: u32,
    seq: NonZeroU64,
    action: Action,
}

/// Pending timers, soonest first.
pub(crate) struct TimerQueue {
    /// The runtime's id, stamped into every key.
    runtime: u32,
    /// The zero of every slot's `when`.
    origin: Instant,
    heap: Vec<Slot>,
    entries: Slab<Entry>,
    /// The `seq` of the next insert.
    next_seq: NonZeroU64,
}

impl TimerKey {
    /// The id of the runtime whose queue holds (or held) this timer.
    pub(crate) fn runtime(self) -> u32 {
        self.runtime
    }
}

/// Grows `len`-full storage by an eighth, at least 64 (see "Size").
fn gentle_growth(len: usize) -> usize {
    (len / 8).max(64)
}

impl TimerQueue {
    /// The queue of runtime `runtime`.
    pub(crate) fn new(runtime: u32) -> TimerQueue {
        TimerQueue {
            runtime,
            origin: Instant::now(),
            heap: Vec::new(),
            entries: Slab::new(),
            next_seq: NonZeroU64::MIN,
        }
    }

    /// `at` as nanoseconds since `origin`: 0 for anything before it (already
    /// due), and `u64::MAX` (584 years) for anything too far to count.
    fn nanos(&self, at: Instant) -> u64 {
        let since = at.saturating_duration_since(self.origin);
        since.as_secs().saturating_mul(1_000_000_000).saturating_add(u64::from(since.subsec_nanos()))
    }

    /// The inverse of [`nanos`](Self::nanos), exact for what it did not clamp.
    fn instant(&self, when: u64) -> Instant {
        self.origin + Duration::from_nanos(when)
    }

    /// Number of pending timers.
    pub(crate) fn len(&self) -> usize {
        self.heap.len()
    }

    /// The earliest deadline, if any timer is pending.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.heap.first().map(|slot| self.instant(slot.when))
    }

    pub(crate) fn insert(&mut self, deadline: Instant, action: Action) -> TimerKey {
        let seq = self.next_seq;
        self.next_seq =
            seq.checked_add(1).expect("kettle: 2^64 timers inserted; sequence numbers would repeat");
        if self.heap.len() == self.heap.capacity() {
            self.heap.reserve_exact(gentle_growth(self.heap.len()));
        }
        if self.entries.len() == self.entries.capacity() {
            self.entries.reserve_exact(gentle_growth(self.entries.len()));
        }
        let pos = self.heap.len();
        let entry = self.entries.insert(Entry { pos: small(pos), seq, action });
        let key = small(entry);
        // Truncation intended: `order` is `seq` modulo 2³².
        self.heap.push(Slot { when: self.nanos(deadline), order: seq.get() as u32, key });
        self.sift_up(pos);
        TimerKey { runtime: self.runtime, key, seq }
    }

    /// The entry `timer` names, if it is still pending in this queue.
    fn entry(&self, timer: TimerKey) -> Option<&Entry> {
        let entry = self.entries.get(timer.key as usize)?;
        (timer.runtime == self.runtime && entry.seq == timer.seq).then_some(entry)
    }

    /// Removes the timer named by `timer`, returning its action (to be dropped
    /// by the caller outside any borrow), or `None` if it already fired or was
    /// removed.
    pub(crate) fn remove(&mut self, timer: TimerKey) -> Option<Action> {
        let pos = self.entry(timer)?.pos;
        Some(self.remove_at(pos as usize))
    }

    /// Whether `timer` is still pending.
    pub(crate) fn contains(&self, timer: TimerKey) -> bool {
        self.entry(timer).is_some()
    }

    /// Replaces the waker of a pending `Wake` timer, unless it would wake the
    /// same task anyway. Returns `false` if the timer is no longer pending.
    pub(crate) fn set_waker(&mut self, timer: TimerKey, waker: &Waker) -> bool {
        if timer.runtime != self.runtime {
            return false;
        }
        match self.entries.get_mut(timer.key as usize) {
            Some(Entry { seq, action: Action::Wake(current), .. }) if *seq == timer.seq => {
                if !current.will_wake(waker) {
                    current.clone_from(waker);
                }
                true
            }
            _ => false,
        }
    }

    /// Removes and returns the earliest timer if its deadline is at or before
    /// `now` (a timer due exactly `now` is due: sleeps never end early, and
    /// never later than needed).
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<Action> {
        // Compared as instants: turning the one deadline into an `Instant` is
        // cheaper than turning `now` into nanoseconds (a clock subtraction).
        // `when == 0` is a deadline at or before `origin`, clamped: due now.
        let when = self.heap.first()?.when;
        if when > 0 && self.instant(when) > now {
            return None;
        }
        Some(self.remove_at(0))
    }

    /// Removes every timer (runtime shutdown).
    pub(crate) fn take_all(&mut self) -> Vec<Action> {
        self.heap.clear();
        self.entries.drain().map(|entry| entry.action).collect()
    }

    fn remove_at(&mut self, pos: usize) -> Action {
        let last = self.heap.len() - 1;
        self.heap.swap(pos, last);
        let removed = self.heap.pop().expect("the heap holds the slot being removed");
        if pos < last {
            self.entries[self.heap[pos].key as usize].pos = small(pos);
            // The slot moved into `pos` came from the bottom; it may belong
            // above `pos` (if it is before its new parent) or below it.
            if pos > 0 && self.heap[pos].is_before(&self.heap[(pos - 1) / 2]) {
                self.sift_up(pos);
            } else {
                self.sift_down(pos);
            }
        }
        let entry = self.entries.remove(removed.key as usize);
        debug_assert_eq!(entry.seq.get() as u32, removed.order, "heap slots and entries agree");
        entry.action
    }

    fn sift_up(&mut self, mut pos: usize) {
        while pos > 0 {
            let parent = (pos - 1) / 2;
            if !self.heap[pos].is_before(&self.heap[parent]) {
                break;
            }
            self.swap(pos, parent);
            pos = parent;
        }
    }

    fn sift_down(&mut self, mut pos: usize) {
        loop {
            let left = 2 * pos + 1;
            if left >= self.heap.len() {
                break;
            }
            let right = left + 1;
            let child = if right < self.heap.len() && self.heap[right].is_before(&self.heap[left]) {
                right
            } else {
                left
            };
            if !self.heap[child].is_before(&self.heap[pos]) {
                break;
            }
            self.swap(pos, child);
            pos = child;
        }
    }

    fn swap(&mut self, a: usize, b: usize) {
        self.heap.swap(a, b);
        self.entries[self.heap[a].key as usize].pos = small(a);
        self.entries[self.heap[b].key as usize].pos = small(b);
    }
}

/// A heap position or slab key as the 32 bits a slot and an entry store.
fn small(index: usize) -> u32 {
    u32::try_from(index).expect("kettle: more than 4 billion pending timers in one runtime")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn call() -> Action {
        Action::Call(Box::new(|| {}))
    }

    /// Checks the heap property and the entry positions.
    fn check(q: &TimerQueue) {
        for (pos, slot) in q.heap.iter().enumerate() {
            assert_eq!(q.entries[slot.key as usize].pos as usize, pos, "entry knows its slot");
            if pos > 0 {
                assert!(!slot.is_before(&q.heap[(pos - 1) / 2]), "parent fires first");
            }
        }
        assert_eq!(q.entries.len(), q.heap.len());
    }

    #[test]
    fn timers_pop_in_deadline_order_and_fifo_among_equals() {
        let mut q = TimerQueue::new(1);
        // From the queue's own origin: a deadline before it is clamped to
        // "due now", which would tie timers that a slow machine (valgrind)
        // let fall behind a `base` taken earlier.
        let base = q.origin;
        let offsets = [5u64, 1, 3, 1, 5, 0, 3];
        let keys: Vec<_> =
            offsets.iter().map(|ms| q.insert(base + Duration::from_millis(*ms), call())).collect();
        check(&q);
        let far = base + Duration::from_secs(1);
        let mut order = Vec::new();
        while let Some(slot) = q.heap.first() {
            order.push(
                keys.iter().position(|k| k.key == slot.key && k.seq.get() as u32 == slot.order).unwrap(),
            );
            assert!(q.pop_due(far).is_some());
            check(&q);
        }
        assert_eq!(order, vec![5, 1, 3, 2, 6, 0, 4]);
    }

    #[test]
    fn removing_from_the_middle_keeps_the_heap_valid_and_frees_the_entry() {
        let mut q = TimerQueue::new(1);
        let base = q.origin;
        let mut keys = Vec::new();
        for i in 0..200u64 {
            // A scrambled but deterministic order of deadlines.
            let ms = (i * 7919) % 211;
            keys.push(q.insert(base + Duration::from_millis(ms), call()));
        }
        for (i, key) in keys.iter().enumerate() {
            if i % 3 != 0 {
                assert!(q.remove(*key).is_some());
                check(&q);
            }
        }
        assert_eq!(q.len(), keys.iter().step_by(3).count());
        let mut last = None;
        while let Some(deadline) = q.next_deadline() {
            assert!(last <= Some(deadline), "pops never go back in time");
            last = Some(deadline);
            q.pop_due(deadline).unwrap();
        }
        assert_eq!(q.entries.len(), 0, "no tombstones remain");
    }

    #[test]
    fn a_stale_key_does_not_remove_the_timer_that_reused_its_slot() {
        let now = Instant::now();
        let mut q = TimerQueue::new(1);
        let old = q.insert(now, call());
        assert!(q.pop_due(now).is_some());
        let new = q.insert(now, call());
        assert_eq!(old.key, new.key, "the slab slot is reused");
        assert!(q.remove(old).is_none());
        assert!(!q.contains(old));
        assert!(q.contains(new));
    }

    #[test]
    fn nothing_is_due_before_its_deadline() {
        let now = Instant::now();
        let mut q = TimerQueue::new(1);
        q.insert(now + Duration::from_millis(1), call());
        assert!(q.pop_due(now).is_none());
        assert!(q.pop_due(now + Duration::from_millis(1)).is_some());
    }

    #[test]
    fn slots_keys_and_sleeps_keep_their_footprint() {
        assert_eq!(size_of::<Slot>(), 16, "when, order, key");
        assert_eq!(size_of::<Entry>(), 40, "position, sequence number, action");
        assert_eq!(size_of::<Option<TimerKey>>(), 16, "the non-zero seq is the Option's tag");
        assert_eq!(size_of::<crate::Sleep>(), 32, "a deadline and an optional key");
    }

    #[test]
    fn equal_deadlines_stay_first_in_first_out_across_the_order_wrap() {
        let at = Instant::now();
        let mut q = TimerQueue::new(1);
        // The low 32 bits of `seq` wrap from u32::MAX to 0 inside this batch.
        q.next_seq = NonZeroU64::new(u64::from(u32::MAX) - 2).unwrap();
        let keys: Vec<_> = (0..6).map(|_| q.insert(at, call())).collect();
        check(&q);
        for key in &keys {
            assert_eq!(q.heap[0].key, key.key, "the earliest insert is on top");
            assert!(q.pop_due(at).is_some());
        }
    }

    #[test]
    fn a_key_from_another_runtimes_queue_matches_nothing() {
        let at = Instant::now();
        let mut ours = TimerQueue::new(1);
        let mut theirs = TimerQueue::new(2);
        let their_key = theirs.insert(at, call());
        let our_key = ours.insert(at, call());
        assert_eq!((their_key.key, their_key.seq), (our_key.key, our_key.seq), "same slot, same seq");
        assert!(!ours.contains(their_key));
        assert!(!ours.set_waker(their_key, Waker::noop()));
        assert!(ours.remove(their_key).is_none());
        assert!(ours.contains(our_key), "ours is untouched");
        assert_eq!(their_key.runtime(), 2);
    }

    #[test]
    fn deadlines_before_the_queue_or_beyond_584_years_are_clamped_not_wrapped() {
        let before = Instant::now();
        let mut q = TimerQueue::new(1);
        let now = Instant::now();
        q.insert(now + Duration::from_secs(1_000 * 365 * 24 * 3600), call());
        q.insert(before, call());
        assert!(q.next_deadline().unwrap() <= now, "a deadline before the queue is due at once");
        assert!(q.pop_due(now).is_some());
        assert!(q.pop_due(now).is_none(), "the far one is not due");
        assert!(q.next_deadline().unwrap() > now + Duration::from_secs(500 * 365 * 24 * 3600));
    }

    #[test]
    fn storage_grows_by_an_eighth_so_spare_capacity_stays_small() {
        let at = Instant::now();
        let mut q = TimerQueue::new(1);
        for n in 1..=20_000usize {
            q.insert(at + Duration::from_nanos(n as u64), call());
            if n % 1_000 == 0 {
                let bound = n + gentle_growth(n);
                assert!(q.heap.capacity() <= bound, "{n} timers, heap capacity {}", q.heap.capacity());
                assert!(q.entries.capacity() <= bound, "{n} timers, slab capacity {}", q.entries.capacity());
            }
        }
    }
}
