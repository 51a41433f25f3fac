//! Which tasks get a row, and the bars that go in a row.
//!
//! # The row cap
//!
//! A picture with a thousand task rows is not readable, so at most
//! [`MAX_TASK_ROWS`] tasks get a row of their own: the ones with the most
//! poll time in the trace (ties go to the lower id), because the tasks
//! that cost the loop the most are the ones a reader came for. They are
//! listed by id, which is close to spawn order. The other tasks share one
//! last row, "… N more tasks", where their polls are drawn together.
//!
//! # Bars
//!
//! At 1200 pixels a three-second trace gives a pixel to about 3 ms, and a
//! poll often takes microseconds, so most bars would be thinner than a
//! pixel, and thousands would pile up in one spot. [`Bars`] therefore
//! merges a bar into the one before it when it starts less than half a
//! pixel after that one ends: what is drawn is the stretch the merged
//! events cover, and its tooltip says how many there were and how much
//! time they took in all. Every bar is then drawn at least
//! [`MIN_BAR_PX`] wide, so that a single short poll still shows.

use std::collections::BTreeMap;
use std::time::Duration;

use super::super::{Trace, TraceEvent};
use super::scale::Scale;
use crate::task::id::Id;

/// The most tasks that get a row of their own.
pub(super) const MAX_TASK_ROWS: usize = 40;

/// The narrowest a bar is drawn, in pixels.
pub(super) const MIN_BAR_PX: f64 = 1.0;

/// Bars closer than this many pixels are merged.
const MERGE_PX: f64 = 0.5;

/// The tasks with rows of their own, by id, and the tasks that share the
/// last row.
pub(super) struct TaskRows {
    /// Each task shown on its own row, with its total poll time.
    pub(super) shown: Vec<(Id, Duration)>,
    /// The others.
    pub(super) rest: Vec<Id>,
}

impl TaskRows {
    /// Chooses the rows for `trace` (see "The row cap").
    pub(super) fn choose(trace: &Trace) -> TaskRows {
        let mut busy: BTreeMap<Id, Duration> =
            trace.tasks().into_iter().map(|id| (id, Duration::ZERO)).collect();
        for event in trace.events() {
            if let TraceEvent::Poll { task, duration, .. } = *event {
                *busy.entry(task).or_default() += duration;
            }
        }
        let mut by_cost: Vec<(Id, Duration)> = busy.into_iter().collect();
        // Most poll time first; equal times in id order.
        by_cost.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let rest = by_cost.split_off(by_cost.len().min(MAX_TASK_ROWS));
        by_cost.sort_by_key(|&(id, _)| id);
        let mut rest: Vec<Id> = rest.into_iter().map(|(id, _)| id).collect();
        rest.sort_unstable();
        TaskRows { shown: by_cost, rest }
    }
}

/// One bar: one event, or several merged.
#[derive(Debug)]
pub(super) struct Bar {
    /// Where the bar starts, in pixels.
    pub(super) x0: f64,
    /// Where it ends, in pixels (at least `x0`).
    pub(super) x1: f64,
    /// How many events it stands for.
    pub(super) count: usize,
    /// Their durations added up.
    pub(super) busy: Duration,
    /// When the first began.
    pub(super) start: Duration,
    /// When the last ended.
    pub(super) end: Duration,
}

impl Bar {
    /// The width to draw: the bar's, or [`MIN_BAR_PX`].
    pub(super) fn width(&self) -> f64 {
        (self.x1 - self.x0).max(MIN_BAR_PX)
    }
}

/// The bars of one lane, in time order.
#[derive(Default)]
pub(super) struct Bars {
    pub(super) bars: Vec<Bar>,
}

impl Bars {
    /// Adds an event from `start`, lasting `duration` (zero for an
    /// instant), merging it into the last bar if it is within half a pixel
    /// of it. Events must come in the order they started.
    pub(super) fn add(&mut self, scale: &Scale, start: Duration, duration: Duration) {
        let end = start.saturating_add(duration);
        let (x0, x1) = (scale.x(start), scale.x(end));
        if let Some(last) = self.bars.last_mut()
            && x0 <= last.x1.max(last.x0 + MIN_BAR_PX) + MERGE_PX
        {
            last.x1 = last.x1.max(x1);
            last.count += 1;
            last.busy += duration;
            last.end = last.end.max(end);
            return;
        }
        self.bars.push(Bar { x0, x1, count: 1, busy: duration, start, end });
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::sample;
    use super::*;

    #[test]
    fn at_most_forty_tasks_get_a_row_and_they_are_the_busiest() {
        let rows = TaskRows::choose(&sample::many_tasks(50));
        assert_eq!(rows.shown.len(), MAX_TASK_ROWS);
        // Task n polls for 10 + n µs: tasks 11 to 50 are the busiest.
        assert_eq!(rows.shown.first().unwrap().0, Id::from_u64(11));
        assert_eq!(rows.rest, (1..=10).map(Id::from_u64).collect::<Vec<_>>());
        assert!(rows.shown.windows(2).all(|w| w[0].0 < w[1].0), "shown by id");
    }

    #[test]
    fn forty_tasks_or_fewer_all_get_a_row() {
        let rows = TaskRows::choose(&sample::many_tasks(MAX_TASK_ROWS as u64));
        assert_eq!((rows.shown.len(), rows.rest.len()), (MAX_TASK_ROWS, 0));
    }

    #[test]
    fn bars_within_half_a_pixel_merge_and_others_do_not() {
        let scale = Scale::new(Duration::from_millis(1000), 0.0, 1000.0); // 1 ms a pixel
        let mut bars = Bars::default();
        let us = Duration::from_micros;
        bars.add(&scale, us(10_000), us(100));
        bars.add(&scale, us(10_500), us(100)); // within a pixel of the first: merged
        bars.add(&scale, us(20_000), us(3_000)); // far: a new bar
        assert_eq!(bars.bars.len(), 2);
        assert_eq!((bars.bars[0].count, bars.bars[0].busy, bars.bars[0].end), (2, us(200), us(10_600)));
        assert!((bars.bars[1].width() - 3.0).abs() < 1e-9);
        assert_eq!(bars.bars[0].width(), MIN_BAR_PX, "a thin bar is drawn a pixel wide");
    }
}
