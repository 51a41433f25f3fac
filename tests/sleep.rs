//! Specifies `kettle::sleep` / `sleep_until` / `Sleep`: never early, "forever" without overflow,
//! timers freed on drop and reset, and wake-ups in deadline order.

use std::cell::RefCell;
use std::future::Future;
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::task::Poll;
use std::time::{Duration, Instant};

use kettle::{Elapsed, Runtime, Sleep, sleep, sleep_until};

/// Polls `fut` exactly once from inside the current task and reports the result.
async fn poll_once<F: Future>(mut fut: Pin<&mut F>) -> Poll<F::Output> {
    std::future::poll_fn(|cx| Poll::Ready(fut.as_mut().poll(cx))).await
}

/// A `Sleep` created inside `rt` and handed out unpolled.
fn created_in(rt: &Runtime, duration: Duration) -> Sleep {
    rt.block_on(std::future::poll_fn(|_| Poll::Ready(sleep(duration))))
}

const UPPER: Duration = Duration::from_millis(500);

#[test]
fn sleep_never_wakes_early() {
    kettle::run(async {
        for ms in [1, 2, 5, 10, 17, 30] {
            let want = Duration::from_millis(ms);
            let start = Instant::now();
            sleep(want).await;
            let took = start.elapsed();
            assert!(took >= want, "sleep({want:?}) woke after only {took:?}");
            assert!(took < want + UPPER, "sleep({want:?}) took {took:?}");
        }
    });
}

#[test]
fn sleep_until_never_wakes_before_its_deadline() {
    kettle::run(async {
        for ms in [1, 3, 8, 20, 30] {
            let deadline = Instant::now() + Duration::from_millis(ms);
            sleep_until(deadline).await;
            let now = Instant::now();
            assert!(now >= deadline, "woke {:?} early", deadline - now);
            assert!(now - deadline < UPPER);
        }
    });
}

#[test]
fn a_deadline_in_the_past_completes_on_the_first_poll_without_a_timer() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let past = Instant::now() - Duration::from_millis(50);
        let mut s = pin!(sleep_until(past));
        assert!(s.is_elapsed());
        assert_eq!(poll_once(s.as_mut()).await, Poll::Ready(()));
        let mut zero = pin!(sleep(Duration::ZERO));
        assert_eq!(poll_once(zero.as_mut()).await, Poll::Ready(()));
        assert_eq!(rt.metrics().timers_pending, 0);
    });
}

#[test]
fn sleep_of_duration_max_sleeps_forever_without_overflow() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let s = sleep(Duration::MAX);
        assert!(s.deadline() > Instant::now() + Duration::from_secs(60 * 60 * 24 * 365));
        let start = Instant::now();
        let out: Result<(), Elapsed> = kettle::timeout(Duration::from_millis(20), s).await;
        assert!(out.is_err(), "a Duration::MAX sleep must not complete");
        assert!(start.elapsed() >= Duration::from_millis(20));
        assert!(start.elapsed() < UPPER);
        assert_eq!(rt.metrics().timers_pending, 0);
    });
    assert_eq!(rt.metrics().timers_pending, 0);
}

#[test]
fn a_far_future_instant_sleeps_forever_without_overflow() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let century = Duration::from_secs(60 * 60 * 24 * 365 * 100);
        let far = Instant::now() + century;
        let out = kettle::timeout(Duration::from_millis(20), sleep_until(far)).await;
        assert!(out.is_err());
        assert_eq!(rt.metrics().timers_pending, 0);
    });
}

#[test]
fn a_dropped_sleep_removes_its_timer() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let mut s = Box::pin(sleep(Duration::from_secs(10)));
        assert_eq!(rt.metrics().timers_pending, 0, "a sleep registers lazily, on its first poll");
        assert_eq!(poll_once(s.as_mut()).await, Poll::Pending);
        assert_eq!(rt.metrics().timers_pending, 1);
        drop(s);
        assert_eq!(rt.metrics().timers_pending, 0);
    });
}

#[test]
fn a_sleep_that_completes_removes_its_timer() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let sleeper = kettle::spawn(sleep(Duration::from_millis(5)));
        kettle::yield_now().await;
        assert_eq!(rt.metrics().timers_pending, 1);
        sleeper.await.unwrap();
        assert_eq!(rt.metrics().timers_pending, 0);
    });
}

#[test]
fn a_waker_replaced_by_a_later_poll_may_use_the_timers_as_it_drops() {
    /// Another executor's waker, whose last drop schedules a timer.
    struct SchedulesOnDrop;
    impl std::task::Wake for SchedulesOnDrop {
        fn wake(self: std::sync::Arc<Self>) {}
    }
    impl Drop for SchedulesOnDrop {
        fn drop(&mut self) {
            kettle::call_later(Duration::from_secs(60), || {});
        }
    }
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let mut nap = pin!(sleep(Duration::from_secs(60)));
        let foreign = std::task::Waker::from(std::sync::Arc::new(SchedulesOnDrop));
        assert!(nap.as_mut().poll(&mut std::task::Context::from_waker(&foreign)).is_pending());
        drop(foreign); // the timer holds the last clone
        assert_eq!(poll_once(nap.as_mut()).await, Poll::Pending, "now polled by this task");
        assert_eq!(rt.metrics().timers_pending, 2, "the sleep's, and the one its old waker's drop scheduled");
    });
}

#[test]
fn reset_moves_the_deadline_earlier_and_moves_the_timer_with_it() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let mut s = pin!(sleep(Duration::from_secs(10)));
        assert_eq!(poll_once(s.as_mut()).await, Poll::Pending);
        assert_eq!(rt.metrics().timers_pending, 1);

        let start = Instant::now();
        let new_deadline = start + Duration::from_millis(20);
        s.as_mut().reset(new_deadline);
        assert_eq!(s.deadline(), new_deadline);
        assert_eq!(rt.metrics().timers_pending, 1, "reset moves the timer: still one, at the new deadline");

        s.as_mut().await;
        assert!(Instant::now() >= new_deadline);
        assert!(start.elapsed() < UPPER, "the 10 s deadline was not replaced");
        assert_eq!(rt.metrics().timers_pending, 0);
    });
}

#[test]
fn reset_moves_the_deadline_later() {
    kettle::run(async {
        let start = Instant::now();
        let mut s = sleep(Duration::from_millis(1));
        s.reset(start + Duration::from_millis(25));
        (&mut s).await;
        assert!(start.elapsed() >= Duration::from_millis(25));
        assert!(start.elapsed() < UPPER);
    });
}

#[test]
fn sleep_is_unpin() {
    fn assert_unpin<T: Unpin>() {}
    assert_unpin::<Sleep>();
    // And so can be awaited by `&mut` without pinning.
    kettle::run(async {
        let mut s = sleep(Duration::from_millis(1));
        (&mut s).await;
        assert!(s.is_elapsed());
    });
}

#[test]
fn many_sleepers_wake_in_deadline_order() {
    let offsets = [9u64, 2, 14, 0, 7, 3, 11, 5, 1, 12];
    let log = Rc::new(RefCell::new(Vec::new()));
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let base = Instant::now() + Duration::from_millis(5);
        let tasks: Vec<_> = offsets
            .iter()
            .map(|&ms| {
                let log = log.clone();
                kettle::spawn(async move {
                    sleep_until(base + Duration::from_millis(ms)).await;
                    log.borrow_mut().push(ms);
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
    let mut sorted = offsets.to_vec();
    sorted.sort_unstable();
    assert_eq!(*log.borrow(), sorted);
    assert_eq!(rt.metrics().timers_pending, 0);
    assert_eq!(rt.metrics().tasks_alive, 0);
}

#[test]
fn sleepers_sharing_a_deadline_wake_in_the_order_they_slept() {
    let log = Rc::new(RefCell::new(Vec::new()));
    kettle::run(async {
        let deadline = Instant::now() + Duration::from_millis(10);
        let tasks: Vec<_> = (0..5)
            .map(|i| {
                let log = log.clone();
                kettle::spawn(async move {
                    sleep_until(deadline).await;
                    log.borrow_mut().push(i);
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
    assert_eq!(*log.borrow(), vec![0, 1, 2, 3, 4]);
}

#[test]
fn concurrent_sleeps_take_as_long_as_the_longest_not_the_sum() {
    kettle::run(async {
        let start = Instant::now();
        let tasks: Vec<_> =
            [100u64, 50, 150].into_iter().map(|ms| kettle::spawn(sleep(Duration::from_millis(ms)))).collect();
        for task in tasks {
            task.await.unwrap();
        }
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(150), "took {took:?}");
        assert!(took < Duration::from_millis(250), "sleeps ran one after another: {took:?}");
    });
}

#[test]
fn a_registered_sleep_dropped_between_runs_removes_its_timer() {
    let rt = Runtime::new().unwrap();
    // Run in phases (asyncio's repeated run_until_complete): the sleep outlives the first run.
    let mut s = Box::pin(created_in(&rt, Duration::from_secs(3600)));
    rt.block_on(async {
        assert_eq!(poll_once(s.as_mut()).await, Poll::Pending);
    });
    assert_eq!(rt.metrics().timers_pending, 1);
    drop(s); // same thread as the loop, but no run in progress
    assert_eq!(rt.metrics().timers_pending, 0, "the hour-long timer stays behind");
}

#[test]
#[should_panic(expected = "polling a kettle Sleep called outside a kettle runtime")]
fn polling_a_sleep_outside_a_runtime_panics() {
    let rt = Runtime::new().unwrap();
    let mut s = created_in(&rt, Duration::from_secs(1));
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    let _ = Pin::new(&mut s).poll(&mut cx);
}

#[test]
fn a_sleep_polled_in_one_runtime_then_in_another_leaves_no_timer_in_the_first() {
    let (a, b) = (Runtime::new().unwrap(), Runtime::new().unwrap());
    let mut s = Box::pin(created_in(&a, Duration::MAX));
    a.block_on(async { assert_eq!(poll_once(s.as_mut()).await, Poll::Pending) });
    assert_eq!(a.metrics().timers_pending, 1);
    b.block_on(async { assert_eq!(poll_once(s.as_mut()).await, Poll::Pending) });
    assert_eq!(a.metrics().timers_pending, 0, "A's timer (and the waker in it) went when B took over");
    assert_eq!(b.metrics().timers_pending, 1);
    drop(s);
    assert_eq!(b.metrics().timers_pending, 0);
}

#[test]
fn a_sleep_polled_in_a_runtime_on_another_thread_leaves_no_timer_in_the_first() {
    let a = Runtime::new().unwrap();
    let mut s = Box::pin(created_in(&a, Duration::MAX));
    a.block_on(async { assert_eq!(poll_once(s.as_mut()).await, Poll::Pending) });
    assert_eq!(a.metrics().timers_pending, 1);
    std::thread::spawn(move || {
        let b = Runtime::new().unwrap();
        b.block_on(async { assert_eq!(poll_once(s.as_mut()).await, Poll::Pending) });
        assert_eq!(b.metrics().timers_pending, 1);
    })
    .join()
    .unwrap();
    // The removal travelled to A's loop through its injector: one turn takes it.
    let turn = a.turn(Some(Duration::from_secs(5)));
    assert_eq!(turn.injected, 1, "the removal request");
    assert_eq!(a.metrics().timers_pending, 0);
}

#[test]
fn a_registered_sleep_dropped_on_another_thread_removes_its_timer() {
    let rt = Runtime::new().unwrap();
    let mut s = Box::pin(created_in(&rt, Duration::MAX));
    rt.block_on(async { assert_eq!(poll_once(s.as_mut()).await, Poll::Pending) });
    assert_eq!(rt.metrics().timers_pending, 1);
    std::thread::spawn(move || drop(s)).join().unwrap();
    rt.turn(Some(Duration::from_secs(5)));
    assert_eq!(rt.metrics().timers_pending, 0, "a Duration::MAX timer would otherwise stay for ever");
}

#[test]
fn a_sleep_of_a_runtime_that_is_gone_is_polled_and_dropped_elsewhere_harmlessly() {
    let a = Runtime::new().unwrap();
    let mut s = Box::pin(created_in(&a, Duration::from_millis(5)));
    a.block_on(async { assert_eq!(poll_once(s.as_mut()).await, Poll::Pending) });
    drop(a);
    let b = Runtime::new().unwrap();
    b.block_on(s.as_mut());
    assert_eq!(b.metrics().timers_pending, 0);
}

#[test]
fn a_sleep_reset_by_another_task_still_wakes_its_own_task_at_the_new_deadline() {
    // The reset comes from elsewhere than the task awaiting the sleep: the
    // timer moves with that task's waker, so nobody needs to poll it again.
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let shared = std::rc::Rc::new(std::cell::RefCell::new(Box::pin(sleep(Duration::from_secs(3600)))));
        let awaited = shared.clone();
        let sleeper = kettle::spawn(async move {
            std::future::poll_fn(|cx| awaited.borrow_mut().as_mut().poll(cx)).await;
            Instant::now()
        });
        kettle::yield_now().await; // the sleeper registers its hour-long timer
        let start = Instant::now();
        shared.borrow_mut().as_mut().reset(start + Duration::from_millis(20));
        let woke = kettle::timeout(Duration::from_secs(5), sleeper)
            .await
            .expect("the sleeper was stranded")
            .unwrap();
        assert!(woke >= start + Duration::from_millis(20), "never early");
        assert!(start.elapsed() < UPPER, "woken by the new deadline, not the hour");
    });
}

// A sleep whose timer the loop has fired completes without reading the clock
// again (`Sleep::fired_here`). Every way the timer can be gone must keep the
// sleep honest: fired here, fired in another runtime, its slab slot reused by
// a later timer, or still pending and woken by something else.

#[test]
fn a_sleep_woken_by_its_own_timer_completes_then_and_not_before_its_deadline() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        for ms in [1, 3, 7] {
            let deadline = Instant::now() + Duration::from_millis(ms);
            let mut s = pin!(sleep_until(deadline));
            assert!(poll_once(s.as_mut()).await.is_pending());
            assert_eq!(kettle::metrics().timers_pending, 1);
            s.as_mut().await;
            assert!(Instant::now() >= deadline, "{ms} ms: ended early");
            assert_eq!(kettle::metrics().timers_pending, 0, "the fired timer is gone, nothing to remove");
        }
    });
}

#[test]
fn a_sleep_woken_early_by_something_else_is_still_pending_and_keeps_its_timer() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let mut s = pin!(sleep(Duration::from_secs(30)));
        assert!(poll_once(s.as_mut()).await.is_pending());
        kettle::yield_now().await; // polled again for another reason: its timer is pending
        assert!(poll_once(s.as_mut()).await.is_pending(), "not due: a pending timer is no firing");
        assert_eq!(kettle::metrics().timers_pending, 1);
    });
}

#[test]
fn a_sleep_whose_timer_fired_in_another_runtime_asks_the_clock_here() {
    let (first, second) = (Runtime::new().unwrap(), Runtime::new().unwrap());
    // Registered in `first`, which fires the timer while the sleep is not polled.
    let mut fired = Box::pin(sleep(Duration::from_millis(2)));
    first.block_on(async {
        assert!(poll_once(fired.as_mut()).await.is_pending());
        sleep(Duration::from_millis(10)).await;
        assert_eq!(kettle::metrics().timers_pending, 0, "first has fired it");
    });
    second.block_on(async {
        assert!(poll_once(fired.as_mut()).await.is_ready(), "due by the clock");
    });
    // Registered in `first`, not due: in `second` the clock says pending.
    let mut pending = Box::pin(sleep(Duration::from_secs(30)));
    first.block_on(async { assert!(poll_once(pending.as_mut()).await.is_pending()) });
    second.block_on(async {
        assert!(poll_once(pending.as_mut()).await.is_pending(), "another runtime's key proves nothing here");
        assert_eq!(kettle::metrics().timers_pending, 1, "now registered here");
    });
    first.block_on(async { assert_eq!(kettle::metrics().timers_pending, 0, "and gone from first") });
}

#[test]
fn a_fired_sleep_whose_timer_slot_a_later_timer_took_still_completes() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let mut fired = pin!(sleep(Duration::from_millis(1)));
        assert!(poll_once(fired.as_mut()).await.is_pending());
        sleep(Duration::from_millis(5)).await; // fires the first timer too, unpolled
        let mut later = pin!(sleep(Duration::from_secs(30)));
        assert!(poll_once(later.as_mut()).await.is_pending(), "takes the freed slot");
        assert!(poll_once(fired.as_mut()).await.is_ready());
        assert!(poll_once(later.as_mut()).await.is_pending(), "the later timer is untouched");
        assert_eq!(kettle::metrics().timers_pending, 1);
    });
}

#[test]
fn a_sleep_fired_by_a_paused_clocks_advance_completes_at_the_advanced_time() {
    let rt = kettle::Builder::new().start_paused(true).build().unwrap();
    rt.block_on(async {
        let start = kettle::time::now();
        let mut s = pin!(sleep(Duration::from_secs(3600)));
        assert!(poll_once(s.as_mut()).await.is_pending());
        kettle::time::advance(Duration::from_secs(3600)).await;
        assert!(poll_once(s.as_mut()).await.is_ready());
        assert_eq!(kettle::time::now(), start + Duration::from_secs(3600));
    });
}
