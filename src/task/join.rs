//! Awaiting a task's result: [`JoinHandle`].
//!
//! A join handle is the task cell's second owner, beside the loop's slab. The
//! output passes from the loop to the handle through the cell, guarded by the
//! state word (rule R2 in `cell.rs`): the loop writes the output, then makes
//! it readable; the handle sees it readable, then takes the output. Until
//! then the handle parks its waker in the cell's join-waker slot (rule R3),
//! which the loop wakes when the output becomes readable. Because every step
//! is a transition of the state word (`state.rs`), the handle may live on
//! another thread than the loop.
//!
//! Dropping the handle clears `JOIN_INTEREST`; a task that completes after
//! that drops its own output on the loop. Either way the output is dropped
//! exactly once, by exactly one side.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::cell::DoneCallback;
use super::error::JoinError;
use super::header::{Header, TaskRef};
use super::state::JoinWakerSet;
use crate::runtime::context;

/// An owned permission to await a spawned task's result (asyncio's `Task`).
///
/// Awaiting it gives `Ok(output)`, or `Err(e)` with [`JoinError::is_cancelled`]
/// if the task was [cancelled](JoinHandle::cancel) and [`JoinError::is_panic`]
/// if it panicked. Dropping the handle *detaches* the task: it keeps running
/// and its output is dropped when it finishes; [`detach`](JoinHandle::detach)
/// says so in the code.
///
/// `JoinHandle<T>` is `Send` when `T` is, so it can travel inside futures
/// submitted with [`Handle::spawn`](crate::Handle::spawn); every method is
/// safe to call from any thread.
#[doc(alias = "Task")]
#[must_use = "dropping a JoinHandle detaches the task; await it or call cancel()"]
pub struct JoinHandle<T> {
    task: TaskRef,
    _output: PhantomData<T>,
}

// The handle holds no pinned data (the output lives in the task cell).
impl<T> Unpin for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    pub(crate) fn new(task: TaskRef) -> JoinHandle<T> {
        JoinHandle { task, _output: PhantomData }
    }

    pub(crate) fn task(&self) -> &TaskRef {
        &self.task
    }

    /// The task's id, unique in its runtime (tokio's `JoinHandle::id`).
    ///
    /// ```
    /// kettle::run(async {
    ///     let task = kettle::spawn(async { kettle::task::current().unwrap().id });
    ///     let id = task.id();
    ///     assert_eq!(task.await.unwrap(), id);
    /// });
    /// ```
    pub fn id(&self) -> super::Id {
        self.task.header().id()
    }

    /// Whether the task has finished: returned, panicked, or was cancelled and
    /// its future dropped (asyncio's `Task.done()`).
    pub fn is_finished(&self) -> bool {
        self.task.header().state.load().is_complete()
    }

    /// Requests cancellation (asyncio's `Task.cancel()`).
    ///
    /// The loop drops the task's future no later than its next turn — the
    /// future's destructors are the Rust form of `CancelledError` cleanup — and
    /// the handle then yields an error with [`JoinError::is_cancelled`]. A task
    /// cancelled before its first poll never runs. Cancelling a finished task
    /// does nothing. Also works for a task cancelling itself mid-poll: its
    /// current poll finishes normally, and it is not polled again.
    pub fn cancel(&self) {
        self.task.cancel();
    }

    /// Lets the task run on its own: it keeps running, and its output (or
    /// its panic's payload) is dropped on the loop when it finishes —
    /// fire and forget. This is what dropping the handle does; `detach`
    /// says it on purpose, where a bare `drop(kettle::spawn(…))` or `let _ =`
    /// reads like an oversight (and `#[must_use]` warns about the latter).
    ///
    /// Nobody can await or cancel the task afterwards; done callbacks
    /// added before still run.
    ///
    /// ```
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    /// use std::time::Duration;
    ///
    /// kettle::run(async {
    ///     let beeped = Rc::new(Cell::new(false));
    ///     let beeper = beeped.clone();
    ///     kettle::spawn(async move {
    ///         kettle::sleep(Duration::from_millis(5)).await;
    ///         beeper.set(true);
    ///     })
    ///     .detach();
    ///     kettle::sleep(Duration::from_millis(20)).await;
    ///     assert!(beeped.get()); // it ran to the end without its handle
    /// });
    /// ```
    pub fn detach(self) {
        // Clears JOIN_INTEREST: the loop drops the output (module docs).
        drop(self);
    }
}

impl<T: 'static> JoinHandle<T> {
    /// Runs `callback` on the loop thread when the task finishes (asyncio's
    /// `Task.add_done_callback`), with a borrow of its result.
    ///
    /// Callbacks run in registration order, as loop callbacks on the turn after
    /// the task finishes; one added to a finished task is queued at once (never
    /// run inside this call). Awaiting the handle afterwards still yields the
    /// result: it waits until the callbacks have run. A panicking callback does
    /// not stop the others or the loop. Callbacks still pending when the
    /// runtime is dropped are dropped without running.
    ///
    /// ```
    /// use std::{cell::RefCell, rc::Rc};
    /// kettle::run(async {
    ///     let log = Rc::new(RefCell::new(Vec::new()));
    ///     let task = kettle::spawn(async { 21 });
    ///     let seen = log.clone();
    ///     task.add_done_callback(move |result| seen.borrow_mut().push(*result.as_ref().unwrap() * 2));
    ///     assert_eq!(task.await.unwrap(), 21); // still there for the handle
    ///     assert_eq!(*log.borrow(), [42]);
    /// });
    /// ```
    ///
    /// # Panics
    /// Outside the task's own runtime (callbacks are not `Send`, so they
    /// are added on the loop thread), or if this handle already returned the
    /// output.
    #[doc(alias = "Task.add_done_callback")]
    #[track_caller]
    pub fn add_done_callback<F>(&self, callback: F)
    where
        F: FnOnce(&Result<T, JoinError>) + 'static,
    {
        context::expect_current("JoinHandle::add_done_callback", |core| {
            assert!(
                self.task.header().is_owned_by(core.on_loop()),
                "JoinHandle::add_done_callback called inside another runtime than the task's: \
                 add done callbacks on the task's own loop thread"
            );
            core.add_done_callback(&self.task, DoneCallback::new(callback));
        });
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let header = self.task.header();
        if !header.state.load().is_readable() {
            check_runnable(header);
            match header.register_join_waker(cx.waker()) {
                JoinWakerSet::Wait => return Poll::Pending,
                JoinWakerSet::TakeOutput => {}
            }
        }
        let mut out = Poll::Pending;
        // SAFETY: the handle is typed by the task's output `T`, and we are the
        // join handle (rule R2 in `cell.rs`).
        unsafe { self.task.take_output(&mut out) };
        header.state.output_taken();
        out
    }
}

/// Panics if waiting for this task could never end: another runtime is
/// running on the task's own thread, so the task's runtime cannot run (and
/// complete it) until that one returns. A hang with no message is the
/// alternative.
#[track_caller]
fn check_runnable(header: &Header) {
    let owner = header.owner();
    if let Some(current) = context::current_id()
        && current != owner.id()
        && owner.is_owner_thread()
    {
        panic!(
            "a JoinHandle of kettle runtime #{} was awaited inside runtime #{current} on the same \
             thread: the task's runtime cannot run until this one returns, so the task would \
             never finish. Await a task inside the runtime that spawned it (or from another \
             thread).",
            owner.id()
        );
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        // SAFETY: we are the join handle, and this runs once.
        unsafe { self.task.drop_join_interest() };
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle").field("finished", &self.is_finished()).finish()
    }
}
