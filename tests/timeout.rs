//! Specifies `kettle::timeout` / `timeout_at`: the time allowed counts from the first `Pending`
//! poll, a future ready at once costs no timer, the inner future is dropped on expiry, timers are
//! freed at once however the timeout ends, and `Elapsed` is a proper error.

use std::cell::Cell;
use std::future::{Future, pending};
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::task::Poll;
use std::time::{Duration, Instant};

use kettle::{Elapsed, Runtime, sleep, timeout, timeout_at, yield_now};

/// Counts its own drops.
struct DropGuard(Rc<Cell<usize>>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

/// Polls `fut` exactly once from inside the current task and reports the result.
async fn poll_once<F: Future>(mut fut: Pin<&mut F>) -> Poll<F::Output> {
    std::future::poll_fn(|cx| Poll::Ready(fut.as_mut().poll(cx))).await
}

const UPPER: Duration = Duration::from_millis(500);

#[test]
fn timeout_returns_the_output_when_the_future_finishes_in_time() {
    kettle::run(async {
        let out = timeout(Duration::from_secs(5), async {
            sleep(Duration::from_millis(5)).await;
            7
        })
        .await;
        assert_eq!(out, Ok(7));
    });
}

#[test]
fn timeout_elapses_no_earlier_than_its_duration() {
    kettle::run(async {
        let start = Instant::now();
        let out = timeout(Duration::from_millis(20), pending::<()>()).await;
        assert!(out.is_err());
        assert!(start.elapsed() >= Duration::from_millis(20));
        assert!(start.elapsed() < UPPER);
    });
}

/// An `Elapsed` value, obtained the only public way.
fn timeout_elapsed() -> Elapsed {
    kettle::run(async { timeout(Duration::ZERO, pending::<()>()).await.unwrap_err() })
}

#[test]
fn on_expiry_the_inner_future_is_dropped_before_timeout_returns() {
    let drops = Rc::new(Cell::new(0));
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let guard = DropGuard(drops.clone());
        let mut t = pin!(timeout(Duration::from_millis(10), async move {
            let _guard = guard;
            pending::<()>().await;
        }));
        let out = t.as_mut().await;
        // The Timeout itself is still alive (pinned above), yet the inner future is gone.
        assert!(out.is_err());
        assert_eq!(drops.get(), 1, "the inner future is dropped when the time runs out");
        assert_eq!(rt.metrics().timers_pending, 0);
    });
    assert_eq!(drops.get(), 1, "and dropped exactly once");
}

#[test]
fn when_the_inner_future_finishes_first_its_timer_is_removed_at_once() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let mut t = pin!(timeout(Duration::from_secs(10), sleep(Duration::from_millis(5))));
        assert_eq!(poll_once(t.as_mut()).await, Poll::Pending);
        assert_eq!(rt.metrics().timers_pending, 2, "the inner sleep and the timeout's own timer");
        assert_eq!(t.as_mut().await, Ok(()));
        assert_eq!(rt.metrics().timers_pending, 0, "no 10 s timer left behind");
    });
}

#[test]
fn ten_thousand_finished_timeouts_leave_no_timer_behind() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        for i in 0..10_000 {
            // `yield_now` is pending once, so the timeout's timer really is registered.
            let out = timeout(Duration::from_secs(60), async {
                yield_now().await;
                i
            })
            .await;
            assert_eq!(out, Ok(i));
            assert_eq!(rt.metrics().timers_pending, 0, "timer leaked at iteration {i}");
        }
    });
    assert_eq!(rt.metrics().timers_pending, 0);
}

#[test]
fn ten_thousand_expired_timeouts_leave_no_timer_behind() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        // The deadline is taken on each task's first poll, so every timer really registers.
        let tasks: Vec<_> = (0..10_000)
            .map(|_| kettle::spawn(async { timeout(Duration::from_millis(50), pending::<()>()).await }))
            .collect();
        yield_now().await;
        assert_eq!(rt.metrics().timers_pending, 10_000, "every timeout registered its timer");
        for task in tasks {
            assert!(task.await.unwrap().is_err());
        }
        assert_eq!(rt.metrics().timers_pending, 0);
    });
    assert_eq!(rt.metrics().tasks_alive, 0);
}

#[test]
fn ten_thousand_dropped_timeouts_leave_no_timer_behind() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        for round in 0..2 {
            for _ in 0..5_000 {
                let mut t = Box::pin(timeout(Duration::from_secs(60), pending::<()>()));
                assert!(poll_once(t.as_mut()).await.is_pending());
                assert_eq!(rt.metrics().timers_pending, 1);
                drop(t);
                assert_eq!(rt.metrics().timers_pending, 0);
            }
            assert_eq!(rt.metrics().timers_pending, 0, "growth after round {round}");
        }
    });
}

#[test]
fn timeout_at_gives_up_at_its_deadline() {
    kettle::run(async {
        let deadline = Instant::now() + Duration::from_millis(20);
        let t = timeout_at(deadline, pending::<()>());
        assert_eq!(t.deadline(), deadline);
        assert!(t.await.is_err());
        assert!(Instant::now() >= deadline);
        assert!(Instant::now() < deadline + UPPER);

        let deadline = Instant::now() + Duration::from_secs(5);
        assert_eq!(timeout_at(deadline, async { 3 }).await, Ok(3));
    });
}

#[test]
fn a_ready_future_wins_even_against_a_past_deadline() {
    kettle::run(async {
        let past = Instant::now() - Duration::from_millis(10);
        assert_eq!(timeout_at(past, async { 5 }).await, Ok(5));
        assert!(timeout_at(past, pending::<()>()).await.is_err());
    });
}

#[test]
fn elapsed_is_a_displayable_error() {
    let e = timeout_elapsed();
    assert_eq!(e.to_string(), "deadline has elapsed");
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(e);
    assert_eq!(boxed.to_string(), "deadline has elapsed");
    assert_eq!(e, e.clone());
    assert!(format!("{e:?}").contains("Elapsed"));
}

#[test]
fn a_cancelled_task_awaiting_a_timeout_removes_its_timer() {
    let drops = Rc::new(Cell::new(0));
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let guard = DropGuard(drops.clone());
        let task = kettle::spawn(async move {
            let _guard = guard;
            timeout(Duration::from_secs(10), pending::<()>()).await
        });
        yield_now().await;
        assert_eq!(rt.metrics().timers_pending, 1);
        task.cancel();
        let err = task.await.unwrap_err();
        assert!(err.is_cancelled());
        assert_eq!(drops.get(), 1);
        assert_eq!(rt.metrics().timers_pending, 0);
    });
    assert_eq!(rt.metrics().tasks_alive, 0);
}

#[test]
fn a_duration_max_timeout_never_elapses() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let out = timeout(Duration::MAX, async {
            sleep(Duration::from_millis(10)).await;
            "done"
        })
        .await;
        assert_eq!(out, Ok("done"));
        assert_eq!(rt.metrics().timers_pending, 0);

        // Its deadline, taken at the first `Pending`, is "forever" without overflowing.
        let mut t = pin!(timeout(Duration::MAX, pending::<()>()));
        assert!(t.deadline() > Instant::now() + Duration::from_secs(60 * 60 * 24 * 365));
        assert!(poll_once(t.as_mut()).await.is_pending());
        assert_eq!(rt.metrics().timers_pending, 1);
        assert!(t.deadline() > Instant::now() + Duration::from_secs(60 * 60 * 24 * 365));
        assert!(rt.next_timeout().is_none_or(|wait| wait > Duration::from_secs(60 * 60 * 24 * 365)));
    });
    assert_eq!(rt.metrics().timers_pending, 0);
}

#[test]
fn the_time_allowed_counts_from_the_first_await_not_from_the_call() {
    kettle::run(async {
        let work = async {
            sleep(Duration::from_millis(20)).await;
            "done"
        };
        let limited = timeout(Duration::from_millis(50), work);
        sleep(Duration::from_millis(40)).await;
        // Counted from the call, the 50 ms would end 10 ms into the work's 20.
        let start = Instant::now();
        assert_eq!(limited.await, Ok("done"), "the whole 50 ms are allowed from the await");
        assert!(start.elapsed() >= Duration::from_millis(20));
    });
}

#[test]
fn a_timeout_built_early_still_elapses_its_whole_duration_after_the_await() {
    kettle::run(async {
        let limited = timeout(Duration::from_millis(20), pending::<()>());
        sleep(Duration::from_millis(30)).await;
        let start = Instant::now();
        assert!(limited.await.is_err());
        assert!(start.elapsed() >= Duration::from_millis(20), "never early, counted from the await");
    });
}

#[test]
fn a_future_ready_at_its_first_poll_costs_no_timer() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let out = timeout(Duration::from_secs(10), async { rt.metrics().timers_pending }).await;
        assert_eq!(out, Ok(0), "no timer while the future ran");
        assert_eq!(rt.metrics().timers_pending, 0, "nor after");
        for i in 0..1_000 {
            assert_eq!(timeout(Duration::from_secs(10), std::future::ready(i)).await, Ok(i));
        }
        assert_eq!(rt.metrics().timers_pending, 0);
    });
}

#[test]
fn the_deadline_is_fixed_at_the_first_pending_poll() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let mut t = pin!(timeout(Duration::from_millis(100), pending::<()>()));
        // Not started: the deadline it would have now, moving on with the clock.
        let before = t.deadline();
        sleep(Duration::from_millis(5)).await;
        let after = t.deadline();
        assert!(after >= before + Duration::from_millis(5), "{before:?} then {after:?}");

        let start = Instant::now();
        assert!(poll_once(t.as_mut()).await.is_pending());
        let fixed = t.deadline();
        assert!(fixed >= start + Duration::from_millis(100));
        sleep(Duration::from_millis(5)).await;
        assert_eq!(t.deadline(), fixed, "started: it no longer moves");
    });
}

#[test]
fn a_zero_timeout_on_a_pending_future_elapses_without_a_timer() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let mut t = pin!(timeout(Duration::ZERO, pending::<()>()));
        assert!(matches!(poll_once(t.as_mut()).await, Poll::Ready(Err(_))), "elapsed at the first poll");
        assert_eq!(rt.metrics().timers_pending, 0);
        assert_eq!(timeout(Duration::ZERO, async { 1 }).await, Ok(1), "a ready future still wins");
    });
}

#[test]
fn a_timeouts_deadline_is_the_clock_at_its_first_pending_poll_plus_its_duration() {
    let rt = kettle::Builder::new().start_paused(true).build().unwrap();
    rt.block_on(async {
        let mut t = pin!(timeout(Duration::from_millis(30), pending::<()>()));
        assert!(poll_once(t.as_mut()).await.is_pending());
        assert_eq!(t.deadline(), kettle::time::now() + Duration::from_millis(30), "exactly: one clock read");
        assert_eq!(rt.metrics().timers_pending, 1, "the first Pending registers the timer");
        kettle::time::advance(Duration::from_millis(29)).await;
        assert!(poll_once(t.as_mut()).await.is_pending(), "a millisecond short: still pending");
        kettle::time::advance(Duration::from_millis(1)).await;
        assert!(matches!(poll_once(t.as_mut()).await, Poll::Ready(Err(_))), "at the deadline: elapsed");
        assert_eq!(rt.metrics().timers_pending, 0);
    });
}

#[test]
fn a_nanosecond_timeout_on_a_pending_future_elapses_and_never_early() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let t = timeout(Duration::from_nanos(1), pending::<()>());
        let mut t = pin!(t);
        assert!(poll_once(t.as_mut()).await.is_pending(), "the first Pending starts the clock");
        let deadline = t.deadline();
        assert!(t.await.is_err(), "elapsed, at a later turn");
        assert!(Instant::now() >= deadline);
        assert_eq!(rt.metrics().timers_pending, 0);
    });
}

#[test]
fn timeout_at_a_past_deadline_on_a_pending_future_elapses_at_once() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let past = Instant::now() - Duration::from_millis(10);
        let mut t = pin!(timeout_at(past, pending::<()>()));
        assert_eq!(t.deadline(), past);
        assert!(matches!(poll_once(t.as_mut()).await, Poll::Ready(Err(_))), "elapsed at the first poll");
        assert_eq!(rt.metrics().timers_pending, 0);
    });
}

#[test]
fn nested_timeouts_the_inner_one_elapsing_first() {
    kettle::run(async {
        let out = timeout(Duration::from_secs(5), timeout(Duration::from_millis(5), pending::<()>())).await;
        assert!(matches!(out, Ok(Err(_))), "the outer timeout sees the inner one's Elapsed");
    });
}

#[test]
#[should_panic(expected = "Timeout polled after it completed")]
fn polling_a_timeout_after_it_completed_panics() {
    kettle::run(async {
        let mut t = pin!(timeout(Duration::from_secs(1), async { 1 }));
        assert_eq!(poll_once(t.as_mut()).await, Poll::Ready(Ok(1)));
        let _ = poll_once(t.as_mut()).await;
    });
}
