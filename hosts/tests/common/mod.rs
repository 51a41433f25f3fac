//! The checks every host's test file runs, with the bounds asserted: each
//! prints its figures (`cargo test -p kettle-hosts -- --nocapture`).
//!
//! The bounds are generous on purpose (a loaded 2-core machine runs these):
//! what they catch is a stall (a host that waits for something unrelated,
//! seconds) or a spin (thousands of iterations), not a slow microsecond.

#![allow(dead_code)] // each test file uses the checks its host needs

use std::time::Duration;

use kettle_hosts::HostLoop;
use kettle_hosts::checks;

/// What "handled promptly" means here: well within a stall, far above the
/// tens of microseconds measured.
pub const PROMPT: Duration = Duration::from_millis(100);

pub fn readiness_during_a_busy_turn_is_handled_promptly(mut host: impl HostLoop) {
    let mut latencies = checks::stall_latencies(&mut host, 20);
    let name = host.name();
    if std::env::var_os("HOSTS_VERBOSE").is_some() {
        println!("{latencies:?}");
    }
    checks::report(name, "busy-turn readiness", &mut latencies);
    checks::report("kettle alone", "busy-turn readiness", &mut checks::stall_latencies_alone(20));
    let worst = latencies.iter().max().unwrap();
    assert!(*worst < PROMPT, "{name}: data that arrived during a busy turn waited {worst:?}");
    host.shutdown();
}

pub fn work_spawned_from_a_host_callback_runs_promptly(mut host: impl HostLoop) {
    let mut latencies = checks::host_spawn_latencies(&mut host, 20);
    let name = host.name();
    checks::report(name, "host-callback spawn", &mut latencies);
    let worst = latencies.iter().max().unwrap();
    assert!(*worst < PROMPT, "{name}: a task spawned from a host callback waited {worst:?}");
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
    checks::report("kettle alone", "timer lateness", &mut alone);
    assert!(hosted < Duration::from_millis(5), "{name}: timers a median {hosted:?} late");
    host.shutdown();
}
