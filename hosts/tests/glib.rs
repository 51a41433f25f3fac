//! kettle in glib's main loop, as a custom `GSource` and as a unix-fd
//! source: no stall,
//! host-code spawns run promptly, no spin, no early timer, and a nested main
//! loop run by a kettle task (a modal dialog) that is refused a turn
//! without aborting, the outer loop going on after it.

mod common;

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use kettle::Runtime;
use kettle_hosts::HostLoop;
use kettle_hosts::checks;
use kettle_hosts::glib::{GlibHost, Way, timeout_on};

fn host() -> GlibHost {
    GlibHost::new(Runtime::new().unwrap(), Way::CustomSource)
}

fn fd_host() -> GlibHost {
    GlibHost::new(Runtime::new().unwrap(), Way::FdSource)
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

#[test]
fn through_an_fd_source_readiness_during_a_busy_turn_is_handled_promptly() {
    common::readiness_during_a_busy_turn_is_handled_promptly(fd_host());
}

#[test]
fn through_an_fd_source_work_spawned_from_a_host_callback_runs_promptly() {
    common::work_spawned_from_a_host_callback_runs_promptly(fd_host());
}

#[test]
fn through_an_fd_source_an_idle_host_with_a_far_timer_does_not_spin() {
    common::an_idle_host_with_a_far_timer_does_not_spin(fd_host());
}

#[test]
fn through_an_fd_source_timers_never_fire_early_and_are_barely_late() {
    common::timers_never_fire_early_and_are_barely_late(fd_host());
}

#[test]
fn a_nested_main_loop_in_a_task_is_refused_a_turn_without_aborting_and_the_outer_loop_goes_on() {
    nested_loop(host());
    nested_loop(fd_host());
}

fn nested_loop(mut host: GlibHost) {
    let name = host.name();
    let rt = host.shared_runtime();
    let refused = Rc::new(Cell::new(0));
    let (counted, inner) = (refused.clone(), rt.clone());
    let context = host.context().clone();
    let dialog = rt.spawn(async move {
        // A modal dialog: a nested main loop on the same context, whose
        // "pump" callback turns kettle every millisecond, from glib's
        // `extern "C"` trampoline, where a panic would abort.
        let nested = glib::MainLoop::new(Some(&context), false);
        let pump = timeout_on(&context, Duration::from_millis(1), move || {
            match inner.try_turn(Some(Duration::ZERO)) {
                Ok(_) => panic!("a turn inside a turn was allowed"),
                Err(refusal) => assert!(refusal.to_string().contains("already running"), "{refusal}"),
            }
            counted.set(counted.get() + 1);
            glib::ControlFlow::Continue
        });
        let closer = nested.clone();
        timeout_on(&context, Duration::from_millis(30), move || {
            closer.quit();
            glib::ControlFlow::Break
        });
        let opened = Instant::now();
        nested.run();
        pump.destroy();
        let modal = opened.elapsed();
        // After the dialog: kettle goes on, timers and all.
        kettle::sleep(Duration::from_millis(5)).await;
        modal
    });
    drop(rt);
    let turns = host.turns();
    checks::run_until(&mut host, "the task that ran a nested loop", || dialog.is_finished());
    let modal = host.runtime().block_on(dialog).unwrap();
    assert!(modal >= Duration::from_millis(30), "the nested loop ran: {modal:?}");
    assert!(refused.get() >= 3, "the pump was refused {} times", refused.get());
    // glib does not dispatch a source again while its dispatch runs: kettle's
    // own source slept through the nested loop (no spin on its fd).
    assert_eq!(host.refused(), 0, "glib re-dispatched kettle's source inside the nested loop");
    assert!(host.turns() - turns >= 2, "the outer loop turned kettle again after the dialog");
    println!("{name:14} nested loop            {} refused turns in {modal:?}, no abort", refused.get());
    host.shutdown();
}

#[test]
fn work_added_from_a_callback_of_a_nested_loop_runs_once_the_outer_turn_is_over() {
    let mut host = host();
    let rt = host.shared_runtime();
    let context = host.context().clone();
    let (inner, handle) = (rt.clone(), rt.handle());
    let ran = Rc::new(Cell::new(None));
    let got = ran.clone();
    let closed = Rc::new(Cell::new(None));
    let closed_at = closed.clone();
    let dialog = rt.spawn(async move {
        let nested = glib::MainLoop::new(Some(&context), false);
        // A button in the dialog: host code spawning while a turn runs.
        let mut got = Some(got);
        timeout_on(&context, Duration::from_millis(2), move || {
            let got = got.take().unwrap();
            inner.spawn(async move { got.set(Some(Instant::now())) }).detach();
            glib::ControlFlow::Break
        });
        let closer = nested.clone();
        timeout_on(&context, Duration::from_millis(20), move || {
            closer.quit();
            glib::ControlFlow::Break
        });
        nested.run();
        closed_at.set(Some(Instant::now()));
    });
    drop(rt);
    // And another thread's work, sent while the dialog is open.
    let remote = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(5));
        handle.spawn(async { 5 })
    });
    checks::run_until(&mut host, "the dialog", || dialog.is_finished());
    let mut remote = remote.join().unwrap();
    checks::run_until(&mut host, "the work added inside the nested loop", || {
        ran.get().is_some() && remote.is_finished()
    });
    assert_eq!(remote.wait_timeout(Duration::ZERO).unwrap().unwrap(), 5);
    let after = ran.get().unwrap().saturating_duration_since(closed.get().unwrap());
    assert!(after < common::STALLED, "the spawned task waited {after:?} after the dialog closed");
    host.shutdown();
}

#[test]
fn shutdown_destroys_the_source_and_frees_the_tasks_host_state() {
    for way in [Way::CustomSource, Way::FdSource] {
        shutdown_frees(GlibHost::new(Runtime::new().unwrap(), way));
    }
}

fn shutdown_frees(mut host: GlibHost) {
    let context = host.context().clone();
    let app = Rc::new("the application's state");
    let held = app.clone();
    let task = host.runtime().spawn(async move {
        let _app = held;
        std::future::pending::<()>().await
    });
    host.call_from_host(Duration::from_secs(60), Box::new(|_| unreachable!("never due")));
    host.iterate(Duration::from_millis(10));
    assert_eq!(Rc::strong_count(&app), 2);
    host.shutdown();
    assert_eq!(Rc::strong_count(&app), 1, "the task's future was dropped");
    assert!(task.is_finished());
    // No source is left on the closed fd: the context has nothing to do.
    let start = Instant::now();
    let mut dispatched = 0;
    while start.elapsed() < Duration::from_millis(50) {
        dispatched += usize::from(context.iteration(false));
    }
    assert_eq!(dispatched, 0, "a source fired after the shutdown");
}
