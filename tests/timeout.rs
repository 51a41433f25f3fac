//! Specifies `kettle::timeout` / `timeout_at`: the inner future is dropped on expiry, timers are
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
