//! The ring buffer the loop records into while a trace runs.
//!
//! `Recorder` is a plain data structure: the runtime creates one at
//! `start_trace`, calls [`Recorder::push`] and [`Recorder::push_for_task`]
//! at its hooks, and turns it into a [`Trace`] at `stop_trace`. It knows
//! nothing of the loop.
//!
//! The ring is a `Vec` that grows to `capacity` and then stays that size.
//! While it grows, events are appended; once it is full, `next` is the
//! index of the oldest event, which the next push overwrites before `next`
//! moves on one (wrapping). So the events in order, oldest first, are
//! `ring[next..]` followed by `ring[..next]`, and [`Recorder::finish`]
//! rotates them into place once, rather than every push keeping them so.
//!
//! Invariants: `ring.len() <= capacity`; `next == 0` until the ring is
//! full; `dropped` counts the overwrites, so `ring.len() + dropped` is the
//! number of events pushed.
//!
//! # Labels: only for the tasks the ring mentions
//!
//! A task's label (its name and where it was spawned) is kept beside the
//! ring, with a count of the retained events that mention the task. An
//! event that overwrites the last one mentioning a task takes the label
//! with it, so a trace of a loop that runs for hours through millions of
//! short-lived tasks holds at most one label per retained event, never one
//! per task it ever saw. The loop hands each event that mentions a task to
//! [`Recorder::push_for_task`] with a way to make the task's label, used
//! only when the recorder holds none — the task's first event in a trace,
//! or the first after its old ones were overwritten.
//!
//! Invariant: each label's `mentions` is the number of events in the ring
//! that mention its task, and is more than zero (the tests' `label`, which
//! exists only under `cfg(test)`, makes labels ahead of their events, which
//! `finish` drops if none came).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::time::{Duration, Instant};

use super::{TaskLabel, Trace, TraceEvent};
use crate::task::id::Id;

/// The ring's capacity unless the runtime asks for another: 65 536 events,
/// a few megabytes (an event is at most 48 bytes), which holds a few seconds
/// of a busy loop and minutes of a mostly idle one.
pub(crate) const DEFAULT_CAPACITY: usize = 65_536;

/// The events and task labels of a running trace.
pub(crate) struct Recorder {
    /// When the trace started: every event's time is an offset from it.
    origin: Instant,
    /// The events; see the module's essay for the order.
    ring: Vec<TraceEvent>,
    /// The most events `ring` holds (at least 1).
    capacity: usize,
    /// Once the ring is full, the index of the oldest event.
    next: usize,
    /// Events overwritten because the ring was full.
    dropped: u64,
    /// A label per task the ring mentions, by id (see "Labels").
    labels: HashMap<Id, Labelled, BuildHasherDefault<IdHasher>>,
}

/// Hashes a task id with one multiplication. Ids are distinct numbers that
/// the loop hands out, not keys an attacker chooses, so the standard
/// `SipHash` — which resists chosen keys — would only make every traced
/// poll (a lookup or two in `labels`) cost several times more.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        bytes.iter().for_each(|byte| self.write_u64(u64::from(*byte)));
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A task's label, and how many of the ring's events mention the task.
struct Labelled {
    label: TaskLabel,
    mentions: usize,
}

impl Recorder {
    /// An empty recorder holding at most `capacity` events (0 counts as 1),
    /// whose clock starts now.
    pub(crate) fn new(capacity: usize) -> Recorder {
        Recorder {
            origin: Instant::now(),
            ring: Vec::new(),
            capacity: capacity.max(1),
            next: 0,
            dropped: 0,
            labels: HashMap::default(),
        }
    }

    /// `at` as an offset from the start of the trace (zero for an earlier
    /// instant).
    pub(crate) fn offset(&self, at: Instant) -> Duration {
        at.saturating_duration_since(self.origin)
    }

    /// Records `event`; if it mentions a task that has a label, that label
    /// counts it. See [`store`](Recorder::store).
    pub(crate) fn push(&mut self, event: TraceEvent) {
        if let Some(labelled) = event.task().and_then(|id| self.labels.get_mut(&id)) {
            labelled.mentions += 1;
        }
        self.store(event);
    }

    /// Records `event`, which mentions a task, and gives the task a label
    /// made by `label` if the trace holds none: one map lookup, and `label`
    /// is called only for the task's first event in the trace (or the first
    /// since its older ones were overwritten). See [`store`](Recorder::store).
    pub(crate) fn push_for_task(&mut self, event: TraceEvent, label: impl FnOnce() -> TaskLabel) {
        let id = event.task().expect("an event that mentions a task");
        self.labels.entry(id).or_insert_with(|| Labelled { label: label(), mentions: 0 }).mentions += 1;
        self.store(event);
    }

    /// Puts `event` in the ring; when the ring is full, it takes the place
    /// of the oldest event, which is counted in `dropped` (and whose task
    /// loses its label if no other retained event mentions it). O(1), and
    /// no allocation once the ring has reached its capacity.
    fn store(&mut self, event: TraceEvent) {
        if self.ring.len() < self.capacity {
            self.grow_toward_capacity();
            self.ring.push(event);
        } else {
            let oldest = std::mem::replace(&mut self.ring[self.next], event);
            self.next = if self.next + 1 == self.capacity { 0 } else { self.next + 1 };
            self.dropped += 1;
            if let Some(id) = oldest.task() {
                self.forget_mention(id);
            }
        }
        debug_assert!(self.ring.len() <= self.capacity, "the ring never holds more than its capacity");
    }

    /// One event mentioning task `id` left the ring: the last one takes the
    /// label with it.
    fn forget_mention(&mut self, id: Id) {
        if let Some(labelled) = self.labels.get_mut(&id) {
            labelled.mentions -= 1;
            if labelled.mentions == 0 {
                self.labels.remove(&id);
            }
        }
    }

    /// Makes room for one more event without growing past `capacity`. The
    /// simple version is `Vec::with_capacity(capacity)` up front; but most
    /// traces are short, and 65 536 events are megabytes, so the ring
    /// doubles (from 64) like any `Vec`, capped so as never to allocate
    /// more than `capacity` events.
    fn grow_toward_capacity(&mut self) {
        let len = self.ring.len();
        if len == self.ring.capacity() {
            self.ring.reserve_exact(len.max(64).min(self.capacity - len));
        }
    }

    /// Gives task `id` a label ahead of its events, unless it has one (the
    /// writers' tests build traces this way, then [`push`](Recorder::push)).
    #[cfg(test)]
    pub(crate) fn label(
        &mut self,
        id: Id,
        name: Option<&str>,
        location: &'static std::panic::Location<'static>,
    ) {
        let label = || TaskLabel { id, name: name.map(str::to_owned), location };
        self.labels.entry(id).or_insert_with(|| Labelled { label: label(), mentions: 0 });
    }

    /// How many labels the trace holds: at most one per retained event.
    #[cfg(test)]
    pub(crate) fn labels(&self) -> usize {
        self.labels.len()
    }

    /// Ends the trace: its duration runs until now, and its events are put
    /// in order, oldest first — by start time, ties in recording order. (The
    /// loop records a step when it ends, after the polls inside it.)
    pub(crate) fn finish(mut self) -> Trace {
        let duration = self.offset(Instant::now());
        self.ring.rotate_left(self.next);
        self.ring.sort_by_key(TraceEvent::start);
        // A label no event came after (none, in the loop's use) goes too.
        let labels =
            self.labels.into_iter().filter(|(_, l)| l.mentions > 0).map(|(id, l)| (id, l.label)).collect();
        Trace { events: self.ring, labels, dropped: self.dropped, duration }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::panic::Location;

    fn timer(ms: u64) -> TraceEvent {
        TraceEvent::TimerFired { at: Duration::from_millis(ms) }
    }

    #[test]
    fn events_come_out_oldest_first() {
        let mut recorder = Recorder::new(8);
        for ms in 0..5 {
            recorder.push(timer(ms));
        }
        let trace = recorder.finish();
        assert_eq!(trace.events(), (0..5).map(timer).collect::<Vec<_>>());
        assert_eq!(trace.dropped(), 0);
    }

    #[test]
    fn ring_buffer_overflow_keeps_the_newest_events_and_counts_the_dropped() {
        let mut recorder = Recorder::new(4);
        for ms in 0..11 {
            recorder.push(timer(ms));
        }
        let trace = recorder.finish();
        assert_eq!(trace.events(), (7..11).map(timer).collect::<Vec<_>>());
        assert_eq!(trace.dropped(), 7);
    }

    #[test]
    fn a_ring_filled_exactly_drops_nothing_and_one_more_drops_the_oldest() {
        let mut recorder = Recorder::new(3);
        (0..3).for_each(|ms| recorder.push(timer(ms)));
        assert_eq!(recorder.dropped, 0);
        recorder.push(timer(3));
        let trace = recorder.finish();
        assert_eq!(trace.events(), [timer(1), timer(2), timer(3)]);
        assert_eq!(trace.dropped(), 1);
    }

    #[test]
    fn capacity_zero_is_clamped_to_one_event() {
        let mut recorder = Recorder::new(0);
        recorder.push(timer(1));
        recorder.push(timer(2));
        let trace = recorder.finish();
        assert_eq!(trace.events(), [timer(2)]);
        assert_eq!(trace.dropped(), 1);
    }

    #[test]
    fn the_ring_never_allocates_beyond_its_capacity() {
        let mut recorder = Recorder::new(100);
        for ms in 0..250 {
            recorder.push(timer(ms));
            assert!(recorder.ring.capacity() <= 100, "capacity {}", recorder.ring.capacity());
        }
        assert_eq!(recorder.ring.len(), 100);
    }

    #[test]
    fn an_event_is_at_most_48_bytes() {
        // DEFAULT_CAPACITY's "a few megabytes" relies on it.
        assert!(std::mem::size_of::<TraceEvent>() <= 48, "{}", std::mem::size_of::<TraceEvent>());
    }

    fn poll(task: Id, ms: u64) -> TraceEvent {
        TraceEvent::Poll { task, start: Duration::from_millis(ms), duration: Duration::ZERO }
    }

    #[test]
    fn a_task_label_is_recorded_once_with_the_first_name_seen() {
        let mut recorder = Recorder::new(4);
        let id = Id::from_u64(7);
        let here = Location::caller();
        recorder.label(id, Some("fetch a.txt"), here);
        recorder.push(poll(id, 1));
        recorder.label(id, Some("another name"), here);
        recorder.push(poll(id, 2));
        recorder.label(Id::from_u64(8), None, here);
        recorder.push(poll(Id::from_u64(8), 3));
        let trace = recorder.finish();
        let label = trace.task_label(id).unwrap();
        assert_eq!(label, &TaskLabel { id, name: Some("fetch a.txt".into()), location: here });
        assert_eq!(trace.task_label(Id::from_u64(8)).unwrap().name, None);
        assert_eq!(trace.task_label(Id::from_u64(9)), None);
        assert_eq!(trace.labels.len(), 2);
    }

    #[test]
    fn a_label_leaves_with_the_last_event_that_mentions_its_task() {
        let mut recorder = Recorder::new(3);
        let (a, b) = (Id::from_u64(1), Id::from_u64(2));
        let here = Location::caller();
        recorder.label(a, Some("a"), here);
        recorder.push(poll(a, 1));
        recorder.push(poll(a, 2));
        recorder.push(timer(3));
        assert_eq!(recorder.labels(), 1);
        recorder.push(timer(4)); // overwrites a's first poll
        assert_eq!(recorder.labels(), 1, "a's second poll is still there");
        recorder.label(b, Some("b"), here);
        recorder.push(poll(b, 5)); // overwrites a's last poll
        assert_eq!(recorder.labels(), 1, "only b's label is left");
        // The loop labels a again when it polls it next: the label comes back.
        recorder.label(a, Some("a"), here);
        recorder.push(poll(a, 6));
        let trace = recorder.finish();
        assert_eq!(trace.task_label(a).unwrap().name.as_deref(), Some("a"));
        assert_eq!(trace.task_label(b).unwrap().name.as_deref(), Some("b"));
    }

    #[test]
    fn push_for_task_makes_a_label_for_a_tasks_first_event_and_again_once_its_events_were_overwritten() {
        let mut recorder = Recorder::new(2);
        let id = Id::from_u64(3);
        let made = std::cell::Cell::new(0);
        let label = || {
            made.set(made.get() + 1);
            TaskLabel { id, name: Some("t".into()), location: Location::caller() }
        };
        recorder.push_for_task(poll(id, 1), label);
        recorder.push_for_task(poll(id, 2), label);
        assert_eq!(made.get(), 1, "made once, then found");
        recorder.push(timer(3));
        recorder.push(timer(4)); // both polls overwritten: the label goes
        assert_eq!(recorder.labels(), 0);
        recorder.push_for_task(poll(id, 5), label);
        assert_eq!(made.get(), 2, "made again");
        assert_eq!(recorder.finish().task_label(id).unwrap().name.as_deref(), Some("t"));
    }

    #[test]
    fn labels_stay_bounded_by_the_ring_however_many_tasks_pass_through() {
        let mut recorder = Recorder::new(64);
        for n in 1..=100_000u64 {
            let id = Id::from_u64(n);
            recorder.label(id, Some("a named task"), Location::caller());
            recorder.push(poll(id, n));
            recorder.push(timer(n));
            assert!(recorder.labels() <= 32, "{} labels for a ring of 64 events", recorder.labels());
        }
        let trace = recorder.finish();
        assert_eq!(trace.labels.len(), 32, "one per task the retained events mention");
        assert!(trace.events().iter().filter_map(TraceEvent::task).all(|id| trace.task_label(id).is_some()));
    }

    #[test]
    fn offsets_are_measured_from_the_start_and_never_negative() {
        let recorder = Recorder::new(1);
        let later = recorder.origin + Duration::from_millis(5);
        assert_eq!(recorder.offset(later), Duration::from_millis(5));
        let earlier = recorder.origin.checked_sub(Duration::from_millis(5)).unwrap_or(recorder.origin);
        assert_eq!(recorder.offset(earlier), Duration::ZERO);
    }

    #[test]
    fn the_duration_runs_from_new_to_finish() {
        let recorder = Recorder::new(1);
        std::thread::sleep(Duration::from_millis(2));
        let trace = recorder.finish();
        assert!(trace.duration() >= Duration::from_millis(2));
        assert!(format!("{trace:?}").starts_with("Trace { events: 0, tasks: 0, dropped: 0, duration: "));
    }
}
