//! What every program shares, whichever runtime it runs on: the event log,
//! drop-logging guards, a hand-written yield, a one-shot gate, a tiny PRNG,
//! and the comparison that prints a readable diff.

use std::cell::{Cell, RefCell};
use std::fmt::Write as _;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::mpsc::RecvTimeoutError;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// An ordered list of observations. `Send + Sync`, so remote tasks,
/// callbacks from other threads and wakers can write to it too.
#[derive(Clone, Default)]
pub struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    pub fn new() -> Log {
        Log::default()
    }

    pub fn push(&self, event: impl Into<String>) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(event.into());
    }

    /// A copy of what was logged so far.
    pub fn snapshot(&self) -> Vec<String> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// A guard that logs `drop <name>` when it is dropped.
    pub fn guard(&self, name: impl Into<String>) -> Guard {
        Guard { log: self.clone(), name: name.into() }
    }
}

/// Logs `drop <name>` when dropped: put one inside a future to see when
/// (and whether) a runtime drops it.
pub struct Guard {
    log: Log,
    name: String,
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.log.push(format!("drop {}", self.name));
    }
}

/// Wakes itself and returns `Pending` once: the task runs again next turn.
/// Hand-written, so no program depends on a runtime's `yield_now`.
pub struct YieldOnce(bool);

pub fn yield_once() -> YieldOnce {
    YieldOnce(false)
}

impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Yields `n` times.
pub async fn yield_times(n: u32) {
    for _ in 0..n {
        yield_once().await;
    }
}

/// A one-shot gate on one thread: `wait` is pending until `open`, which
/// wakes the waiters in the order they started waiting.
#[derive(Clone, Default)]
pub struct Gate(Rc<GateState>);

#[derive(Default)]
pub struct GateState {
    open: Cell<bool>,
    waiters: RefCell<Vec<Waker>>,
}

impl Gate {
    pub fn new() -> Gate {
        Gate::default()
    }

    pub fn open(&self) {
        self.0.open.set(true);
        let waiters = std::mem::take(&mut *self.0.waiters.borrow_mut());
        waiters.into_iter().for_each(Waker::wake);
    }

    pub fn is_open(&self) -> bool {
        self.0.open.get()
    }

    pub fn wait(&self) -> GateWait {
        GateWait { gate: self.clone(), registered: false }
    }
}

pub struct GateWait {
    gate: Gate,
    registered: bool,
}

impl Future for GateWait {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.gate.0.open.get() {
            return Poll::Ready(());
        }
        if !self.registered {
            self.registered = true;
            self.gate.0.waiters.borrow_mut().push(cx.waker().clone());
        }
        Poll::Pending
    }
}

/// splitmix64: a tiny, good-enough PRNG, so the workload needs no new
/// dependency and is the same on every platform.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform-ish in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// `true` with probability `percent`%.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// Asserts that the two runtimes observed the same thing, printing the first
/// difference with some context, and returns the (common) log for the
/// caller's own checks against the spec. An empty log, or any event saying
/// "it should not", fails the test on its own.
#[track_caller]
pub fn same_on_both(what: &str, kettle: Vec<String>, mini: Vec<String>) -> Vec<String> {
    if kettle != mini {
        panic!(
            "{what}: kettle and kettle-mini disagree{}",
            diff(("kettle", &kettle), ("kettle-mini", &mini))
        );
    }
    assert!(!kettle.is_empty(), "{what}: both runtimes logged nothing");
    if let Some(wrong) = kettle.iter().find(|event| event.contains("it should not")) {
        panic!("{what}: both runtimes logged {wrong:?}");
    }
    kettle
}

/// Runs a program on both runtimes, each under a watchdog, and compares the
/// logs (`same_on_both`).
#[track_caller]
pub fn run_both(what: &str, on_kettle: fn() -> Vec<String>, on_mini: fn() -> Vec<String>) -> Vec<String> {
    same_on_both(what, watchdog(what, "kettle", on_kettle), watchdog(what, "kettle-mini", on_mini))
}

/// How long a program may take before the test calls it hung. Generous: a
/// program takes milliseconds; this only turns a hang into a failure.
const HUNG_AFTER: Duration = Duration::from_secs(60);

/// Runs `program` on a thread of its own and waits for it at most
/// `HUNG_AFTER`: a runtime that never finishes a program (a lost wake-up, a
/// cancel that drops nothing) fails the test instead of hanging it. A panic
/// in the program is the test's panic.
#[track_caller]
pub fn watchdog<T: Send + 'static>(
    what: &str,
    runtime: &str,
    program: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        let _ = tx.send(program());
    });
    match rx.recv_timeout(HUNG_AFTER) {
        Ok(out) => out,
        Err(RecvTimeoutError::Timeout) => {
            panic!("{what}: hung on {runtime} (no result after {HUNG_AFTER:?})")
        }
        Err(RecvTimeoutError::Disconnected) => match thread.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the program's thread sends before it ends"),
        },
    }
}

/// Keeps the panics the programs cause on purpose (their messages say "on
/// purpose") out of the output: with `RUST_BACKTRACE` set, each would print
/// a backtrace, slowly. Every other panic goes to the hook that was there.
pub fn quiet_intended_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let message = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(|s| s.as_str()));
            if !message.is_some_and(|m| m.contains("on purpose")) {
                previous(info);
            }
        }));
    });
}

/// Asserts a log is what the spec says (a bug both runtimes share must not
/// pass just because they agree).
#[track_caller]
pub fn assert_log(what: &str, log: &[String], expected: &[String]) {
    if log != expected {
        panic!(
            "{what}: both runtimes agree, but not with the spec{}",
            diff(("spec", expected), ("observed", log))
        );
    }
}

/// A readable account of where two logs part: the first difference, with
/// five events of context before it.
pub fn diff(a: (&str, &[String]), b: (&str, &[String])) -> String {
    let first = a.1.iter().zip(b.1).position(|(x, y)| x != y).unwrap_or(a.1.len().min(b.1.len()));
    let from = first.saturating_sub(5);
    let mut out =
        format!(" at event #{first} ({} logged {} events, {} {}):\n", a.0, a.1.len(), b.0, b.1.len());
    for (side, log) in [a, b] {
        let _ = writeln!(out, "  {side}:");
        for (i, event) in log.iter().enumerate().skip(from).take(first - from + 6) {
            let mark = if i == first { ">>" } else { "  " };
            let _ = writeln!(out, "  {mark} {i:>6}  {event}");
        }
        if log.len() <= first {
            let _ = writeln!(out, "  >> {first:>6}  (end of log)");
        }
    }
    out
}

/// `["a", "b"]` as owned strings, for expected logs.
pub fn events(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// Polls `F` and says, with its output, whether it was ready at its very
/// first poll — which, for a sleep, tells whether its deadline had already
/// passed when it was first polled (then it never registered a timer).
pub struct FirstPoll<F: Future> {
    future: Pin<Box<F>>,
    polled: bool,
}

pub fn first_poll<F: Future>(future: F) -> FirstPoll<F> {
    FirstPoll { future: Box::pin(future), polled: false }
}

impl<F: Future> Future for FirstPoll<F> {
    /// The output, and whether it came at the first poll.
    type Output = (F::Output, bool);
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let first = !self.polled;
        self.polled = true;
        self.future.as_mut().poll(cx).map(|out| (out, first))
    }
}

/// A future that is never ready and logs `drop <name>` when dropped.
pub async fn pending_forever(guard: Guard) {
    let _guard = guard;
    std::future::pending::<()>().await
}
