//! The seeded random workload's plan (what each task does), drawn from the
//! seed; the program that runs it is `programs/workload.rs`, once per
//! runtime, and its tests are at the end of this file.

use crate::common::Rng;

/// One thing a task does; the task logs its outcome.
#[derive(Debug, Clone, Copy)]
pub enum Step {
    /// Yield this many times.
    Yield(u32),
    /// `sleep_until` this many µs before an instant already passed: ready
    /// at the first poll.
    SleepPast(u32),
    /// `sleep_until` an hour from the start: the task waits until cancelled.
    SleepFar,
    /// `timeout(0)` of a pending future (dropped, logged).
    TimeoutZeroPending,
    /// `timeout(1h)` of a future that yields this many times.
    TimeoutFarYield(u32),
    /// `timeout(0)` of a ready future.
    TimeoutZeroReady,
    /// Put this item into queue 0 (bounded, 3) or 1 (unbounded).
    Put(usize, u32),
    /// Get from a queue, waiting as long as it takes.
    Get(usize),
    /// `timeout(0)` of a get: an unreserved item, or nothing and no trace.
    TimeoutZeroGet(usize),
    CallSoon,
    CallLaterZero,
    /// Spawn a detached child that yields once.
    SpawnChild,
    WaitGate(usize),
    OpenGate(usize),
    Panic,
}

pub struct TaskPlan {
    pub steps: Vec<Step>,
}

/// Draws task `id`'s steps; `gates` gates exist when it is spawned.
pub fn plan_task(rng: &mut Rng, id: u32, gates: usize) -> TaskPlan {
    let len = 1 + rng.below(6) as usize;
    let steps = (0..len)
        .map(|k| {
            let gate = rng.below(gates as u64) as usize;
            let q = rng.below(2) as usize;
            match rng.below(1000) {
                0..=159 => Step::Yield(1 + rng.below(3) as u32),
                160..=219 => Step::SleepPast(rng.below(1000) as u32),
                220..=244 => Step::SleepFar,
                245..=304 => Step::TimeoutZeroPending,
                305..=364 => Step::TimeoutFarYield(rng.below(3) as u32),
                365..=394 => Step::TimeoutZeroReady,
                395..=539 => Step::Put(q, id * 10 + k as u32),
                540..=659 => Step::Get(q),
                660..=719 => Step::TimeoutZeroGet(q),
                720..=779 => Step::CallSoon,
                780..=839 => Step::CallLaterZero,
                840..=889 => Step::SpawnChild,
                890..=949 => Step::WaitGate(gate),
                950..=996 => Step::OpenGate(gate),
                _ => Step::Panic,
            }
        })
        .collect();
    TaskPlan { steps }
}

#[cfg(test)]
mod tests {
    use crate::common::*;
    use crate::{on_kettle, on_mini};

    /// Operations per run: the brief's 10^4.
    const OPS: u32 = 10_000;

    /// The seeds every run tries; `DIFFERENTIAL_SEED=n` adds one.
    fn seeds() -> Vec<u64> {
        let mut seeds = vec![1, 0x5eed, 0xdead_beef_cafe];
        if let Some(seed) = std::env::var("DIFFERENTIAL_SEED").ok().and_then(|s| s.parse().ok()) {
            seeds.push(seed);
        }
        seeds
    }

    #[test]
    fn a_seeded_random_workload_logs_the_same_events_on_kettle_and_mini() {
        compare_workloads(true);
    }

    #[test]
    fn a_seeded_random_workload_whose_callbacks_only_log_is_the_same_on_kettle_and_mini() {
        // The workload above minus its driver's reentrant callbacks: when the
        // two disagree, this one says whether callbacks calling back into the
        // loop are the cause (they were, once: mini ran each callback with
        // its state borrowed).
        compare_workloads(false);
    }

    fn compare_workloads(reentrant_callbacks: bool) {
        quiet_intended_panics();
        for seed in seeds() {
            let what = format!(
                "workload, seed {seed}, reentrant callbacks {reentrant_callbacks} \
                 (rerun one with DIFFERENTIAL_SEED={seed})"
            );
            let kettle = watchdog(&what, "kettle", move || {
                on_kettle::workload::workload_with(seed, OPS, reentrant_callbacks)
            });
            let mini = watchdog(&what, "kettle-mini", move || {
                on_mini::workload::workload_with(seed, OPS, reentrant_callbacks)
            });
            let log = same_on_both(&what, kettle, mini);
            check_against_the_spec(&what, &log);
        }
    }

    #[test]
    fn the_workload_is_deterministic_on_kettle_alone() {
        // If this fails, the workload (not a runtime) depends on timing, and
        // the differential test above would be flaky: fix the workload.
        quiet_intended_panics();
        let first = watchdog("workload", "kettle", || on_kettle::workload::workload(7, OPS / 4));
        let second = watchdog("workload", "kettle", || on_kettle::workload::workload(7, OPS / 4));
        same_on_both("the workload run twice on kettle", first, second);
    }

    /// What must hold whatever the schedule: every operation logged once, in
    /// order; each kind of event seen; every task that started and was not
    /// cancelled before its end logged its return; the run ended cleanly.
    fn check_against_the_spec(what: &str, log: &[String]) {
        let ops: Vec<u32> = log
            .iter()
            .filter_map(|e| e.strip_prefix("op")?.split(':').next()?.parse().ok())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        assert_eq!(ops.len(), OPS as usize, "{what}: every operation logs");
        assert!(log.len() > 2 * OPS as usize, "{what}: only {} events", log.len());
        for kind in [
            ": spawn t",
            ": cancel t",
            ": join t",
            ": detach t",
            "starts",
            "returns",
            " runs",
            "was pending: true",
            "was pending: false",
            "timeout(0) elapsed: true",
            "timeout(1h) of",
            "got Some(",
            "slept until a past instant",
            "passed gate",
            "panicked",
            ": cancelled",
            "'s child done",
        ] {
            assert!(log.iter().any(|e| e.contains(kind)), "{what}: no event contains {kind:?}");
        }
        // Each queue is FIFO and loses nothing: what came out of it, in log
        // order, is the start of what went in.
        for q in 0..2 {
            let into = format!(" into q{q}: ok true");
            let put: Vec<&str> = log
                .iter()
                .filter(|e| e.ends_with(&into))
                .filter_map(|e| e.rsplit(" put ").next()?.split(' ').next())
                .collect();
            let from_wait = format!(") from q{q}");
            let from_timeout = format!("get from q{q}: Some(Some(");
            let got: Vec<&str> = log
                .iter()
                .filter_map(|e| {
                    if let Some(rest) = e.split(" got Some(").nth(1) {
                        return rest.strip_suffix(from_wait.as_str());
                    }
                    e.split(from_timeout.as_str()).nth(1)?.strip_suffix("))")
                })
                .collect();
            assert!(got.len() >= 20, "{what}: only {} items came out of q{q}", got.len());
            assert!(got.len() <= put.len(), "{what}: q{q} gave out more than it took");
            assert_eq!(got, put[..got.len()], "{what}: q{q} is not first in, first out");
        }
        // A joined task returned its own id.
        for event in log.iter().filter(|e| e.contains(": join t") && e.contains(": Ok(")) {
            let id = event.split(": join t").nth(1).and_then(|r| r.split(':').next()).unwrap();
            assert!(event.ends_with(&format!("Ok({id})")), "{what}: {event}");
        }
        let finish = log.iter().position(|e| e == "finish: every held task cancelled");
        assert!(finish.is_some(), "{what}: the driver did not reach its end");
    }
}
