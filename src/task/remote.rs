//! Waiting for a task from another thread: [`RemoteJoinHandle`].
//!
//! A remote join handle is an ordinary [`JoinHandle`] (whose protocol already
//! works across threads) plus a way to wait without an executor: `wait` polls
//! the handle with a waker that unparks the calling thread, and parks until
//! the loop completes the task. Spurious unparks just poll again.
//!
//! Waiting on the loop's own thread can never end — the loop cannot run while
//! its thread is parked — so that is refused with a panic, not a deadlock.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use super::error::JoinError;
use super::join::JoinHandle;

/// The result of a task submitted with [`Handle::spawn`](crate::Handle::spawn)
/// or [`Handle::spawn_with`](crate::Handle::spawn_with) — asyncio's
/// `concurrent.futures.Future` from `run_coroutine_threadsafe`.
///
/// It is a `Future` that any executor can await (asyncio's `wrap_future`), and
/// it can also be waited for by blocking a thread with [`wait`](Self::wait) or
/// [`wait_timeout`](Self::wait_timeout).
#[must_use = "dropping a RemoteJoinHandle detaches the task; wait for it or call cancel()"]
pub struct RemoteJoinHandle<T> {
    join: JoinHandle<T>,
}

/// Unparks the waiting thread.
struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

impl<T> RemoteJoinHandle<T> {
    pub(crate) fn new(join: JoinHandle<T>) -> RemoteJoinHandle<T> {
        RemoteJoinHandle { join }
    }

    /// The task's id, unique in its runtime; see [`JoinHandle::id`].
    pub fn id(&self) -> crate::task::Id {
        self.join.id()
    }

    /// Whether the task has finished (asyncio's `Future.done()`).
    pub fn is_finished(&self) -> bool {
        self.join.is_finished()
    }

    /// Requests cancellation; see [`JoinHandle::cancel`].
    pub fn cancel(&self) {
        self.join.cancel();
    }

    /// Lets the task run on its own, as [`JoinHandle::detach`]: it keeps
    /// running, and its output is dropped on the loop when it finishes.
    /// The same as dropping the handle, said on purpose.
    ///
    /// ```
    /// use std::sync::mpsc;
    ///
    /// let rt = kettle::Runtime::new().unwrap();
    /// let (tx, rx) = mpsc::channel();
    /// rt.handle().spawn(async move { tx.send("done").unwrap() }).detach();
    /// rt.block_on(kettle::sleep(std::time::Duration::from_millis(5)));
    /// assert_eq!(rx.try_recv(), Ok("done"));
    /// ```
    pub fn detach(self) {
        self.join.detach();
    }

    /// Blocks this thread until the task finishes (asyncio's
    /// `Future.result()`).
    ///
    /// # Panics
    /// On the runtime's own thread, unless the task has already finished: the
    /// loop could not run while this thread waits, so the call would never
    /// return. Await the handle instead.
    pub fn wait(mut self) -> Result<T, JoinError> {
        let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
        let mut cx = Context::from_waker(&waker);
        loop {
            if let Poll::Ready(out) = Pin::new(&mut self.join).poll(&mut cx) {
                return out;
            }
            self.check_not_loop_thread("wait");
            thread::park();
        }
    }

    /// Blocks this thread until the task finishes or `timeout` passes.
    /// Returns `None` on timeout; the handle stays usable.
    ///
    /// # Panics
    /// On the runtime's own thread, like [`wait`](Self::wait); and if the
    /// result was already returned by an earlier call.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Option<Result<T, JoinError>> {
        let deadline = Instant::now().checked_add(timeout);
        let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
        let mut cx = Context::from_waker(&waker);
        loop {
            if let Poll::Ready(out) = Pin::new(&mut self.join).poll(&mut cx) {
                return Some(out);
            }
            self.check_not_loop_thread("wait_timeout");
            match deadline {
                None => thread::park(),
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return None;
                    }
                    thread::park_timeout(left);
                }
            }
        }
    }

    fn check_not_loop_thread(&self, what: &str) {
        let owner = self.join.task().header().owner();
        assert!(
            !owner.is_owner_thread(),
            "RemoteJoinHandle::{what} called on the runtime's own thread: it would \
             block the loop that must run the task, and never return. \
             Use `.await` on the handle inside the runtime instead."
        );
    }
}

impl<T> Future for RemoteJoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.join).poll(cx)
    }
}

impl<T> fmt::Debug for RemoteJoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteJoinHandle").field("finished", &self.is_finished()).finish()
    }
}
