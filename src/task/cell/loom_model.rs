//! Model-checked: the task cell's state word and the two cells it guards
//! (the join waker's slot, the future's stage), across threads.
//!
//! Each model runs the real loop (`Core::turn`) on one loom thread and the
//! real `JoinHandle` (or a waker, or `cancel`) on another, under every
//! interleaving loom can build (`--cfg loom`, see `src/loom.rs`). Loom checks
//! every access to the stage and the waker slot against the happens-before
//! edges the state word creates (rules R2 and R3 in `cell.rs`), and each
//! model checks a ledger:
//!
//! - the output (or the future) is dropped exactly once, by whoever owns it;
//! - a join handle that saw `Pending` was woken, and then gets the output;
//! - the output is not handed out before the done callbacks have run;
//! - every reference is released: the cell frees itself (it holds an
//!   `Arc` of the runtime's shared part, whose count returns to one).
//!
//! Run with `scripts/loom` (or `RUSTFLAGS="--cfg loom" cargo test --lib
//! --release loom_model`).

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize as StdUsize;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use super::DoneCallback;
use crate::loom::sync::Mutex;
use crate::loom::sync::atomic::{AtomicBool, Ordering::SeqCst};
use crate::runtime::Builder;
use crate::runtime::context;
use crate::runtime::core::Core;
use crate::task::{JoinError, JoinHandle};

const NOW: Option<Duration> = Some(Duration::ZERO);

fn core() -> Core {
    Core::new(&Builder::new()).expect("epoll, eventfd and timerfd")
}

/// Counts its drops.
struct Counted(Arc<StdUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// A waker that records that it was woken (a loom atomic, so that the
/// wake's ordering is part of the model).
struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, SeqCst);
    }
}

fn flag_waker() -> (Arc<Flag>, Waker) {
    let flag = Arc::new(Flag(AtomicBool::new(false)));
    (flag.clone(), Waker::from(flag))
}

fn poll_join<T>(handle: &mut JoinHandle<T>, waker: &Waker) -> Poll<Result<T, JoinError>> {
    Pin::new(handle).poll(&mut Context::from_waker(waker))
}

/// Turns without blocking until nothing is left to do.
fn drain(core: &Core) {
    for _ in 0..4 {
        core.turn(NOW, None);
    }
}

/// Drains the loop, checks that every task cell freed itself (once only
/// the core holds the shared part, which each cell keeps an `Arc` of), and
/// shuts the core down.
/// Spawns on the modelled loop, as `kettle::spawn` would.
#[track_caller]
fn spawn<F: Future + 'static>(core: &Core, future: F) -> crate::JoinHandle<F::Output> {
    crate::JoinHandle::new(core.spawn(future, std::panic::Location::caller()))
}

fn finish(core: &Core) {
    drain(core);
    assert_eq!(Arc::strong_count(core.shared()), 1, "a task cell was not freed");
    core.shutdown();
}

#[test]
fn loom_model_completion_racing_the_join_handles_drop_drops_the_output_once() {
    loom::model(|| {
        let core = core();
        let drops = Arc::new(StdUsize::new(0));
        let output = Counted(drops.clone());
        let handle = spawn(&core, async move { output });
        let dropper = loom::thread::spawn(move || drop(handle));
        core.turn(NOW, None); // polls the task to completion
        dropper.join().unwrap();
        drain(&core);
        assert_eq!(drops.load(SeqCst), 1, "the output was dropped exactly once");
        finish(&core);
    });
}

#[test]
fn loom_model_a_join_handle_polled_on_another_thread_is_woken_and_gets_the_output() {
    loom::model(|| {
        let core = core();
        let handle = spawn(&core, async { 7 });
        let joiner = loom::thread::spawn(move || {
            let mut handle = handle;
            let (flag, waker) = flag_waker();
            let first = poll_join(&mut handle, &waker);
            (handle, flag, first)
        });
        core.turn(NOW, None);
        let (mut handle, flag, first) = joiner.join().unwrap();
        match first {
            Poll::Ready(out) => assert_eq!(out.unwrap(), 7),
            Poll::Pending => {
                assert!(flag.0.load(SeqCst), "the join handle waited and was never woken");
                let (_, waker) = flag_waker();
                assert!(matches!(poll_join(&mut handle, &waker), Poll::Ready(Ok(7))));
            }
        }
        drop(handle);
        finish(&core);
    });
}

#[test]
fn loom_model_a_cancel_from_another_thread_racing_the_task_drops_its_future_once() {
    loom::model(|| {
        let core = core();
        let drops = Arc::new(StdUsize::new(0));
        let guard = Counted(drops.clone());
        let handle = spawn(&core, async move {
            let _guard = guard;
            crate::yield_now().await; // wakes itself (through the injector: no runtime is current)
            5
        });
        let canceller = loom::thread::spawn(move || {
            handle.cancel();
            handle
        });
        core.turn(NOW, None);
        let mut handle = canceller.join().unwrap();
        drain(&core);
        let (_, waker) = flag_waker();
        match poll_join(&mut handle, &waker) {
            Poll::Ready(Ok(5)) => {}
            Poll::Ready(Err(e)) => assert!(e.is_cancelled()),
            other => panic!("the task neither finished nor was cancelled: {other:?}"),
        }
        assert_eq!(drops.load(SeqCst), 1, "the future was dropped exactly once");
        drop(handle);
        finish(&core);
    });
}

#[test]
fn loom_model_a_wake_from_another_thread_racing_the_task_is_never_lost() {
    loom::model(|| {
        let core = core();
        let slot: Arc<Mutex<Option<Waker>>> = Arc::new(Mutex::new(None));
        let stored = slot.clone();
        let mut polls = 0;
        let handle = spawn(
            &core,
            std::future::poll_fn(move |cx| {
                polls += 1;
                if polls > 1 {
                    return Poll::Ready(()); // polled again: the wake arrived
                }
                *stored.lock().unwrap() = Some(cx.waker().clone());
                Poll::Pending
            }),
        );
        core.turn(NOW, None); // the task stores its waker and waits
        let waker = slot.lock().unwrap().clone().expect("stored on the first poll");
        let remote = loom::thread::spawn(move || waker.wake());
        core.turn(NOW, None);
        remote.join().unwrap();
        drain(&core);
        assert!(handle.is_finished(), "the wake from the other thread was lost");
        drop(handle);
        slot.lock().unwrap().take();
        finish(&core);
    });
}

#[test]
fn loom_model_the_output_is_held_back_until_the_done_callbacks_ran() {
    loom::model(|| {
        let core = Rc::new(core());
        // Done callbacks run as loop callbacks that find their runtime
        // through the context; the other thread only polls the handle.
        let entered = context::enter(&core, "the done-callback model");
        let ran = Arc::new(AtomicBool::new(false));
        let seen = ran.clone();
        let handle = spawn(&core, async { 9 });
        core.add_done_callback(
            handle.task(),
            DoneCallback::new(move |out: &Result<i32, JoinError>| {
                assert_eq!(*out.as_ref().unwrap(), 9, "the callback borrows the output");
                seen.store(true, SeqCst);
            }),
        );
        let joiner = loom::thread::spawn(move || {
            let mut handle = handle;
            let (flag, waker) = flag_waker();
            let first = poll_join(&mut handle, &waker);
            if first.is_ready() {
                assert!(ran.load(SeqCst), "the output went out before the done callback ran");
            }
            (handle, flag, first.is_ready(), ran)
        });
        drain(&core); // completes the task, then runs the batch, then releases
        let (mut handle, flag, got_it, ran) = joiner.join().unwrap();
        assert!(ran.load(SeqCst));
        if !got_it {
            assert!(flag.0.load(SeqCst), "the join handle was never woken after the callbacks");
            let (_, waker) = flag_waker();
            assert!(matches!(poll_join(&mut handle, &waker), Poll::Ready(Ok(9))));
        }
        drop(handle);
        drain(&core);
        drop(entered);
        finish(&core);
    });
}

#[test]
fn loom_model_a_remote_wake_and_the_join_handles_drop_racing_completion_leak_nothing() {
    // Three parties at once: the loop runs the task to completion, another
    // thread wakes it, a third drops its join handle.
    loom::model(|| {
        let core = core();
        let drops = Arc::new(StdUsize::new(0));
        let output = Counted(drops.clone());
        let slot: Arc<Mutex<Option<Waker>>> = Arc::new(Mutex::new(None));
        let stored = slot.clone();
        let mut output = Some(output);
        let handle = spawn(
            &core,
            std::future::poll_fn(move |cx| {
                let mut slot = stored.lock().unwrap();
                if slot.is_none() {
                    *slot = Some(cx.waker().clone());
                    return Poll::Pending;
                }
                Poll::Ready(output.take().expect("completes once"))
            }),
        );
        core.turn(NOW, None); // stores its waker
        let waker = slot.lock().unwrap().clone().expect("stored");
        let remote = loom::thread::spawn(move || waker.wake());
        let dropper = loom::thread::spawn(move || drop(handle));
        core.turn(NOW, None);
        remote.join().unwrap();
        dropper.join().unwrap();
        drain(&core);
        assert_eq!(drops.load(SeqCst), 1, "the output was dropped exactly once");
        slot.lock().unwrap().take();
        finish(&core);
    });
}
