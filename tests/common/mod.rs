//! Test harness pieces shared by several test files.
//!
//! Each test file is its own crate and uses only some of these, hence the
//! `dead_code` allowance.
#![allow(dead_code)]

pub mod example;
pub mod net;

use std::cell::Cell;
use std::future::Future;
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use kettle::{Handle, Runtime};

/// Counts its own drops. Thread-safe, so it can ride in `Send` futures and
/// closures (remote spawns, `Handle::call_soon`).
pub struct DropGuard(pub Arc<AtomicUsize>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Counts its own drops, for tests on one thread.
pub struct DropCounter(pub Rc<Cell<usize>>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

/// Wraps a future and counts how often it is polled.
pub struct CountPolls<F> {
    pub inner: Pin<Box<F>>,
    pub polls: Rc<Cell<usize>>,
}

impl<F: Future> Future for CountPolls<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.polls.set(self.polls.get() + 1);
        self.inner.as_mut().poll(cx)
    }
}

/// Stops the loop when dropped, including while unwinding from a failed
/// assertion, so a broken runtime fails the test instead of hanging it.
pub struct StopOnDrop(pub Handle);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.stop();
    }
}

/// Runs the loop on this thread (`run_forever`) while `work` runs on another
/// thread with a handle; the loop stops when `work` returns or panics.
/// Returns `work`'s result, or resumes its panic.
pub fn drive<T: Send + 'static>(rt: &Runtime, work: impl FnOnce(Handle) -> T + Send + 'static) -> T {
    let handle = rt.handle();
    let worker = thread::spawn(move || {
        let _stop = StopOnDrop(handle.clone());
        work(handle)
    });
    rt.run_forever();
    worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// Runs `scenario` on a thread of its own and waits at most `limit` for it,
/// so that a frozen loop (a spin inside one poll, which no `timeout` can
/// interrupt) fails the test instead of hanging it. A panic in `scenario` is
/// resumed here.
pub fn finishes_within<T: Send + 'static>(
    limit: Duration,
    scenario: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let runner = thread::spawn(move || {
        let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(scenario));
        let _ = done_tx.send(());
        out
    });
    match done_rx.recv_timeout(limit) {
        Ok(()) => runner.join().unwrap().unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
        Err(_) => panic!("did not finish within {limit:?}: the loop is frozen or a wake-up was lost"),
    }
}

/// Runs `future` as a task, one turn at a time, and fails if it is not done
/// within `budget` turns: a loop that spins (turns that find nothing to do,
/// again and again) fails here instead of hanging. Each turn waits at most
/// 100 ms of real time.
pub fn run_within_turns<T: 'static>(
    rt: &Runtime,
    budget: u64,
    future: impl Future<Output = T> + 'static,
) -> T {
    let task = rt.spawn(future);
    let first = rt.metrics().turns;
    while !task.is_finished() {
        let turns = rt.metrics().turns - first;
        assert!(turns <= budget, "the loop took more than {budget} turns: it spins");
        rt.turn(Some(Duration::from_millis(100)));
    }
    rt.block_on(task).expect("the task run turn by turn")
}

/// Unparks the thread running [`block_on_thread`].
struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// A minimal foreign executor: polls `fut` on this thread, parking between
/// polls, for at most two seconds (then the test fails: a wake was lost).
pub fn block_on_thread<F: Future>(fut: F) -> F::Output {
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(fut);
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "the foreign executor was never woken");
        thread::park_timeout(left);
    }
}
