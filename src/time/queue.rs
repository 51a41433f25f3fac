//! The timer queue: an indexed binary min-heap.
//!
//! Every pending timer is an [`Entry`] in a slab, and a small [`Slot`]
//! `(deadline, seq, key)` in a binary heap ordered by `(deadline, seq)`. The
//! entry remembers its slot's position in the heap, so a timer can be removed
//! from the middle in O(log n) — and its memory is reused at once: cancelled
//! timers leave no tombstones behind. `seq` grows with every insert, which
//! makes timers with equal deadlines fire first-in, first-out, and doubles as
//! a generation: a [`TimerKey`] names one insertion, so a stale key (the timer
//! already fired, and its slab slot went to a new timer) matches nothing.
//!
//! | operation   | cost     |
//! |-------------|----------|
//! | insert      | O(log n) |
//! | remove      | O(log n) |
//! | next due    | O(1)     |
//! | pop due     | O(log n) |
//!
//! After warm-up no operation allocates: the heap vector and the slab keep
//! their capacity.

use std::task::Waker;
use std::time::Instant;

use slab::Slab;

use crate::runtime::core::Callback;

/// What a timer does when it fires.
pub(crate) enum Action {
    /// Wake a task (a sleep, timeout or interval).
    Wake(Waker),
    /// Queue a callback (`call_later`, `call_at`).
    Call(Callback),
}

/// Names one inserted timer; stale keys are harmless.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TimerKey {
    key: usize,
    seq: u64,
}

struct Slot {
    deadline: Instant,
    seq: u64,
    key: usize,
}

impl Slot {
    fn is_before(&self, other: &Slot) -> bool {
        (self.deadline, self.seq) < (other.deadline, other.seq)
    }
}

struct Entry {
    /// Index of this timer's slot in the heap.
    pos: usize,
    seq: u64,
    action: Action,
}

/// Pending timers, soonest first.
#[derive(Default)]
pub(crate) struct TimerQueue {
    heap: Vec<Slot>,
    entries: Slab<Entry>,
    next_seq: u64,
}

impl TimerQueue {
    pub(crate) fn new() -> TimerQueue {
        TimerQueue::default()
    }

    /// Number of pending timers.
    pub(crate) fn len(&self) -> usize {
        self.heap.len()
    }

    /// The earliest deadline, if any timer is pending.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.heap.first().map(|slot| slot.deadline)
    }

    pub(crate) fn insert(&mut self, deadline: Instant, action: Action) -> TimerKey {
        let seq = self.next_seq;
        self.next_seq += 1;
        let pos = self.heap.len();
        let key = self.entries.insert(Entry { pos, seq, action });
        self.heap.push(Slot { deadline, seq, key });
        self.sift_up(pos);
        TimerKey { key, seq }
    }

    /// Removes the timer named by `timer`, returning its action (to be dropped
    /// by the caller outside any borrow), or `None` if it already fired or was
    /// removed.
    pub(crate) fn remove(&mut self, timer: TimerKey) -> Option<Action> {
        let pos = self.entries.get(timer.key).filter(|e| e.seq == timer.seq)?.pos;
        Some(self.remove_at(pos))
    }

    /// Whether `timer` is still pending.
    pub(crate) fn contains(&self, timer: TimerKey) -> bool {
        self.entries.get(timer.key).is_some_and(|e| e.seq == timer.seq)
    }

    /// Replaces the waker of a pending `Wake` timer, unless it would wake the
    /// same task anyway. Returns `false` if the timer is no longer pending.
    pub(crate) fn set_waker(&mut self, timer: TimerKey, waker: &Waker) -> bool {
        match self.entries.get_mut(timer.key) {
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
        if self.heap.first()?.deadline > now {
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
            self.entries[self.heap[pos].key].pos = pos;
            // The slot moved into `pos` came from the bottom; it may belong
            // above `pos` (if it is before its new parent) or below it.
            if pos > 0 && self.heap[pos].is_before(&self.heap[(pos - 1) / 2]) {
                self.sift_up(pos);
            } else {
                self.sift_down(pos);
            }
        }
        let entry = self.entries.remove(removed.key);
        debug_assert_eq!(entry.seq, removed.seq, "heap slots and entries agree");
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
        self.entries[self.heap[a].key].pos = a;
        self.entries[self.heap[b].key].pos = b;
    }
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
            assert_eq!(q.entries[slot.key].pos, pos, "entry knows its slot");
            if pos > 0 {
                assert!(!slot.is_before(&q.heap[(pos - 1) / 2]), "parent fires first");
            }
        }
        assert_eq!(q.entries.len(), q.heap.len());
    }

    #[test]
    fn timers_pop_in_deadline_order_and_fifo_among_equals() {
        let base = Instant::now();
        let mut q = TimerQueue::new();
        let offsets = [5u64, 1, 3, 1, 5, 0, 3];
        let keys: Vec<_> =
            offsets.iter().map(|ms| q.insert(base + Duration::from_millis(*ms), call())).collect();
        check(&q);
        let far = base + Duration::from_secs(1);
        let mut order = Vec::new();
        while let Some(slot) = q.heap.first() {
            order.push(keys.iter().position(|k| k.key == slot.key && k.seq == slot.seq).unwrap());
            assert!(q.pop_due(far).is_some());
            check(&q);
        }
        assert_eq!(order, vec![5, 1, 3, 2, 6, 0, 4]);
    }

    #[test]
    fn removing_from_the_middle_keeps_the_heap_valid_and_frees_the_entry() {
        let base = Instant::now();
        let mut q = TimerQueue::new();
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
        let mut q = TimerQueue::new();
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
        let mut q = TimerQueue::new();
        q.insert(now + Duration::from_millis(1), call());
        assert!(q.pop_due(now).is_none());
        assert!(q.pop_due(now + Duration::from_millis(1)).is_some());
    }
}
