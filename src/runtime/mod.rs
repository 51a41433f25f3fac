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
//! main loop, watching the poll fd ([`AsRawFd`]) and calling `turn` when it is
//! readable or when [`Runtime::next_timeout`] runs out.
//!
//! Tasks still pending when a run ends stay in the runtime and go on in the
//! next run, so a loop can be run in phases (asyncio's repeated
//! `run_until_complete`). Dropping the runtime drops them.

mod blocking_pool;
pub(crate) mod clock;
pub(crate) mod context;
pub(crate) mod core;
mod debug;
mod handle;
mod metrics;
pub(crate) mod reactor;
pub(crate) mod registry;
pub(crate) mod shared;
mod shuffle;
mod timerfd;

pub use debug::{DEFAULT_SLOW_POLL_THRESHOLD, SlowPoll};
pub use handle::{Handle, RuntimeClosed};
pub use metrics::{Metrics, Turn, metrics};

use std::fmt;
use std::future::Future;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use self::core::Core;
use self::shared::Shared;
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
}

/// Configures a [`Runtime`] before it is built.
///
/// Not `Send`, like the runtime: its slow-poll hook
/// ([`on_slow_poll`](Builder::on_slow_poll)) may hold `Rc`s.
#[derive(Clone, Debug)]
pub struct Builder {
    pub(crate) event_capacity: usize,
    pub(crate) max_blocking_threads: usize,
    pub(crate) blocking_keep_alive: Duration,
    /// Debug mode's threshold; `None`: debug mode off.
    slow_poll_threshold: Option<Duration>,
    on_slow_poll: SlowPollHookSlot,
    pub(crate) trace_capacity: usize,
    pub(crate) start_paused: bool,
    pub(crate) seed: Option<u64>,
}

/// The builder's slow-poll hook, with a `Debug` that says only whether
/// there is one.
#[derive(Clone, Default)]
struct SlowPollHookSlot(Option<debug::SlowPollHook>);

impl fmt::Debug for SlowPollHookSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() { "Some(<hook>)" } else { "None" })
    }
}

impl Builder {
    /// A builder with the defaults — and debug mode on, with the default
    /// threshold, if the environment has `KETTLE_DEBUG=1` (any value but
    /// empty or `0`), as asyncio honours `PYTHONASYNCIODEBUG`. So
    /// [`Runtime::new`] and [`kettle::run`](crate::run) honour it too.
    pub fn new() -> Builder {
        let from_env = debug::env_asks_for_debug(std::env::var_os("KETTLE_DEBUG").as_deref());
        Builder {
            event_capacity: 1024,
            max_blocking_threads: 64,
            blocking_keep_alive: Duration::from_secs(10),
            slow_poll_threshold: from_env.then_some(DEFAULT_SLOW_POLL_THRESHOLD),
            on_slow_poll: SlowPollHookSlot::default(),
            trace_capacity: crate::trace::DEFAULT_CAPACITY,
            start_paused: false,
            seed: None,
        }
    }

    /// How many events a trace keeps ([`Runtime::start_trace`]): default
    /// 65,536 (a few megabytes); at least 1. When the ring buffer is full,
    /// each new event overwrites the oldest, and
    /// [`Trace::dropped`](crate::trace::Trace::dropped) counts them.
    pub fn trace_capacity(mut self, events: usize) -> Builder {
        self.trace_capacity = events.max(1);
        self
    }

    /// Turns debug mode on (asyncio's `loop.set_debug(True)`): every task
    /// poll and every callback that runs longer than `threshold` is
    /// reported — to the [`on_slow_poll`](Builder::on_slow_poll) hook, by
    /// default one line on stderr. asyncio's default is 100 ms
    /// ([`DEFAULT_SLOW_POLL_THRESHOLD`]). Debug mode also times tasks for
    /// dumps and lists pending tasks when the runtime is dropped; see
    /// [`SlowPoll`] and the `runtime::debug` essay for the cost.
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = kettle::Builder::new().slow_poll_threshold(Duration::from_millis(20)).build().unwrap();
    /// rt.block_on(async {
    ///     // Prints: kettle: task 1 (src/main.rs:6:5) took 30.1 ms in one poll (threshold 20 ms)
    ///     kettle::spawn(async { std::thread::sleep(Duration::from_millis(30)) }).await.unwrap();
    /// });
    /// ```
    #[doc(alias = "set_debug")]
    #[doc(alias = "slow_callback_duration")]
    pub fn slow_poll_threshold(mut self, threshold: Duration) -> Builder {
        self.slow_poll_threshold = Some(threshold);
        self
    }

    /// Where debug mode reports slow polls and callbacks, instead of
    /// stderr. Called on the loop's thread, right after the slow step; a
    /// panic in it is contained. It need not be `Send` (it may hold `Rc`s),
    /// which is why a `Builder` is not `Send`: build it on the thread that
    /// will run the runtime, as the runtime itself is. Turns debug mode on, with the default
    /// threshold unless [`slow_poll_threshold`](Builder::slow_poll_threshold)
    /// sets another.
    ///
    /// ```
    /// use std::{cell::RefCell, rc::Rc, time::Duration};
    /// let reports = Rc::new(RefCell::new(Vec::new()));
    /// let sink = reports.clone();
    /// let rt = kettle::Builder::new()
    ///     .slow_poll_threshold(Duration::from_millis(10))
    ///     .on_slow_poll(move |slow| sink.borrow_mut().push(slow.clone()))
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(async {
    ///     let task = kettle::task::Builder::new().name("crunch").spawn(async {
    ///         std::thread::sleep(Duration::from_millis(20)); // blocks the loop
    ///     });
    ///     task.await.unwrap();
    /// });
    /// let reports = reports.borrow();
    /// assert_eq!(reports.len(), 1);
    /// assert_eq!(reports[0].name.as_deref(), Some("crunch"));
    /// assert!(reports[0].duration >= Duration::from_millis(20));
    /// ```
    pub fn on_slow_poll<F>(mut self, hook: F) -> Builder
    where
        F: Fn(&SlowPoll) + 'static,
    {
        self.on_slow_poll = SlowPollHookSlot(Some(Rc::new(hook)));
        self.slow_poll_threshold.get_or_insert(DEFAULT_SLOW_POLL_THRESHOLD);
        self
    }

    /// Debug mode's settings, if it is on.
    pub(crate) fn debug_mode(&self) -> Option<debug::DebugMode> {
        let threshold = self.slow_poll_threshold?;
        Some(debug::DebugMode::new(threshold, self.on_slow_poll.0.clone()))
    }

    /// How many readiness events one poll can return (default 1024). More
    /// events than this are simply returned by the next turn.
    pub fn event_capacity(mut self, capacity: usize) -> Builder {
        self.event_capacity = capacity;
        self
    }

    /// The most threads [`spawn_blocking`](crate::spawn_blocking) may run at
    /// once (default 64; at least 1). Further jobs wait for a free thread.
    pub fn max_blocking_threads(mut self, max: usize) -> Builder {
        self.max_blocking_threads = max;
        self
    }

    /// How long an idle blocking thread waits for a new job before it exits
    /// (default 10 s).
    pub fn blocking_keep_alive(mut self, keep_alive: Duration) -> Builder {
        self.blocking_keep_alive = keep_alive;
        self
    }

    /// Whether the runtime's clock starts paused (default `false`), for
    /// tests: time then stands still while anything can run, and jumps to
    /// the next timer when nothing can (tokio's `start_paused`).
    ///
    /// The clock starts at the real [`Instant::now()`](std::time::Instant::now)
    /// when the runtime is built. It does not move while tasks or callbacks
    /// are runnable; when the loop would otherwise block with timers pending,
    /// it first checks I/O without blocking, and if that and the other
    /// threads brought nothing, and no [`spawn_blocking`](crate::spawn_blocking)
    /// job is in flight, it jumps the clock to the next timer's deadline at
    /// once. So a one-hour [`sleep`](crate::sleep) takes no real time, and
    /// timers fire in a reproducible order: by deadline, then in the order
    /// they were set. I/O, [`Handle`]s and blocking jobs work as usual; with
    /// no timer pending the loop waits for them for real.
    /// [`kettle::time::advance`](crate::time::advance) moves the clock by
    /// hand, and [`kettle::time::now`](crate::time::now) reads it. Every
    /// kettle timer follows it; `std::time::Instant::now()` does not.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    ///
    /// let rt = kettle::Builder::new().start_paused(true).build().unwrap();
    /// let real = Instant::now();
    /// rt.block_on(async {
    ///     let start = kettle::time::now();
    ///     kettle::sleep(Duration::from_secs(3600)).await; // an hour, at once
    ///     assert_eq!(kettle::time::now() - start, Duration::from_secs(3600));
    /// });
    /// assert!(real.elapsed() < Duration::from_secs(60));
    /// ```
    #[doc(alias = "pause")]
    pub fn start_paused(mut self, paused: bool) -> Builder {
        self.start_paused = paused;
        self
    }

    /// Runs each turn's ready tasks in an order shuffled by a pseudo-random
    /// generator seeded with `seed` (default: no seed, and tasks run in the
    /// order they were woken), for tests: sweeping seeds explores
    /// interleavings that wake order never tries, and a failure replays from
    /// its seed. [`kettle::test::check`](crate::test::check) does the sweep.
    ///
    /// Only the order within a turn changes: a task woken during a turn
    /// still runs on the next one, callbacks ([`call_soon`](crate::call_soon))
    /// keep their first-in, first-out order, and timers still fire by
    /// deadline. A schedule replays exactly when the program's other inputs
    /// (I/O, threads, real time) are deterministic too: pair it with
    /// [`start_paused`](Builder::start_paused).
    ///
    /// ```
    /// use std::{cell::RefCell, rc::Rc};
    ///
    /// fn order(seed: u64) -> Vec<u32> {
    ///     let rt = kettle::Builder::new().seed(seed).build().unwrap();
    ///     let order = Rc::new(RefCell::new(Vec::new()));
    ///     rt.block_on(async {
    ///         let tasks: Vec<_> = (0..8)
    ///             .map(|i| {
    ///                 let order = order.clone();
    ///                 kettle::spawn(async move { order.borrow_mut().push(i) })
    ///             })
    ///             .collect();
    ///         kettle::gather(tasks).await;
    ///     });
    ///     order.take()
    /// }
    /// assert_eq!(order(17), order(17)); // the same seed, the same order
    /// ```
    #[doc(alias = "shuffle")]
    #[doc(alias = "rng_seed")]
    pub fn seed(mut self, seed: u64) -> Builder {
        self.seed = Some(seed);
        self
    }

    /// Builds the runtime: an epoll instance and an eventfd, nothing else; no
    /// thread is started (blocking threads start on demand).
    ///
    /// # Errors
    /// If the operating system refuses the epoll or eventfd (for instance, out
    /// of file descriptors).
    pub fn build(self) -> io::Result<Runtime> {
        let core = Rc::new(Core::new(&self)?);
        context::register(&core);
        Ok(Runtime { core })
    }
}

impl Default for Builder {
    fn default() -> Builder {
        Builder::new()
    }
}

/// The waker of `block_on`'s own future, which is not a task: a flag, plus a
/// nudge to the loop when woken from another thread.
struct MainWaker {
    woken: AtomicBool,
    shared: Arc<Shared>,
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

/// The loop running on this thread, for the length of one `block_on`,
/// `run_forever` or `turn`. However that ends — returning or unwinding —
/// dropping this leaves the loop ([`Core::leave`]) before the runtime stops
/// being current, so that remote work makes the poll fd readable again.
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
        self.core.leave();
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
    /// # Panics
    /// If a runtime is already running on this thread (nested `block_on`):
    /// `.await` the future instead. A panic in `future` itself propagates out
    /// of `block_on`; the runtime stays usable.
    #[doc(alias = "run_until_complete")]
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _running = Running::enter(&self.core, "Runtime::block_on");
        let main = Arc::new(MainWaker { woken: AtomicBool::new(true), shared: self.core.shared().clone() });
        let waker = Waker::from(main.clone());
        let mut cx = Context::from_waker(&waker);
        let mut future = pin!(future);
        loop {
            if main.woken.swap(false, Ordering::AcqRel)
                && let Poll::Ready(output) = future.as_mut().poll(&mut cx)
            {
                return output;
            }
            // If the future woke itself while being polled, don't block.
            let main_ready = main.woken.load(Ordering::Acquire);
            self.core.turn(main_ready.then_some(Duration::ZERO), main_ready);
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
            self.core.turn(max_wait, false);
            if self.core.shared().take_stop() {
                return;
            }
        }
    }

    /// Runs exactly one loop iteration, blocking at most `max_wait` for I/O or
    /// timers (`None`: until something happens; `Some(Duration::ZERO)`: not at
    /// all), and reports what it did.
    ///
    /// This is the embedder's entry point: a host program with its own main
    /// loop watches [`as_raw_fd`](AsRawFd::as_raw_fd) for readability (it
    /// becomes readable on I/O and on wakes from other threads) and calls
    /// `turn(Some(Duration::ZERO))` when it is, or when
    /// [`next_timeout`](Runtime::next_timeout) has passed.
    ///
    /// # Panics
    /// If a runtime is already running on this thread.
    #[track_caller]
    pub fn turn(&self, max_wait: Option<Duration>) -> Turn {
        let _running = Running::enter(&self.core, "Runtime::turn");
        self.core.turn(max_wait, false)
    }

    /// How long the next [`turn`](Runtime::turn) would block if nothing
    /// happened: zero if tasks or callbacks are queued, the time to the next
    /// timer otherwise, `None` if there is neither (only I/O or another thread
    /// can create work then).
    pub fn next_timeout(&self) -> Option<Duration> {
        self.core.poll_timeout(None)
    }

    /// Spawns `future` as a task, from outside the loop: it runs once the loop
    /// runs. Inside the loop use [`kettle::spawn`](crate::spawn).
    #[doc(alias = "create_task")]
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
    {
        self.core.spawn(future, std::panic::Location::caller())
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

impl AsRawFd for Runtime {
    /// The epoll fd: readable when a turn has I/O or remote work to do.
    fn as_raw_fd(&self) -> RawFd {
        self.core.poll_fd()
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
        // Debug mode: name the tasks about to be dropped unfinished. The
        // lines are made while the tasks exist, and written once they are gone.
        let leftovers = self.core.leftover_report();
        {
            let _entered = context::enter_for_shutdown(&self.core);
            self.core.shutdown();
            context::unregister(&self.core);
        }
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
