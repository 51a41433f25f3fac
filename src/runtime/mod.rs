//! The event loop: [`Runtime`], its [`Builder`], and the thread-safe [`Handle`].
//!
//! # Who owns what
//!
//! A runtime is split in two, and the split is the threading story:
//!
//! - `Core` (`core.rs`) is the loop's own state — tasks, run queue, callbacks,
//!   timers, the mio poll. It belongs to one thread and is shared only through
//!   an `Rc`: the [`Runtime`] owns it, and the thread-local *context*
//!   (`context.rs`) borrows it while the loop runs, which is how
//!   `kettle::spawn` and `kettle::sleep` find it.
//! - `Shared` (`shared.rs`) is the part other threads may touch — the
//!   injector queue and the `mio::Waker` — behind an `Arc`. [`Handle`]s and
//!   task wakers hold it; it may outlive the `Core`, and then refuses work.
//!
//! # Ways to run
//!
//! All three run the same [`turn`](Runtime::turn); they differ in when they
//! stop: [`block_on`](Runtime::block_on) when its future completes,
//! [`run_forever`](Runtime::run_forever) when [`Handle::stop`] is called, and
//! `turn` after one iteration — for embedders who drive kettle from their own
//! main loop, watching the poll fd ([`AsFd`](std::os::fd::AsFd)) and calling `turn` when it is
//! readable or when [`Runtime::next_timeout`] runs out.
//!
//! Tasks still pending when a run ends stay in the runtime and go on in the
//! next run, so a loop can be run in phases (asyncio's repeated
//! `run_until_complete`). Dropping the runtime drops them.

pub(crate) mod blocking_pool;
mod builder;
pub(crate) mod clock;
pub(crate) mod context;
pub(crate) mod core;
mod debug;
mod embed;
mod handle;
mod metrics;
pub(crate) mod reactor;
pub(crate) mod registry;
pub(crate) mod run_queue;
pub(crate) mod shared;
mod shuffle;
mod timerfd;

pub use builder::Builder;
pub use debug::{DEFAULT_SLOW_POLL_THRESHOLD, SlowPoll};
pub use embed::TurnError;
pub use handle::{Handle, RuntimeClosed};
pub use metrics::{Metrics, Turn};

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use self::core::Core;
use self::shared::Shared;
use crate::loom::sync::atomic::{AtomicBool, Ordering};
use crate::task::JoinHandle;

/// A single-threaded event loop (asyncio's event loop).
///
/// ```
/// use std::time::Duration;
///
/// let rt = kettle::Runtime::new().unwrap();
/// let answer = rt.block_on(async {
///     let task = kettle::spawn(async {
///         kettle::sleep(Duration::from_millis(10)).await;
///         40
///     });
///     task.await.unwrap() + 2
/// });
/// assert_eq!(answer, 42);
/// ```
///
/// `Runtime` is `!Send`: tasks need not be `Send` because they never leave its
/// thread. Other threads reach it through a [`Handle`].
pub struct Runtime {
    core: Rc<Core>,
    /// `block_on`'s waker, kept for the next `block_on` ([`Runtime::main_waker`]).
    main_waker: Cell<Option<Arc<MainWaker>>>,
}

impl Builder {
    /// Builds the runtime: an epoll instance and an eventfd, nothing else; no
    /// thread is started (blocking threads start on demand).
    ///
    /// # Errors
    /// If the operating system refuses the epoll or eventfd (for instance, out
    /// of file descriptors).
    pub fn build(self) -> io::Result<Runtime> {
        let core = Rc::new(Core::new(&self)?);
        context::register(&core);
        Ok(Runtime { core, main_waker: Cell::new(None) })
    }
}

/// The waker of `block_on`'s own future, which is not a task: a flag, plus a
/// nudge to the loop when woken from another thread.
struct MainWaker {
    woken: AtomicBool,
    shared: Arc<Shared>,
}

impl MainWaker {
    /// Consumes a wake: whether the future is to be polled now. The simple
    /// version swaps the flag back on every pass of `block_on`'s loop, an
    /// atomic read-modify-write (a locked instruction) per turn, where most
    /// turns find the flag clear. A plain load sees that; only a set flag
    /// is swapped. A load may miss a wake from another thread that a swap
    /// would have seen: such a wake has notified the loop, and a turn that
    /// would block looks at the flag again after the injector's lock
    /// (`Core::announce_idle`), which orders it after the notify.
    #[inline(always)]
    fn take_wake(&self) -> bool {
        self.woken.load(Ordering::Acquire) && self.woken.swap(false, Ordering::AcqRel)
    }
}

impl Wake for MainWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // Set the flag first, then notify: see "The remote wake protocol".
        if !self.woken.swap(true, Ordering::AcqRel) && !context::is_current(&self.shared) {
            self.shared.notify();
        }
    }
}

/// A waker for `main` that borrows its reference instead of taking one: the
/// simple version, `Waker::from(main.clone())`, adds to the count and takes
/// it away again, two atomic operations per `block_on`. The future's own
/// clones of it take their own references, as usual — which is what
/// [`Runtime::main_waker`] counts to tell whether a stale clone survives.
fn lend_main_waker(main: &Arc<MainWaker>) -> std::mem::ManuallyDrop<Waker> {
    // `main` outlives the returned waker (both are `block_on`'s locals, the
    // waker declared after), and the `ManuallyDrop` never drops the waker,
    // so the reference it borrows is never released: the count stays `main`'s.
    // SAFETY: `Arc::from_raw` gets the pointer `Arc::as_ptr` gave, valid as long as `main`.
    let borrowed = unsafe { Arc::from_raw(Arc::as_ptr(main)) };
    std::mem::ManuallyDrop::new(Waker::from(borrowed))
}

/// The loop running on this thread, for the length of one `block_on`,
/// `run_forever` or `turn`. However that ends — returning or unwinding —
/// dropping this leaves the loop ([`Core::leave`]) before the runtime stops
/// being current, so that remote work makes the poll fd readable again; and
/// if a host loop drives the runtime, tells it what the run left behind
/// (`core/host.rs`).
struct Running<'a> {
    core: &'a Core,
    _entered: context::Entered,
}

impl<'a> Running<'a> {
    #[track_caller]
    fn enter(core: &'a Rc<Core>, what: &str) -> Running<'a> {
        Running { _entered: context::enter(core, what), core }
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        let wrote = self.core.leave();
        self.core.hand_over_to_host(wrote); // if a host loop drives the runtime (`core/host.rs`)
    }
}

impl Runtime {
    /// Creates a runtime with the default settings.
    ///
    /// # Errors
    /// As [`Builder::build`].
    pub fn new() -> io::Result<Runtime> {
        Builder::new().build()
    }

    /// A [`Builder`] to configure a runtime.
    pub fn builder() -> Builder {
        Builder::new()
    }

    /// Runs the loop until `future` completes, and returns its output
    /// (asyncio's `run_until_complete`).
    ///
    /// `future` is polled on this thread, need not be `Send` or `'static`, and
    /// is not a task: it runs between turns. Tasks it spawns that are still
    /// pending when it completes stay in the runtime for the next run.
    ///
    /// Called from a host loop's callback (an embedder's GUI or game loop),
    /// it runs kettle's loop *instead of* the host's until `future`
    /// completes: the host freezes meanwhile, and a future that needs the
    /// host (a dialog's answer) never completes. From host code, spawn the
    /// future and let the host's loop [`turn`](Runtime::turn) kettle.
    ///
    /// # Panics
    /// If a runtime is already running on this thread (nested `block_on`):
    /// `.await` the future instead. A panic in `future` itself propagates out
    /// of `block_on`; the runtime stays usable.
    #[doc(alias = "run_until_complete")]
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _running = Running::enter(&self.core, "Runtime::block_on");
        let main = self.main_waker();
        let waker = lend_main_waker(&main);
        let mut cx = Context::from_waker(&waker);
        let mut future = pin!(future);
        let mut woken = true; // the first pass polls
        loop {
            if woken && let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                self.main_waker.set(Some(main));
                return output;
            }
            // If the future woke itself while being polled, the turn does
            // not block; if a wake comes in as it decides, it looks again.
            self.core.turn(None, Some(&main.woken));
            woken = main.take_wake();
        }
    }

    /// `block_on`'s waker, not woken (the first pass polls anyway): the one
    /// the last `block_on` used if nothing kept a clone of it, else a new
    /// one. A shortcut: the simple version (kettle-mini's) allocates one per
    /// call, and a program of many short `block_on`s pays an allocation for
    /// each.
    fn main_waker(&self) -> Arc<MainWaker> {
        match self.main_waker.take() {
            // Only ours: no stale waker can wake the next `block_on`'s future,
            // and nobody else can touch the flag while it is cleared.
            Some(main) if Arc::strong_count(&main) == 1 && Arc::weak_count(&main) == 0 => {
                main.woken.store(false, Ordering::Relaxed);
                main
            }
            _ => Arc::new(MainWaker { woken: AtomicBool::new(false), shared: self.core.shared().clone() }),
        }
    }

    /// Runs the loop until [`Handle::stop`] is called, from a task, a callback
    /// or another thread (asyncio's `run_forever`). If `stop` was called
    /// before, runs one turn and returns.
    ///
    /// # Panics
    /// If a runtime is already running on this thread.
    #[track_caller]
    pub fn run_forever(&self) {
        let _running = Running::enter(&self.core, "Runtime::run_forever");
        loop {
            // A stop requested before this turn (perhaps during an earlier
            // `block_on`, whose turns ignore it) must not let the loop block:
            // poll once without waiting, run what is ready, return (asyncio).
            // A stop requested later either lands during the turn and is
            // seen below, or wakes the blocked poll through `notify`.
            let max_wait = self.core.shared().stop_requested().then_some(Duration::ZERO);
            self.core.turn(max_wait, None);
            if self.core.shared().take_stop() {
                return;
            }
        }
    }

    /// Spawns `future` as a task, from outside the loop: it runs once the loop
    /// runs. Inside the loop use [`kettle::spawn`](crate::spawn).
    #[doc(alias = "create_task")]
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
    {
        let task = self.core.spawn(future, std::panic::Location::caller());
        // From host code between runs: make the poll fd readable, so that a
        // host watching it runs the task (`embed.rs`). Inside a run of this
        // runtime the task just runs on a later turn.
        if !context::is_current(self.core.shared()) {
            self.core.shared().wake_from_host();
        }
        JoinHandle::new(task)
    }

    /// A task dump: every task this runtime holds, by id (asyncio's
    /// `asyncio.all_tasks()`) — queued, idle, and, when called from inside
    /// a task, the running one; in debug mode also those finished whose
    /// output nobody has read. Each prints as one line (`Display`). Other
    /// threads use [`Handle::tasks`].
    ///
    /// ```
    /// let rt = kettle::Runtime::new().unwrap();
    /// let task = rt.spawn(async { kettle::sleep(std::time::Duration::from_secs(60)).await });
    /// rt.turn(Some(std::time::Duration::ZERO)); // runs it once: now it waits
    /// let dump = rt.tasks();
    /// assert_eq!(dump.len(), 1);
    /// assert_eq!(dump[0].id, task.id());
    /// assert_eq!(dump[0].state, kettle::task::TaskState::Idle);
    /// for info in &dump {
    ///     println!("{info}");
    /// }
    /// ```
    #[doc(alias = "all_tasks")]
    pub fn tasks(&self) -> Vec<crate::task::TaskInfo> {
        self.core.tasks()
    }

    /// Starts recording a timeline of the loop: each turn's steps, each task
    /// poll, each callback, the timers fired, the I/O events and the tasks
    /// spawned from other threads, into a ring buffer of
    /// [`Builder::trace_capacity`] events (see [`crate::trace`]). While it
    /// records, the loop also times its tasks (task dumps show `age` and
    /// `busy`). [`stop_trace`](Runtime::stop_trace) returns what was
    /// recorded.
    ///
    /// ```
    /// let rt = kettle::Runtime::new().unwrap();
    /// rt.start_trace();
    /// rt.block_on(async {
    ///     let task = kettle::task::Builder::new().name("nap").spawn(kettle::sleep(std::time::Duration::from_millis(5)));
    ///     task.await.unwrap();
    /// });
    /// let trace = rt.stop_trace();
    /// assert!(trace.events().iter().any(|event| matches!(event, kettle::TraceEvent::Poll { .. })));
    /// let mut svg = Vec::new();
    /// trace.write_svg(&mut svg).unwrap();
    /// assert!(String::from_utf8(svg).unwrap().contains("nap"));
    /// ```
    ///
    /// # Panics
    /// If a trace is already recording: call `stop_trace` first.
    pub fn start_trace(&self) {
        self.core.start_trace();
    }

    /// Stops recording and returns the timeline recorded since
    /// [`start_trace`](Runtime::start_trace): write it as a picture
    /// ([`Trace::write_svg`](crate::trace::Trace::write_svg)) or for a trace
    /// viewer ([`Trace::write_chrome_json`](crate::trace::Trace::write_chrome_json)).
    ///
    /// # Panics
    /// If no trace is recording: call `start_trace` first.
    pub fn stop_trace(&self) -> crate::trace::Trace {
        self.core.stop_trace()
    }

    /// A thread-safe [`Handle`] to this runtime.
    pub fn handle(&self) -> Handle {
        Handle::new(self.core.shared().clone())
    }

    /// A snapshot of the runtime's counters. Code running inside the
    /// runtime can ask [`kettle::metrics`](crate::metrics()), and other
    /// threads [`Handle::metrics`].
    ///
    /// ```
    /// let rt = kettle::Runtime::new().unwrap();
    /// rt.block_on(async { kettle::spawn(async {}).await.unwrap() });
    /// let metrics = rt.metrics();
    /// assert_eq!((metrics.tasks_spawned, metrics.tasks_alive), (1, 0));
    /// ```
    pub fn metrics(&self) -> Metrics {
        self.core.metrics()
    }
}

impl Drop for Runtime {
    /// Drops every remaining task, callback and timer exactly once, on this
    /// thread, with the runtime entered so that destructors that spawn or wake
    /// find it; then closes the poll and the eventfd. Handles see the runtime
    /// as closed from now on.
    ///
    /// Never panics: the shutdown comes before anything that could fail, and
    /// debug mode's listing of the tasks it dropped unfinished is written
    /// after it, by a write that ignores a closed or broken stderr.
    fn drop(&mut self) {
        let leftovers = {
            let _entered = context::enter_for_shutdown(&self.core);
            // Debug mode: name the tasks about to be dropped unfinished. The
            // lines are made while the tasks exist, and written once they are
            // gone. Making them lets go of the finished tasks kept for dumps
            // whose output was read: user code, run with the runtime entered.
            let leftovers = self.core.leftover_report();
            self.core.shutdown();
            context::unregister(&self.core);
            leftovers
        };
        leftovers.into_iter().for_each(crate::stderr::write_line);
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime").field("id", &self.core.id()).finish_non_exhaustive()
    }
}

/// Creates a runtime, runs `future` to completion on it, and drops it
/// (asyncio's `asyncio.run`).
///
/// # Panics
/// If the runtime cannot be created (no file descriptors left), or inside a
/// running runtime.
///
/// ```
/// assert_eq!(kettle::run(async { 1 + 1 }), 2);
/// ```
#[doc(alias = "asyncio.run")]
#[track_caller]
pub fn run<F: Future>(future: F) -> F::Output {
    let rt = Runtime::new().expect("kettle::run: could not create a runtime (epoll/eventfd)");
    rt.block_on(future)
}

/// A snapshot of the counters of the runtime running this code: what
/// [`Runtime::metrics`](crate::Runtime::metrics) says, for a task — a
/// server's admin endpoint, say — that does not hold the `Runtime`.
///
/// ```
/// kettle::run(async {
///     let worker = kettle::spawn(kettle::sleep(std::time::Duration::from_millis(5)));
///     let metrics = kettle::metrics();
///     assert_eq!(metrics.tasks_alive, 1);
///     assert_eq!(metrics.timers_pending, 0); // the worker has not run yet
///     worker.await.unwrap();
///     assert_eq!(kettle::metrics().tasks_alive, 0);
/// });
/// ```
///
/// # Panics
/// Outside a runtime (like [`kettle::spawn`](crate::spawn)); from another
/// thread use [`Handle::metrics`](crate::Handle::metrics).
#[track_caller]
pub fn metrics() -> Metrics {
    context::expect_current("kettle::metrics", |core| core.metrics())
}
