//! Regressions: defects found in kettle's host mechanism while writing the
//! hosts, now fixed.
//!
//! The common cause was: kettle hands its leftover work over to a host (an
//! eventfd write, the timerfd armed) when a run ends *and a host already
//! drives the runtime* (`Core::hand_over_to_host`, `core/host.rs`). A
//! program that sets things up with `block_on` first and registers kettle's
//! fd with its host loop afterwards — the natural order — left that work
//! unannounced: asking for the fd (`as_fd`) marked the runtime hosted but
//! did not hand over what the earlier run left. The fd stayed quiet, a host
//! that only watches it stalled, and `next_timeout` (zero) disagreed with
//! the fd. Now the first request for the fd hands over, and a runtime with a
//! wake callback is hosted from the start.

// The setup `block_on`s return a spawned task's handle on purpose: the task
// must still be queued when they return.
#![allow(clippy::async_yields_async)]

use std::os::fd::{AsFd, AsRawFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use calloop::Mode;
use kettle::Runtime;
use kettle_hosts::HostLoop;
use kettle_hosts::calloop::CalloopHost;
use kettle_hosts::checks;
use kettle_hosts::poll::PollHost;

/// Whether `poll(2)` finds kettle's fd readable within `timeout`.
fn readable_within(rt: &Runtime, timeout: Duration) -> bool {
    let mut fd = libc::pollfd { fd: rt.as_fd().as_raw_fd(), events: libc::POLLIN, revents: 0 };
    let ms = i32::try_from(timeout.as_millis()).unwrap();
    // SAFETY: one valid pollfd on the stack.
    unsafe { libc::poll(&mut fd, 1, ms) == 1 }
}

#[test]
fn a_task_left_queued_by_a_block_on_before_hosting_makes_the_fd_readable() {
    let rt = Runtime::new().unwrap();
    // Setup before the host loop exists: spawns a task, returns before it runs.
    let task = rt.block_on(async { kettle::spawn(async { 1 }) });
    assert_eq!(rt.next_timeout(), Some(Duration::ZERO), "kettle knows it has work");
    assert!(readable_within(&rt, Duration::from_millis(200)), "but the fd does not say so");
    rt.turn(Some(Duration::ZERO));
    assert!(task.is_finished());
}

#[test]
fn a_timer_set_by_a_block_on_before_hosting_fires_the_fd() {
    let rt = Runtime::new().unwrap();
    let _timer = rt.block_on(async { kettle::call_later(Duration::from_millis(20), || {}) });
    assert!(readable_within(&rt, Duration::from_millis(500)), "the fd never fired for the 20 ms timer");
}

#[test]
fn an_edge_triggered_host_registered_after_a_setup_block_on_runs_its_work() {
    let rt = Runtime::new().unwrap();
    let ticks = rt.block_on(async {
        kettle::spawn(async {
            for _ in 0..3 {
                kettle::sleep(Duration::from_millis(5)).await;
            }
        })
    });
    let mut host = CalloopHost::new(rt, Mode::Edge).unwrap();
    // `run_until` panics after checks::STALL (5 s) without progress.
    checks::run_until(&mut host, "the task a setup block_on spawned", || ticks.is_finished());
    host.shutdown();
}

#[test]
fn a_level_triggered_host_registered_after_a_setup_block_on_fires_its_timer() {
    let rt = Runtime::new().unwrap();
    let fired = std::rc::Rc::new(std::cell::Cell::new(false));
    let set = fired.clone();
    let _timer =
        rt.block_on(async move { kettle::call_later(Duration::from_millis(10), move || set.set(true)) });
    let mut host = PollHost::new(rt);
    checks::run_until(&mut host, "a timer set before the host registered", || fired.get());
    host.shutdown();
}

#[test]
fn the_wake_callback_is_called_for_work_a_block_on_left_queued() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let rt = kettle::Builder::new()
        .on_wake(move || {
            counted.fetch_add(1, Ordering::SeqCst);
        })
        .build()
        .unwrap();
    let task = rt.block_on(async { kettle::spawn(async { 1 }) });
    assert_eq!(rt.next_timeout(), Some(Duration::ZERO), "kettle knows it has work");
    assert_eq!(calls.load(Ordering::SeqCst), 1, "but never told the host");
    rt.turn(Some(Duration::ZERO));
    assert!(task.is_finished());
}
