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

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use super::context;
use super::shared::{Remote, Shared};
use crate::task::{JoinHandle, RemoteJoinHandle, TaskRef};

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

/// The error from [`Handle::call_soon`] once the runtime has been dropped.
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
    pub fn spawn<F>(&self, future: F) -> RemoteJoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        RemoteJoinHandle::new(JoinHandle::new(TaskRef::spawn_remote(future, &self.shared)))
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
    pub fn spawn_with<M, Fut>(&self, make: M) -> RemoteJoinHandle<Fut::Output>
    where
        M: FnOnce() -> Fut + Send + 'static,
        Fut: Future + 'static,
        Fut::Output: Send + 'static,
    {
        RemoteJoinHandle::new(JoinHandle::new(TaskRef::spawn_remote_with(make, &self.shared)))
    }

    /// Schedules `callback` to run on the loop's thread on its next turn
    /// (asyncio's `call_soon_threadsafe`), waking the loop if it is blocked.
    ///
    /// # Errors
    /// [`RuntimeClosed`] if the runtime has been dropped; `callback` is then
    /// dropped without running.
    #[doc(alias = "call_soon_threadsafe")]
    pub fn call_soon<F>(&self, callback: F) -> Result<(), RuntimeClosed>
    where
        F: FnOnce() + Send + 'static,
    {
        self.shared.push(Remote::Call(Box::new(callback))).map_err(|_| RuntimeClosed)
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
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle").field("runtime", &self.shared.id()).finish()
    }
}
