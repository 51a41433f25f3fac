//! # kettle-mini: the runtime to read first
//!
//! kettle — a single-threaded async runtime on mio and slab, in asyncio's
//! words — with each shortcut replaced by its simple version from kettle's
//! DESIGN.md ("Optimisations live behind a name"), and no extras; a `// kettle:`
//! note names where kettle takes each shortcut. A program written for
//! `use kettle as k;` compiles with `use kettle_mini as k;` and must behave the
//! same: mini is the oracle of kettle's differential tests. One turn (`Core::turn`;
//! kettle's step 1 is the idle handshake mini does without, so mini's n is kettle's n+1):
//!
//! 1. **poll** I/O: `epoll_wait`, for zero time if anything is queued, else
//!    until the next timer (mio rounds up to whole milliseconds: never early),
//!    else for ever; readiness wakes the tasks waiting on that socket;
//! 2. **inject** what other threads pushed, to run in this very turn;
//! 3. **timers**: fire the due ones in (deadline, insertion) order — a sleep's
//!    wakes its task, a `call_later`'s queues its callback;
//! 4. **run** the callbacks queued now, then the tasks queued now (each count
//!    taken as its half starts), first in first out; what they queue runs next
//!    turn, so nothing starves the rest.
//!
//! `block_on`'s future is not a task: it is polled first, then after each turn
//! in which it was woken.
//!
//! **Left out**, as each watches or steers the loop without changing a turn:
//! traces, dumps, metrics, debug mode, the paused clock and seeded order, the
//! blocking pool, signals, files, Unix sockets, done callbacks, combinators,
//! the other sync primitives. **Simple where kettle is fast** (same behaviour,
//! more work): `epoll_wait` every turn; the injector locked every turn and the
//! eventfd written per push; epoll's millisecond timeout; a `BTreeMap` of
//! timers; a `Box` for the future, an `Arc` waker per task and a `Mutex` for
//! the result, not one cell with a state word; a system call simply tried, not
//! readiness bits; `VecDeque`s scanned for waiters.
//!
//! **Read** this file (the loop, tasks and their wakes, [`Handle`]), then
//! `time.rs` and `net.rs`; `sync.rs` (the queue) when you like. All safe code: the loop's state is in a
//! `RefCell` behind a thread-local `Rc`; what threads share, behind `Arc<Mutex<…>>`.
#![forbid(unsafe_code)]

pub mod net;
pub mod sync;
mod time;

pub use time::{Elapsed, Sleep, Timeout, TimerHandle, call_later, call_soon, sleep, sleep_until, timeout};

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};
use std::{cell::RefCell, future::Future, io, mem, panic, pin::Pin, rc::Rc};

/// A runtime's loop. `state` is borrowed briefly, never while user code (a
/// poll, a callback, a wake, a destructor) runs, so that code may spawn freely.
struct Core {
    shared: Arc<Shared>,
    state: RefCell<State>,
}

struct State {
    poll: mio::Poll,
    events: mio::Events,
    // kettle: free keys on a stack beside one-pointer slots — TaskSlab,
    // src/runtime/core/task_slab.rs (DESIGN: "the task slab keeps its free keys on a stack").
    tasks: slab::Slab<Task>,
    /// Slab keys of the tasks to run, in wake order; each task at most once.
    // kettle: 32-bit keys, pushed and popped with no borrow flag — RunQueue::keys,
    // src/runtime/run_queue.rs.
    run_queue: VecDeque<usize>,
    callbacks: VecDeque<Box<dyn FnOnce()>>,
    // kettle: an indexed heap of 16-byte slots — TimerQueue, src/time/queue.rs.
    timers: BTreeMap<(Instant, u64), Timer>,
    timer_seq: u64,
    /// The wakers waiting on each registered socket, by mio token.
    sources: slab::Slab<net::Waiters>,
}

enum Timer {
    Wake(Waker),
    Call(Box<dyn FnOnce()>),
}

struct Task {
    header: Arc<Header>,
    /// `None` while it is being polled, and once it has finished.
    job: Option<Box<dyn Job>>,
    queued: bool,
}

/// What other threads reach: the injector of requests the loop runs at step 2
/// (`None` once the runtime is gone), and the waker that ends `epoll_wait`.
struct Shared {
    injector: Mutex<Option<Vec<Request>>>,
    waker: mio::Waker,
}

type Request = Box<dyn FnOnce(&Core) + Send>;

impl Shared {
    /// Queues `request` and wakes the loop; hands it back if the runtime is gone.
    fn push(&self, request: Request) -> Result<(), Request> {
        match &mut *lock(&self.injector) {
            Some(requests) => requests.push(request),
            None => return Err(request),
        }
        // kettle: one eventfd write per idle period (the idle handshake) — Shared::push,
        // src/runtime/shared.rs.
        let _ = self.waker.wake();
        Ok(())
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs user code that must not stop the loop: a panic is caught (the hook printed it).
fn contain(f: impl FnOnce()) {
    let _ = panic::catch_unwind(panic::AssertUnwindSafe(f));
}

thread_local! {
    // kettle: a wake finds the run queue through a raw pointer in a thread-local
    // with nothing to drop — run_queue::CURRENT, src/runtime/run_queue.rs.
    static CURRENT: RefCell<Option<Rc<Core>>> = const { RefCell::new(None) };
}

/// The runtime running on this thread, if any.
fn current() -> Option<Rc<Core>> {
    CURRENT.try_with(|current| current.borrow().clone()).ok().flatten()
}

#[track_caller]
fn expect_current(what: &str) -> Rc<Core> {
    let hint = "call it inside Runtime::block_on or a task; from another thread, use a Handle";
    current().unwrap_or_else(|| panic!("{what} called outside a kettle-mini runtime: {hint}"))
}

/// Makes a runtime current until dropped, then puts back what was there.
struct Entered(Option<Rc<Core>>);

fn enter(core: &Rc<Core>) -> Entered {
    Entered(CURRENT.with(|current| current.borrow_mut().replace(core.clone())))
}

impl Drop for Entered {
    fn drop(&mut self) {
        let _ = CURRENT.try_with(|current| *current.borrow_mut() = self.0.take());
    }
}

impl Core {
    /// One turn: poll, inject, timers, run. `main_ready`: `block_on`'s future was woken.
    fn turn(&self, main_ready: bool) {
        let pushed = lock(&self.shared.injector).as_ref().is_some_and(|requests| !requests.is_empty());
        let mut ready = Vec::new();
        {
            let state = &mut *self.state.borrow_mut();
            // kettle: busy turns skip this poll — Core::plan_poll, src/runtime/core.rs.
            let busy = main_ready || pushed || !state.run_queue.is_empty() || !state.callbacks.is_empty();
            // kettle: a timerfd ends the wait to the microsecond — src/runtime/timerfd.rs.
            let next = state.timers.first_key_value().map(|(&(at, _), _)| at);
            let timeout = if busy {
                Some(Duration::ZERO)
            } else {
                next.map(|at| at.saturating_duration_since(Instant::now()))
            };
            if let Err(e) = state.poll.poll(&mut state.events, timeout) {
                assert!(e.kind() == io::ErrorKind::Interrupted, "kettle-mini: epoll_wait failed: {e}");
                state.events.clear();
            }
            for event in state.events.iter() {
                if let Some(waiters) = state.sources.get_mut(event.token().0) {
                    net::take_ready(waiters, event, &mut ready);
                }
            }
        }
        // kettle: one waker or none wakes without a Drain, the buffer kept — fire_io_wakers,
        // src/runtime/core/shortcuts.rs.
        ready.into_iter().for_each(|waker| contain(|| waker.wake())); // user code: after the borrow
        // kettle: no lock unless something was pushed — Core::inject, src/runtime/core.rs.
        let requests = lock(&self.shared.injector).as_mut().map(mem::take).unwrap_or_default();
        requests.into_iter().for_each(|request| request(self));
        let now = Instant::now();
        loop {
            // One pop per borrow: a woken waker may touch the timers again.
            let due =
                self.state.borrow_mut().timers.first_entry().filter(|t| t.key().0 <= now).map(|t| t.remove());
            match due {
                Some(Timer::Wake(waker)) => contain(|| waker.wake()),
                Some(Timer::Call(callback)) => self.state.borrow_mut().callbacks.push_back(callback),
                None => break,
            }
        }
        // Each half counted as it starts; taken out one at a time, as each may call back in.
        let n = self.state.borrow().callbacks.len();
        for _ in 0..n {
            let callback = self.state.borrow_mut().callbacks.pop_front().expect("counted");
            contain(callback);
        }
        let n = self.state.borrow().run_queue.len();
        for _ in 0..n {
            let key = self.state.borrow_mut().run_queue.pop_front().expect("counted");
            self.run_task(key);
        }
    }

    /// Polls the task at `key` once — or, if it was cancelled, drops its future.
    fn run_task(&self, key: usize) {
        let mut state = self.state.borrow_mut();
        let task = &mut state.tasks[key];
        task.queued = false;
        // kettle: the task stays in its slot while polled, lent by pointer — TaskSlab::lend,
        // src/runtime/core/task_slab.rs.
        let (header, job) = (task.header.clone(), task.job.take());
        drop(state);
        // No job: it finished while queued (it woke itself in its last poll).
        let Some(mut job) = job else { return self.release(key) };
        // kettle: the loop lends a waker, no count touched — waker_ref, src/task/waker.rs.
        let (cancelled, waker) = (header.cancelled.load(SeqCst), Waker::from(header));
        if !cancelled && job.poll(&mut Context::from_waker(&waker)).is_pending() {
            self.state.borrow_mut().tasks[key].job = Some(job);
            return;
        }
        contain(|| drop(job)); // if cancelled, `Spawned::drop` drops the future, tells the handle
        self.release(key);
    }

    /// Lets go of a finished task, unless a stale queue entry still names it.
    fn release(&self, key: usize) {
        let mut state = self.state.borrow_mut();
        let task = (!state.tasks[key].queued).then(|| state.tasks.remove(key));
        drop(state);
        contain(|| drop(task));
    }

    /// Puts a task into the slab and queues it for its first poll.
    fn adopt(&self, header: Arc<Header>, job: Box<dyn Job>) {
        let state = &mut *self.state.borrow_mut();
        let entry = state.tasks.vacant_entry();
        header.key.store(entry.key(), SeqCst);
        state.run_queue.push_back(entry.key());
        entry.insert(Task { header, job: Some(job), queued: true });
    }

    /// A wake on the loop's thread: queue the task unless it is queued already
    /// or gone (its slab key may name another task by now: compare headers).
    fn schedule(&self, header: &Arc<Header>) {
        let (state, key) = (&mut *self.state.borrow_mut(), header.key.load(SeqCst));
        if let Some(task) = state.tasks.get_mut(key)
            && Arc::ptr_eq(&task.header, header)
            && !mem::replace(&mut task.queued, true)
        {
            state.run_queue.push_back(key);
        }
    }

    fn spawn<F: Future + 'static>(&self, future: F) -> JoinHandle<F::Output> {
        let (header, job, handle) = new_task(future, &self.shared);
        self.adopt(header, Box::new(job));
        handle
    }
}

/// A single-threaded event loop (asyncio's). `!Send`: tasks never leave its thread.
pub struct Runtime {
    core: Rc<Core>,
}

impl Runtime {
    pub fn new() -> io::Result<Runtime> {
        let poll = mio::Poll::new()?;
        let waker = mio::Waker::new(poll.registry(), mio::Token(usize::MAX))?;
        let shared = Arc::new(Shared { injector: Mutex::new(Some(Vec::new())), waker });
        let (events, timer_seq) = (mio::Events::with_capacity(1024), 0);
        let (tasks, run_queue, callbacks, timers, sources) = Default::default();
        let state = State { poll, events, tasks, run_queue, callbacks, timers, timer_seq, sources };
        Ok(Runtime { core: Rc::new(Core { shared, state: RefCell::new(state) }) })
    }

    /// Runs the loop until `future` completes (asyncio's `run_until_complete`).
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let entered = enter(&self.core);
        let nested =
            "Runtime::block_on inside a running kettle-mini runtime (nested block_on): .await instead";
        assert!(entered.0.is_none(), "{nested}");
        // kettle: the waker is reused if nobody kept a clone — main_waker, src/runtime/mod.rs.
        let main = Arc::new(MainWaker { woken: AtomicBool::new(true), shared: self.core.shared.clone() });
        // kettle: the waker borrows `main`'s count, touching none — lend_main_waker, src/runtime/mod.rs.
        let (waker, mut future) = (Waker::from(main.clone()), std::pin::pin!(future));
        loop {
            // kettle: a load first, a swap only if set; step 1 looks again after its lock —
            // MainWaker::take_wake (src/runtime/mod.rs), Core::announce_idle.
            if main.woken.swap(false, SeqCst)
                && let Poll::Ready(output) = future.as_mut().poll(&mut Context::from_waker(&waker))
            {
                return output;
            }
            self.core.turn(main.woken.load(SeqCst));
        }
    }

    /// Spawns `future` from outside the loop; it runs once the loop runs.
    pub fn spawn<F: Future + 'static>(&self, future: F) -> JoinHandle<F::Output> {
        self.core.spawn(future)
    }

    pub fn handle(&self) -> Handle {
        Handle { shared: self.core.shared.clone() }
    }
}

impl Drop for Runtime {
    /// Refuses further requests, then drops every task, callback and timer with
    /// the runtime current, so that their destructors find it.
    fn drop(&mut self) {
        let requests = lock(&self.core.shared.injector).take();
        let _entered = enter(&self.core);
        let mut state = self.core.state.borrow_mut();
        let tasks = mem::take(&mut state.tasks).into_iter().map(|(_, task)| task);
        let callbacks = mem::take(&mut state.callbacks);
        let timers = mem::take(&mut state.timers).into_values();
        drop(state);
        contain(|| drop(requests));
        tasks.for_each(|task| contain(|| drop(task)));
        callbacks.into_iter().for_each(|callback| contain(|| drop(callback)));
        timers.for_each(|timer| contain(|| drop(timer)));
    }
}

/// The waker of `block_on`'s own future: a flag, plus a nudge from off the loop.
struct MainWaker {
    woken: AtomicBool,
    shared: Arc<Shared>,
}

impl Wake for MainWaker {
    fn wake(self: Arc<Self>) {
        let here = current().is_some_and(|core| Arc::ptr_eq(&core.shared, &self.shared));
        if !self.woken.swap(true, SeqCst) && !here {
            let _ = self.shared.waker.wake();
        }
    }
}

/// Creates a runtime, runs `future` on it, and drops it (asyncio's `run`).
#[track_caller]
pub fn run<F: Future>(future: F) -> F::Output {
    Runtime::new().expect("kettle_mini::run: could not create a runtime (epoll/eventfd)").block_on(future)
}

/// What the loop, a task's handle and its wakers share. It *is* the task's
/// waker — one `Arc` per task — and waking it schedules the task: onto the run
/// queue on the loop's thread while it runs, else through the injector.
// kettle: one allocation holds header, future and output; a waker is a counted pointer
// to it, the count in the state word — TaskCell (src/task/cell.rs), State::ref_inc
// (src/task/state.rs); the loop's flags are 32-bit words (LoopFlags, src/task/loop_flags.rs).
struct Header {
    key: AtomicUsize,
    shared: Arc<Shared>,
    cancelled: AtomicBool,
}

impl Wake for Header {
    fn wake(self: Arc<Self>) {
        match current() {
            Some(core) if Arc::ptr_eq(&core.shared, &self.shared) => core.schedule(&self),
            // kettle: remote wakes of one task make one entry — the REMOTE_QUEUED bit, src/task/state.rs.
            _ => drop(self.shared.clone().push(Box::new(move |core| core.schedule(&self)))),
        }
    }
}

/// A spawned future, its type erased, as the loop polls it.
trait Job {
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()>;
}

/// A task's future, and where its result goes (`Done(None)` once the handle took it).
struct Spawned<F: Future> {
    future: Option<Pin<Box<F>>>,
    join: Arc<Mutex<Stage<F::Output>>>,
}

enum Stage<T> {
    Running(Option<Waker>),
    Done(Option<Result<T, JoinError>>),
}

impl<F: Future> Job for Spawned<F> {
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let future = self.future.as_mut().expect("a finished task is not polled");
        let result = match panic::catch_unwind(panic::AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(output)) => Ok(output),
            Err(_) => Err(JoinError { panicked: true }),
        };
        contain(|| self.future = None);
        self.finish(result);
        Poll::Ready(())
    }
}

impl<F: Future> Spawned<F> {
    fn finish(&self, result: Result<F::Output, JoinError>) {
        let before = mem::replace(&mut *lock(&self.join), Stage::Done(Some(result)));
        if let Stage::Running(Some(waker)) = before {
            contain(|| waker.wake()); // after the lock: a waker is user code
        }
    }
}

impl<F: Future> Drop for Spawned<F> {
    /// Dropped unfinished (cancelled, or the runtime is gone): drop the future, tell the handle.
    fn drop(&mut self) {
        if let Some(future) = self.future.take() {
            contain(|| drop(future));
            self.finish(Err(JoinError { panicked: false }));
        }
    }
}

fn new_task<F: Future>(future: F, shared: &Arc<Shared>) -> (Arc<Header>, Spawned<F>, JoinHandle<F::Output>) {
    let (key, cancelled) = (AtomicUsize::new(0), AtomicBool::new(false));
    let header = Arc::new(Header { key, shared: shared.clone(), cancelled });
    let join = Arc::new(Mutex::new(Stage::Running(None)));
    (
        header.clone(),
        Spawned { future: Some(Box::pin(future)), join: join.clone() },
        JoinHandle { header, join },
    )
}

/// Spawns `future` as a task (asyncio's `create_task`), to run from the next
/// turn on, after the tasks already queued. Panics outside a runtime.
#[track_caller]
pub fn spawn<F: Future + 'static>(future: F) -> JoinHandle<F::Output> {
    expect_current("kettle_mini::spawn").spawn(future)
}

/// Awaits a task's result. Dropping it detaches the task, which runs on.
#[must_use = "dropping a JoinHandle detaches the task; await it or call cancel()"]
pub struct JoinHandle<T> {
    header: Arc<Header>,
    join: Arc<Mutex<Stage<T>>>,
}

/// kettle's `RemoteJoinHandle` is a `JoinHandle` plus `wait`; here they are one type, without `wait`.
pub type RemoteJoinHandle<T> = JoinHandle<T>;

impl<T> JoinHandle<T> {
    /// Whether the task returned, panicked, or was cancelled and dropped.
    pub fn is_finished(&self) -> bool {
        matches!(*lock(&self.join), Stage::Done(_))
    }

    /// Requests cancellation: the loop drops the future when it would next poll
    /// it (a task cancelling itself finishes its poll). A finished task ignores it.
    pub fn cancel(&self) {
        if !self.is_finished() && !self.header.cancelled.swap(true, SeqCst) {
            self.header.wake_by_ref();
        }
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut *lock(&self.join) {
            Stage::Done(result) => Poll::Ready(result.take().expect("JoinHandle polled after it returned")),
            Stage::Running(waker) => {
                *waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// Why a task gave no value: it was cancelled, or it panicked (kettle keeps the message).
#[derive(Debug)]
pub struct JoinError {
    panicked: bool,
}

impl JoinError {
    pub fn is_cancelled(&self) -> bool {
        !self.panicked
    }
    pub fn is_panic(&self) -> bool {
        self.panicked
    }
}

/// Lets the other tasks run: wakes itself and returns `Pending`, once.
pub async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if mem::replace(&mut yielded, true) {
            return Poll::Ready(());
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await
}

/// A thread-safe way into a runtime, from anywhere.
#[derive(Clone)]
pub struct Handle {
    shared: Arc<Shared>,
}

/// The runtime behind a [`Handle`] has been dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuntimeClosed;

impl Handle {
    /// The handle of the runtime running on this thread. Panics outside one.
    #[track_caller]
    pub fn current() -> Handle {
        Handle { shared: expect_current("kettle_mini::Handle::current").shared.clone() }
    }

    /// Spawns `future` from any thread (asyncio's `run_coroutine_threadsafe`);
    /// if the runtime is gone, the task is cancelled at once (`Spawned::drop`).
    pub fn spawn<F>(&self, future: F) -> RemoteJoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (header, job, join) = new_task(future, &self.shared);
        drop(self.shared.push(Box::new(move |core| core.adopt(header, Box::new(job)))));
        join
    }

    /// Queues `callback` to run on the loop (asyncio's `call_soon_threadsafe`).
    pub fn call_soon<F: FnOnce() + Send + 'static>(&self, callback: F) -> Result<(), RuntimeClosed> {
        let request = move |core: &Core| core.state.borrow_mut().callbacks.push_back(Box::new(callback));
        self.shared.push(Box::new(request)).map_err(|_| RuntimeClosed)
    }
}

/// The errors' words, as kettle's: `JoinError`, `Elapsed`, `RuntimeClosed`, `sync::Closed`.
macro_rules! error_text {
    ($type:ident $(<$t:ident>)?, $self:ident => $text:expr) => {
        impl$(<$t>)? std::fmt::Display for $type$(<$t>)? {
            fn fmt(&$self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str($text)
            }
        }
        impl$(<$t>)? std::error::Error for $type$(<$t>)? {}
    };
}
error_text!(JoinError, self => if self.panicked { "task panicked" } else { "task was cancelled" });
error_text!(RuntimeClosed, self => "the kettle runtime behind this handle has been dropped");
pub(crate) use error_text;
