//! kettle in calloop, kettle's fd a `Generic` source in `Mode::Level`: no stall, host-code
//! spawns run promptly, no spin, no early timer.

mod common;

use calloop::Mode;
use kettle::Runtime;
use kettle_hosts::calloop::CalloopHost;

fn host() -> CalloopHost {
    CalloopHost::new(Runtime::new().unwrap(), Mode::Level).unwrap()
}

#[test]
fn readiness_during_a_busy_turn_is_handled_promptly() {
    common::readiness_during_a_busy_turn_is_handled_promptly(host());
}

#[test]
fn work_spawned_from_a_host_callback_runs_promptly() {
    common::work_spawned_from_a_host_callback_runs_promptly(host());
}

#[test]
fn an_idle_host_with_a_far_timer_does_not_spin() {
    common::an_idle_host_with_a_far_timer_does_not_spin(host());
}

#[test]
fn timers_never_fire_early_and_are_barely_late() {
    common::timers_never_fire_early_and_are_barely_late(host());
}
