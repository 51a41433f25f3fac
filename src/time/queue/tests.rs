//! The timer queue's unit tests.

use super::*;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

/// Checks the heap property and the entry positions.
fn check<T>(q: &TimerQueue<T>) {
    for (pos, slot) in q.heap.iter().enumerate() {
        assert_eq!(q.entries[slot.key as usize].pos as usize, pos, "entry knows its slot");
        if pos > 0 {
            assert!(!q.is_before(pos, (pos - 1) / 2), "parent fires first");
        }
    }
    assert_eq!(q.entries.len(), q.heap.len());
}

#[test]
fn timers_pop_in_deadline_order_and_fifo_among_equals() {
    let mut q = TimerQueue::new(1);
    let base = Instant::now();
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
    let base = Instant::now();
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

/// `Instant` arithmetic on a year count, for the far deadlines below.
fn years(n: u64) -> Duration {
    Duration::from_secs(n * 365 * 24 * 3600)
}

#[test]
fn deadlines_from_centuries_ago_to_centuries_ahead_keep_their_order_and_their_value() {
    let now = Instant::now();
    // Instants before the process started, and past what 64 bits of
    // nanoseconds from now could hold (584 years).
    let deadlines = [
        now + years(600) + Duration::from_nanos(1),
        now - years(100),
        now + years(600),
        now - years(100) + Duration::from_millis(5),
        now,
        now + years(1_000),
        now - Duration::from_millis(10),
        now - Duration::from_millis(5),
    ];
    let mut q = TimerQueue::new(1);
    for (i, at) in deadlines.iter().enumerate() {
        q.insert(*at, i);
    }
    let mut popped = Vec::new();
    while let Some(at) = q.next_deadline() {
        let i = q.pop_due(at).expect("the earliest deadline is due at itself");
        assert_eq!(deadlines[i], at, "a deadline comes out exactly as it went in");
        popped.push(at);
    }
    let mut sorted = deadlines.to_vec();
    sorted.sort();
    assert_eq!(popped, sorted, "deadline order, past and far future alike");
}

#[test]
fn a_timer_due_never_is_held_but_never_next_and_never_due() {
    let mut q = TimerQueue::new(1);
    let forever = q.insert(never(), "never");
    assert_eq!(q.len(), 1);
    assert_eq!(q.next_deadline(), None, "nobody waits for it");
    let soon = Instant::now();
    q.insert(soon, "soon");
    assert_eq!(q.next_deadline(), Some(soon));
    assert_eq!(q.pop_due(soon), Some("soon"));
    assert_eq!(q.pop_due(never() - Duration::from_nanos(1)), None);
    assert_eq!(q.remove(forever), Some("never"), "it can be removed like any other");
}

#[test]
fn a_far_deadline_is_not_due_a_moment_before_itself() {
    let far = Instant::now() + years(600);
    let mut q = TimerQueue::new(1);
    q.insert(far, "far");
    assert_eq!(q.pop_due(far - Duration::from_nanos(1)), None, "never early, however far");
    assert_eq!(q.pop_due(far), Some("far"));
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
        let origin = Instant::now();
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

#[test]
fn deadlines_either_side_of_the_292_year_window_keep_their_order_and_their_value_and_leave_no_far_entry() {
    let mut q = TimerQueue::new(1);
    let (origin, year) = (q.origin, Duration::from_secs(365 * 24 * 3600));
    let window = Duration::from_secs(WINDOW_SECS);
    // Just inside and just outside the window, on both sides, with ties
    // among the far ones.
    let mut deadlines = vec![
        origin + window - Duration::from_nanos(1),
        origin + window,
        origin + window + Duration::from_nanos(1),
        origin + 600 * year,
        origin + 600 * year,
        origin - (window - Duration::from_nanos(1)),
        origin - window - Duration::from_nanos(1),
        origin - 300 * year,
        origin - 300 * year,
        origin,
        origin + Duration::from_nanos(i64::MAX as u64),
        origin - Duration::from_nanos(i64::MAX as u64),
    ];
    let keys: Vec<_> = deadlines.iter().enumerate().map(|(i, at)| q.insert(*at, i)).collect();
    check(&q);
    assert!(!q.far.is_empty());
    q.remove(keys[3]).unwrap(); // a far one, from the middle
    deadlines[3] = never(); // (removed: sorts last, never popped)
    let mut expected: Vec<(Instant, usize)> =
        deadlines.iter().copied().zip(0..).filter(|(_, i)| *i != 3).collect();
    expected.sort();
    let mut popped = Vec::new();
    while let Some(at) = q.next_deadline() {
        let i = q.pop_due(at).unwrap();
        assert_eq!(deadlines[i], at, "exactly as it went in");
        popped.push((at, i));
        check(&q);
    }
    assert_eq!(popped, expected, "deadline order, ties first in first out");
    assert!(q.far.is_empty(), "every far deadline's entry went with its timer");
}

#[test]
fn nanoseconds_inside_the_window_are_exact_and_short_of_far_future() {
    let last_inside = Duration::new(WINDOW_SECS - 1, 999_999_999);
    let n = nanos(last_inside).expect("inside");
    assert_eq!(n as u128, last_inside.as_nanos(), "exact");
    assert!(n < FAR_FUTURE);
    assert_eq!(nanos(Duration::from_secs(WINDOW_SECS)), None, "outside: far");
    assert_eq!(nanos(Duration::MAX), None);
    assert_eq!(nanos(Duration::ZERO), Some(0));
}

#[test]
fn the_only_pending_timer_pops_on_its_own_deadline_and_leaves_nothing_behind() {
    let mut q = TimerQueue::new(1);
    let now = Instant::now();
    let centuries_ago = now.checked_sub(years(300));
    let deadlines = [Some(now + Duration::from_millis(5)), Some(now), centuries_ago];
    for (i, deadline) in deadlines.into_iter().flatten().enumerate() {
        let key = q.insert(deadline, i);
        assert_eq!(q.len(), 1, "alone in the queue");
        if deadline > now {
            assert_eq!(q.pop_due(deadline - Duration::from_nanos(1)), None, "not a nanosecond early");
        }
        assert_eq!(q.pop_due(deadline), Some(i), "due at its deadline");
        assert!(!q.contains(key), "popped: its key matches nothing");
        assert_eq!((q.len(), q.entries.len()), (0, 0));
        assert!(q.far.is_empty(), "a far deadline leaves no side-table entry");
        assert_eq!(q.pop_due(now + years(1)), None, "empty");
        check(&q);
    }
}
