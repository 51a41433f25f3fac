//! The timer queue: an indexed binary min-heap of values by deadline.
//!
//! A plain data structure, generic over what it stores: the runtime stores
//! an [`Action`](crate::runtime::core::Action) per timer (wake a task, or
//! queue a callback), the tests store numbers. It knows nothing of the
//! runtime.
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
//! its queue's *owner*, a number given to [`TimerQueue::new`] (kettle passes
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
//! than that: the heap holds only what ordering needs, and the values stay
//! put in the slab. A slot is 16 bytes: the deadline as signed nanoseconds
//! from the queue's origin (`when`, below), the order, and a 32-bit slab
//! key. An entry is 16 bytes and the value: position and sequence number,
//! then the `T` — 40 bytes in all for the runtime's `Action`, a waker or a
//! callback. And both
//! containers grow by an eighth (at least 64 slots) instead of doubling, so
//! spare capacity stays under 12.5% where doubling leaves up to half of it
//! empty; growth still costs O(1) moves per insert, amortised (about eight
//! instead of two), and only until the queue reaches its working size.
//!
//! After warm-up no operation allocates: the heap vector and the slab keep
//! their capacity.
//!
//! # Every deadline, exactly
//!
//! Any two deadlines keep their order, however far apart — one from before
//! the runtime existed, one 600 years ahead — and a deadline comes back out
//! of [`next_deadline`](TimerQueue::next_deadline) exactly as it went in.
//! The simple version keeps the `Instant` itself: 16 bytes (it has 4 of
//! padding), which makes a slot 24, and a comparison of two fields with
//! branches. A slot here keeps the deadline as nanoseconds from the queue's
//! `origin` (the runtime's start) in an `i64`, exact for 292 years either
//! way, and compared in one instruction. A deadline outside that window is
//! [`FAR_PAST`] or [`FAR_FUTURE`] in its slot, which sorts it before or
//! after every deadline inside, and its exact `Instant` waits in a small
//! side table (`far`), read only to order two far deadlines on the same
//! side and to give a far deadline back. Clamping them without the table
//! would tie past deadlines and bring a far one back earlier than it is — a
//! callback fired early, a paused clock jumping to a deadline that is not
//! yet due, again and again.
//!
//! No operation drops a value: values leave by being returned
//! ([`remove`](TimerQueue::remove), [`pop_due`](TimerQueue::pop_due),
//! [`take_all`](TimerQueue::take_all)), because dropping a waker or a
//! callback runs user code, and only the caller knows where that is safe
//! (for the runtime: outside its borrow of the queue).

use std::collections::BTreeMap;
use std::num::NonZeroU64;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use slab::Slab;

/// The deadline that never comes: the last instant `Instant` can hold
/// (`time/mod.rs`, "Every deadline exactly, or never"). A timer due then is
/// held like any other, but is never due — no clock reaches it — and is
/// never the [next deadline](TimerQueue::next_deadline), so nobody waits
/// for it.
pub(crate) fn never() -> Instant {
    static LAST: OnceLock<Instant> = OnceLock::new();
    *LAST.get_or_init(|| last_instant_from(Instant::now()))
}

/// The last instant `Instant` can hold: the largest step `from` can take,
/// found by halving (under a hundred tries, once per process).
#[cold]
fn last_instant_from(from: Instant) -> Instant {
    if let Some(last) = from.checked_add(Duration::MAX) {
        return last;
    }
    // Invariant: `from + reachable` exists, `from + beyond` does not.
    let (mut reachable, mut beyond) = (Duration::ZERO, Duration::MAX);
    while beyond - reachable > Duration::from_nanos(1) {
        let mid = reachable + (beyond - reachable) / 2;
        if from.checked_add(mid).is_some() {
            reachable = mid;
        } else {
            beyond = mid;
        }
    }
    from + reachable
}

/// Names one inserted timer — its queue's owner, its slab slot and its
/// insertion — in 16 bytes; stale keys are harmless.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct TimerKey {
    owner: u32,
    key: u32,
    /// Never zero, so an `Option` of a struct holding a key costs no tag.
    seq: NonZeroU64,
}

/// A slot's `when` for a deadline more than 292 years before the origin;
/// the exact instant is in the queue's `far` table.
const FAR_PAST: i64 = i64::MIN;
/// A slot's `when` for a deadline 292 years or more after the origin; the
/// exact instant is in the queue's `far` table.
const FAR_FUTURE: i64 = i64::MAX;

struct Slot {
    /// The deadline, in nanoseconds from the queue's origin, or
    /// [`FAR_PAST`] / [`FAR_FUTURE`].
    when: i64,
    /// The low 32 bits of the timer's `seq`: first-in, first-out among equal
    /// deadlines (see [`TimerQueue::is_before`]).
    order: u32,
    key: u32,
}

impl Slot {
    fn is_far(&self) -> bool {
        self.when == FAR_PAST || self.when == FAR_FUTURE
    }
}

/// Whole seconds below which every duration fits an `i64` of nanoseconds
/// (with its nanoseconds, and short of `i64::MAX`, which is [`FAR_FUTURE`]):
/// the window is 292 years less a second, either way.
const WINDOW_SECS: u64 = i64::MAX as u64 / 1_000_000_000;

/// `d` in nanoseconds, if it is inside the window: one comparison.
fn nanos(d: Duration) -> Option<i64> {
    // Cannot overflow: at most (WINDOW_SECS - 1) × 10⁹ + 999,999,999.
    (d.as_secs() < WINDOW_SECS).then(|| (d.as_secs() * 1_000_000_000 + u64::from(d.subsec_nanos())) as i64)
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
    /// The exact deadlines of far slots, by slab key (see "Every deadline,
    /// exactly"): empty unless a deadline is 292 years from the origin.
    far: BTreeMap<u32, Instant>,
    /// [`never`](fn@never), kept at hand.
    never: Instant,
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
    /// An empty queue whose keys carry `owner`, and match only in a queue
    /// with the same owner (give each queue its own).
    pub(crate) fn new(owner: u32) -> TimerQueue<T> {
        TimerQueue {
            owner,
            origin: Instant::now(),
            far: BTreeMap::new(),
            never: never(),
            heap: Vec::new(),
            entries: Slab::new(),
            next_seq: NonZeroU64::MIN,
        }
    }

    /// Number of pending timers.
    pub(crate) fn len(&self) -> usize {
        self.heap.len()
    }

    /// The earliest deadline, if any timer is pending that is not due
    /// [`never`](fn@never) (those are not waited for).
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        Some(self.deadline(self.heap.first()?)).filter(|when| *when != self.never)
    }

    /// `at` as a slot's `when`: nanoseconds from the origin, or far.
    #[inline]
    fn when(&self, at: Instant) -> i64 {
        match at.checked_duration_since(self.origin) {
            Some(after) => nanos(after).unwrap_or(FAR_FUTURE),
            None => self.when_before(at),
        }
    }

    /// [`when`](Self::when) for an instant before the origin.
    #[cold]
    fn when_before(&self, at: Instant) -> i64 {
        nanos(self.origin.duration_since(at)).map_or(FAR_PAST, |before| -before)
    }

    /// The exact deadline of `slot`.
    #[inline]
    fn deadline(&self, slot: &Slot) -> Instant {
        match slot.when {
            after if after >= 0 && after != FAR_FUTURE => self.origin + Duration::from_nanos(after as u64),
            _ => self.deadline_before_or_far(slot),
        }
    }

    /// [`deadline`](Self::deadline) for a slot due before the origin, or far.
    #[cold]
    fn deadline_before_or_far(&self, slot: &Slot) -> Instant {
        match slot.when {
            FAR_PAST | FAR_FUTURE => self.far[&slot.key],
            before => self.origin - Duration::from_nanos(before.unsigned_abs()),
        }
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
        let slot = Slot { when: self.when(deadline), order: seq.get() as u32, key };
        if slot.is_far() {
            self.far.insert(key, deadline);
        }
        self.heap.push(slot);
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
    #[inline(always)] // into the loop's timer step, with `pop_only`: no call on a lone timer's wake
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<T> {
        // Compared as instants: turning the one deadline into an `Instant`
        // is cheaper than turning `now` into nanoseconds.
        if self.deadline(self.heap.first()?) > now {
            return None;
        }
        Some(if self.heap.len() == 1 { self.pop_only() } else { self.remove_at(0) })
    }

    /// Removes the heap's only slot, in the caller's code: a sleep's wake
    /// with no other timer pending, the loop's way from the timerfd to the
    /// task, reaches no other function of the queue. The simple version is
    /// [`remove_at(0)`](Self::remove_at), out of line (it sifts, which one
    /// slot never needs).
    #[inline(always)]
    fn pop_only(&mut self) -> T {
        let removed = self.heap.pop().expect("the heap holds the slot being removed");
        if removed.is_far() {
            self.far.remove(&removed.key);
        }
        let entry = self.entries.remove(removed.key as usize);
        debug_assert_eq!(entry.seq.get() as u32, removed.order, "heap slots and entries agree");
        entry.value
    }

    /// Removes every timer, returning the values in no particular order
    /// (the runtime's shutdown).
    pub(crate) fn take_all(&mut self) -> Vec<T> {
        self.heap.clear();
        self.far.clear();
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
            if pos > 0 && self.is_before(pos, (pos - 1) / 2) {
                self.sift_up(pos);
            } else {
                self.sift_down(pos);
            }
        }
        if removed.is_far() {
            self.far.remove(&removed.key);
        }
        let entry = self.entries.remove(removed.key as usize);
        debug_assert_eq!(entry.seq.get() as u32, removed.order, "heap slots and entries agree");
        entry.value
    }

    #[inline]
    fn sift_up(&mut self, mut pos: usize) {
        while pos > 0 {
            let parent = (pos - 1) / 2;
            if !self.is_before(pos, parent) {
                break;
            }
            self.swap(pos, parent);
            pos = parent;
        }
    }

    /// Moves the slot at `pos`, which is not before its parent, down to
    /// where it belongs: to the bottom first, along the earlier child of
    /// each level, then back up ([`sift_up`](Self::sift_up)).
    ///
    /// The simple version stops on the way down as soon as neither child is
    /// before the slot, comparing it with the earlier child at every level:
    /// two comparisons a level. But the slot sifted down is always one
    /// taken from the bottom of the heap (by [`remove_at`](Self::remove_at)),
    /// which usually belongs near the bottom again: going all the way down
    /// with one comparison a level, then up a level or two, does half the
    /// comparisons (Floyd's trick, which `std`'s `BinaryHeap::pop` uses too).
    fn sift_down(&mut self, mut pos: usize) {
        debug_assert!(
            pos == 0 || !self.is_before(pos, (pos - 1) / 2),
            "a slot sifted down is not before its parent"
        );
        loop {
            let left = 2 * pos + 1;
            if left >= self.heap.len() {
                break;
            }
            let right = left + 1;
            let child = if right < self.heap.len() && self.is_before(right, left) { right } else { left };
            self.swap(pos, child);
            pos = child;
        }
        // Its parent was not after it where it started: it stops there at the latest.
        self.sift_up(pos);
    }

    /// Whether the slot at heap position `a` fires before the one at `b`:
    /// the earlier deadline, and among equal deadlines the earlier insert.
    /// Two far deadlines on the same side are told apart by their exact
    /// instants (the only time `far` is read to compare). `order` is
    /// compared with wrapping arithmetic, which is right as long as timers
    /// due at the very same nanosecond were inserted fewer than 2³¹ inserts
    /// apart.
    #[inline]
    fn is_before(&self, a: usize, b: usize) -> bool {
        let (a, b) = (&self.heap[a], &self.heap[b]);
        if a.when != b.when {
            return a.when < b.when;
        }
        if a.is_far() {
            return self.far_is_before(a, b);
        }
        (a.order.wrapping_sub(b.order) as i32) < 0
    }

    /// [`is_before`](Self::is_before) for two far slots on the same side.
    #[cold]
    fn far_is_before(&self, a: &Slot, b: &Slot) -> bool {
        let (at_a, at_b) = (self.far[&a.key], self.far[&b.key]);
        at_a < at_b || (at_a == at_b && (a.order.wrapping_sub(b.order) as i32) < 0)
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
mod tests;
