//! Specifies the paused clock (`Builder::start_paused`, `kettle::time::now`
//! and `advance`): time stands still while anything can run, jumps to the
//! next timer when nothing can, and every kettle timer follows it — while
//! I/O, other threads and blocking jobs still get their real turn first.
//!
//! The virtual durations asserted here are exact: a paused clock moves only
//! to a deadline or by an `advance`. Real time is bounded generously.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

use kettle::net::{TcpListener, TcpStream};
use kettle::time::{advance, now};
use kettle::{Builder, Runtime};

mod common;
use common::{finishes_within, run_within_turns};

const HOUR: Duration = Duration::from_secs(3600);
/// A bound on real time that no correct run comes near, however loaded the
/// machine: these tests take milliseconds.
const REAL_LIMIT: Duration = Duration::from_secs(5);

fn paused() -> Runtime {
    Builder::new().start_paused(true).build().unwrap()
}

/// Six hundred years: past the 584 that 64 bits of nanoseconds hold.
const SIX_CENTURIES: Duration = Duration::from_secs(600 * 365 * 24 * 3600);

/// About thirty years, what kettle clamps "forever" to; a little less, to
/// leave the exact figure to the implementation.
const ALMOST_THIRTY_YEARS: Duration = Duration::from_secs(60 * 60 * 24 * 365 * 29);

#[test]
fn an_hour_long_timeout_finishes_in_milliseconds_of_real_time() {
    let real = Instant::now();
    let rt = paused();
    let (result, virtual_elapsed) = rt.block_on(async {
        let start = now();
        let result = kettle::timeout(HOUR, kettle::sleep(2 * HOUR)).await;
        (result, now() - start)
    });
    assert!(result.is_err(), "the two-hour sleep lost to the one-hour timeout");
    assert_eq!(virtual_elapsed, HOUR, "exactly the hour, on the paused clock");
    assert!(real.elapsed() < Duration::from_secs(1), "took {:?} of real time", real.elapsed());
}

#[test]
fn sleeps_of_different_lengths_complete_in_deadline_order_at_their_exact_deadlines() {
    let rt = paused();
    let done = rt.block_on(async {
        let start = now();
        let done = Rc::new(RefCell::new(Vec::new()));
        let tasks: Vec<_> = [30, 10, 20, 0, 25]
            .into_iter()
            .map(|secs| {
                let done = done.clone();
                kettle::spawn(async move {
                    kettle::sleep(Duration::from_secs(secs)).await;
                    done.borrow_mut().push((secs, now() - start));
                })
            })
            .collect();
        kettle::gather(tasks).await;
        done.take()
    });
    let expected: Vec<_> = [0, 10, 20, 25, 30].into_iter().map(|s| (s, Duration::from_secs(s))).collect();
    assert_eq!(done, expected);
}

#[test]
fn timers_with_equal_deadlines_fire_in_the_order_they_were_set() {
    let rt = paused();
    let (sleeps, callbacks) = rt.block_on(async {
        let deadline = now() + Duration::from_secs(5);
        let sleeps = Rc::new(RefCell::new(Vec::new()));
        let callbacks = Rc::new(RefCell::new(Vec::new()));
        let tasks: Vec<_> = (0..6)
            .map(|i| {
                let sleeps = sleeps.clone();
                kettle::spawn(async move {
                    kettle::sleep_until(deadline).await;
                    sleeps.borrow_mut().push(i);
                })
            })
            .collect();
        for i in 0..6 {
            let callbacks = callbacks.clone();
            kettle::call_at(deadline, move || callbacks.borrow_mut().push(i));
        }
        kettle::gather(tasks).await;
        (sleeps.take(), callbacks.take())
    });
    assert_eq!(sleeps, [0, 1, 2, 3, 4, 5]);
    assert_eq!(callbacks, [0, 1, 2, 3, 4, 5]);
}

#[test]
fn now_does_not_move_while_tasks_are_runnable() {
    let rt = paused();
    rt.block_on(async {
        let start = now();
        let woke = Rc::new(Cell::new(false));
        let flag = woke.clone();
        let sleeper = kettle::spawn(async move {
            kettle::sleep(Duration::from_millis(1)).await;
            flag.set(true);
        });
        let busy = kettle::spawn(async move {
            for _ in 0..200 {
                kettle::yield_now().await;
            }
        });
        for _ in 0..200 {
            std::thread::sleep(Duration::from_micros(50)); // real time moves...
            kettle::yield_now().await;
            assert_eq!(now(), start, "...the clock does not, while tasks are runnable");
        }
        assert!(!woke.get(), "a 1 ms sleep does not end while the loop is never idle");
        busy.await.unwrap();
        sleeper.await.unwrap();
        assert_eq!(now() - start, Duration::from_millis(1), "then it jumps, exactly to the deadline");
    });
}

#[test]
fn advance_moves_now_and_wakes_a_sleep_that_is_due() {
    let rt = paused();
    rt.block_on(async {
        let start = now();
        let woke = Rc::new(Cell::new(false));
        let flag = woke.clone();
        let _sleeper = kettle::spawn(async move {
            kettle::sleep(Duration::from_secs(10)).await;
            flag.set(true);
        });
        kettle::yield_now().await; // the sleeper registers its timer
        advance(Duration::from_secs(9)).await;
        assert_eq!(now() - start, Duration::from_secs(9));
        assert!(!woke.get(), "not due yet");
        advance(Duration::from_secs(1)).await;
        assert_eq!(now() - start, Duration::from_secs(10));
        // block_on's own future runs after the turn that fired the timer,
        // so the woken task has already run.
        assert!(woke.get(), "due, fired, and run");
    });
}

#[test]
fn advance_from_a_task_fires_due_timers_and_the_woken_tasks_run_by_the_next_yield() {
    let rt = paused();
    rt.block_on(async {
        let woke = Rc::new(Cell::new(false));
        let fired = Rc::new(Cell::new(false));
        let (flag, callback_flag) = (woke.clone(), fired.clone());
        kettle::spawn(async move {
            kettle::sleep(Duration::from_secs(2)).await;
            flag.set(true);
        })
        .detach();
        kettle::call_later(Duration::from_secs(2), move || callback_flag.set(true));
        let (woke, fired) = (woke.clone(), fired.clone());
        kettle::spawn(async move {
            advance(Duration::from_secs(2)).await;
            assert!(fired.get(), "a due callback has run when advance returns");
            kettle::yield_now().await;
            assert!(woke.get(), "a task woken by a due sleep has run by the next yield");
        })
        .await
        .unwrap();
    });
}

#[test]
#[should_panic(expected = "kettle::time::advance needs a paused clock: build the runtime with \
                           Builder::start_paused(true)")]
fn advance_in_a_runtime_whose_clock_is_not_paused_panics_saying_what_to_do() {
    kettle::run(advance(Duration::from_secs(1)));
}

#[test]
#[should_panic(
    expected = "kettle::time::advance needs a paused clock, and it was awaited outside a kettle runtime"
)]
fn advance_outside_any_runtime_panics_saying_what_to_do() {
    let mut advance = pin!(advance(Duration::from_secs(1)));
    let _ = advance.as_mut().poll(&mut Context::from_waker(Waker::noop()));
}

#[test]
fn an_interval_ticks_on_the_paused_clock() {
    let rt = paused();
    let (ticks, late_start) = rt.block_on(async {
        let start = now();
        let mut every_ten = kettle::interval(Duration::from_secs(10));
        let mut ticks = Vec::new();
        for _ in 0..4 {
            ticks.push(every_ten.tick().await - start);
        }
        let mut later = kettle::interval_at(now() + Duration::from_secs(5), Duration::from_secs(60));
        later.tick().await;
        (ticks, now() - start)
    });
    let secs = |s: u64| Duration::from_secs(s);
    assert_eq!(ticks, [secs(0), secs(10), secs(20), secs(30)]);
    assert_eq!(late_start, secs(35), "interval_at's first tick, at its start");
}

#[test]
fn call_later_and_call_at_fire_on_the_paused_clock() {
    let rt = paused();
    let fired = rt.block_on(async {
        let start = now();
        let fired = Rc::new(RefCell::new(Vec::new()));
        let (later, at) = (fired.clone(), fired.clone());
        kettle::call_later(Duration::from_secs(50), move || {
            later.borrow_mut().push(("later", now() - start))
        });
        kettle::call_at(start + Duration::from_secs(20), move || at.borrow_mut().push(("at", now() - start)));
        kettle::sleep(Duration::from_secs(60)).await;
        fired.take()
    });
    assert_eq!(fired, [("at", Duration::from_secs(20)), ("later", Duration::from_secs(50))]);
}

#[test]
fn timeout_at_and_a_reset_sleep_follow_the_paused_clock() {
    let rt = paused();
    rt.block_on(async {
        let start = now();
        let result = kettle::timeout_at(start + Duration::from_secs(3), kettle::sleep(HOUR)).await;
        assert!(result.is_err());
        assert_eq!(now() - start, Duration::from_secs(3));
        let mut sleep = kettle::sleep(HOUR);
        sleep.reset(now() + Duration::from_secs(7));
        sleep.await;
        assert_eq!(now() - start, Duration::from_secs(10));
    });
}

#[test]
fn advancing_by_duration_max_moves_about_thirty_years_and_a_duration_max_sleep_stays_pending() {
    finishes_within(REAL_LIMIT, || {
        let rt = paused();
        let start = rt.block_on(async {
            let start = now();
            advance(Duration::MAX).await;
            let advanced = now() - start;
            assert!(advanced >= ALMOST_THIRTY_YEARS, "clamped to about thirty years, not {advanced:?}");
            let result = kettle::timeout(Duration::from_secs(1), kettle::sleep(Duration::MAX)).await;
            assert!(result.is_err(), "forever outlasts a second");
            assert_eq!(now() - start, advanced + Duration::from_secs(1));
            now()
        });
        // With nothing else to do, a sleep of Duration::MAX is never: the
        // loop waits (for real, as with no timer), and the clock does not jump.
        let forever = rt.spawn(kettle::sleep(Duration::MAX));
        for _ in 0..3 {
            rt.turn(Some(Duration::from_millis(5)));
        }
        assert!(!forever.is_finished(), "a sleep of Duration::MAX never ends");
        assert_eq!(rt.block_on(async { now() }), start, "the paused clock did not jump to never");
        assert_eq!(rt.metrics().timers_pending, 1);
        rt.block_on(advance(Duration::MAX));
        assert!(!forever.is_finished(), "not even thirty years later");
    });
}

#[test]
fn a_tcp_echo_over_loopback_completes_before_a_pending_hour_long_sleep_ends() {
    finishes_within(REAL_LIMIT, || {
        let rt = paused();
        rt.block_on(async {
            let start = now();
            let sleeper = kettle::spawn(async move {
                kettle::sleep(HOUR).await;
                now() - start
            });
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            let server = kettle::spawn(async move {
                let (mut stream, _) = listener.accept().await.unwrap();
                let mut buf = [0; 5];
                for _ in 0..3 {
                    stream.read_exact(&mut buf).await.unwrap();
                    stream.write_all(&buf).await.unwrap();
                }
            });
            let mut client = TcpStream::connect(addr).await.unwrap();
            let mut echo = [0; 5];
            for _ in 0..3 {
                client.write_all(b"hello").await.unwrap();
                client.read_exact(&mut echo).await.unwrap();
                assert_eq!(&echo, b"hello");
            }
            server.await.unwrap();
            // Every wait above was for I/O that the peek found: the clock
            // never jumped towards the sleeper's deadline meanwhile.
            assert_eq!(now(), start, "the echo took no virtual time");
            assert!(!sleeper.is_finished(), "the hour is not up");
            assert_eq!(sleeper.await.unwrap(), HOUR, "then, with only the timer left, it is");
        });
    });
}

#[test]
fn work_from_another_thread_queued_before_the_run_goes_before_the_clock_jumps() {
    let rt = paused();
    let handle = rt.handle();
    let start = rt.block_on(async { now() });
    let remote = std::thread::spawn(move || handle.spawn(async { kettle::time::now() })).join().unwrap();
    let sleeper = rt.spawn(async move {
        kettle::sleep(HOUR).await;
        now() - start
    });
    rt.block_on(async {
        assert_eq!(remote.await.unwrap(), start, "the remote task ran at the start, before any jump");
        assert_eq!(sleeper.await.unwrap(), HOUR);
    });
}

#[test]
fn with_no_timer_pending_the_loop_waits_for_another_thread_in_real_time() {
    let rt = paused();
    let handle = rt.handle();
    let real = Instant::now();
    let (virtual_elapsed, value) = rt.block_on(async {
        let start = now();
        let (tx, rx) = kettle::sync::oneshot::channel();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            let _ = handle.call_soon(move || tx.send(42).unwrap());
        });
        let value = rx.await.unwrap();
        (now() - start, value)
    });
    assert_eq!(value, 42);
    assert_eq!(virtual_elapsed, Duration::ZERO, "nothing moved the clock");
    assert!(real.elapsed() >= Duration::from_millis(20), "the loop waited for real");
}

#[test]
fn a_blocking_job_of_20_ms_finishes_before_a_pending_hour_long_sleep_ends() {
    finishes_within(REAL_LIMIT, || {
        let rt = paused();
        let real = Instant::now();
        rt.block_on(async {
            let start = now();
            let sleeper = kettle::spawn(async move {
                kettle::sleep(HOUR).await;
                now() - start
            });
            let job = kettle::spawn_blocking(|| {
                std::thread::sleep(Duration::from_millis(20));
                "done"
            });
            assert_eq!(job.await.unwrap(), "done");
            assert_eq!(now(), start, "the clock held still while the job ran");
            assert!(!sleeper.is_finished());
            assert_eq!(sleeper.await.unwrap(), HOUR);
        });
        assert!(real.elapsed() >= Duration::from_millis(20));
    });
}

#[test]
fn a_cancelled_blocking_job_holds_the_clock_until_it_ends_and_no_longer() {
    finishes_within(REAL_LIMIT, || {
        let rt = paused();
        let real = Instant::now();
        rt.block_on(async {
            let start = now();
            kettle::spawn_blocking(|| std::thread::sleep(Duration::from_millis(30))).cancel();
            kettle::sleep(HOUR).await; // ends once the job is done, though nobody awaits it
            assert_eq!(now() - start, HOUR);
        });
        assert!(real.elapsed() >= Duration::from_millis(30), "the job still held the clock");
    });
}

#[test]
fn now_outside_a_paused_runtime_is_real_time() {
    let real_now = || {
        let before = Instant::now();
        let read = now();
        assert!(before <= read && read <= Instant::now(), "kettle::time::now() is Instant::now()");
    };
    real_now(); // outside any runtime
    kettle::run(async { real_now() }); // in a runtime with the real clock
    let rt = paused();
    rt.block_on(async { std::thread::sleep(Duration::from_millis(2)) });
    real_now(); // beside a paused runtime that is not running
}

#[test]
fn an_embedder_is_told_to_turn_at_once_while_timers_are_pending() {
    let rt = paused();
    assert_eq!(rt.next_timeout(), None, "nothing pending: wait for the fd alone");
    let task = rt.spawn(kettle::sleep(HOUR));
    rt.turn(Some(Duration::ZERO)); // polls the task: its timer is set
    assert_eq!(rt.next_timeout(), Some(Duration::ZERO), "the next turn jumps the clock");
    let mut turns = 0;
    while !task.is_finished() {
        rt.turn(Some(Duration::ZERO));
        turns += 1;
        assert!(turns < 10, "the sleep should end within a turn or two");
    }
    assert_eq!(rt.next_timeout(), None);
}

#[test]
fn an_embedder_turning_without_waiting_does_not_jump_the_clock_past_a_blocking_job() {
    finishes_within(REAL_LIMIT, || {
        let rt = paused();
        let start = rt.block_on(async { now() });
        let sleeper = rt.spawn(async move {
            kettle::sleep(HOUR).await;
            now() - start
        });
        let job = rt.spawn(async move {
            kettle::spawn_blocking(|| std::thread::sleep(Duration::from_millis(20))).await.unwrap();
            now() - start
        });
        // An embedder that never lets kettle block: every turn is a peek.
        while !job.is_finished() {
            rt.turn(Some(Duration::ZERO));
            std::thread::yield_now();
        }
        assert!(!sleeper.is_finished(), "the clock held still while the job ran");
        assert_eq!(rt.block_on(job).unwrap(), Duration::ZERO);
        assert_eq!(rt.block_on(sleeper).unwrap(), HOUR);
    });
}

#[test]
fn an_idle_turn_does_not_arm_the_kernel_timer_and_returns_at_once() {
    // With a paused clock, `turn(None)` and a pending timer does not block
    // until the timer's real deadline: it jumps, fires and returns.
    finishes_within(REAL_LIMIT, || {
        let rt = paused();
        let task = rt.spawn(kettle::sleep(HOUR));
        let real = Instant::now();
        while !task.is_finished() {
            rt.turn(None);
        }
        assert!(real.elapsed() < Duration::from_secs(1));
    });
}

// ----- issue 17: deadlines past 584 years (regressions) ------------------------

#[test]
fn a_sleep_until_six_hundred_years_ahead_ends_exactly_then_without_spinning() {
    let rt = paused();
    let (start, end) = run_within_turns(&rt, 10, async {
        let start = now();
        kettle::sleep_until(start + SIX_CENTURIES).await;
        (start, now())
    });
    assert_eq!(end - start, SIX_CENTURIES, "exactly then: not early, not late");
}

#[test]
fn after_twenty_advances_by_duration_max_a_one_millisecond_sleep_takes_one_millisecond() {
    let rt = paused();
    let elapsed = run_within_turns(&rt, 60, async {
        for _ in 0..20 {
            advance(Duration::MAX).await;
        }
        let start = now();
        kettle::sleep(Duration::from_millis(1)).await;
        now() - start
    });
    assert_eq!(elapsed, Duration::from_millis(1));
}

#[test]
fn a_call_at_six_hundred_years_ahead_runs_exactly_then_not_years_early() {
    let rt = paused();
    let (due, ran_at) = run_within_turns(&rt, 10, async {
        let due = now() + SIX_CENTURIES;
        let ran_at = Rc::new(Cell::new(None));
        let record = ran_at.clone();
        kettle::call_at(due, move || record.set(Some(now())));
        kettle::sleep_until(due).await;
        kettle::yield_now().await;
        (due, ran_at.get())
    });
    assert_eq!(ran_at, Some(due), "the callback ran exactly at its deadline");
}
