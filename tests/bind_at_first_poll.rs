//! Specifies when the time and signal futures bind to a runtime: not when
//! they are built but when they are first polled, as asyncio's
//! `loop.run_until_complete(asyncio.sleep(1))` expects. Built anywhere, they
//! work when awaited in a runtime, and polling one outside a runtime (when it
//! must wait) panics with the usual clear message. Functions that act at once
//! (`spawn`, `call_soon`, ...) still panic outside: `tests/misuse.rs`.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::pin;
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

use kettle::Runtime;

const MS: Duration = Duration::from_millis(1);

/// Every lazily-binding future, built (outside any runtime) by a name.
fn build(name: &str) -> std::pin::Pin<Box<dyn Future<Output = ()>>> {
    let far = Instant::now() + Duration::from_secs(3600);
    match name {
        "sleep" => Box::pin(kettle::sleep(Duration::from_secs(3600))),
        "sleep_until" => Box::pin(kettle::sleep_until(far)),
        "timeout" => {
            let timeout = kettle::timeout(Duration::from_secs(3600), std::future::pending::<()>());
            Box::pin(async move {
                let _ = timeout.await;
            })
        }
        "timeout_at" => {
            let timeout = kettle::timeout_at(far, std::future::pending::<()>());
            Box::pin(async move {
                let _ = timeout.await;
            })
        }
        "interval" => {
            let mut ticks = kettle::interval(Duration::from_secs(3600));
            Box::pin(async move {
                ticks.tick().await; // the first tick is at once
                ticks.tick().await;
            })
        }
        "interval_at" => {
            let mut ticks = kettle::interval_at(far, Duration::from_secs(1));
            Box::pin(async move {
                ticks.tick().await;
            })
        }
        other => panic!("no such future: {other}"),
    }
}

const NAMES: [&str; 6] = ["sleep", "sleep_until", "timeout", "timeout_at", "interval", "interval_at"];

#[test]
fn time_futures_can_be_built_outside_a_runtime() {
    for name in NAMES {
        drop(build(name)); // no runtime anywhere: no panic
    }
}

#[test]
fn polling_a_time_future_outside_a_runtime_panics_with_the_clear_message() {
    for name in NAMES {
        let mut future = build(name);
        let mut cx = Context::from_waker(Waker::noop());
        let payload = catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(&mut cx)))
            .expect_err(&format!("{name}: polled outside a runtime, it must panic"));
        let message = payload.downcast_ref::<String>().map(String::as_str).unwrap_or_default();
        assert!(message.contains("called outside a kettle runtime"), "{name}: {message}");
        assert!(message.contains("Runtime::block_on"), "{name} says what to do instead: {message}");
    }
}

#[test]
fn run_until_complete_of_a_sleep_built_outside_works() {
    let rt = Runtime::new().unwrap();
    let start = Instant::now();
    rt.block_on(kettle::sleep(10 * MS));
    assert!(start.elapsed() >= 10 * MS, "never early");
    assert_eq!(rt.metrics().timers_pending, 0);
}

#[test]
fn a_timeout_built_outside_fires_inside() {
    let rt = Runtime::new().unwrap();
    let slow = kettle::timeout(5 * MS, std::future::pending::<()>());
    assert!(rt.block_on(slow).is_err(), "elapsed");
    let quick = kettle::timeout(Duration::from_secs(5), async { 7 });
    assert_eq!(rt.block_on(quick), Ok(7));
    assert_eq!(rt.metrics().timers_pending, 0);
}

#[test]
fn an_interval_built_outside_ticks_inside() {
    let rt = Runtime::new().unwrap();
    let mut ticks = kettle::interval(2 * MS);
    let start = Instant::now();
    rt.block_on(async {
        for _ in 0..3 {
            ticks.tick().await;
        }
    });
    assert!(start.elapsed() >= 4 * MS, "three ticks, two periods apart in all");
}

#[test]
fn a_future_ready_without_waiting_needs_no_runtime() {
    // Deciding needs no timer: a past deadline, a ready inner future.
    let mut cx = Context::from_waker(Waker::noop());
    assert!(pin!(kettle::sleep(Duration::ZERO)).poll(&mut cx).is_ready());
    let ready = pin!(kettle::timeout(Duration::from_secs(1), async { 1 })).poll(&mut cx);
    assert!(matches!(ready, std::task::Poll::Ready(Ok(1))));
}

#[test]
fn the_deadline_counts_from_when_the_sleep_was_built() {
    let rt = Runtime::new().unwrap();
    let sleep = kettle::sleep(20 * MS);
    std::thread::sleep(20 * MS);
    let start = Instant::now();
    rt.block_on(sleep);
    assert!(start.elapsed() < 15 * MS, "already due when first polled: {:?}", start.elapsed());
}
