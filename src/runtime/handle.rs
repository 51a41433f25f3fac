//! Reaching a runtime from anywhere: [`Handle`].
//!
//! A handle is an `Arc` of the runtime's `Shared` part and nothing else, so it
//! is `Send + Sync` and may outlive the runtime. Everything it does is a push
//! into the injector (see `shared.rs`), which wakes the loop if it is idle:
//! `spawn` pushes a task cell built on the calling thread, `spawn_with` one
//! whose future is built on the loop, `call_soon` a closure; `stop` sets a
//! flag and nudges the loop. Once the runtime is gone the injector refuses
//! every push, and each method turns that into its documented answer
//! (a cancelled task, an error, a no-op) on the caller's side.
//!
//! # Asking the loop a question: `metrics` and `tasks`
//!
//! [`Handle::metrics`] and [`Handle::tasks`] need an answer back, and the
//! answer lives in `Core`, which only the loop's thread may touch. So it
//! looks at where it is called:
//!
//! ```text
//!  called on the runtime's own thread ──▶ read the Core directly
//!    (in a task, a callback, block_on's     (context::with_runtime finds it,
//!     future, or between runs)               running or not); gone: RuntimeClosed
//!  called on any other thread ─────────▶ push a Remote::Call that sends the
//!                                          snapshot down a channel; block on it
//! ```
//!
//! The first branch is not an optimisation: on the loop's thread a blocking
//! wait could never end, since the loop that must answer is the thread
//! waiting. The second costs the hot path nothing (no counter is mirrored
//! in atomics for other threads to read); it costs the asker a round trip
//! through the injector, answered within the loop's next turn. If the
//! runtime is dropped meanwhile, shutdown drops the request unrun, which
//! drops the channel's sender, and the wait ends with [`RuntimeClosed`] —
//! so the only wait that does not end is on a runtime kept alive but never
//! run again, which [`Handle::metrics_timeout`] bounds.

use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::sync::{Arc, mpsc};
use std::time::Duration;

use super::context;
use super::core::Core;
use super::metrics::Metrics;
use super::shared::{Remote, Shared};
use crate::task::header::TaskRef;
use crate::task::{JoinHandle, RemoteJoinHandle, TaskInfo};

/// A thread-safe reference to a runtime: the way other threads submit work to
/// the loop (asyncio's `run_coroutine_threadsafe` and `call_soon_threadsafe`).
///
/// Cheap to clone; `Send + Sync`. A handle may outlive its runtime: then
/// [`spawn`](Handle::spawn) gives an already-cancelled task and
/// [`call_soon`](Handle::call_soon) an error — never a hang.
///
/// ```
/// let rt = kettle::Runtime::new().unwrap();
/// let handle = rt.handle();
/// let worker = std::thread::spawn(move || {
///     let task = handle.spawn(async { kettle::sleep(std::time::Duration::from_millis(5)).await; 42 });
///     let answer = task.wait().unwrap();
///     handle.stop();
///     answer
/// });
/// rt.run_forever();
/// assert_eq!(worker.join().unwrap(), 42);
/// ```
///
/// A `Runtime` itself cannot cross threads; only handles can:
///
/// ```compile_fail
/// let rt = kettle::Runtime::new().unwrap();
/// std::thread::spawn(move || rt.block_on(async {}));
/// ```
#[derive(Clone)]
pub struct Handle {
    shared: Arc<Shared>,
}

/// The error from [`Handle::call_soon`] and [`Handle::metrics`] once the
/// runtime has been dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuntimeClosed;

impl fmt::Display for RuntimeClosed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the kettle runtime behind this handle has been dropped")
    }
}

impl std::error::Error for RuntimeClosed {}

impl Handle {
    pub(crate) fn new(shared: Arc<Shared>) -> Handle {
        Handle { shared }
    }

    /// The handle of the runtime running on this thread.
    ///
    /// # Panics
    /// Outside a runtime; use [`Runtime::handle`](crate::Runtime::handle) to
    /// get one beforehand, or [`Handle::try_current`].
    #[track_caller]
    pub fn current() -> Handle {
        context::expect_current("kettle::Handle::current", |core| Handle::new(core.shared().clone()))
    }

    /// The handle of the runtime running on this thread, if any.
    pub fn try_current() -> Option<Handle> {
        context::with_current(|core| core.map(|core| Handle::new(core.shared().clone())))
    }

    /// Submits `future` to the loop from any thread (asyncio's
    /// `run_coroutine_threadsafe`). The task starts on the loop's next turn,
    /// waking it if it is blocked.
    ///
    /// If the runtime is gone, the future is dropped here and the handle
    /// resolves at once to a [`JoinError`](crate::JoinError) with
    /// `is_cancelled()`.
    #[doc(alias = "run_coroutine_threadsafe")]
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> RemoteJoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        RemoteJoinHandle::new(JoinHandle::new(TaskRef::spawn_remote(
            future,
            &self.shared,
            Location::caller(),
        )))
    }

    /// Like [`spawn`](Handle::spawn), but the future is built on the loop's
    /// thread by `make`, so it need not be `Send`: it may hold `Rc`s, queues
    /// or events. Only `make` and the output cross threads.
    ///
    /// ```
    /// use std::rc::Rc;
    /// let rt = kettle::Runtime::new().unwrap();
    /// let handle = rt.handle();
    /// let task = handle.spawn_with(|| {
    ///     let shared = Rc::new(20); // not Send
    ///     async move { *shared + 22 }
    /// });
    /// assert_eq!(rt.block_on(task).unwrap(), 42);
    /// ```
    #[doc(alias = "run_coroutine_threadsafe")]
    #[track_caller]
    pub fn spawn_with<M, Fut>(&self, make: M) -> RemoteJoinHandle<Fut::Output>
    where
        M: FnOnce() -> Fut + Send + 'static,
        Fut: Future + 'static,
        Fut::Output: Send + 'static,
    {
        RemoteJoinHandle::new(JoinHandle::new(TaskRef::spawn_remote_with(
            make,
            &self.shared,
            Location::caller(),
        )))
    }

    /// Schedules `callback` to run on the loop's thread on its next turn
    /// (asyncio's `call_soon_threadsafe`), waking the loop if it is blocked.
    ///
    /// # Errors
    /// [`RuntimeClosed`] if the runtime has been dropped; `callback` is then
    /// dropped without running.
    #[doc(alias = "call_soon_threadsafe")]
    #[track_caller]
    pub fn call_soon<F>(&self, callback: F) -> Result<(), RuntimeClosed>
    where
        F: FnOnce() + Send + 'static,
    {
        self.shared.push(Remote::Call(Box::new(callback), Location::caller())).map_err(|_| RuntimeClosed)
    }

    /// Asks [`Runtime::run_forever`](crate::Runtime::run_forever) to return
    /// after finishing its current turn (asyncio's `loop.stop()`). Works from
    /// any thread and from inside the loop. If the loop is not running
    /// forever right now, the next `run_forever` runs one turn and returns.
    /// Does nothing once the runtime is gone.
    pub fn stop(&self) {
        self.shared.request_stop();
    }

    /// Whether the runtime has been dropped.
    pub fn is_closed(&self) -> bool {
        self.shared.is_closed()
    }

    /// A snapshot of the runtime's counters, from anywhere — a task serving
    /// an admin endpoint, a monitoring thread — without the [`Runtime`].
    ///
    /// - On the runtime's own thread (inside it, or between its runs) the
    ///   snapshot is taken at once.
    /// - From another thread, the request goes through the injector and this
    ///   call **blocks** until the loop answers, within its next turn: at
    ///   once if the loop is running (an idle loop is woken for it), but not
    ///   before the next `block_on`, `run_forever` or `turn` if nobody is
    ///   driving the loop right now. Use
    ///   [`metrics_timeout`](Handle::metrics_timeout) to bound that wait.
    ///   Inside a task of another runtime, that runtime's loop waits too.
    ///
    /// Inside the runtime, [`kettle::metrics`](crate::metrics()) says the
    /// same without a handle.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = kettle::Runtime::new().unwrap();
    /// let handle = rt.handle();
    /// let monitor = std::thread::spawn({
    ///     let handle = handle.clone();
    ///     move || {
    ///         let metrics = handle.metrics().unwrap(); // waits for the loop's next turn
    ///         handle.stop();
    ///         metrics
    ///     }
    /// });
    /// let _sleeper = rt.spawn(kettle::sleep(Duration::from_secs(60)));
    /// rt.run_forever();
    /// assert_eq!(monitor.join().unwrap().tasks_alive, 1);
    ///
    /// assert_eq!(handle.metrics().unwrap().tasks_alive, 1); // the loop's thread: at once
    /// drop(rt);
    /// assert_eq!(handle.metrics(), Err(kettle::RuntimeClosed));
    /// ```
    ///
    /// # Errors
    /// [`RuntimeClosed`] if the runtime has been dropped, before the call or
    /// while it waits: never a hang on a runtime that is gone.
    ///
    /// [`Runtime`]: crate::Runtime
    pub fn metrics(&self) -> Result<Metrics, RuntimeClosed> {
        self.ask(Core::metrics, None).expect("no deadline, so no timeout")
    }

    /// Like [`metrics`](Handle::metrics), waiting at most `timeout` for the
    /// loop to answer from another thread: `None` if it did not (the
    /// request stays queued and is answered, to nobody, on the loop's next
    /// turn). On the runtime's own thread it never waits.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = kettle::Runtime::new().unwrap();
    /// let handle = rt.handle();
    /// // Nobody drives the loop while this thread asks: no answer in time.
    /// let asked = std::thread::spawn(move || handle.metrics_timeout(Duration::from_millis(10)));
    /// assert_eq!(asked.join().unwrap(), None);
    /// ```
    ///
    /// # Errors
    /// `Some(Err(RuntimeClosed))` if the runtime has been dropped.
    pub fn metrics_timeout(&self, timeout: Duration) -> Option<Result<Metrics, RuntimeClosed>> {
        self.ask(Core::metrics, Some(timeout))
    }

    /// A task dump from anywhere (asyncio's `all_tasks(loop)`), taken on the
    /// loop's thread: see [`Runtime::tasks`](crate::Runtime::tasks) for
    /// what it lists. Like [`metrics`](Handle::metrics), on the runtime's own
    /// thread it reads at once, and from another thread it **blocks** until
    /// the loop's next turn answers ([`tasks_timeout`](Handle::tasks_timeout)
    /// bounds the wait).
    ///
    /// ```
    /// let rt = kettle::Runtime::new().unwrap();
    /// let handle = rt.handle();
    /// let watcher = std::thread::spawn({
    ///     let handle = handle.clone();
    ///     move || {
    ///         let dump = handle.tasks().unwrap(); // taken on the loop, next turn
    ///         handle.stop();
    ///         dump
    ///     }
    /// });
    /// let sleeper = kettle::task::Builder::new().name("sleeper");
    /// let task = rt.block_on(async { sleeper.spawn(kettle::sleep(std::time::Duration::from_secs(60))) });
    /// rt.run_forever();
    /// let dump = watcher.join().unwrap();
    /// assert_eq!(dump.len(), 1);
    /// assert_eq!((dump[0].id, dump[0].name.as_deref()), (task.id(), Some("sleeper")));
    /// drop(rt);
    /// assert_eq!(handle.tasks(), Err(kettle::RuntimeClosed));
    /// ```
    ///
    /// # Errors
    /// [`RuntimeClosed`] if the runtime has been dropped, before the call or
    /// while it waits.
    #[doc(alias = "all_tasks")]
    pub fn tasks(&self) -> Result<Vec<TaskInfo>, RuntimeClosed> {
        self.ask(Core::tasks, None).expect("no deadline, so no timeout")
    }

    /// Like [`tasks`](Handle::tasks), waiting at most `timeout` for the loop
    /// to answer from another thread: `None` if it did not.
    ///
    /// # Errors
    /// `Some(Err(RuntimeClosed))` if the runtime has been dropped.
    pub fn tasks_timeout(&self, timeout: Duration) -> Option<Result<Vec<TaskInfo>, RuntimeClosed>> {
        self.ask(Core::tasks, Some(timeout))
    }

    /// Asks the loop `question` and returns its answer: see "Asking the loop
    /// a question" in the module docs. `None` if `timeout` passed first.
    fn ask<R: Send + 'static>(
        &self,
        question: fn(&Core) -> R,
        timeout: Option<Duration>,
    ) -> Option<Result<R, RuntimeClosed>> {
        if self.shared.is_owner_thread() {
            // Running or not, a runtime living on this thread is found by id;
            // one that is not found has been dropped.
            let answer = context::with_runtime(self.shared.id(), |core| core.map(question));
            return Some(answer.ok_or(RuntimeClosed));
        }
        let (answer, reply) = mpsc::sync_channel(1);
        // Runs as a callback on the loop's thread, where the runtime is
        // current. Dropped unrun at shutdown: `reply` then sees the sender gone.
        let id = self.shared.id();
        let ask = move || {
            if let Some(value) = context::with_runtime(id, |core| core.map(question)) {
                let _ = answer.send(value);
            }
        };
        if self.shared.push(Remote::Call(Box::new(ask), Location::caller())).is_err() {
            return Some(Err(RuntimeClosed));
        }
        match timeout {
            None => Some(reply.recv().map_err(|_| RuntimeClosed)),
            Some(timeout) => match reply.recv_timeout(timeout) {
                Ok(value) => Some(Ok(value)),
                Err(mpsc::RecvTimeoutError::Disconnected) => Some(Err(RuntimeClosed)),
                Err(mpsc::RecvTimeoutError::Timeout) => None,
            },
        }
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle").field("runtime", &self.shared.id()).finish()
    }
}
