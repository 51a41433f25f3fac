//! Synthetic traces for the writers' tests: what a run of the tour looks
//! like to the recorder, made up by a small simulated loop so that a test
//! needs no runtime (and the pictures are the same every time).
//!
//! `KETTLE_TRACE_OUT=/some/dir cargo test --lib trace` also writes the
//! pictures (and the tour's JSON) there, to look at: `rsvg-convert -o
//! tour.png tour.svg`, or open `tour.json` at <https://ui.perfetto.dev>.

use std::panic::Location;
use std::time::Duration;

use super::{Phase, Recorder, Trace, TraceEvent};
use crate::task::id::Id;

/// A simulated task: when it next wants to run, how long its polls take,
/// how long it sleeps between them, and when it is done.
struct Sim {
    id: Id,
    next: Duration,
    poll: Duration,
    every: Duration,
    until: Duration,
    /// Woken by a timer (a `TimerFired` precedes its poll), else by I/O.
    timer: bool,
}

/// A tiny xorshift, so that polls vary without a dependency.
struct Rng(u64);

impl Rng {
    fn jitter(&mut self, d: Duration) -> Duration {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        // Between half and one and a half times `d`.
        d / 2 + d.mul_f64((self.0 % 1000) as f64 / 1000.0)
    }
}

/// About three seconds of a tour-like run: a main task, three downloads
/// with dozens of polls each, a busy task that hogs the loop for a while,
/// an interval, a task spawned from another thread, callbacks and timers,
/// and long waits in between.
pub(super) fn tour() -> Trace {
    let us = Duration::from_micros;
    let ms = Duration::from_millis;
    let mut r = Recorder::new(super::DEFAULT_CAPACITY);
    let mut tasks = Vec::new();
    let mut add = |r: &mut Recorder,
                   n,
                   name: Option<&str>,
                   location,
                   sim: (Duration, Duration, Duration, Duration, bool)| {
        let id = Id::from_u64(n);
        r.label(id, name, location);
        tasks.push(Sim { id, next: sim.0, poll: sim.1, every: sim.2, until: sim.3, timer: sim.4 });
    };
    add(&mut r, 1, Some("main"), Location::caller(), (ms(0), us(40), ms(250), ms(3000), true));
    add(&mut r, 2, Some("fetch a.txt"), Location::caller(), (ms(5), us(60), ms(3), ms(300), false));
    add(&mut r, 3, Some("fetch b.txt"), Location::caller(), (ms(5), us(45), ms(2), ms(210), false));
    add(&mut r, 4, Some("fetch c.txt"), Location::caller(), (ms(6), us(80), ms(4), ms(420), false));
    add(&mut r, 5, Some("crunch \"numbers\""), Location::caller(), (ms(1200), ms(4), us(0), ms(1650), false));
    add(&mut r, 6, None, Location::caller(), (ms(100), us(15), ms(100), ms(3000), true));
    add(
        &mut r,
        7,
        Some("from another thread"),
        Location::caller(),
        (ms(2200), us(120), ms(20), ms(2300), true),
    );
    let tasks = &mut tasks;
    let end = ms(3000);
    let callback_site = Location::caller();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let (mut t, mut turn) = (Duration::ZERO, 0);
    let mut spawned_remote = false;
    /// Records a step of `d` from `t`, and moves `t` past it.
    fn phase(r: &mut Recorder, t: &mut Duration, phase: Phase, turn: u64, d: Duration) {
        r.push(TraceEvent::Phase { phase, turn, start: *t, duration: d });
        *t += d;
    }
    while t < end {
        let due = |tasks: &mut Vec<Sim>, t| tasks.iter().any(|s| s.next <= t && s.next < s.until);
        if due(tasks, t) {
            phase(&mut r, &mut t, Phase::Poll, turn, rng.jitter(us(4)));
        } else {
            phase(&mut r, &mut t, Phase::Idle, turn, rng.jitter(us(2)));
            let wake =
                tasks.iter().filter(|s| s.next < s.until).map(|s| s.next).min().unwrap_or(end).min(end);
            let wait = wake.saturating_sub(t).max(us(1));
            phase(&mut r, &mut t, Phase::Wait, turn, wait);
            let io = tasks.iter().filter(|s| !s.timer && s.next <= t && s.next < s.until).count();
            r.push(TraceEvent::Io { at: t, events: io });
        }
        phase(&mut r, &mut t, Phase::Inject, turn, us(1));
        let remote = &tasks[6];
        if !spawned_remote && remote.next <= t {
            r.push(TraceEvent::RemoteSpawn { task: remote.id, at: t });
            spawned_remote = true;
        }
        let timers = tasks.iter().filter(|s| s.timer && s.next <= t && s.next < s.until).count();
        let callbacks = if turn % 23 == 5 { 1 + turn % 3 } else { 0 };
        if timers > 0 || callbacks > 0 {
            let start = t;
            for _ in 0..timers + callbacks as usize {
                r.push(TraceEvent::TimerFired { at: t });
                t += us(2);
            }
            r.push(TraceEvent::Phase { phase: Phase::Timers, turn, start, duration: t - start });
        }
        let run = t;
        for _ in 0..callbacks {
            let d = rng.jitter(us(30));
            r.push(TraceEvent::Callback { location: callback_site, start: t, duration: d });
            t += d;
        }
        for s in tasks.iter_mut().filter(|s| s.next <= run && s.next < s.until) {
            let d = rng.jitter(s.poll);
            r.push(TraceEvent::Poll { task: s.id, start: t, duration: d });
            t += d;
            s.next = t + rng.jitter(s.every);
        }
        r.push(TraceEvent::Phase { phase: Phase::Run, turn, start: run, duration: t - run });
        turn += 1;
    }
    let mut trace = r.finish();
    trace.duration = end;
    trace
}

/// `n` tasks, each polled a little more than the one before, task `n` the
/// busiest: for the row cap.
pub(super) fn many_tasks(n: u64) -> Trace {
    let mut r = Recorder::new(1024);
    for i in 1..=n {
        let id = Id::from_u64(i);
        r.label(id, Some(&format!("worker {i}")), Location::caller());
        let start = Duration::from_micros(100 * i);
        r.push(TraceEvent::Poll { task: id, start, duration: Duration::from_micros(10 + i) });
    }
    r.finish()
}

/// Writes `text` to `$KETTLE_TRACE_OUT/file` when that is set, to look at.
pub(super) fn keep(file: &str, text: &[u8]) {
    if let Some(dir) = std::env::var_os("KETTLE_TRACE_OUT") {
        std::fs::write(std::path::Path::new(&dir).join(file), text).unwrap();
    }
}
