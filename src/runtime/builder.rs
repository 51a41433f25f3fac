//! [`Builder`]: a runtime's options, set before it is built.
//!
//! Each option is read once, by `Core::new` (and its extras,
//! `core/extras.rs`); [`Builder::build`] lives beside [`Runtime`](crate::Runtime) in
//! `mod.rs`.

use std::fmt;
use std::rc::Rc;
use std::time::Duration;

use super::debug::{self, DEFAULT_SLOW_POLL_THRESHOLD, SlowPoll};
use super::shared::WakeHook;

/// Configures a [`Runtime`](crate::Runtime) before it is built.
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
    pub(crate) on_wake: WakeHookSlot,
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

/// The builder's wake callback, with a `Debug` that says only whether
/// there is one.
#[derive(Clone, Default)]
pub(crate) struct WakeHookSlot(pub(crate) Option<WakeHook>);

impl fmt::Debug for WakeHookSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() { "Some(<hook>)" } else { "None" })
    }
}

impl Builder {
    /// A builder with the defaults — and debug mode on, with the default
    /// threshold, if the environment has `KETTLE_DEBUG=1` (any value but
    /// empty or `0`), as asyncio honours `PYTHONASYNCIODEBUG`. So
    /// [`Runtime::new`](crate::Runtime::new) and [`kettle::run`](crate::run) honour it too.
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
            on_wake: WakeHookSlot::default(),
        }
    }

    /// How many events a trace keeps ([`Runtime::start_trace`](crate::Runtime::start_trace)): default
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
    /// they were set. I/O, [`Handle`](crate::Handle)s and blocking jobs work as usual; with
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

    /// Calls `hook` whenever kettle goes from having nothing to do to
    /// having work, for a host loop that cannot watch the poll fd
    /// ([`AsFd`](std::os::fd::AsFd)): a game loop's condition variable,
    /// winit's `EventLoopProxy`. The host then runs a
    /// [`turn`](crate::Runtime::turn).
    ///
    /// It fires at the moments kettle makes its poll fd readable by itself,
    /// at most once each: the first push from another thread (or from
    /// this thread between runs) after the loop went idle — a
    /// [`Handle::spawn`](crate::Handle::spawn), a wake, a callback, a stop
    /// — a [`Runtime::spawn`](crate::Runtime::spawn) from host code between
    /// turns, and the end of an embedder's turn that leaves work behind.
    /// Further pushes before the next turn do not call it again. It is not
    /// called for I/O readiness or for timers, which only the fd (or
    /// [`Runtime::next_timeout`](crate::Runtime::next_timeout), as the
    /// host's wait timeout) can tell: a host without an fd wakes on its own
    /// timeout for those.
    ///
    /// `hook` runs on the thread that pushed, with no lock held, so it may
    /// call back into kettle through a [`Handle`](crate::Handle); it should
    /// be quick (post a message, notify a condition variable). A panic in it
    /// is contained and reported, and the push still counts.
    ///
    /// ```
    /// use std::sync::{Arc, Condvar, Mutex};
    ///
    /// let work = Arc::new((Mutex::new(false), Condvar::new()));
    /// let signal = work.clone();
    /// let rt = kettle::Builder::new()
    ///     .on_wake(move || {
    ///         *signal.0.lock().unwrap() = true;
    ///         signal.1.notify_one();
    ///     })
    ///     .build()
    ///     .unwrap();
    /// let handle = rt.handle();
    /// std::thread::spawn(move || handle.spawn(async { 42 }));
    /// // The host's loop: sleep on the condition variable, turn when told.
    /// let (flag, condvar) = &*work;
    /// let mut has_work = condvar.wait_while(flag.lock().unwrap(), |has_work| !*has_work).unwrap();
    /// *has_work = false;
    /// drop(has_work);
    /// let turn = rt.turn(Some(std::time::Duration::ZERO));
    /// assert_eq!(turn.injected, 1);
    /// ```
    #[doc(alias = "wakeup_callback")]
    pub fn on_wake<F>(mut self, hook: F) -> Builder
    where
        F: Fn() + Send + Sync + 'static,
    {
        self.on_wake = WakeHookSlot(Some(std::sync::Arc::new(hook)));
        self
    }
}

impl Default for Builder {
    fn default() -> Builder {
        Builder::new()
    }
}
