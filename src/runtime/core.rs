//! The loop itself: what one turn does, and the state it does it on.
//!
//! `Core` is everything a runtime owns that only its own thread touches: the
//! task slab, the run queue, the callback queue, the timers, the mio poll and
//! the reactor's registered descriptors.
//! It is `!Send` and `!Sync`, and holds no lock and no atomic except through
//! [`Shared`]. A task being polled can spawn, wake, sleep or schedule
//! callbacks without tripping over a borrow the loop holds (see "Borrows").
//!
//! # One turn
//!
//! ```text
//!       plan     skip the I/O poll on a busy turn (shortcut: only every
//!                32nd busy turn in a row, or after 61 task polls); else
//!                peek if work is queued; else wait until the next timer
//!  ┌─▶ 1. idle   before a wait that may block: tell other threads the loop
//!  │             is idle, so their pushes wake it (the idle handshake); if
//!  │             something came in meanwhile, peek instead of waiting
//!  │   2. poll   epoll_wait (a timerfd ends the wait on time, to the
//!  │             microsecond); record readiness, wake the waiting tasks
//!  │   3. inject take what other threads queued — spawns, wakes, callbacks
//!  │             (shortcut: no lock unless something was pushed, or the
//!  │             loop just woke from a wait it announced)
//!  │   4. timers fire every timer whose deadline has passed, in deadline
//!  │             order: sleeps wake their task, callbacks join the queue
//!  └── 5. run    run the callbacks, then the tasks, that are queued *now*;
//!                whatever they queue runs next turn
//! ```
//!
//! [`Core::turn`] is these lines, one function each. How the idle
//! handshake and the injector avoid losing a wake-up is drawn once, in
//! `shared.rs`.
//!
//! Leaving the loop — `block_on` or `run_forever` returning, an embedder's
//! `turn` returning, or a panic unwinding out of any of them — marks the
//! loop idle too ([`Core::leave`]): between runs nobody drains the
//! injector, so remote work must make the poll fd readable.
//!
//! Step 5's "queued now" is the fairness rule: a task that wakes itself, or a
//! callback that schedules another, waits for the next turn, so neither can
//! starve I/O, timers or each other.
//!
//! # For tests: a paused clock, a seeded order
//!
//! Two options of the [`Builder`](super::Builder) change the turn, each
//! behind one branch when off. With `start_paused`, the loop's time is a
//! paused clock (`clock.rs`): a turn that has nothing to do but wait for a
//! timer peeks instead, and if nothing arrived, the clock jumps to that
//! timer between steps 3 and 4, so step 4 fires it at once. With `seed`,
//! step 5 runs its tasks (not its callbacks) in an order drawn from the
//! seed instead of wake order (`shuffle.rs`).
//!
//! # Borrows
//!
//! Every field sits in its own `RefCell` (or `Cell`) and is private to this
//! module: this file (the turn), `core/requests.rs` (what other modules ask
//! of the loop: spawn, schedule, register an I/O source, insert or remove a
//! timer, submit a blocking job), `core/shutdown.rs`, and the four that
//! watch or steer the turn — `core/inspect.rs` (task dumps, metrics),
//! `core/watch.rs` (debug mode's timing), `core/record.rs` (the traced
//! turn) and `core/replay.rs` (the paused clock's jump, the seeded
//! shuffle). So the rule "the loop never holds a borrow while user code
//! runs" is checked in those files alone: each borrow ends before a task is polled, a callback runs, a
//! waker is woken or a user value is dropped. (The reactor's table of
//! sources is borrowed only inside `reactor.rs`, which runs no user code
//! under it.)
//!
//! # Invariants
//!
//! - A task is in the run queue at most once, exactly when its `queued` flag is
//!   set (the flag is set on push and cleared on pop).
//! - A queued task's key names its own slab entry: a task leaves the slab only
//!   when it is done *and* not queued, so its key cannot be reused while a
//!   queue entry still names it.
//! - While a task is polled, its slab entry is `None` (the loop holds the
//!   `TaskRef`), so the slab can be borrowed mutably by a spawn inside the poll.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::{Duration, Instant};

use slab::Slab;

use super::blocking_pool::Pool;
use super::clock::Clock;
use super::metrics::{Stats, Turn};
use super::reactor::Reactor;
use super::registry;
use super::shared::{Remote, Shared};
use super::shuffle::Shuffle;
use super::timerfd::TimerFd;
use crate::contain;
use crate::task::{DoneCallback, Notes, RunOutcome, Running, TaskRef, waker_ref};
use crate::time::queue::TimerQueue;

/// The token of the loop's own `mio::Waker`.
const WAKER_TOKEN: mio::Token = mio::Token(usize::MAX);
/// The token of the loop's timerfd.
const TIMER_TOKEN: mio::Token = mio::Token(usize::MAX - 1);

/// On busy turns, poll for I/O only once per this many turns in a row...
const IO_EVERY_BUSY_TURNS: u32 = 32;
/// ...and at least once per this many task polls (tokio's current_thread
/// polls for I/O every 61), so that turns of many tasks each do not leave
/// readiness — a peer's end of file, say — unseen for 32 long turns.
const IO_EVERY_TASK_POLLS: u64 = 61;

/// What this turn's I/O poll will do: decided by [`Core::plan_poll`],
/// possibly demoted by [`Core::announce_idle`], carried out by
/// [`Core::poll_io`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PollPlan {
    /// A busy turn that leaves the I/O poll to a later one.
    Skip,
    /// Poll without blocking: work is already waiting.
    Peek,
    /// Poll, blocking at most this long (`None`: until something happens).
    /// Only after the idle handshake has succeeded.
    Wait(Option<Duration>),
}

/// The loop-thread state of a runtime.
pub(crate) struct Core {
    shared: Arc<Shared>,
    /// Slab keys of tasks ready to run, in wake order.
    run_queue: RefCell<VecDeque<usize>>,
    /// Every live task; `None` while the task is being polled.
    tasks: RefCell<Slab<Option<TaskRef>>>,
    /// Done callbacks of tasks that have not finished, by the address of
    /// the task's cell ([`TaskRef::id`]). Not by slab key: shutdown empties
    /// the slab while entries wait, and a task spawned meanwhile by a
    /// destructor reuses a key, which would mix its callbacks with an old task's.
    done_callbacks: RefCell<std::collections::HashMap<usize, Vec<DoneCallback>>>,
    callbacks: RefCell<VecDeque<Callback>>,
    timers: RefCell<TimerQueue<Action>>,
    poll: RefCell<mio::Poll>,
    events: RefCell<mio::Events>,
    /// Registered descriptors and their waiting tasks.
    reactor: Reactor,
    /// Ends a blocked poll at the next timer's deadline, to the microsecond.
    timer_fd: TimerFd,
    /// Threads for `spawn_blocking`.
    blocking: Pool,
    /// Where "now" comes from: `Instant::now()`, or a paused clock
    /// (`clock.rs`).
    clock: Clock,
    /// The seeded order of step 5's tasks, if the runtime has a seed
    /// (`shuffle.rs`); `None`: wake order.
    shuffle: Option<Shuffle>,
    /// Wakers released by this turn's events; kept to reuse its capacity.
    io_wakers: RefCell<Vec<std::task::Waker>>,
    /// The injector's contents during step 3; kept to reuse its capacity.
    injected: RefCell<Vec<Remote>>,
    /// Busy turns in a row that skipped polling for I/O (see
    /// [`plan_poll`](Core::plan_poll)).
    busy_turns_without_io: std::cell::Cell<u32>,
    /// The task-poll count (`Stats`) at the last I/O poll.
    polls_at_last_io: std::cell::Cell<u64>,
    /// The loop has marked itself idle in the injector ([`Core::announce_idle`]
    /// or [`Core::leave`]), and since then has neither marked itself busy
    /// (step 3) nor consumed an eventfd event. Invariant: while it is set,
    /// the injector's `idle` is set or an eventfd event is pending — so a
    /// wait may start without the handshake, and leaving needs no lock.
    idle_announced: std::cell::Cell<bool>,
    stats: Stats,
    /// Tasks' names and timings (`task/notes.rs`), for the tasks that have
    /// any; each such task's loop flags hold its key here.
    notes: RefCell<Slab<Notes>>,
    /// The task being polled, for `task::current` (`task/cell.rs`).
    running: Running,
    /// Debug mode and task timing (`core/watch.rs`).
    watch: Watch,
    /// Task ids reserved for local spawns, `next..end` (see
    /// [`next_task_id`](Core::next_task_id)).
    task_ids: std::cell::Cell<(u64, u64)>,
    /// `Core` must stay on its thread, even if every field were `Send`.
    _not_send: PhantomData<*const ()>,
}

impl Core {
    pub(crate) fn new(config: &super::Builder) -> io::Result<Core> {
        let poll = mio::Poll::new()?;
        let waker = mio::Waker::new(poll.registry(), WAKER_TOKEN)?;
        let timer_fd = TimerFd::new(poll.registry(), TIMER_TOKEN)?;
        let shared = Arc::new(Shared::new(waker));
        registry::register(&shared);
        let clock = Clock::new(config.start_paused);
        Ok(Core {
            timers: RefCell::new(TimerQueue::new(shared.id())),
            clock,
            shuffle: config.seed.map(Shuffle::new),
            shared,
            run_queue: RefCell::new(VecDeque::new()),
            tasks: RefCell::new(Slab::new()),
            done_callbacks: RefCell::default(),
            callbacks: RefCell::new(VecDeque::new()),
            poll: RefCell::new(poll),
            events: RefCell::new(mio::Events::with_capacity(config.event_capacity.max(1))),
            blocking: Pool::new(config.max_blocking_threads, config.blocking_keep_alive),
            reactor: Reactor::default(),
            timer_fd,
            io_wakers: RefCell::new(Vec::new()),
            injected: RefCell::new(Vec::new()),
            busy_turns_without_io: std::cell::Cell::new(0),
            polls_at_last_io: std::cell::Cell::new(0),
            idle_announced: std::cell::Cell::new(true), // `Shared` starts idle
            stats: Stats::default(),
            notes: RefCell::new(Slab::new()),
            running: Running::none(),
            watch: Watch::new(config.debug_mode(), config.trace_capacity),
            task_ids: std::cell::Cell::new((0, 0)),
            _not_send: PhantomData,
        })
    }

    /// The part of this runtime other threads can reach (`shared.rs`).
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// This runtime's process-unique id.
    pub(crate) fn id(&self) -> u32 {
        self.shared.id()
    }

    pub(crate) fn poll_fd(&self) -> std::os::fd::RawFd {
        use std::os::fd::AsRawFd;
        self.poll.borrow().as_raw_fd()
    }

    // ----- the turn ------------------------------------------------------------

    /// How long step 2's poll would block if nothing happened: zero if work is
    /// queued, else until the next timer (capped by `max_wait`), else
    /// `max_wait` (`None`: indefinitely).
    ///
    /// With a paused clock, a pending timer means zero — the turn peeks, and
    /// jumps the clock to it if nothing else came in — unless a blocking job
    /// is in flight: the clock then waits for it, and so does the poll (see
    /// `clock.rs`).
    pub(crate) fn poll_timeout(&self, max_wait: Option<Duration>) -> Option<Duration> {
        if self.is_busy() {
            return Some(Duration::ZERO);
        }
        let next_timer = self.timers.borrow().next_deadline();
        let until_timer = match self.clock.paused() {
            None => next_timer.map(|at| at.saturating_duration_since(Instant::now())),
            Some(paused) if paused.blocking_in_flight() => None,
            Some(_) => next_timer.map(|_| Duration::ZERO),
        };
        match (max_wait, until_timer) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Whether tasks or callbacks are queued on this thread.
    fn has_local_work(&self) -> bool {
        !self.run_queue.borrow().is_empty() || !self.callbacks.borrow().is_empty()
    }

    /// Whether work is already waiting, here or in the injector. A busy loop
    /// must not block.
    fn is_busy(&self) -> bool {
        self.has_local_work() || self.shared.has_pending()
    }

    /// One loop iteration: the five steps of the module docs, in order.
    ///
    /// `main_ready`: `block_on`'s own future (not a task) is woken and will be
    /// polled right after this turn, so the loop is busy as if a task were
    /// queued.
    pub(crate) fn turn(&self, max_wait: Option<Duration>, main_ready: bool) -> Turn {
        if self.watch.is_tracing() {
            return self.turn_traced(max_wait, main_ready); // the same, timed: `core/record.rs`
        }
        self.stats.on_turn();
        let plan = self.plan_poll(max_wait, main_ready);
        let plan = self.announce_idle(plan); // 1. idle
        let io_events = self.poll_io(plan); // 2. poll
        let injected = self.inject(plan); // 3. inject
        if self.clock.is_paused() {
            self.jump_to_next_timer_if_idle(plan, main_ready, io_events + injected);
        }
        let timers_fired = self.fire_timers(); // 4. timers
        let (callbacks_run, tasks_run) = self.run_ready(); // 5. run
        Turn { io_events, injected, timers_fired, callbacks_run, tasks_run }
    }

    /// Decides what this turn's I/O poll does: skip it, peek, or wait — and
    /// how long. A decision only (besides its two counters): the effects are
    /// the next steps'.
    ///
    /// The simple version polls every turn, waiting only when nothing is
    /// queued. But on a busy turn the poll could not block anyway, and its
    /// `epoll_wait` would mostly find nothing: it is made only every
    /// [`IO_EVERY_BUSY_TURNS`]th busy turn in a row, or once
    /// [`IO_EVERY_TASK_POLLS`] tasks have been polled since the last one,
    /// whichever comes first — so tasks that keep each other busy cannot
    /// starve I/O, but do not pay a syscall per turn. (Remote work still
    /// polls, as a peek: that consumes the eventfd's event, so an embedder
    /// watching the poll fd sees it quiet again.)
    #[inline(always)] // into `turn` and the traced `turn_traced` alike
    fn plan_poll(&self, max_wait: Option<Duration>, main_ready: bool) -> PollPlan {
        let busy = main_ready || self.has_local_work();
        let polls_since_io = self.stats.polls() - self.polls_at_last_io.get();
        let skipped = self.busy_turns_without_io.get();
        if busy && skipped + 1 < IO_EVERY_BUSY_TURNS && polls_since_io < IO_EVERY_TASK_POLLS {
            self.busy_turns_without_io.set(skipped + 1);
            return PollPlan::Skip;
        }
        self.busy_turns_without_io.set(0);
        self.polls_at_last_io.set(self.stats.polls());
        match self.poll_timeout(max_wait) {
            Some(Duration::ZERO) => PollPlan::Peek,
            timeout => PollPlan::Wait(timeout),
        }
    }

    /// Step 1, the idle handshake ((c) in `shared.rs`), before a poll that
    /// may block: tell other threads that from now on their pushes must wake
    /// the loop. If items were pushed, or a flag was set and `notify` left a
    /// nudge, since the loop last looked, it must not block after all: the
    /// wait becomes a peek.
    ///
    /// The one place a running loop marks itself idle; leaving the loop
    /// ([`leave`](Core::leave)) is the only other. The simple version would
    /// take the lock and mark the loop idle before every poll; the
    /// `idle_announced` flag skips it while the announcement still holds.
    #[inline(always)] // into `turn` and the traced `turn_traced` alike
    fn announce_idle(&self, plan: PollPlan) -> PollPlan {
        let PollPlan::Wait(_) = plan else { return plan };
        if self.idle_announced.get() {
            return plan; // still announced: see the flag's invariant
        }
        let idle = self.shared.end_work();
        self.idle_announced.set(idle);
        if idle { plan } else { PollPlan::Peek }
    }

    /// The loop is being left — `block_on` or `run_forever` returning, an
    /// embedder's `turn` returning — or unwound. Nobody drains the injector
    /// until the next run, so mark the loop idle, and make the poll fd
    /// readable at once if requests (or a nudge) are already waiting: an
    /// embedder watching the fd must see them.
    pub(crate) fn leave(&self) {
        if !self.idle_announced.replace(true) {
            self.shared.leave();
        }
    }

    /// Step 2: carries out the plan — `epoll_wait`, then records readiness
    /// and wakes the operations waiting for it. Returns the number of events.
    #[inline(always)] // into `turn` and the traced `turn_traced` alike
    fn poll_io(&self, plan: PollPlan) -> usize {
        let timeout = match plan {
            PollPlan::Skip => return 0,
            PollPlan::Peek => Some(Duration::ZERO),
            PollPlan::Wait(timeout) => {
                // About to block with a timer pending: let the timerfd end the
                // wait on time (epoll's own timeout is whole milliseconds,
                // rounded up). Armed for an earlier deadline already, it
                // stays: an early firing is only a spurious turn. A paused
                // clock's deadlines are not the kernel's: never armed.
                if let Some(deadline) = self.timers.borrow().next_deadline()
                    && !self.clock.is_paused()
                {
                    self.timer_fd.arm_if_earlier(deadline);
                }
                timeout
            }
        };
        let mut poll = self.poll.borrow_mut();
        let mut events = self.events.borrow_mut();
        match poll.poll(&mut events, timeout) {
            Ok(()) => {}
            // A signal interrupted the wait: a turn with no events.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return 0,
            Err(e) => panic!("kettle: epoll_wait failed, the loop cannot go on: {e}"),
        }
        let mut wake = std::mem::take(&mut *self.io_wakers.borrow_mut());
        let mut count = 0;
        for event in events.iter() {
            match event.token() {
                // The loop's own machinery: due timers fire in step 4 anyway.
                TIMER_TOKEN => self.timer_fd.fired(),
                // The loop's own waker: the injector is drained next
                // regardless. Whoever wrote it also cleared `idle`, so the
                // loop no longer knows it is marked idle: the next wait
                // does the handshake again.
                WAKER_TOKEN => {
                    count += 1;
                    self.idle_announced.set(false);
                }
                _ => {
                    count += 1;
                    self.reactor.dispatch(event, &mut wake);
                }
            }
        }
        drop(events);
        drop(poll);
        // Fired once the poll and the sources are no longer borrowed. A
        // waker is user code (a foreign executor's, around kettle futures).
        for waker in wake.drain(..) {
            contain::call(|| waker.wake());
        }
        *self.io_wakers.borrow_mut() = wake;
        count
    }

    /// Step 3, (a) in `shared.rs`: mark the loop busy and take what other
    /// threads queued. Returns the number of requests taken.
    ///
    /// The simple version takes the lock every turn. It is taken only when
    /// items are waiting (`has_pending`, an atomic read), or when the loop
    /// has just woken from a wait it announced: it is about to work, and
    /// marking it busy now makes pushes meanwhile free of eventfd writes.
    /// Every other turn — a busy one, the first of a `block_on` — takes no
    /// lock; a push that finds the loop still marked idle then pays one
    /// eventfd write, which is never wrong.
    #[inline(always)] // into `turn` and the traced `turn_traced` alike
    fn inject(&self, plan: PollPlan) -> usize {
        let just_woke = matches!(plan, PollPlan::Wait(_)) && self.idle_announced.get();
        if !just_woke && !self.shared.has_pending() {
            return 0;
        }
        self.idle_announced.set(false);
        let mut injected = std::mem::take(&mut *self.injected.borrow_mut());
        self.shared.begin_work(&mut injected);
        let count = injected.len();
        for item in injected.drain(..) {
            match item {
                Remote::Spawn(task) => {
                    self.stats.on_remote_spawn();
                    if self.watch.is_tracing() {
                        self.record_remote_spawn(&task);
                    }
                    self.adopt(task);
                }
                Remote::Wake(task) => {
                    task.header().release_remote_wake();
                    self.schedule(task.header());
                }
                Remote::Call(run, location) => self.call_soon(Callback { run, location }),
                Remote::CancelTimer(timer) => {
                    self.remove_timer(timer);
                }
            }
        }
        *self.injected.borrow_mut() = injected;
        count
    }

    /// Step 4: fires every timer whose deadline has passed, in deadline
    /// order. Returns the number fired.
    #[inline(always)] // into `turn` and the traced `turn_traced` alike
    fn fire_timers(&self) -> usize {
        if self.timers.borrow().len() == 0 {
            return 0; // and no clock read
        }
        let now = self.now();
        let mut fired = 0;
        loop {
            // One pop per borrow: a woken waker or a queued callback may touch
            // the timers again.
            let due = self.timers.borrow_mut().pop_due(now);
            match due {
                None => return fired,
                Some(Action::Wake(waker)) => {
                    contain::call(|| waker.wake());
                }
                Some(Action::Call(callback)) => self.call_soon(callback),
            }
            fired += 1;
        }
    }

    /// Step 5: runs the callbacks, then the tasks, queued when it starts;
    /// whatever they queue waits for the next turn. Returns how many of each
    /// ran.
    #[inline(always)] // into `turn` and the traced `turn_traced` alike
    fn run_ready(&self) -> (usize, usize) {
        (self.run_callbacks(), self.run_tasks())
    }

    /// Step 5's first half. A callback is user code: run with no borrow held.
    #[inline(always)]
    fn run_callbacks(&self) -> usize {
        let n = self.callbacks.borrow().len();
        for _ in 0..n {
            let Some(callback) = self.callbacks.borrow_mut().pop_front() else { break };
            // A panicking callback must not stop the loop (asyncio logs the
            // exception and goes on); the panic hook has already reported it.
            if self.watch.is_timing() {
                self.run_callback_timed(callback);
            } else {
                contain::call(callback.run);
            }
        }
        n
    }

    /// Runs the task at `key` once, then returns it to the slab or, if it is
    /// done and not queued again, releases it.
    #[inline(always)]
    fn run_task(&self, key: usize) {
        let task = self.tasks.borrow_mut().get_mut(key).and_then(Option::take);
        let task = task.expect("a queued task's key names its own slab entry");
        task.header().mark_dequeued(self);
        // Timing (debug mode, a trace) reads the clock around the poll; the
        // one branch the untimed loop pays (`core/watch.rs`).
        if self.watch.is_timing() {
            return self.run_task_timed(key, task);
        }
        // The waker lends the slab's reference: no count changes (`waker.rs`).
        let waker = waker_ref(&task);
        let outcome = self.running.enter(&task, || task.run(self, &waker));
        self.settle(key, task, outcome);
    }

    /// After a poll: counts it, queues the task's done callbacks if it has
    /// just ended, and returns it to its slab entry — or, done and not
    /// queued again, frees the entry and lets go of it. From here on a
    /// dump finds the task where it lives, so user code that runs after a
    /// poll (debug mode's hook) runs after this.
    #[inline(always)]
    fn settle(&self, key: usize, task: TaskRef, outcome: RunOutcome) {
        match outcome {
            RunOutcome::Pending => self.stats.on_poll(),
            RunOutcome::Finished => {
                self.stats.on_poll();
                self.queue_done_callbacks(&task);
                self.count_if_still_queued(&task);
            }
            RunOutcome::Cancelled => {
                self.queue_done_callbacks(&task);
                self.count_if_still_queued(&task);
            }
            RunOutcome::AlreadyDone => self.stats.on_stale_entry_popped(),
        }
        if task.header().is_releasable(self) {
            self.tasks.borrow_mut().remove(key);
            if task.header().notes_key(self).is_some() {
                self.release_noted(task); // a named or timed task: `core/watch.rs`
            } else {
                drop(task); // outside the borrow: freeing may run destructors
            }
        } else {
            self.tasks.borrow_mut()[key] = Some(task);
        }
    }

    /// A task that has just finished stays in the slab if it was queued
    /// meanwhile (it woke itself, or was cancelled, in its last poll), until
    /// that stale entry is popped: finished, it is no longer counted alive.
    #[inline]
    fn count_if_still_queued(&self, task: &TaskRef) {
        if task.header().is_queued(self) {
            self.stats.on_done_while_queued();
        }
    }

    /// Step 5's second half.
    #[inline(always)]
    fn run_tasks(&self) -> usize {
        let n = self.run_queue.borrow().len();
        if self.shuffle.is_some() {
            self.shuffle_ready_tasks();
        }
        for _ in 0..n {
            let Some(key) = self.run_queue.borrow_mut().pop_front() else { break };
            self.run_task(key);
        }
        n
    }
}

mod inspect;
mod record;
mod replay;
mod requests;
mod shutdown;
mod watch;

use watch::Watch;

pub(crate) use requests::{Action, Callback};

#[cfg(all(test, loom))]
mod loom_model;
#[cfg(all(test, not(loom)))]
mod side_tables;
