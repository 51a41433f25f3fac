//! Specifies `kettle::interval` / `interval_at`: the first tick at once, later ticks a period
//! apart and never early, missed ticks skipped rather than burst, `reset`, and timer cleanup.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::{Duration, Instant};

use kettle::{Runtime, interval, interval_at};

/// Polls `fut` exactly once from inside the current task and reports the result.
async fn poll_once<F: Future>(mut fut: Pin<&mut F>) -> Poll<F::Output> {
    std::future::poll_fn(|cx| Poll::Ready(fut.as_mut().poll(cx))).await
}

const UPPER: Duration = Duration::from_millis(500);

#[test]
fn the_first_tick_is_immediate_and_returns_the_start() {
    kettle::run(async {
        let before = Instant::now();
        let mut ticks = interval(Duration::from_secs(10));
        let first = ticks.tick().await;
        assert!(first >= before);
        assert!(before.elapsed() < UPPER, "the first tick did not wait a period");
        assert_eq!(ticks.period(), Duration::from_secs(10));
    });
}

#[test]
fn ticks_come_a_period_apart_and_never_early() {
    kettle::run(async {
        let period = Duration::from_millis(10);
        let start = Instant::now();
        let mut ticks = interval_at(start, period);
        let mut previous: Option<Instant> = None;
        for k in 0..6u32 {
            let scheduled = ticks.tick().await;
            let now = Instant::now();
            assert!(now >= start + period * k, "tick {k} came early");
            assert!(now >= scheduled, "a tick is never delivered before its scheduled time");
            assert!(scheduled >= start + period * k, "tick {k} was scheduled early");
            if let Some(previous) = previous {
                assert!(scheduled - previous >= period, "ticks are at least a period apart");
            }
            previous = Some(scheduled);
        }
        assert!(start.elapsed() >= period * 5);
        assert!(start.elapsed() < period * 5 + UPPER);
    });
}

#[test]
fn tick_returns_the_scheduled_instant_not_the_wake_up_time() {
    kettle::run(async {
        let period = Duration::from_millis(40);
        let start = Instant::now();
        let mut ticks = interval_at(start, period);
        assert_eq!(ticks.tick().await, start);
        // Take the second tick late (but less than a whole period late): it still reports
        // its schedule, and the third stays on the original grid.
        std::thread::sleep(period + Duration::from_millis(5));
        assert_eq!(ticks.tick().await, start + period);
        let third = ticks.tick().await;
        assert_eq!(third, start + period * 2, "a tick less than a period late keeps the grid");
        assert!(Instant::now() >= third);
    });
}

#[test]
fn missed_ticks_are_skipped_not_burst() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let period = Duration::from_millis(20);
        let task = kettle::spawn(async move {
            let start = Instant::now();
            let mut ticks = interval_at(start, period);
            assert_eq!(ticks.tick().await, start);
            // Block the whole loop for three periods: ticks at 1, 2 and 3 periods are missed.
            std::thread::sleep(period * 3);

            let before_late = Instant::now();
            let late = ticks.tick().await;
            let late_wait = before_late.elapsed();
            assert_eq!(late, start + period, "the overdue tick is delivered, with its schedule");
            assert!(late_wait < UPPER, "the overdue tick is delivered at once");

            let next = ticks.tick().await;
            assert!(next >= before_late + period, "no burst: the next tick is a full period later");
            assert!(next - late >= period * 3, "the missed ticks are skipped, not delivered");
            assert!(Instant::now() >= next);
            assert!(before_late.elapsed() < period + UPPER);

            let after = ticks.tick().await;
            assert!(after - next >= period, "after the skip, ticks stay a period apart");
        });
        task.await.unwrap();
    });
    assert_eq!(rt.metrics().timers_pending, 0);
}

#[test]
fn interval_at_a_future_start_waits_for_it() {
    kettle::run(async {
        let start = Instant::now() + Duration::from_millis(25);
        let mut ticks = interval_at(start, Duration::from_millis(10));
        assert_eq!(ticks.tick().await, start);
        assert!(Instant::now() >= start, "the first tick is never early");
        assert!(Instant::now() < start + UPPER);
        let second = ticks.tick().await;
        assert!(second >= start + Duration::from_millis(10));
        assert!(Instant::now() >= second);
    });
}

#[test]
fn reset_makes_the_next_tick_come_one_period_from_now() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let period = Duration::from_millis(20);
        let mut ticks = interval(period);
        ticks.tick().await;
        // Arm the next tick, then reset it.
        {
            let mut tick = std::pin::pin!(ticks.tick());
            assert!(poll_once(tick.as_mut()).await.is_pending());
        }
        assert_eq!(rt.metrics().timers_pending, 1);
        std::thread::sleep(Duration::from_millis(10));
        let reset_at = Instant::now();
        ticks.reset();
        assert_eq!(rt.metrics().timers_pending, 1, "reset moves the armed timer (and its waker)");
        let next = ticks.tick().await;
        assert!(next >= reset_at + period);
        assert!(Instant::now() >= reset_at + period);
        assert!(reset_at.elapsed() < period + UPPER);
    });
}

#[test]
#[should_panic(expected = "the period must be non-zero")]
fn a_zero_period_panics() {
    kettle::run(async {
        let _ = interval(Duration::ZERO);
    });
}

#[test]
#[should_panic(expected = "the period must be non-zero")]
fn interval_at_with_a_zero_period_panics() {
    kettle::run(async {
        let _ = interval_at(Instant::now(), Duration::ZERO);
    });
}

#[test]
fn dropping_an_interval_frees_its_timer() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let mut ticks = interval(Duration::from_secs(10));
        ticks.tick().await;
        {
            let mut tick = std::pin::pin!(ticks.tick());
            assert!(poll_once(tick.as_mut()).await.is_pending());
        }
        assert_eq!(rt.metrics().timers_pending, 1);
        drop(ticks);
        assert_eq!(rt.metrics().timers_pending, 0);
    });
}

#[test]
fn poll_tick_works_in_a_hand_written_future() {
    kettle::run(async {
        let start = Instant::now();
        let mut ticks = interval(Duration::from_millis(5));
        let mut count = 0;
        std::future::poll_fn(|cx| {
            while ticks.poll_tick(cx).is_ready() {
                count += 1;
                if count == 3 {
                    return Poll::Ready(());
                }
            }
            Poll::Pending
        })
        .await;
        assert!(start.elapsed() >= Duration::from_millis(10), "three ticks span two periods");
    });
}

#[test]
fn an_interval_of_duration_max_ticks_once_then_never_without_overflow() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let mut ticks = interval(Duration::MAX);
        ticks.tick().await;
        assert!(kettle::timeout(Duration::from_millis(20), ticks.tick()).await.is_err());
        drop(ticks);
        assert_eq!(rt.metrics().timers_pending, 0);
    });
}
