//! The timer queue: an indexed binary min-heap of values by deadline.
//!
//! A plain data structure, generic over what it stores: the runtime stores
//! an [`Action`](super::Action) per timer (wake a task, or queue a
//! callback), the tests store numbers. It knows nothing of the runtime.
//!
//! Every pending timer is an [`Entry`] in a slab, and a small [`Slot`]
//! `(when, order, key)` in a binary heap ordered by `(when, order)`. The
//! entry remembers its slot's position in the heap, so a timer can be removed
//! from the middle in O(log n) — and its memory is reused at once: cancelled
//! timers leave no tombstones behind. A sequence number `seq` grows with
//! every insert: its low 32 bits (`order`) make timers with equal deadlines
//! fire first-in, first-out, and the whole of it is a generation: a
//! [`TimerKey`] names one insertion, so a stale key (the timer already fired,
//! and its slab slot went to a new timer) matches nothing. A key also carries
//! its queue's *owner*, a number given to [`TimerQueue::with_origin`] (kettle passes
//! the runtime's id), so that a key from another queue matches nothing here.
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
//! The simple version would be a `BTreeMap<(deadline, seq), Action>`.
//! A server can hold a timer per connection and more (a timeout on each
//! read), so memory per pending timer matters, and the layout is tighter
//! than that: the heap holds only what ordering needs, and
//! the values stay put in the slab. A slot is 16 bytes: the deadline as
//! nanoseconds since the queue was made (`when`, exact: `Instant` counts
//! nanoseconds too), the order, and a 32-bit slab key. An entry is 16 bytes
//! and the value: position and sequence number, then the `T` — 40 bytes in
//! all for the runtime's `Action`, a waker or a callback. And both
//! containers grow by an eighth (at least 64 slots) instead of doubling, so
//! spare capacity stays under 12.5% where doubling leaves up to half of it
//! empty; growth still costs O(1) moves per insert, amortised (about eight
//! instead of two), and only until the queue reaches its working size.
//!
//! After warm-up no operation allocates: the heap vector and the slab keep
//! their capacity.
//!
//! No operation drops a value: values leave by being returned
//! ([`remove`](TimerQueue::remove), [`pop_due`](TimerQueue::pop_due),
//! [`take_all`](TimerQueue::take_all)), because dropping a waker or a
//! callback runs user code, and only the caller knows where that is safe
//! (for the runtime: outside its borrow of the queue).

use std::num::NonZeroU64;
use std::time::{Duration, Instant};

use slab::Slab;

/// Names one inserted timer — its queue's owner, its slab slot and its
/// insertion — in 16 bytes; stale keys are harmless.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct TimerKey {
    owner: u32,
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

struct Entry<T> {
    /// Index of this timer's slot in the heap.
    pos: u32,
    seq: NonZeroU64,
    value: T,
}

/// Pending timers, soonest first, each holding a `T`.
pub(crate) struct TimerQueue<T> {
    /// Stamped into every key (kettle: the runtime's id).
    owner: u32,
    /// The zero of every slot's `when`.
    origin: Instant,
    heap: Vec<Slot>,
    entries: Slab<Entry<T>>,
    /// The `seq` of the next insert.
    next_seq: NonZeroU64,
}

impl TimerKey {
    /// The owner of the queue that holds (or held) this timer: for kettle,
    /// the id of that queue's runtime.
    pub(crate) fn owner(self) -> u32 {
        self.owner
    }
}

/// Grows `len`-full storage by an eighth, at least 64 (see "Size").
fn gentle_growth(len: usize) -> usize {
    (len / 8).max(64)
}

impl<T> TimerQueue<T> {
    /// The tests' queue: [`with_origin`](Self::with_origin) now.
    #[cfg(test)]
    pub(crate) fn new(owner: u32) -> TimerQueue<T> {
        TimerQueue::with_origin(owner, Instant::now())
    }

    /// An empty queue whose keys carry `owner`, and match only in a queue
    /// with the same owner (give each queue its own). Its deadlines count
    /// from `origin`: any two deadlines from `origin`
    /// on keep their order, anything before it is simply due. kettle passes
    /// its clock's start, so that a paused clock's first deadlines, which
    /// are only nanoseconds after it, are told apart.
    pub(crate) fn with_origin(owner: u32, origin: Instant) -> TimerQueue<T> {
        TimerQueue { owner, origin, heap: Vec::new(), entries: Slab::new(), next_seq: NonZeroU64::MIN }
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

    /// Adds a timer holding `value`, due at `deadline`: after every timer
    /// already due at the same instant.
    pub(crate) fn insert(&mut self, deadline: Instant, value: T) -> TimerKey {
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
        let entry = self.entries.insert(Entry { pos: small(pos), seq, value });
        let key = small(entry);
        // Truncation intended: `order` is `seq` modulo 2³².
        self.heap.push(Slot { when: self.nanos(deadline), order: seq.get() as u32, key });
        self.sift_up(pos);
        TimerKey { owner: self.owner, key, seq }
    }

    /// The entry `timer` names, if it is still pending in this queue (not a
    /// later timer in its reused slot, nor anything, if `timer` is another
    /// queue's).
    fn entry(&self, timer: TimerKey) -> Option<&Entry<T>> {
        let entry = self.entries.get(timer.key as usize)?;
        (timer.owner == self.owner && entry.seq == timer.seq).then_some(entry)
    }

    /// [`entry`](Self::entry), to change.
    fn entry_mut(&mut self, timer: TimerKey) -> Option<&mut Entry<T>> {
        let entry = self.entries.get_mut(timer.key as usize)?;
        (timer.owner == self.owner && entry.seq == timer.seq).then_some(entry)
    }

    /// Removes the timer named by `timer`, returning its value (to be dropped
    /// by the caller, outside any borrow), or `None` if it already fired or
    /// was removed.
    pub(crate) fn remove(&mut self, timer: TimerKey) -> Option<T> {
        let pos = self.entry(timer)?.pos;
        Some(self.remove_at(pos as usize))
    }

    /// Whether `timer` is still pending.
    pub(crate) fn contains(&self, timer: TimerKey) -> bool {
        self.entry(timer).is_some()
    }

    /// The value of `timer`, to change in place, if it is still pending.
    pub(crate) fn get_mut(&mut self, timer: TimerKey) -> Option<&mut T> {
        self.entry_mut(timer).map(|entry| &mut entry.value)
    }

    /// Removes and returns the earliest timer if its deadline is at or before
    /// `now` (a timer due exactly `now` is due: sleeps never end early, and
    /// never later than needed).
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<T> {
        // Compared as instants: turning the one deadline into an `Instant` is
        // cheaper than turning `now` into nanoseconds (a clock subtraction).
        // `when == 0` is a deadline at or before `origin`, clamped: due now.
        let when = self.heap.first()?.when;
        if when > 0 && self.instant(when) > now {
            return None;
        }
        Some(self.remove_at(0))
    }

    /// Removes every timer, returning the values in no particular order
    /// (the runtime's shutdown).
    pub(crate) fn take_all(&mut self) -> Vec<T> {
        self.heap.clear();
        self.entries.drain().map(|entry| entry.value).collect()
    }

    fn remove_at(&mut self, pos: usize) -> T {
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
        entry.value
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
    use std::collections::{BTreeMap, HashMap};
    use std::time::Duration;

    /// Checks the heap property and the entry positions.
    fn check<T>(q: &TimerQueue<T>) {
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
        for (i, ms) in offsets.iter().enumerate() {
            q.insert(base + Duration::from_millis(*ms), i);
        }
        check(&q);
        let far = base + Duration::from_secs(1);
        let mut order = Vec::new();
        while let Some(i) = q.pop_due(far) {
            order.push(i);
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
            keys.push(q.insert(base + Duration::from_millis(ms), i));
        }
        for (i, key) in keys.iter().enumerate() {
            if i % 3 != 0 {
                assert_eq!(q.remove(*key), Some(i as u64), "the removed timer's own value");
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
    fn a_stale_key_does_not_reach_the_timer_that_reused_its_slot() {
        let now = Instant::now();
        let mut q = TimerQueue::new(1);
        let old = q.insert(now, "old");
        assert_eq!(q.pop_due(now), Some("old"));
        let new = q.insert(now, "new");
        assert_eq!(old.key, new.key, "the slab slot is reused");
        assert_eq!(q.remove(old), None);
        assert_eq!(q.get_mut(old), None);
        assert!(!q.contains(old));
        assert!(q.contains(new));
        assert_eq!(q.pop_due(now), Some("new"), "untouched");
    }

    #[test]
    fn nothing_is_due_before_its_deadline() {
        let now = Instant::now();
        let mut q = TimerQueue::new(1);
        q.insert(now + Duration::from_millis(1), ());
        assert!(q.pop_due(now).is_none());
        assert!(q.pop_due(now + Duration::from_millis(1)).is_some());
    }

    #[test]
    fn a_pending_value_can_be_changed_in_place_until_it_leaves() {
        let now = Instant::now();
        let mut q = TimerQueue::new(1);
        let key = q.insert(now, 1);
        *q.get_mut(key).unwrap() += 1;
        assert_eq!(q.pop_due(now), Some(2), "the changed value comes out");
        assert_eq!(q.get_mut(key), None, "a fired timer has no value to change");
    }

    #[test]
    fn slots_keys_and_entries_keep_their_footprint() {
        assert_eq!(size_of::<Slot>(), 16, "when, order, key");
        assert_eq!(size_of::<Option<TimerKey>>(), 16, "the non-zero seq is the Option's tag");
        // The runtime's `Action` is 24 bytes (checked in `time/mod.rs`).
        assert_eq!(size_of::<Entry<[u64; 3]>>(), 40, "position, sequence number, a 24-byte value");
    }

    #[test]
    fn equal_deadlines_stay_first_in_first_out_across_the_order_wrap() {
        let at = Instant::now();
        let mut q = TimerQueue::new(1);
        // The low 32 bits of `seq` wrap from u32::MAX to 0 inside this batch.
        q.next_seq = NonZeroU64::new(u64::from(u32::MAX) - 2).unwrap();
        for i in 0..6 {
            q.insert(at, i);
        }
        check(&q);
        for i in 0..6 {
            assert_eq!(q.pop_due(at), Some(i), "the earliest insert is on top");
        }
    }

    #[test]
    fn a_key_from_another_owners_queue_matches_nothing() {
        let at = Instant::now();
        let mut ours = TimerQueue::new(1);
        let mut theirs = TimerQueue::new(2);
        let their_key = theirs.insert(at, "theirs");
        let our_key = ours.insert(at, "ours");
        assert_eq!((their_key.key, their_key.seq), (our_key.key, our_key.seq), "same slot, same seq");
        assert!(!ours.contains(their_key));
        assert_eq!(ours.get_mut(their_key), None);
        assert_eq!(ours.remove(their_key), None);
        assert!(ours.contains(our_key), "ours is untouched");
        assert_eq!(their_key.owner(), 2);
    }

    #[test]
    fn deadlines_before_the_queue_or_beyond_584_years_are_clamped_not_wrapped() {
        let before = Instant::now();
        let mut q = TimerQueue::new(1);
        let now = Instant::now();
        q.insert(now + Duration::from_secs(1_000 * 365 * 24 * 3600), "far");
        q.insert(before, "past");
        assert!(q.next_deadline().unwrap() <= now, "a deadline before the queue is due at once");
        assert_eq!(q.pop_due(now), Some("past"));
        assert_eq!(q.pop_due(now), None, "the far one is not due");
        assert!(q.next_deadline().unwrap() > now + Duration::from_secs(500 * 365 * 24 * 3600));
    }

    #[test]
    fn storage_grows_by_an_eighth_so_spare_capacity_stays_small() {
        let at = Instant::now();
        let mut q = TimerQueue::new(1);
        for n in 1..=20_000usize {
            q.insert(at + Duration::from_nanos(n as u64), ());
            if n % 1_000 == 0 {
                let bound = n + gentle_growth(n);
                assert!(q.heap.capacity() <= bound, "{n} timers, heap capacity {}", q.heap.capacity());
                assert!(q.entries.capacity() <= bound, "{n} timers, slab capacity {}", q.entries.capacity());
            }
        }
    }

    #[test]
    fn take_all_returns_every_value_and_leaves_an_empty_queue_that_still_works() {
        let at = Instant::now();
        let mut q = TimerQueue::new(1);
        let keys: Vec<_> = (0..100).map(|i| q.insert(at + Duration::from_millis(i % 7), i)).collect();
        let mut all = q.take_all();
        all.sort();
        assert_eq!(all, (0..100).collect::<Vec<_>>());
        assert_eq!((q.len(), q.next_deadline()), (0, None));
        assert!(keys.iter().all(|key| !q.contains(*key)), "every old key is stale");
        let key = q.insert(at, 100);
        assert!(!keys.contains(&key), "a new key names a new insertion");
        check(&q);
        assert_eq!(q.pop_due(at), Some(100));
    }

    /// A small deterministic generator (xorshift64*): the same seed, the same
    /// workload.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
        }
    }

    /// The simple version from the module docs, `BTreeMap<(deadline, seq),
    /// value>`, run side by side with the heap: every insert, removal (by
    /// live or stale key), change in place and pop must agree.
    #[test]
    fn a_random_workload_behaves_like_the_simple_btreemap_version() {
        for seed in 1..=20u64 {
            let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            let mut q = TimerQueue::new(1);
            let origin = q.origin;
            let mut model = BTreeMap::new();
            // Every key ever issued, and what the model files it under.
            let mut keys = Vec::new();
            let mut filed = HashMap::new();
            let mut now_ms = 0;
            for step in 0..2_000u64 {
                let at = |ms| origin + Duration::from_millis(ms);
                match rng.below(8) {
                    // Insert, often at a deadline another timer has.
                    0..=2 => {
                        let ms = now_ms + rng.below(20);
                        let key = q.insert(at(ms), step);
                        model.insert((ms, step), step);
                        filed.insert(key, (ms, step));
                        keys.push(key);
                    }
                    // Remove by a key that may be stale.
                    3 | 4 if !keys.is_empty() => {
                        let key = keys[rng.below(keys.len() as u64) as usize];
                        let expected = filed.remove(&key).map(|place| model.remove(&place).unwrap());
                        assert_eq!(q.remove(key), expected, "seed {seed}, step {step}: remove");
                    }
                    // Change a value in place.
                    5 if !keys.is_empty() => {
                        let key = keys[rng.below(keys.len() as u64) as usize];
                        let expected = filed.get(&key).map(|place| model.get_mut(place).unwrap());
                        let got = q.get_mut(key);
                        assert_eq!(got.is_some(), expected.is_some(), "seed {seed}, step {step}: get_mut");
                        if let (Some(got), Some(expected)) = (got, expected) {
                            *got += 1_000_000;
                            *expected += 1_000_000;
                        }
                    }
                    // Let time pass, and pop everything due.
                    _ => {
                        now_ms += rng.below(5);
                        loop {
                            let due = model.first_key_value().map(|(place, _)| *place);
                            let expected = due.filter(|(ms, _)| *ms <= now_ms).map(|place| {
                                filed.retain(|_, filed_at| *filed_at != place);
                                model.remove(&place).unwrap()
                            });
                            assert_eq!(q.pop_due(at(now_ms)), expected, "seed {seed}, step {step}: pop");
                            if expected.is_none() {
                                break;
                            }
                        }
                    }
                }
                assert_eq!(q.len(), model.len(), "seed {seed}, step {step}: len");
                let expected_next = model.first_key_value().map(|((ms, _), _)| at(*ms));
                assert_eq!(q.next_deadline(), expected_next, "seed {seed}, step {step}: next deadline");
                check(&q);
            }
        }
    }
}
