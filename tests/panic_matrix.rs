//! The panic-safety matrix: a panic in every slot where user code runs ×
//! when it happens — while the loop runs, when the runtime is dropped, and
//! when it is dropped while the thread is already unwinding. In every case:
//! no panic escapes the loop, no process aborts, every armed value is
//! dropped exactly once (a ledger of drop counters), the loop keeps serving
//! (a sentinel task completes afterwards) and the metrics return to zero.
//!
//! The slots are the places kettle runs user code: a future's poll and drop,
//! a task's output, a callback and its captures (local and remote), a panic
//! payload that panics again when dropped, a done callback and its captures,
//! a blocking job and the result it leaves behind, and a waker's drop. Each
//! case names its slot and timing when it fails.

use std::future::{Future, pending};
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Once};
use std::task::{Context, Wake, Waker};
use std::thread;
use std::time::{Duration, Instant};

use kettle::Runtime;

/// Counts bombs armed and bombs dropped (each drop also panics).
#[derive(Clone, Default)]
struct Ledger {
    armed: Arc<AtomicUsize>,
    dropped: Arc<AtomicUsize>,
    /// Other counted events (a callback that ran after a panicking one).
    marks: Arc<AtomicUsize>,
}

impl Ledger {
    fn bomb(&self, what: &'static str) -> Bomb {
        self.armed.fetch_add(1, Ordering::SeqCst);
        Bomb { what, dropped: self.dropped.clone() }
    }

    fn mark(&self) {
        self.marks.fetch_add(1, Ordering::SeqCst);
    }

    fn balanced(&self) -> bool {
        self.armed.load(Ordering::SeqCst) == self.dropped.load(Ordering::SeqCst)
    }
}

/// Panics when dropped, after counting the drop.
struct Bomb {
    what: &'static str,
    dropped: Arc<AtomicUsize>,
}

impl Drop for Bomb {
    fn drop(&mut self) {
        self.dropped.fetch_add(1, Ordering::SeqCst);
        panic!("bomb: {} dropped", self.what);
    }
}

/// A waker whose last reference panics when dropped.
struct BombWaker(#[allow(dead_code)] Bomb);

impl Wake for BombWaker {
    fn wake(self: Arc<Self>) {}
}

/// Uses a captured value, so that a closure owns it until it is dropped.
fn touch(bomb: &Bomb) {
    std::hint::black_box(bomb);
}

/// Panics with a message the quiet hook recognises.
fn explode(what: &str) -> ! {
    panic!("bomb: {what}")
}

/// Keeps the many intended panics off stderr; any other panic (a failed
/// assertion) is reported as usual.
fn quiet_bombs() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let message = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied())
                .unwrap_or("bomb: a payload of its own type");
            if !message.starts_with("bomb:") {
                default(info);
            }
        }));
    });
}

const SLOTS: [&str; 14] = [
    "a future's poll",
    "a future's drop",
    "a task's output, dropped by the loop",
    "a task's panic payload, dropped by the loop",
    "a callback",
    "a callback's captures' drop",
    "a callback's panic payload's drop",
    "a remote callback's captures' drop",
    "a done callback",
    "a done callback's captures' drop",
    "a blocking job",
    "a blocking job's captures' drop",
    "a blocking job's result drop",
    "a waker's drop",
];

/// Arms a bomb in `slot`: it goes off when the loop runs, or, if the loop
/// does not run first, when the runtime is dropped.
fn arm(rt: &Runtime, slot: &str, ledger: &Ledger) {
    let handle = rt.handle();
    match slot {
        "a future's poll" => drop(rt.spawn(async { explode("poll") })),
        "a future's drop" => {
            let bomb = ledger.bomb("a future's capture");
            let task = rt.spawn(async move {
                let _bomb = bomb;
                pending::<()>().await;
            });
            task.cancel();
        }
        "a task's output, dropped by the loop" => {
            let bomb = ledger.bomb("a detached task's output");
            drop(rt.spawn(async move { bomb }));
        }
        "a task's panic payload, dropped by the loop" => {
            let bomb = ledger.bomb("a detached task's panic payload");
            drop(rt.spawn(async move { panic::panic_any(bomb) }));
        }
        "a callback" => rt.block_on(async { kettle::call_soon(|| explode("callback")) }),
        "a callback's captures' drop" => {
            let bomb = ledger.bomb("a callback's capture");
            rt.block_on(async move { kettle::call_soon(move || touch(&bomb)) });
        }
        "a callback's panic payload's drop" => {
            let bomb = ledger.bomb("a callback's panic payload");
            rt.block_on(async move { kettle::call_soon(move || panic::panic_any(bomb)) });
        }
        "a remote callback's captures' drop" => {
            let bomb = ledger.bomb("a remote callback's capture");
            thread::spawn(move || handle.call_soon(move || touch(&bomb)).unwrap()).join().unwrap();
        }
        "a done callback" => {
            let ledger = ledger.clone();
            rt.block_on(async move {
                let task = kettle::spawn(async {});
                task.add_done_callback(|_| explode("done callback"));
                task.add_done_callback(move |_| ledger.mark()); // the rest of the batch runs
            });
        }
        "a done callback's captures' drop" => {
            let bomb = ledger.bomb("a done callback's capture");
            rt.block_on(async move {
                let task = kettle::spawn(pending::<()>());
                task.add_done_callback(move |_| touch(&bomb));
                task.cancel();
            });
        }
        "a blocking job" => {
            let ledger = ledger.clone();
            rt.block_on(async move {
                let job = kettle::spawn_blocking(|| explode("blocking job"));
                drop(kettle::spawn(async move {
                    assert!(job.await.unwrap_err().is_panic());
                    ledger.mark();
                }));
            });
        }
        "a blocking job's captures' drop" => {
            let bomb = ledger.bomb("a blocking job's capture");
            rt.block_on(async move { drop(kettle::spawn_blocking(move || touch(&bomb))) });
        }
        "a blocking job's result drop" => {
            let bomb = ledger.bomb("a blocking job's result");
            rt.block_on(async move {
                let job = kettle::spawn_blocking(move || {
                    thread::sleep(Duration::from_millis(5));
                    bomb
                });
                job.cancel(); // the result will have nowhere to go
            });
        }
        "a waker's drop" => {
            // A kettle sleep polled by a foreign executor's waker: the timer
            // keeps the last reference to it.
            let waker = Waker::from(Arc::new(BombWaker(ledger.bomb("a foreign waker"))));
            rt.block_on(async move {
                let mut sleep = Box::pin(kettle::sleep(Duration::from_millis(50)));
                assert!(sleep.as_mut().poll(&mut Context::from_waker(&waker)).is_pending());
                drop(waker);
                std::mem::forget(sleep); // leave the timer armed, with only that waker
            });
        }
        other => panic!("no such slot: {other}"),
    }
}

/// Runs the loop until the ledger balances (every armed value dropped) and
/// the loop has nothing left to do, bounded by a generous limit.
fn run_until_settled(rt: &Runtime, ledger: &Ledger, case: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        rt.block_on(async { kettle::sleep(Duration::from_millis(1)).await });
        let metrics = rt.metrics();
        let idle = metrics.tasks_alive == 0 && metrics.callbacks_pending == 0 && metrics.timers_pending == 0;
        if idle && ledger.balanced() {
            return;
        }
        assert!(Instant::now() < deadline, "{case}: never settled: {metrics:?}");
    }
}

/// The loop still serves: a task spawned now completes.
fn assert_serving(rt: &Runtime, case: &str) {
    let sentinel = rt.spawn(async {
        kettle::yield_now().await;
        kettle::sleep(Duration::from_millis(1)).await;
        "served"
    });
    let out = rt.block_on(async { kettle::timeout(Duration::from_secs(5), sentinel).await });
    assert_eq!(out.expect("in time").unwrap(), "served", "{case}: the loop stopped serving");
}

/// Waits for bombs that go off on other threads (blocking workers).
fn eventually_balanced(ledger: &Ledger, case: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !ledger.balanced() {
        assert!(Instant::now() < deadline, "{case}: an armed value was never dropped");
        thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn a_panic_in_any_slot_while_the_loop_runs_is_contained() {
    quiet_bombs();
    for slot in SLOTS {
        let case = format!("«{slot}» while running");
        let ledger = Ledger::default();
        let rt = Runtime::builder().blocking_keep_alive(Duration::from_millis(20)).build().unwrap();
        arm(&rt, slot, &ledger);
        let ran = panic::catch_unwind(AssertUnwindSafe(|| run_until_settled(&rt, &ledger, &case)));
        assert!(ran.is_ok(), "{case}: a panic escaped the loop");
        assert_serving(&rt, &case);
        let metrics = rt.metrics();
        assert_eq!(
            (metrics.tasks_alive, metrics.callbacks_pending, metrics.timers_pending),
            (0, 0, 0),
            "{case}: metrics back to zero"
        );
        if slot == "a done callback" || slot == "a blocking job" {
            assert_eq!(ledger.marks.load(Ordering::SeqCst), 1, "{case}: what follows the panic still ran");
        }
        let dropped = panic::catch_unwind(AssertUnwindSafe(|| drop(rt)));
        assert!(dropped.is_ok(), "{case}: dropping the runtime panicked");
        eventually_balanced(&ledger, &case);
        assert_eq!(ledger.armed.load(Ordering::SeqCst), ledger.dropped.load(Ordering::SeqCst), "{case}");
    }
}

#[test]
fn a_panic_in_any_slot_when_the_runtime_is_dropped_is_contained() {
    quiet_bombs();
    for slot in SLOTS {
        let case = format!("«{slot}» at runtime drop");
        let ledger = Ledger::default();
        let rt = Runtime::new().unwrap();
        arm(&rt, slot, &ledger);
        let dropped = panic::catch_unwind(AssertUnwindSafe(|| drop(rt)));
        assert!(dropped.is_ok(), "{case}: dropping the runtime panicked");
        eventually_balanced(&ledger, &case);
    }
}

#[test]
fn a_panic_in_any_slot_while_the_thread_is_already_unwinding_does_not_abort() {
    // An abort would take the whole test process down: that is the failure.
    quiet_bombs();
    for slot in SLOTS {
        let case = format!("«{slot}» while unwinding");
        let ledger = Ledger::default();
        let armed = ledger.clone();
        let outcome = thread::spawn(move || {
            let rt = Runtime::new().unwrap();
            arm(&rt, slot, &armed);
            let _dropped_while_unwinding = rt;
            explode("the thread's own panic, unwinding through the runtime's drop");
        })
        .join();
        let payload = outcome.expect_err("the thread panicked on purpose");
        let message = payload.downcast_ref::<String>().expect("the thread's own panic, not a bomb's");
        assert!(message.contains("the thread's own panic"), "{case}: {message}");
        eventually_balanced(&ledger, &case);
    }
}
