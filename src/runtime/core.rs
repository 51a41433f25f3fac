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
//!  ┌─▶    plan   skip the I/O poll on a busy turn (shortcut: only every
//!  │             32nd busy turn in a row, or after 61 task polls); else
//!  │             peek if work is queued; else wait until the next timer
//!  │   1. idle   before a wait that may block: tell other threads the loop
//!  │             is idle, so their pushes wake it (the idle handshake); if
//!  │             something came in meanwhile, peek instead of waiting
//!  │   2. poll   epoll_wait (a timerfd ends the wait on time, to the
//!  │             microsecond); record readiness, wake the waiting tasks
//!  │   3. inject take what other threads queued — spawns, wakes, callbacks
//!  │             (shortcut: no lock unless something was pushed, or the
//!  │             loop just woke from a wait it announced)
//!  │   4. timers fire every timer whose deadline has passed, in deadline
//!  │             order: sleeps wake their task, callbacks join the queue
//!  └── 5. run    run the callbacks queued *now*, then the tasks queued
//!                once they have run; whatever they queue runs next turn
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
//! starve I/O, timers or each other. The tasks' half counts its queue after
//! the callbacks' half has run, so a task that a callback wakes runs in the
//! same turn, as it would had the callback been a timer.
//!
//! Two options for tests change the turn, each behind one branch when off
//! — a paused clock and a seeded task order: `core/replay.rs` says where.
//!
//! # Borrows
//!
//! Every field sits in its own `RefCell` (or `Cell`) and is private to this
//! module: this file (the turn) and its children — `core/requests.rs` (what
//! other modules ask of the loop: spawn, queue a callback, a timer, a done
//! callback, a blocking job), `core/task_slab.rs` (the tasks by key, a plain
//! data structure), `core/extras.rs`, `core/shutdown.rs`, and the
//! four that watch or steer the turn, `core/inspect.rs` (task dumps,
//! metrics), `core/watch.rs` (debug mode's timing), `core/record.rs` (the
//! traced turn) and `core/replay.rs` (the paused clock's jump, the seeded
//! shuffle). So the rule "the loop never holds a borrow while user code
//! runs" is checked in those files alone: each borrow ends before a task is
//! polled, a callback runs, a waker is woken or a user value is dropped.
//! (The run queue and the reactor's table of sources are borrowed only
//! inside `run_queue.rs` and `reactor.rs`, which run no user code under
//! them.)
//!
//! # Invariants
//!
//! - A task is in the run queue at most once, exactly when its `queued` flag is
//!   set (the flag is set on push and cleared on pop).
//! - A queued task's key names its own slab entry: a task leaves the slab only
//!   when it is done *and* not queued, so its key cannot be reused while a
//!   queue entry still names it.
//! - While a task is polled it stays in its slab entry, and the loop holds a
//!   copy of its pointer (`TaskSlab::lend`); no borrow of the slab is held,
//!   so a spawn inside the poll can borrow it mutably. Only the loop empties
//!   an entry, and only between polls.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io;
use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::metrics::Turn;
use super::reactor::Reactor;
use super::registry;
use super::run_queue::RunQueue;
use super::shared::{Remote, Shared};
use super::timerfd::TimerFd;
use crate::contain;
use crate::loom::sync::atomic::{AtomicBool, Ordering::Acquire};
use crate::task::cell::RunOutcome;
use crate::task::header::{OnLoop, TaskRef};
use crate::task::waker::waker_ref;
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
    /// Poll, blocking at most `timeout` (`None`: until something happens), only
    /// after the idle handshake has succeeded. `for_timer`: `timeout` is the next
    /// timer's, not a shorter `max_wait`, so the timerfd ends the wait (`TimerFd::wait_timeout`).
    Wait { timeout: Option<Duration>, for_timer: bool },
}

/// The loop-thread state of a runtime.
///
/// The first eight fields are the loop itself — the mechanism, which
/// `kettle-mini` (`mini/src/lib.rs`) has too. Then `shortcuts`, what the
/// named optimisations remember between turns (`core/shortcuts.rs`), and
/// `extras`, everything that is not the mechanism: what kettle shows of
/// itself, the paused clock and the seed, done callbacks, `spawn_blocking`'s
/// threads (`core/extras.rs`). The turn touches the extras only at named
/// points: a counter bumped, "is a trace recording?", "is the clock paused?".
pub(crate) struct Core {
    // ----- the mechanism -------------------------------------------------------
    /// The part other threads reach: the injector and the eventfd (`shared.rs`).
    shared: Arc<Shared>,
    /// Slab keys of tasks ready to run, in wake order (`run_queue.rs`).
    run_queue: Rc<RunQueue>,
    /// Every live task, by key; a slot is empty while its task is being
    /// polled (`core/task_slab.rs`).
    tasks: RefCell<TaskSlab>,
    /// Callbacks ready to run, in the order they were queued.
    callbacks: RefCell<VecDeque<Callback>>,
    /// Sleeps, timeouts and `call_later`s, by deadline (`time/queue.rs`).
    timers: RefCell<TimerQueue<Action>>,
    /// The epoll instance and the registered descriptors with their waiting
    /// tasks (`reactor.rs`).
    reactor: Reactor,
    /// Where step 2's `epoll_wait` leaves its events.
    events: RefCell<mio::Events>,
    /// Proof of this thread, for the tasks' loop-only flags (`task/header.rs`).
    on_loop: OnLoop,

    // ----- the shortcuts' state and the extras ----------------------------------
    shortcuts: Shortcuts,
    extras: Extras,
    /// `Core` must stay on its thread, even if every field were `Send`.
    _not_send: PhantomData<*const ()>,
}

impl Core {
    pub(crate) fn new(config: &super::Builder) -> io::Result<Core> {
        let poll = mio::Poll::new()?;
        let waker = mio::Waker::new(poll.registry(), WAKER_TOKEN)?;
        let timer_fd = TimerFd::new(poll.registry(), TIMER_TOKEN)?;
        let shared = Arc::new(Shared::new(waker, config.on_wake.0.clone()));
        registry::register(&shared);
        Ok(Core {
            timers: RefCell::new(TimerQueue::new(shared.id())),
            run_queue: Rc::new(RunQueue::new(OnLoop::new(&shared))),
            on_loop: OnLoop::new(&shared),
            shared,
            tasks: RefCell::new(TaskSlab::new()),
            callbacks: RefCell::new(VecDeque::new()),
            reactor: Reactor::new(poll),
            events: RefCell::new(mio::Events::with_capacity(config.event_capacity.max(1))),
            shortcuts: Shortcuts::new(timer_fd),
            extras: Extras::new(config),
            _not_send: PhantomData,
        })
    }

    /// Proof of this loop's thread, for the tasks' loop-only flags
    /// (`task/header.rs`).
    #[inline]
    pub(crate) fn on_loop(&self) -> &OnLoop {
        &self.on_loop
    }

    /// The run queue, which this thread's wakers push to while the runtime
    /// runs (`context::enter`).
    pub(crate) fn run_queue(&self) -> &Rc<RunQueue> {
        &self.run_queue
    }

    /// The epoll instance and the registered descriptors: registering,
    /// deregistering and releasing a source are the reactor's
    /// (`reactor/registration.rs` calls them).
    pub(crate) fn reactor(&self) -> &Reactor {
        &self.reactor
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
        self.reactor.poll_fd()
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
        let until_timer = match self.extras.clock.paused() {
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
        !self.run_queue.is_empty() || !self.callbacks.borrow().is_empty()
    }

    /// Whether work is already waiting, here or in the injector. A busy loop
    /// must not block.
    fn is_busy(&self) -> bool {
        self.has_local_work() || self.shared.has_pending()
    }

    /// One loop iteration: the five steps of the module docs, in order. `main`:
    /// `block_on`'s wake flag, if it drives the turn. Set, its future (not a
    /// task) is polled right after: the loop is busy as if a task were queued.
    pub(crate) fn turn(&self, max_wait: Option<Duration>, main: Option<&AtomicBool>) -> Turn {
        if self.extras.watch.is_tracing() {
            return self.turn_traced(max_wait, main); // the same, timed: `core/record.rs`
        }
        self.extras.stats.on_turn();
        let main_ready = main.is_some_and(|woken| woken.load(Acquire));
        let plan = self.plan_poll(max_wait, main_ready);
        let plan = self.announce_idle(plan, main); // 1. idle
        let io_events = self.poll_io(plan); // 2. poll
        let injected = self.inject(); // 3. inject
        if self.extras.clock.is_paused() {
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
    /// whichever comes first — so tasks that keep each other busy cannot starve
    /// I/O, but do not pay a syscall per turn. (Remote work still polls, as a peek
    /// that consumes the eventfd's event: an embedder's poll fd goes quiet again.)
    #[inline(always)] // into `turn` and the traced `turn_traced` alike
    fn plan_poll(&self, max_wait: Option<Duration>, main_ready: bool) -> PollPlan {
        let busy = main_ready || self.has_local_work();
        let polls_since_io = self.extras.stats.polls() - self.shortcuts.polls_at_last_io.get();
        let skipped = self.shortcuts.busy_turns_without_io.get();
        if busy && skipped + 1 < IO_EVERY_BUSY_TURNS && polls_since_io < IO_EVERY_TASK_POLLS {
            self.shortcuts.busy_turns_without_io.set(skipped + 1);
            return PollPlan::Skip;
        }
        self.shortcuts.busy_turns_without_io.set(0);
        self.shortcuts.polls_at_last_io.set(self.extras.stats.polls());
        match if main_ready { Some(Duration::ZERO) } else { self.poll_timeout(max_wait) } {
            Some(Duration::ZERO) => PollPlan::Peek,
            // A woken `block_on` future makes a peek; a wait not `max_wait` is the timer's.
            timeout => PollPlan::Wait { timeout, for_timer: timeout != max_wait },
        }
    }

    /// Step 1, the idle handshake (drawn in `shared.rs`), before a poll that
    /// may block: tell other threads that from now on their pushes must wake
    /// the loop. If items were pushed, or a flag was set and `notify` left a
    /// nudge, since the loop last looked, it must not block after all: the
    /// wait becomes a peek.
    ///
    /// The one place a running loop marks itself idle; leaving the loop
    /// ([`leave`](Core::leave)) is the only other. The simple version would
    /// take the lock and mark the loop idle before every poll; the
    /// `idle_announced` flag skips it while the announcement still holds.
    /// `block_on`'s flag (`main`, read with a plain load: `MainWaker::take_wake`)
    /// is read again after the lock, which a remote wake's notify takes after setting it.
    #[inline(always)] // into `turn` and the traced `turn_traced` alike
    fn announce_idle(&self, plan: PollPlan, main: Option<&AtomicBool>) -> PollPlan {
        let PollPlan::Wait { .. } = plan else { return plan };
        if self.shortcuts.idle_announced.get() {
            return plan; // still announced: see its invariant in shared.rs's essay
        }
        let idle = self.shared.end_work();
        self.shortcuts.idle_announced.set(idle);
        if idle && !main.is_some_and(|woken| woken.load(Acquire)) { plan } else { PollPlan::Peek }
    }

    /// The loop is being left — `block_on` or `run_forever` returning, an
    /// embedder's `turn` returning — or unwound. Nobody drains the injector
    /// until the next run, so mark the loop idle, and make the poll fd
    /// readable at once if requests (or a nudge) are already waiting: an
    /// embedder watching the fd must see them. Returns whether it wrote the
    /// eventfd.
    pub(crate) fn leave(&self) -> bool {
        !self.shortcuts.idle_announced.replace(true) && self.shared.leave()
    }

    /// Step 2: carries out the plan — `epoll_wait`, then records readiness
    /// and wakes the operations waiting for it. Returns the number of events.
    #[inline(always)] // into `turn` and the traced `turn_traced` alike
    fn poll_io(&self, plan: PollPlan) -> usize {
        let timeout = match plan {
            PollPlan::Skip => return 0,
            PollPlan::Peek => Some(Duration::ZERO),
            PollPlan::Wait { timeout, for_timer } => {
                // About to block with a timer pending: the timerfd ends the wait on
                // time (epoll's timeout is whole milliseconds). Armed earlier, it stays
                // (a spurious turn). A paused clock's deadlines are never armed.
                let next_deadline = self.timers.borrow().next_deadline();
                match next_deadline {
                    Some(deadline) if !self.extras.clock.is_paused() => {
                        self.shortcuts.timer_fd.arm_if_earlier(deadline);
                        self.shortcuts.timer_fd.wait_timeout(timeout, for_timer)
                    }
                    _ => timeout,
                }
            }
        };
        let mut events = self.events.borrow_mut();
        match self.reactor.wait(&mut events, timeout) {
            Ok(()) => {}
            // A signal interrupted the wait: a turn with no events.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return 0,
            Err(e) => panic!("kettle: epoll_wait failed, the loop cannot go on: {e}"),
        }
        if shortcuts::woken_by_the_timer_alone(&events) {
            self.shortcuts.timer_fd.fired(); // step 4 fires the due timers
            return 0;
        }
        let mut wake = std::mem::take(&mut *self.shortcuts.io_wakers.borrow_mut());
        let mut count = 0;
        for event in events.iter() {
            match event.token() {
                // The loop's own machinery: due timers fire in step 4 anyway.
                TIMER_TOKEN => self.shortcuts.timer_fd.fired(),
                // The loop's own waker: step 3 takes what was pushed. The writer
                // cleared `idle`: the next wait does the handshake again.
                WAKER_TOKEN => {
                    count += 1;
                    self.shortcuts.idle_announced.set(false);
                }
                _ => {
                    count += 1;
                    self.reactor.dispatch(event, &mut wake);
                }
            }
        }
        drop(events);
        // Fired once the poll and the sources are no longer borrowed.
        shortcuts::fire_io_wakers(&mut wake);
        *self.shortcuts.io_wakers.borrow_mut() = wake;
        count
    }

    /// Step 3 (drawn in `shared.rs`): mark the loop busy and take what other
    /// threads queued. Returns the number of requests taken.
    ///
    /// The simple version takes the lock every turn. It is taken only when
    /// items are waiting (`has_pending`, an atomic read): a turn with
    /// nothing pushed takes no lock, be it a busy one, the first of a
    /// `block_on`, or one that has just woken from a wait for I/O
    /// (`inject_only_if_pending`).
    #[inline(always)] // into `turn` and the traced `turn_traced` alike
    fn inject(&self) -> usize {
        if !self.inject_only_if_pending() {
            return 0;
        }
        self.shortcuts.idle_announced.set(false);
        let mut injected = std::mem::take(&mut *self.shortcuts.injected.borrow_mut());
        self.shared.begin_work(&mut injected);
        let count = injected.len();
        for item in injected.drain(..) {
            match item {
                Remote::Spawn(task) => {
                    self.extras.stats.on_remote_spawn();
                    if self.extras.watch.is_tracing() {
                        self.record_remote_spawn(&task);
                    }
                    self.adopt(task);
                }
                Remote::Wake(task) => {
                    task.header().release_remote_wake();
                    self.run_queue.enqueue(task.header());
                }
                Remote::Call(run, location) => self.call_soon(Callback { run, location }),
                Remote::CancelTimer(timer) => {
                    self.remove_timer(timer);
                }
            }
        }
        *self.shortcuts.injected.borrow_mut() = injected;
        count
    }

    /// Whether step 3 must take the injector's lock: only if something was
    /// pushed. The simple version locks every turn.
    ///
    /// A loop woken from an announced wait by I/O stays marked idle in the
    /// injector while it works, so its next wait needs no handshake
    /// (`idle_announced` holds) and a loop that lives on I/O takes no lock
    /// at all (marking itself busy, then idle again, cost two). The price:
    /// a push that lands meanwhile finds the loop marked idle and writes the
    /// eventfd — one write per idle period, never wrong (the next poll
    /// returns at once and consumes it). A loop woken *by* a push sees
    /// `pending` set, or forgot its announcement on the eventfd's event, and
    /// takes the lock.
    #[inline(always)]
    fn inject_only_if_pending(&self) -> bool {
        self.shared.has_pending()
    }

    /// Step 4: fires every timer whose deadline has passed, in deadline order; returns how many.
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
            if self.extras.watch.is_timing() {
                self.run_callback_timed(callback);
            } else {
                contain::call(callback.run);
            }
        }
        n
    }

    /// Runs the task at `key` once, lent by its slab entry (`task_slab.rs`);
    /// then, if it is done and not queued again, releases it.
    #[inline(always)]
    fn run_task(&self, key: usize) {
        let task = self.tasks.borrow().lend(key).expect("a queued task's key names its own slab entry");
        task.header().flags(self.on_loop()).mark_dequeued();
        // Timing (debug mode, a trace) reads the clock around the poll; the
        // one branch the untimed loop pays (`core/watch.rs`).
        if self.extras.watch.is_timing() {
            return self.run_task_timed(key, task);
        }
        // The waker lends the slab's reference: no count changes (`waker.rs`).
        let waker = waker_ref(&task);
        let outcome = self.extras.current_task.enter(&task, || task.run(self.on_loop(), &waker));
        self.settle(key, task, outcome);
    }

    /// After a poll: counts it, queues the task's done callbacks if it has
    /// just ended, and — done and not queued again — frees its slab entry
    /// and lets go of it. From here on a dump finds the task where it
    /// lives, so user code that runs after a poll (debug mode's hook) runs
    /// after this.
    #[inline(always)]
    fn settle(&self, key: usize, task: Lent, outcome: RunOutcome) {
        match outcome {
            RunOutcome::Pending => self.extras.stats.on_poll(),
            RunOutcome::Finished => {
                self.extras.stats.on_poll();
                self.queue_done_callbacks(&task);
                self.count_if_still_queued(&task);
            }
            RunOutcome::Cancelled => {
                self.queue_done_callbacks(&task);
                self.count_if_still_queued(&task);
            }
            RunOutcome::AlreadyDone => self.extras.stats.on_stale_entry_popped(),
        }
        let flags = task.header().flags(self.on_loop());
        if flags.is_done_or_carrying() {
            if flags.take_poll_carry() {
                self.carry_polls(task.header()); // every 2^32 polls of a task
            }
            if flags.is_releasable() {
                // The entry's own reference; the shadowed lent copy ends here.
                let task = self.tasks.borrow_mut().remove(key);
                if task.header().flags(self.on_loop()).notes_key().is_some() {
                    self.release_noted(task); // a named or timed task: `core/watch.rs`
                } else {
                    drop(task); // outside the borrow: freeing may run destructors
                }
            }
        }
    }

    /// A task that has just finished stays in the slab if it was queued
    /// meanwhile (it woke itself, or was cancelled, in its last poll), until
    /// that stale entry is popped: finished, it is no longer counted alive.
    #[inline]
    fn count_if_still_queued(&self, task: &TaskRef) {
        if task.header().flags(self.on_loop()).is_queued() {
            self.extras.stats.on_done_while_queued();
        }
    }

    /// Step 5's second half.
    #[inline(always)]
    fn run_tasks(&self) -> usize {
        let n = self.run_queue.len();
        if self.extras.shuffle.is_some() {
            self.shuffle_ready_tasks();
        }
        for _ in 0..n {
            let Some(key) = self.run_queue.pop() else { break };
            self.run_task(key);
        }
        n
    }
}

mod extras;
mod host;
mod inspect;
mod record;
mod replay;
mod requests;
mod shortcuts;
mod shutdown;
mod task_slab;
mod watch;

use extras::Extras;
use shortcuts::Shortcuts;
use task_slab::{Lent, TaskSlab};

pub(crate) use requests::{Action, Callback};

#[cfg(all(test, loom))]
mod loom_model;
#[cfg(all(test, not(loom)))]
mod side_tables;
