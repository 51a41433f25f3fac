//! Specifies that a loop blocked in its poll is woken by other threads, and that timers added
//! while it is blocked shorten its wait: new work is served promptly, not at the old deadline.
//! And that the timerfd, re-armed only for an earlier deadline, never makes a timer late: a stale
//! earlier arming costs one spurious turn. A wait that runs to a timer has no epoll timeout (the
//! fd ends it), yet no firing is lost, and a caller's shorter `max_wait` still ends its turn.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use kettle::{Handle, Runtime, call_at, call_later};

mod common;
use common::drive;

/// Gives the runtime a timer ten seconds away, so its poll would block that long.
fn with_distant_timer(rt: &Runtime) {
    rt.block_on(async {
        let _ = call_later(Duration::from_secs(10), || {});
    });
    assert_eq!(rt.metrics().timers_pending, 1);
    assert!(rt.next_timeout().unwrap() > Duration::from_secs(9));
}

/// From another thread, after `delay`, asks the loop to stop itself `timer` later, by a timer
/// created on the loop. Returns when that timer has fired (or panics after 2 s).
fn stop_by_remote_timer(handle: Handle, delay: Duration, timer: Duration) {
    let (fired_tx, fired) = mpsc::channel();
    thread::sleep(delay); // by now the loop is blocked in its poll
    handle
        .call_soon(move || {
            let _ = call_later(timer, move || {
                let _ = fired_tx.send(());
                Handle::current().stop();
            });
        })
        .unwrap();
    fired.recv_timeout(Duration::from_secs(2)).expect("the new timer fired");
}

#[test]
fn a_timer_added_from_another_thread_wakes_a_loop_blocked_without_timers() {
    let rt = Runtime::new().unwrap();
    assert_eq!(rt.next_timeout(), None, "nothing to do: the poll would block indefinitely");
    let start = Instant::now();
    drive(&rt, |handle| stop_by_remote_timer(handle, Duration::from_millis(20), Duration::from_millis(20)));
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(40), "{took:?}");
    assert!(took < Duration::from_secs(1), "the blocked poll was not interrupted: {took:?}");
    assert!(rt.metrics().turns < 10, "the loop slept instead of spinning: {:?}", rt.metrics());
    assert_eq!(rt.metrics().timers_pending, 0);
}

#[test]
fn a_timer_added_from_another_thread_shortens_a_ten_second_wait() {
    let rt = Runtime::new().unwrap();
    with_distant_timer(&rt);
    let start = Instant::now();
    drive(&rt, |handle| stop_by_remote_timer(handle, Duration::from_millis(20), Duration::from_millis(20)));
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(40), "{took:?}");
    assert!(took < Duration::from_secs(1), "the loop waited for the 10 s timer: {took:?}");
    assert_eq!(rt.metrics().timers_pending, 1, "only the distant timer is left");
}

#[test]
fn a_remote_spawn_is_served_promptly_while_a_ten_second_timer_is_pending() {
    let rt = Runtime::new().unwrap();
    with_distant_timer(&rt);
    let (out, took) = drive(&rt, |handle| {
        thread::sleep(Duration::from_millis(20)); // the loop is now blocked in its poll
        let start = Instant::now();
        let out = handle.spawn(async { 7 }).wait().unwrap();
        (out, start.elapsed())
    });
    assert_eq!(out, 7);
    assert!(took < Duration::from_millis(500), "the remote spawn waited for the timer: {took:?}");
}

#[test]
fn a_remote_task_sleeping_twenty_ms_finishes_in_about_twenty_ms_despite_a_ten_second_timer() {
    let rt = Runtime::new().unwrap();
    with_distant_timer(&rt);
    let took = drive(&rt, |handle| {
        thread::sleep(Duration::from_millis(20));
        let start = Instant::now();
        handle.spawn(async { kettle::sleep(Duration::from_millis(20)).await }).wait().unwrap();
        start.elapsed()
    });
    assert!(took >= Duration::from_millis(20), "{took:?}");
    assert!(took < Duration::from_millis(500), "{took:?}");
}

#[test]
fn a_turn_blocked_indefinitely_returns_when_another_thread_spawns() {
    let rt = Runtime::new().unwrap();
    let handle = rt.handle();
    let ran = Arc::new(AtomicBool::new(false));
    let flag = ran.clone();
    let spawner = thread::spawn(move || {
        thread::sleep(Duration::from_millis(20));
        handle.spawn(async move { flag.store(true, Ordering::SeqCst) })
    });
    let start = Instant::now();
    let turn = rt.turn(None);
    let took = start.elapsed();
    let task = spawner.join().unwrap();
    assert!(took >= Duration::from_millis(15) && took < Duration::from_secs(1), "{took:?}");
    assert!(turn.io_events >= 1, "woken through the poll: {turn:?}");
    assert_eq!(turn.injected, 1);
    assert_eq!(turn.tasks_run, 1, "the remote task runs in the turn that adopted it");
    assert!(ran.load(Ordering::SeqCst));
    assert!(task.is_finished());
}

#[test]
fn a_turn_with_a_long_max_wait_returns_early_for_a_remote_callback() {
    let rt = Runtime::new().unwrap();
    let handle = rt.handle();
    let caller = thread::spawn(move || {
        thread::sleep(Duration::from_millis(20));
        handle.call_soon(|| {}).unwrap();
    });
    let start = Instant::now();
    let turn = rt.turn(Some(Duration::from_secs(10)));
    caller.join().unwrap();
    assert!(start.elapsed() < Duration::from_secs(1));
    assert_eq!((turn.injected, turn.callbacks_run), (1, 1));
}

#[test]
fn a_stop_from_a_task_ends_run_forever_after_that_turn() {
    let rt = Runtime::new().unwrap();
    with_distant_timer(&rt);
    let _task = rt.spawn(async { Handle::current().stop() });
    let start = Instant::now();
    rt.run_forever();
    assert!(start.elapsed() < Duration::from_secs(1), "run_forever waited for the 10 s timer");
}

#[test]
fn a_stop_requested_during_an_earlier_run_makes_the_next_run_forever_return_at_once() {
    let rt = Runtime::new().unwrap();
    // The stop is requested by a task, i.e. inside a turn of block_on, not of run_forever.
    rt.block_on(async { kettle::spawn(async { Handle::current().stop() }).await.unwrap() });
    // Documented: "If the loop is not running forever right now, the next run_forever runs one
    // turn and returns." With nothing else to do, that turn must not block.
    let watchdog = rt.handle();
    thread::spawn(move || {
        thread::sleep(Duration::from_secs(1));
        watchdog.stop(); // un-hangs the loop if the pending stop was ignored
    });
    let start = Instant::now();
    rt.run_forever();
    let took = start.elapsed();
    assert!(took < Duration::from_millis(500), "run_forever blocked for {took:?} despite a pending stop");
}

#[test]
fn a_timer_earlier_than_the_armed_one_ends_the_wait_at_its_own_deadline() {
    let rt = Runtime::new().unwrap();
    with_distant_timer(&rt);
    // A wait shorter than the timer: the timerfd is armed for the 10 s deadline.
    let turn = rt.turn(Some(Duration::from_millis(2)));
    assert_eq!(turn.timers_fired, 0);
    let deadline = Instant::now() + Duration::from_millis(20);
    let _timer = rt.block_on(async move { call_at(deadline, || {}) });
    let turn = rt.turn(None);
    assert_eq!(turn.timers_fired, 1, "the earlier timer fired in the first wait");
    assert!(Instant::now() >= deadline, "never early");
    assert!(Instant::now() < deadline + Duration::from_millis(500), "the wait was not cut short");
}

#[test]
fn a_stale_earlier_arming_costs_one_spurious_turn_and_no_lateness() {
    let rt = Runtime::new().unwrap();
    let early = rt.block_on(async { call_later(Duration::from_millis(10), || {}) });
    // A wait shorter than the timer: the timerfd is armed for the 10 ms deadline...
    let turn = rt.turn(Some(Duration::from_millis(2)));
    assert_eq!(turn.timers_fired, 0);
    // ...and stays armed for it once that timer is gone and a later one is the earliest.
    assert!(early.cancel());
    let deadline = Instant::now() + Duration::from_millis(300);
    let _timer = rt.block_on(async move { call_at(deadline, || {}) });

    let spurious = rt.turn(None);
    assert_eq!(spurious.timers_fired + spurious.io_events + spurious.tasks_run, 0, "{spurious:?}");
    assert!(Instant::now() < deadline, "woken early by the stale arming, at about 10 ms");

    let on_time = rt.turn(None);
    assert_eq!(on_time.timers_fired, 1, "re-armed for the real deadline: {on_time:?}");
    assert!(Instant::now() >= deadline, "never early");
    assert!(Instant::now() < deadline + Duration::from_millis(500));
    assert_eq!(rt.metrics().timers_pending, 0);
}

#[test]
fn a_long_timer_replaced_each_round_still_lets_every_short_sleep_end_on_time() {
    // hyper's header-read timeout: each request replaces a 30 s timer, so the earliest deadline
    // moves later before almost every wait (here the loop waits for a pool thread under it).
    // Short sleeps in between are earlier than the armed deadline: each must re-arm.
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let turns_before = rt.metrics().turns;
        for _ in 0..20 {
            let work = kettle::spawn_blocking(|| thread::sleep(Duration::from_millis(1)));
            assert!(matches!(kettle::timeout(Duration::from_secs(30), work).await, Ok(Ok(()))));
            let start = Instant::now();
            kettle::sleep(Duration::from_millis(2)).await;
            let took = start.elapsed();
            assert!(took >= Duration::from_millis(2) && took < Duration::from_millis(500), "{took:?}");
        }
        let turns = rt.metrics().turns - turns_before;
        assert!(turns < 200, "the loop slept instead of spinning: {turns} turns for 20 rounds");
    });
    assert_eq!(rt.metrics().timers_pending, 0);
}

#[test]
fn a_caller_max_wait_shorter_than_the_next_timer_still_ends_the_turn_and_fires_nothing() {
    // The timerfd is armed for the 10 s timer; the wait is the caller's, so
    // epoll keeps its timeout (the fd ends only waits that run to its timer).
    let rt = Runtime::new().unwrap();
    with_distant_timer(&rt);
    for max_wait in [Duration::from_millis(3), Duration::from_millis(20)] {
        let start = Instant::now();
        let turn = rt.turn(Some(max_wait));
        let took = start.elapsed();
        assert_eq!(turn.timers_fired + turn.io_events + turn.tasks_run, 0, "{turn:?}");
        assert!(took >= max_wait, "{max_wait:?}: the wait ran its course: {took:?}");
        assert!(took < Duration::from_secs(2), "{max_wait:?}: not the timer's 10 s: {took:?}");
    }
}

#[test]
fn a_turn_woken_by_the_timer_alone_fires_it_and_counts_no_io_event() {
    let rt = Runtime::new().unwrap();
    // The deadline is taken in the task's first poll, right before the sleep
    // registers its timer: however slow the machine (memcheck), the timer is
    // pending when that turn ends.
    let task = rt.spawn(async {
        let deadline = Instant::now() + Duration::from_millis(20);
        kettle::sleep_until(deadline).await;
        deadline
    });
    assert_eq!(rt.turn(Some(Duration::ZERO)).tasks_run, 1, "the sleep registers its timer");
    assert!(!task.is_finished(), "the sleep waits for its timer");
    // Each wait is bounded (a lost firing fails instead of hanging), and far
    // longer than the timer: the timerfd ends it. A spurious wake (none
    // expected) only repeats the wait.
    let mut turn = rt.turn(Some(Duration::from_secs(10)));
    for _ in 0..100 {
        if turn.timers_fired > 0 {
            break;
        }
        turn = rt.turn(Some(Duration::from_secs(10)));
    }
    assert_eq!((turn.timers_fired, turn.io_events, turn.tasks_run), (1, 0, 1), "{turn:?}");
    let deadline = rt.block_on(task).unwrap();
    assert!(Instant::now() >= deadline, "never early");
}

#[test]
fn many_short_sleeps_in_a_row_each_end_on_their_own_firing_never_early() {
    // With no epoll timeout behind an armed fd, a lost firing would block the
    // loop for ever: the runtime runs on a thread watched from here.
    let (done_tx, done) = mpsc::channel();
    thread::spawn(move || {
        let rt = Runtime::new().unwrap();
        let rounds = rt.block_on(async {
            let mut rounds = 0;
            for round in 0..200u64 {
                let deadline = Instant::now() + Duration::from_micros(50 + round % 7 * 100);
                kettle::sleep_until(deadline).await;
                assert!(Instant::now() >= deadline, "round {round}: never early");
                rounds += 1;
            }
            rounds
        });
        let _ = done_tx.send(rounds);
    });
    let rounds = done.recv_timeout(Duration::from_secs(20)).expect("no firing was lost: every sleep ended");
    assert_eq!(rounds, 200);
}
