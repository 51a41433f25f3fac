//! The time axis: where an instant goes on the page, where the ticks go
//! and what they say, and durations written for people.
//!
//! Ticks are spaced 1, 2 or 5 times a power of ten nanoseconds apart, the
//! smallest such step that gives at most ten ticks; they are labelled in
//! one unit for the whole axis — seconds for a trace of a second or more,
//! else milliseconds, else microseconds — with as many decimals as the
//! step needs ("0.5 s", "1 s", "1.5 s").

use std::time::Duration;

/// Maps times from zero to `span` onto `width` pixels starting at `left`.
pub(super) struct Scale {
    left: f64,
    width: f64,
    span_ns: u64,
}

impl Scale {
    /// A scale for `span` (a zero span is taken as one microsecond, so an
    /// empty trace still has an axis).
    pub(super) fn new(span: Duration, left: f64, width: f64) -> Scale {
        let span_ns = u64::try_from(span.as_nanos()).unwrap_or(u64::MAX).max(1_000);
        Scale { left, width, span_ns }
    }

    /// The x coordinate of time `t`.
    pub(super) fn x(&self, t: Duration) -> f64 {
        self.left + self.width * (t.as_nanos() as f64 / self.span_ns as f64)
    }

    /// The ticks: their x coordinates and labels, from zero to the end.
    pub(super) fn ticks(&self) -> Vec<(f64, String)> {
        let step = nice_step(self.span_ns / 10);
        let unit: u64 = match self.span_ns {
            1_000_000_000.. => 1_000_000_000,
            1_000_000.. => 1_000_000,
            _ => 1_000,
        };
        let suffix = match unit {
            1_000_000_000 => "s",
            1_000_000 => "ms",
            _ => "µs",
        };
        let decimals = decimals(step, unit);
        (0..=self.span_ns / step)
            .map(|i| {
                let t = i * step;
                (self.x(Duration::from_nanos(t)), format!("{} {suffix}", fixed(t, unit, decimals)))
            })
            .collect()
    }
}

/// The smallest of 1, 2, 5 × 10^k nanoseconds that is at least `at_least`.
fn nice_step(at_least: u64) -> u64 {
    let mut power = 1u64;
    loop {
        for m in [1, 2, 5] {
            if m * power >= at_least {
                return m * power;
            }
        }
        power *= 10;
    }
}

/// How many decimals `step` needs when written in `unit`s.
fn decimals(step: u64, unit: u64) -> usize {
    let mut decimals = 0;
    let mut scale = unit;
    while !step.is_multiple_of(scale) {
        scale /= 10;
        decimals += 1;
    }
    decimals
}

/// `ns` in `unit`s with `decimals` decimals, computed exactly; a whole
/// number without them ("1", not "1.0").
fn fixed(ns: u64, unit: u64, decimals: usize) -> String {
    let whole = ns / unit;
    if decimals == 0 || ns.is_multiple_of(unit) {
        return whole.to_string();
    }
    let frac = (ns % unit) / (unit / 10u64.pow(decimals as u32));
    format!("{whole}.{frac:0decimals$}")
}

/// `d` to three significant digits, in the unit that suits it: "1.23 s",
/// "45.6 ms", "789 µs", "120 ns".
pub(super) fn human(d: Duration) -> String {
    let ns = d.as_nanos() as f64;
    let (value, unit) = match d.as_nanos() {
        1_000_000_000.. => (ns / 1e9, "s"),
        1_000_000.. => (ns / 1e6, "ms"),
        1_000.. => (ns / 1e3, "µs"),
        _ => return format!("{} ns", d.as_nanos()),
    };
    let decimals = if value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    format!("{value:.decimals$} {unit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(span: Duration) -> Vec<String> {
        Scale::new(span, 0.0, 1000.0).ticks().into_iter().map(|(_, label)| label).collect()
    }

    #[test]
    fn three_seconds_are_ticked_every_half_second_in_seconds() {
        assert_eq!(labels(Duration::from_secs(3)), ["0 s", "0.5 s", "1 s", "1.5 s", "2 s", "2.5 s", "3 s"]);
    }

    #[test]
    fn short_traces_are_ticked_in_milliseconds_or_microseconds() {
        assert_eq!(
            labels(Duration::from_millis(10)),
            ["0 ms", "1 ms", "2 ms", "3 ms", "4 ms", "5 ms", "6 ms", "7 ms", "8 ms", "9 ms", "10 ms"]
        );
        assert_eq!(labels(Duration::from_micros(45))[..3], ["0 µs", "5 µs", "10 µs"]);
        assert_eq!(labels(Duration::from_micros(1500))[..3], ["0 ms", "0.2 ms", "0.4 ms"]);
    }

    #[test]
    fn an_empty_span_still_has_an_axis() {
        assert_eq!(labels(Duration::ZERO).len(), 11);
    }

    #[test]
    fn ticks_never_pass_the_end_of_the_axis() {
        for ms in [1, 7, 99, 1234, 59_999] {
            let ticks = Scale::new(Duration::from_millis(ms), 10.0, 500.0).ticks();
            assert!(ticks.len() <= 11 && ticks.iter().all(|&(x, _)| (10.0..=510.0).contains(&x)), "{ms} ms");
        }
    }

    #[test]
    fn durations_are_written_to_three_significant_digits() {
        assert_eq!(human(Duration::from_nanos(850)), "850 ns");
        assert_eq!(human(Duration::from_nanos(12_345)), "12.3 µs");
        assert_eq!(human(Duration::from_micros(1_200)), "1.20 ms");
        assert_eq!(human(Duration::from_millis(345)), "345 ms");
        assert_eq!(human(Duration::from_millis(3_001)), "3.00 s");
    }
}
