//! Specifies the ways to drive the loop — `block_on`, `run_forever`/`stop`,
//! single `turn`s with `next_timeout`, the embedder's pollable fd, `kettle::run`
//! and the `Builder` — and that pending work carries over between runs.

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::os::fd::AsRawFd;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant};

use kettle::{Handle, Runtime, Turn};

const NOW: Option<Duration> = Some(Duration::ZERO);

#[test]
fn block_on_returns_the_futures_output() {
    let rt = Runtime::new().unwrap();
    assert_eq!(rt.block_on(async { "out" }), "out");
    let borrowed = String::from("not 'static");
    assert_eq!(rt.block_on(async { borrowed.len() }), 11, "block_on's future may borrow");
}

#[test]
fn kettle_run_returns_the_futures_output() {
    assert_eq!(kettle::run(async { kettle::spawn(async { 40 }).await.unwrap() + 2 }), 42);
}

#[test]
fn tasks_still_pending_when_block_on_returns_continue_in_the_next_block_on() {
    let rt = Runtime::new().unwrap();
    let log = Rc::new(RefCell::new(Vec::new()));
    rt.block_on({
        let log = log.clone();
        async move {
            drop(kettle::spawn(async move {
                kettle::sleep(Duration::from_millis(20)).await;
                log.borrow_mut().push("background done");
            }));
        }
    });
    assert!(log.borrow().is_empty(), "the first block_on returned at once");
    assert_eq!(rt.metrics().tasks_alive, 1, "the task stayed in the runtime");

    rt.block_on(async { kettle::sleep(Duration::from_millis(50)).await });
    assert_eq!(*log.borrow(), ["background done"]);
    assert_eq!(rt.metrics().tasks_alive, 0);
}

#[test]
fn run_forever_returns_when_a_task_calls_stop() {
    let rt = Runtime::new().unwrap();
    let stopped = Rc::new(Cell::new(false));
    let _stopper = rt.spawn({
        let stopped = stopped.clone();
        async move {
            kettle::sleep(Duration::from_millis(5)).await;
            stopped.set(true);
            Handle::current().stop();
        }
    });
    rt.run_forever();
    assert!(stopped.get());
}

#[test]
fn run_forever_returns_when_a_callback_calls_stop() {
    let rt = Runtime::new().unwrap();
    let fired = Rc::new(Cell::new(false));
    let _scheduler = rt.spawn({
        let fired = fired.clone();
        async move {
            let _timer = kettle::call_later(Duration::from_millis(5), move || {
                fired.set(true);
                Handle::current().stop();
            });
        }
    });
    rt.run_forever();
    assert!(fired.get());
    assert_eq!(rt.metrics().timers_pending, 0);
}

#[test]
fn run_forever_returns_when_another_thread_calls_stop() {
    let rt = Runtime::new().unwrap();
    let handle = rt.handle();
    let start = Instant::now();
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        handle.stop();
    });
    rt.run_forever(); // idle: blocked in epoll_wait until the stop wakes it
    let elapsed = start.elapsed();
    stopper.join().unwrap();
    assert!(elapsed >= Duration::from_millis(20), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(1), "{elapsed:?}");
}

#[test]
fn stop_before_run_forever_makes_it_run_one_turn() {
    let rt = Runtime::new().unwrap();
    let ran = Rc::new(Cell::new(false));
    let _task = rt.spawn({
        let ran = ran.clone();
        async move { ran.set(true) }
    });
    rt.handle().stop();
    let turns = rt.metrics().turns;
    rt.run_forever();
    assert_eq!(rt.metrics().turns, turns + 1);
    assert!(ran.get(), "that one turn did its work");
    // The stop was consumed: a later run_forever needs a new one.
    let _stopper = rt.spawn(async { Handle::current().stop() });
    rt.run_forever();
    assert_eq!(rt.metrics().turns, turns + 2);
}

#[test]
fn turn_with_zero_wait_does_not_block_and_reports_its_work() {
    let rt = Runtime::new().unwrap();
    let start = Instant::now();
    assert_eq!(rt.turn(NOW), Turn::default(), "an empty turn did nothing");

    let _task = rt.spawn(async {});
    let turn = rt.turn(NOW);
    assert_eq!(turn.tasks_run, 1);
    assert_eq!((turn.injected, turn.timers_fired, turn.callbacks_run), (0, 0, 0));

    let _sleeper = rt.spawn(async { kettle::sleep(Duration::from_secs(3600)).await });
    rt.turn(NOW);
    assert_eq!(rt.turn(NOW), Turn::default(), "a far timer does not make it wait");
    assert!(start.elapsed() < Duration::from_millis(500));
}

#[test]
fn idle_turn_waits_about_its_max_wait() {
    let rt = Runtime::new().unwrap();
    let start = Instant::now();
    let turn = rt.turn(Some(Duration::from_millis(20)));
    let elapsed = start.elapsed();
    assert_eq!(turn, Turn::default());
    assert!(elapsed >= Duration::from_millis(20), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(1), "{elapsed:?}");
}

#[test]
fn turn_waits_only_until_the_next_timer() {
    let rt = Runtime::new().unwrap();
    let _sleeper = rt.spawn(async { kettle::sleep(Duration::from_millis(10)).await });
    let before_sleep = Instant::now();
    rt.turn(NOW); // the sleep starts and registers its timer
    let start = Instant::now();
    let turn = rt.turn(Some(Duration::from_secs(1)));
    assert_eq!(turn.timers_fired, 1);
    assert_eq!(turn.tasks_run, 1, "the woken task ran in the same turn");
    assert!(before_sleep.elapsed() >= Duration::from_millis(10), "not early");
    let elapsed = start.elapsed();
    assert!(elapsed < Duration::from_millis(500), "not the full max_wait: {elapsed:?}");
    assert_eq!(rt.metrics().tasks_alive, 0);
}

#[test]
fn next_timeout_tells_how_long_a_turn_would_block() {
    let rt = Runtime::new().unwrap();
    assert_eq!(rt.next_timeout(), None, "idle: only I/O or another thread can make work");

    let _sleeper = rt.spawn(async { kettle::sleep(Duration::from_millis(100)).await });
    assert_eq!(rt.next_timeout(), Some(Duration::ZERO), "a task is queued");
    rt.turn(NOW);
    let left = rt.next_timeout().expect("a timer is pending");
    assert!(left > Duration::from_millis(50) && left <= Duration::from_millis(100), "{left:?}");

    let _soon = rt.spawn(async { kettle::call_soon(|| {}) });
    rt.turn(NOW);
    assert_eq!(rt.next_timeout(), Some(Duration::ZERO), "a callback is queued");
}

#[test]
fn poll_fd_becomes_readable_when_another_thread_calls_soon() {
    let rt = Runtime::new().unwrap();
    let fd = rt.as_raw_fd();
    assert!(fd >= 0);
    let readable = |timeout_ms: i32| {
        let mut pollfd = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
        // SAFETY: one valid pollfd, and `fd` stays open while `rt` lives.
        let n = unsafe { libc::poll(&mut pollfd, 1, timeout_ms) };
        assert!(n >= 0, "poll failed");
        n == 1 && pollfd.revents & libc::POLLIN != 0
    };
    assert!(!readable(0), "nothing to do yet");

    let handle = rt.handle();
    std::thread::spawn(move || handle.call_soon(|| {}).unwrap()).join().unwrap();
    assert!(readable(1000), "the remote call made the fd readable");

    let turn = rt.turn(NOW);
    assert_eq!((turn.injected, turn.callbacks_run), (1, 1));
    assert!(!readable(0), "quiet again once the turn took the work");
}

#[test]
fn builder_with_a_small_event_capacity_builds_a_working_runtime() {
    let rt = Runtime::builder().event_capacity(8).build().unwrap();
    let out = rt.block_on(async {
        let tasks: Vec<_> = (0..20)
            .map(|i| {
                kettle::spawn(async move {
                    kettle::sleep(Duration::from_millis(1)).await;
                    i
                })
            })
            .collect();
        let mut sum = 0;
        for task in tasks {
            sum += task.await.unwrap();
        }
        sum
    });
    assert_eq!(out, (0..20).sum());
    assert_eq!(kettle::Builder::default().build().unwrap().block_on(async { 1 }), 1);
}

#[test]
fn block_on_wakes_when_its_future_is_woken_from_another_thread() {
    let rt = Runtime::new().unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let mut waker_thread = None;
    let start = Instant::now();
    rt.block_on(poll_fn(|cx| {
        if done.load(Ordering::SeqCst) {
            return Poll::Ready(());
        }
        if waker_thread.is_none() {
            let (done, waker) = (done.clone(), cx.waker().clone());
            waker_thread = Some(std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(10));
                done.store(true, Ordering::SeqCst);
                waker.wake();
            }));
        }
        Poll::Pending
    }));
    let elapsed = start.elapsed();
    waker_thread.unwrap().join().unwrap();
    assert!(elapsed < Duration::from_secs(1), "the idle loop was woken: {elapsed:?}");
}
