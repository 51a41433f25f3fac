//! Specifies kettle's timers across the whole range of time: deadlines from
//! a century before the runtime existed to a thousand years ahead (past the
//! 584 years that 64 bits of nanoseconds hold), set through every way to
//! set one — `sleep`, `sleep_until`, `timeout`, `timeout_at`, `interval_at`,
//! `call_later` and `call_at` — under the paused clock (from its start, and
//! after twenty `advance(Duration::MAX)`, 600 years on) and the real one.
//!
//! The class of bug this file looks for is a deadline that the timer queue
//! cannot hold as given (issue 17: far ones stored short, past ones tied):
//! a timer that fires early, timers that fire out of deadline order, or a
//! loop that spins because a timer it was woken for is not due. So, over
//! seeded random plans of timers, every run checks:
//!
//! - **never early**: each timer fires at or after its deadline; under a
//!   paused clock, exactly at it (or at the start, for a past deadline);
//! - **deadline order**: callbacks run in deadline order, ties in the order
//!   they were set, past deadlines included; tasks waiting for a future
//!   deadline wake in that order too;
//! - **no spinning**: the loop takes a bounded number of turns per timer
//!   (the plans run turn by turn, with a budget, so a spin fails the test
//!   rather than hanging it);
//! - a `Duration::MAX` timer (never) stays pending and costs no turns.

use std::cell::RefCell;
use std::future::pending;
use std::rc::Rc;
use std::time::{Duration, Instant};

use kettle::time::{advance, now};
use kettle::{Builder, Runtime};

mod common;
use common::run_within_turns;

const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);

/// A small deterministic generator (xorshift64*): the same seed, the same plan.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

/// Every way to set a timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Sleep,
    SleepUntil,
    Timeout,
    TimeoutAt,
    IntervalAt,
    CallLater,
    CallAt,
}

impl Kind {
    const ALL: [Kind; 7] = [
        Kind::Sleep,
        Kind::SleepUntil,
        Kind::Timeout,
        Kind::TimeoutAt,
        Kind::IntervalAt,
        Kind::CallLater,
        Kind::CallAt,
    ];

    /// Set by a duration from now, which cannot be negative.
    fn takes_a_duration(self) -> bool {
        matches!(self, Kind::Sleep | Kind::Timeout | Kind::CallLater)
    }

    fn is_callback(self) -> bool {
        matches!(self, Kind::CallLater | Kind::CallAt)
    }
}

/// One timer of a plan: how it is set, and its deadline from the plan's
/// start (`before` for a deadline in the past).
#[derive(Clone, Copy, Debug)]
struct Timer {
    kind: Kind,
    offset: Duration,
    before: bool,
}

impl Timer {
    fn deadline(&self, start: Instant) -> Instant {
        if self.before { start - self.offset } else { start + self.offset }
    }
}

/// A magnitude from nanoseconds to a thousand years, each decade about as
/// likely, with ties on purpose (small multiples of a millisecond).
fn magnitude(rng: &mut Rng) -> Duration {
    match rng.below(8) {
        0 => Duration::from_nanos(rng.below(1_000)),
        1 => Duration::from_millis(rng.below(4)), // ties
        2 => Duration::from_micros(rng.below(1_000_000)),
        3 => Duration::from_secs(rng.below(100_000)),
        4 => YEAR * rng.below(100) as u32,
        5 => YEAR * (584 + rng.below(3) as u32), // around where 64-bit nanoseconds end
        6 => YEAR * 600,
        _ => YEAR * (600 + rng.below(400) as u32) + Duration::from_nanos(rng.below(3)),
    }
}

/// A seeded plan of `n` timers of every kind; past deadlines go back at most
/// `past_limit`.
fn plan(seed: u64, n: usize, past_limit: Duration) -> Vec<Timer> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|_| {
            let kind = Kind::ALL[rng.below(Kind::ALL.len() as u64) as usize];
            let before = !kind.takes_a_duration() && rng.below(3) == 0;
            let mut offset = magnitude(&mut rng);
            if before {
                offset = offset.min(past_limit);
            }
            Timer { kind, offset, before }
        })
        .collect()
}

/// What happened: for each firing, the timer's index and the clock then.
type Log = Rc<RefCell<Vec<(usize, Instant)>>>;

/// Sets timer `i` of the plan, from inside the runtime: a callback now, or
/// a task that waits and then logs. Returns the task, if any.
fn set(i: usize, timer: Timer, start: Instant, log: &Log) -> Option<kettle::JoinHandle<()>> {
    let deadline = timer.deadline(start);
    let logged = log.clone();
    let fired = move || logged.borrow_mut().push((i, now()));
    match timer.kind {
        Kind::CallLater => drop(kettle::call_later(timer.offset, fired)),
        Kind::CallAt => drop(kettle::call_at(deadline, fired)),
        kind => {
            let task = async move {
                match kind {
                    Kind::Sleep => kettle::sleep(timer.offset).await,
                    Kind::SleepUntil => kettle::sleep_until(deadline).await,
                    Kind::Timeout => assert!(kettle::timeout(timer.offset, pending::<()>()).await.is_err()),
                    Kind::TimeoutAt => assert!(kettle::timeout_at(deadline, pending::<()>()).await.is_err()),
                    Kind::IntervalAt => {
                        let tick = kettle::interval_at(deadline, YEAR).tick().await;
                        assert_eq!(tick, deadline, "an interval's tick is its scheduled instant");
                    }
                    Kind::CallLater | Kind::CallAt => unreachable!(),
                }
                fired();
            };
            return Some(kettle::spawn(task));
        }
    }
    None
}

/// Checks a run's log against its plan: every timer fired once, none early,
/// callbacks in deadline order. Under a paused clock, `exact`: each fired at
/// its deadline, or at `start` if that had passed; and the tasks waiting for
/// a future deadline woke in deadline order too. (Under the real clock a
/// task whose deadline passes before its first poll is done at that poll,
/// in spawn order, with no timer: as documented, a past deadline completes
/// on the first poll.)
fn check(plan: &[Timer], start: Instant, log: &[(usize, Instant)], exact: bool, what: &str) {
    let mut seen = vec![false; plan.len()];
    for &(i, at) in log {
        assert!(!std::mem::replace(&mut seen[i], true), "{what}: timer {i} fired twice");
        let deadline = plan[i].deadline(start);
        assert!(at >= deadline, "{what}: timer {i} ({:?}) fired early", plan[i]);
        if exact {
            assert_eq!(at, deadline.max(start), "{what}: timer {i} ({:?}) fired late", plan[i]);
        }
    }
    let times: Vec<Instant> = log.iter().map(|(_, at)| *at).collect();
    assert!(times.is_sorted(), "{what}: the clock went back between firings");
    let in_order = |indices: Vec<usize>, which: &str| {
        let keys: Vec<(Instant, usize)> = indices.iter().map(|&i| (plan[i].deadline(start), i)).collect();
        assert!(keys.is_sorted(), "{what}: {which} out of deadline order: {indices:?}");
    };
    in_order(log.iter().map(|(i, _)| *i).filter(|&i| plan[i].kind.is_callback()).collect(), "callbacks");
    if exact {
        let waited = |i: usize| !plan[i].kind.is_callback() && plan[i].deadline(start) > start;
        in_order(log.iter().map(|(i, _)| *i).filter(|&i| waited(i)).collect(), "tasks");
    }
}

/// Runs `plan` on a paused runtime whose clock is first moved `advances` ×
/// `advance(Duration::MAX)`; checks it, and the turns it took.
fn run_paused(seed: u64, plan: &[Timer], advances: usize) {
    let rt = Builder::new().start_paused(true).build().unwrap();
    let what = format!("paused, {advances} advances, seed {seed}");
    let start = rt.block_on(async move {
        for _ in 0..advances {
            advance(Duration::MAX).await;
        }
        now()
    });
    let log: Log = Rc::default();
    let (owned_plan, task_log) = (plan.to_vec(), log.clone());
    let turns_before = rt.metrics().turns;
    let last = plan.iter().map(|t| t.deadline(start)).max().unwrap();
    // Each distinct deadline may cost a few turns (fire, run, the waiting
    // task's wake); nothing more.
    let budget = 4 * plan.len() as u64 + 20;
    run_within_turns(&rt, budget, async move {
        let tasks: Vec<_> =
            owned_plan.iter().enumerate().filter_map(|(i, t)| set(i, *t, start, &task_log)).collect();
        // A timer due never, beside them: it must neither fire nor hold the clock.
        let never = kettle::call_later(Duration::MAX, || panic!("a Duration::MAX callback ran"));
        for task in tasks {
            task.await.unwrap();
        }
        kettle::sleep_until(last).await;
        kettle::yield_now().await; // callbacks due at `last` have run
        assert!(never.cancel(), "the Duration::MAX callback is still pending");
    });
    let turns = rt.metrics().turns - turns_before;
    assert!(turns <= budget, "{what}: {turns} turns for {} timers", plan.len());
    check(plan, start, &log.borrow(), true, &what);
    assert_eq!(log.borrow().len(), plan.len(), "{what}: every timer fired");
    assert_eq!(rt.metrics().timers_pending, 0, "{what}");
}

#[test]
fn under_a_paused_clock_every_timer_fires_exactly_at_its_deadline_in_order_without_spinning() {
    for seed in 1..=12 {
        run_paused(seed, &plan(seed, 60, 100 * YEAR), 0);
    }
}

#[test]
fn after_twenty_advances_by_duration_max_timers_still_fire_exactly_in_order_without_spinning() {
    for seed in 101..=106 {
        run_paused(seed, &plan(seed, 60, 100 * YEAR), 20);
    }
}

#[test]
fn under_the_real_clock_past_and_near_timers_fire_in_order_and_far_ones_never_early() {
    for seed in 201..=204 {
        let what = format!("real clock, seed {seed}");
        // Deadlines up to 100 years back, or as far back as this machine's
        // monotonic clock allows; near ones within 20 ms; far ones from a
        // second to a thousand years.
        let past_limit = [100 * YEAR, YEAR, Duration::from_secs(3600), Duration::from_secs(1)]
            .into_iter()
            .find(|back| Instant::now().checked_sub(*back + Duration::from_secs(1)).is_some())
            .unwrap_or(Duration::ZERO);
        let mut timers = plan(seed, 40, past_limit);
        let mut rng = Rng::new(seed);
        for timer in timers.iter_mut().filter(|t| !t.before) {
            if rng.below(2) == 0 {
                timer.offset = Duration::from_micros(rng.below(20_000)); // near: fires during the test
            } else {
                timer.offset = timer.offset.max(Duration::from_secs(1)); // far: must not
            }
        }
        let rt = Runtime::new().unwrap();
        let log: Log = Rc::default();
        let (owned, task_log) = (timers.clone(), log.clone());
        let turns_before = rt.metrics().turns;
        let start = run_within_turns(&rt, 10, async move {
            let start = now();
            for (i, timer) in owned.iter().enumerate() {
                if let Some(task) = set(i, *timer, start, &task_log) {
                    task.detach();
                }
            }
            start
        });
        let near = timers.iter().filter(|t| t.before || t.offset < Duration::from_secs(1)).count();
        // Turn until every near timer has fired; a turn that waits ends at a
        // deadline, so the turns stay few however slow the machine.
        let give_up = Instant::now() + Duration::from_secs(5);
        while log.borrow().len() < near {
            assert!(Instant::now() < give_up, "{what}: near timers never fired: {:?}", log.borrow());
            rt.turn(Some(Duration::from_millis(50)));
        }
        let turns = rt.metrics().turns - turns_before;
        assert!(turns <= 4 * near as u64 + 20, "{what}: {turns} turns for {near} timers: the loop spins");
        // With only far timers left, the loop waits: over 40 ms of real
        // time, turns of up to 20 ms each are few (one spurious turn, from a
        // timerfd armed for a near timer, is allowed), never a spin.
        let (idle, idle_turns) = (Instant::now(), rt.metrics().turns);
        while idle.elapsed() < Duration::from_millis(40) {
            rt.turn(Some(Duration::from_millis(20)));
        }
        let idle_turns = rt.metrics().turns - idle_turns;
        assert!(
            idle_turns <= 4,
            "{what}: {idle_turns} turns in 40 ms with only far timers: a far timer ends waits"
        );
        check(&timers, start, &log.borrow(), false, &what);
        assert_eq!(log.borrow().len(), near, "{what}: a far timer fired: {:?}", log.borrow());
        assert_eq!(rt.metrics().timers_pending, timers.len() - near, "{what}");
    }
}
