//! The checks every host's test file runs, with the bounds asserted: each
//! prints its figures (`cargo test -p kettle-hosts -- --nocapture`).
//!
//! The bounds are generous on purpose (a loaded 2-core machine runs these,
//! where the scheduler alone delays a thread by tens of milliseconds now and
//! then, kettle alone included): what they catch is a stall or a spin, not a
//! slow microsecond. A host turns kettle only when kettle's fd fires, so a
//! missed wake-up is a stall that lasts until `checks::STALL` (5 s): the
//! worst case is held under [`STALLED`], the median under [`PROMPT`].

#![allow(dead_code)] // each test file uses the checks its host needs

use std::time::Duration;

use kettle_hosts::HostLoop;
use kettle_hosts::checks;

/// What "handled promptly" means here: well within a stall, far above the
/// tens of microseconds measured.
pub const PROMPT: Duration = Duration::from_millis(100);

/// A single wait this long is a stall, not the scheduler.
pub const STALLED: Duration = Duration::from_secs(1);

/// Asserts the bounds on latencies measured in `name` (sorted: `report`
/// sorts them).
fn assert_prompt(name: &str, what: &str, latencies: &[Duration]) {
    let median = latencies[latencies.len() / 2];
    let worst = latencies[latencies.len() - 1];
    assert!(median < PROMPT, "{name}: {what}: a median wait of {median:?}");
    assert!(worst < STALLED, "{name}: {what}: one waited {worst:?}");
}

pub fn readiness_during_a_busy_turn_is_handled_promptly(mut host: impl HostLoop) {
    let mut latencies = checks::stall_latencies(&mut host, 20);
    let name = host.name();
    checks::report(name, "busy-turn readiness", &mut latencies);
    checks::report("kettle alone", "busy-turn readiness", &mut checks::stall_latencies_alone(20));
    assert_prompt(name, "data that arrived during a busy turn", &latencies);
    host.shutdown();
}

pub fn work_spawned_from_a_host_callback_runs_promptly(mut host: impl HostLoop) {
    let mut latencies = checks::host_spawn_latencies(&mut host, 20);
    let name = host.name();
    checks::report(name, "host-callback spawn", &mut latencies);
    assert_prompt(name, "a task spawned from a host callback", &latencies);
    host.shutdown();
}

pub fn an_idle_host_with_a_far_timer_does_not_spin(mut host: impl HostLoop) {
    let (iterations, turns) = checks::idle_iterations(&mut host, Duration::from_millis(200));
    let name = host.name();
    println!("{name:14} idle 200 ms             {iterations} host iterations, {turns} kettle turns");
    assert!(iterations < 20, "{name}: {iterations} host iterations over an idle 200 ms");
    assert!(turns < 20, "{name}: {turns} kettle turns over an idle 200 ms");
    host.shutdown();
}

pub fn timers_never_fire_early_and_are_barely_late(mut host: impl HostLoop) {
    const COUNT: u32 = 50;
    const DELAY: Duration = Duration::from_millis(2);
    // `timer_lateness` panics on an early timer.
    let mut hosted = checks::timer_lateness(&mut host, COUNT, DELAY);
    let mut alone = checks::timer_lateness_alone(COUNT, DELAY);
    let name = host.name();
    let hosted = checks::report(name, "timer lateness", &mut hosted);
    let alone = checks::report("kettle alone", "timer lateness", &mut alone);
    // 5 ms, or 3× kettle alone when the machine is so loaded that kettle
    // alone is late by more than that.
    let bound = Duration::from_millis(5).max(alone * 3);
    assert!(hosted < bound, "{name}: timers a median {hosted:?} late (kettle alone: {alone:?})");
    host.shutdown();
}
