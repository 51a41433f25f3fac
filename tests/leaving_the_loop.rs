//! Specifies the state the loop is left in, however it is left: an embedder
//! that then waits on the runtime's poll fd (as the README's "Driving kettle
//! from your own loop" does) must be woken by remote work. A matrix over
//! every way of leaving — `block_on` returning after its future woke itself,
//! returning at once, unwinding, `run_forever` returning on `stop`, `turn`
//! returning from a busy turn — and every kind of remote work: a callback,
//! a spawn, a wake of a waiting task, a stop. Each case is named in its
//! failure message.
//!
//! A first version left the loop marked busy when `block_on`'s future had
//! woken itself on its last turn; remote work then wrote nothing, and the
//! embedder's wait never ended.

use std::cell::RefCell;
use std::os::fd::AsRawFd;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

use kettle::{Handle, Runtime};

const NOW: Option<Duration> = Some(Duration::ZERO);

/// Whether `rt`'s poll fd becomes readable within `timeout_ms`.
fn readable(rt: &Runtime, timeout_ms: i32) -> bool {
    let mut pollfd = libc::pollfd { fd: rt.as_raw_fd(), events: libc::POLLIN, revents: 0 };
    // SAFETY: one valid pollfd, and the fd stays open while `rt` lives.
    let n = unsafe { libc::poll(&mut pollfd, 1, timeout_ms) };
    assert!(n >= 0, "poll failed");
    n == 1 && pollfd.revents & libc::POLLIN != 0
}

/// The ways of leaving the loop. Each leaves `rt` with nothing to do.
const EXITS: [&str; 6] = [
    "block_on after its future woke itself",
    "block_on of a ready future",
    "block_on unwinding after its future woke itself",
    "run_forever returning on stop",
    "turn returning from a busy turn",
    "turn returning from an idle turn",
];

fn leave(rt: &Runtime, exit: &str) {
    match exit {
        "block_on after its future woke itself" => rt.block_on(kettle::yield_now()),
        "block_on of a ready future" => rt.block_on(async {}),
        "block_on unwinding after its future woke itself" => {
            let unwound = catch_unwind(AssertUnwindSafe(|| {
                rt.block_on(async {
                    kettle::yield_now().await;
                    kettle::yield_now().await; // wakes itself, then panics
                    panic!("leaving by unwinding");
                })
            }));
            assert!(unwound.is_err());
        }
        "run_forever returning on stop" => {
            let handle = rt.handle();
            let stopper = rt.spawn(async move {
                kettle::yield_now().await;
                handle.stop();
            });
            rt.run_forever();
            assert!(stopper.is_finished());
        }
        "turn returning from a busy turn" => {
            let task = rt.spawn(kettle::yield_now());
            rt.turn(NOW); // the task yields: queued again, the turn ends busy
            rt.turn(NOW);
            assert!(task.is_finished());
        }
        "turn returning from an idle turn" => {
            rt.turn(NOW);
        }
        other => panic!("no such exit: {other}"),
    }
}

/// The kinds of remote work.
const WORK: [&str; 4] =
    ["Handle::call_soon", "Handle::spawn", "a remote wake of a waiting task", "Handle::stop"];

/// Prepares `work` on the loop's side, then does it from another thread.
/// Returns a check, run after one more turn, that the work was done.
fn remote_work(rt: &Runtime, work: &str) -> Box<dyn FnOnce(&Runtime) -> bool> {
    let handle: Handle = rt.handle();
    let done = Arc::new(AtomicBool::new(false));
    match work {
        "Handle::call_soon" => {
            let flag = done.clone();
            thread::spawn(move || handle.call_soon(move || flag.store(true, Ordering::SeqCst)).unwrap())
                .join()
                .unwrap();
            Box::new(move |_| done.load(Ordering::SeqCst))
        }
        "Handle::spawn" => {
            let flag = done.clone();
            let task = thread::spawn(move || handle.spawn(async move { flag.store(true, Ordering::SeqCst) }))
                .join()
                .unwrap();
            Box::new(move |_| task.is_finished() && done.load(Ordering::SeqCst))
        }
        "a remote wake of a waiting task" => {
            let slot: Rc<RefCell<Option<Waker>>> = Rc::default();
            let stored = slot.clone();
            let task = rt.spawn(std::future::poll_fn(move |cx| {
                if stored.borrow().is_some() {
                    return Poll::Ready(());
                }
                *stored.borrow_mut() = Some(cx.waker().clone());
                Poll::Pending
            }));
            rt.turn(NOW); // the task now waits
            let waker = slot.borrow().clone().expect("the task stored its waker");
            // Drain the fd: storing the waker was a turn, not remote work.
            while readable(rt, 0) {
                rt.turn(NOW);
            }
            thread::spawn(move || waker.wake()).join().unwrap();
            Box::new(move |_| task.is_finished())
        }
        "Handle::stop" => {
            thread::spawn(move || handle.stop()).join().unwrap();
            // The stop is pending: the next run_forever runs one turn and returns.
            Box::new(|rt: &Runtime| {
                let start = Instant::now();
                rt.run_forever();
                start.elapsed() < Duration::from_secs(1)
            })
        }
        other => panic!("no such work: {other}"),
    }
}

#[test]
fn every_way_of_leaving_the_loop_lets_remote_work_make_the_poll_fd_readable() {
    for exit in EXITS {
        for work in WORK {
            let case = format!("leaving by «{exit}», then «{work}» from another thread");
            let rt = Runtime::new().unwrap();
            leave(&rt, exit);
            while readable(&rt, 0) {
                rt.turn(NOW); // whatever the exit itself left to do
            }
            let was_done = remote_work(&rt, work);
            let start = Instant::now();
            assert!(readable(&rt, 2_000), "{case}: the poll fd never became readable");
            assert!(start.elapsed() < Duration::from_secs(1), "{case}: took {:?}", start.elapsed());
            rt.turn(NOW);
            assert!(was_done(&rt), "{case}: the turn did not carry the work out");
        }
    }
}

#[test]
fn leaving_with_remote_work_already_waiting_makes_the_poll_fd_readable_at_once() {
    // Requests pushed while the loop worked wrote nothing (the loop was
    // busy); leaving it must make up for that.
    let rt = Runtime::new().unwrap();
    let handle = rt.handle();
    rt.block_on(async move {
        // The first request reaches a loop that has not started working:
        // it writes the eventfd, and the sleep's blocking turn consumes that
        // event and takes the request, marking the loop busy.
        let first = handle.clone();
        thread::spawn(move || first.call_soon(|| {}).unwrap()).join().unwrap();
        kettle::sleep(Duration::from_millis(1)).await;
        kettle::yield_now().await; // a busy turn: the loop is marked busy
        // The second reaches a busy loop, writes nothing, and is still
        // waiting when `block_on` returns.
        thread::spawn(move || handle.call_soon(|| {}).unwrap()).join().unwrap();
    });
    assert!(readable(&rt, 0), "readable without any further remote work");
    let turn = rt.turn(NOW);
    assert_eq!(turn.injected, 1);
    assert_eq!(turn.callbacks_run, 1);
    assert!(!readable(&rt, 0), "and quiet again once taken");
}
