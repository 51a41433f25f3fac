//! Running seeds: which seeds and how many operations (`KETTLE_STRESS_SEED`,
//! `KETTLE_STRESS_OPS`), how a seed spends them (`Shape`), a thread and a time limit per seed so
//! that a lost wake-up fails instead of hanging, and a panic recorder, because kettle contains
//! panics in tasks and callbacks that must still fail the test. Any failure becomes one panic
//! naming the test, the seed, the operation and the command that replays it.

use std::any::Any;
use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Once, PoisonError, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use crate::driver::run_runtime;
use crate::ledger::{Ledger, Stats};
use crate::mix::Mix;
use crate::rng::Rng;
use crate::{DEFAULT_OPS, ROUND_OPS};

/// How a seed spends its operations.
#[derive(Clone, Copy)]
pub enum Shape {
    /// One runtime: rounds of operations, each settled and audited, then a last tenth left
    /// running when the runtime is dropped, and audited after that.
    LongLived,
    /// Fresh runtimes of this many operations each, every one dropped in the middle of its
    /// workload and audited after that.
    ShortLived(u64),
}

/// Runs every seed (or the one in `KETTLE_STRESS_SEED`) on a thread of its own with a time
/// limit, and turns any failure into a panic that names the test, the seed and the operation.
pub fn run_seeds(test: &str, mix: Mix, shape: Shape, default_seeds: &[u64]) -> Vec<(u64, Stats)> {
    install_panic_recorder();
    let ops = env_u64("KETTLE_STRESS_OPS").unwrap_or(DEFAULT_OPS);
    let seeds = env_u64("KETTLE_STRESS_SEED").map_or_else(|| default_seeds.to_vec(), |seed| vec![seed]);
    // About 20 µs per operation in a debug build; allow fifty times that, and a minute.
    let limit = Duration::from_secs(60) + Duration::from_millis(ops);
    let mut results = Vec::new();
    for seed in seeds {
        let label = format!("{test} seed {seed:#x}");
        let progress = Arc::new(AtomicU64::new(0));
        let started = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            within(limit, &label, {
                let (label, progress) = (label.clone(), progress.clone());
                move || run_seed(&label, seed, ops, mix, shape, progress)
            })
        }));
        match outcome {
            Ok(stats) => {
                println!("{label}: {ops} operations in {:.2?}: {stats:?}", started.elapsed());
                results.push((seed, stats));
            }
            Err(panic) => panic!(
                "{label} failed at operation {} of {ops}: {}\n  replay: KETTLE_STRESS_SEED={seed:#x} \
                 KETTLE_STRESS_OPS={ops} cargo test --test stress_random {test}",
                progress.load(Ordering::SeqCst),
                panic_text(&*panic),
            ),
        }
    }
    results
}

/// One seed; returns what it exercised.
pub fn run_seed(label: &str, seed: u64, ops: u64, mix: Mix, shape: Shape, progress: Arc<AtomicU64>) -> Stats {
    track_progress(progress.clone());
    let ledger = Arc::new(Ledger::new(progress));
    let draws = match shape {
        Shape::LongLived => {
            let last = (ops / 10).min(ROUND_OPS);
            run_runtime(label, &ledger, seed, mix, ops - last, last)
        }
        Shape::ShortLived(each) => {
            let mut seeds = Rng(seed);
            (0..ops.div_ceil(each))
                .fold(0, |draws, _| draws ^ run_runtime(label, &ledger, seeds.next(), mix, 0, each))
        }
    };
    Stats { ops, draws, ..ledger.stats() }
}

/// Reads a count or seed from the environment: decimal or `0x` hexadecimal, `_` allowed.
fn env_u64(name: &str) -> Option<u64> {
    let text = std::env::var(name).ok()?;
    let digits = text.trim().replace('_', "");
    let parsed = match digits.strip_prefix("0x").or_else(|| digits.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => digits.parse(),
    };
    Some(parsed.unwrap_or_else(|_| panic!("{name}={text:?} is not a number (decimal or 0x hexadecimal)")))
}

/// Runs `scenario` on a thread named `label` and waits at most `limit`, so that a lost wake-up
/// fails the test instead of hanging it. A panic in `scenario` is resumed here.
pub fn within<T: Send + 'static>(
    limit: Duration,
    label: &str,
    scenario: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (done_tx, done_rx) = mpsc::channel();
    let runner = thread::Builder::new()
        .name(label.to_owned())
        .spawn(move || {
            let out = catch_unwind(AssertUnwindSafe(scenario));
            let _ = done_tx.send(());
            out
        })
        .expect("spawn the seed's thread");
    match done_rx.recv_timeout(limit) {
        Ok(()) => {
            runner.join().expect("the runner catches panics").unwrap_or_else(|panic| resume_unwind(panic))
        }
        Err(_) => panic!("did not finish within {limit:?}: the loop is frozen or a wake-up was lost"),
    }
}

fn panic_text(panic: &(dyn Any + Send)) -> String {
    if let Some(text) = panic.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = panic.downcast_ref::<String>() {
        text.clone()
    } else {
        "(a panic with a non-text payload)".to_owned()
    }
}

/// Panics seen on the threads of this test, as "thread name: message". kettle contains panics in
/// tasks and callbacks, so a failed check inside kettle (a `debug_assert`, a `RefCell` borrowed
/// twice) would otherwise pass unnoticed; the default hook still prints each one.
static PANICS: Mutex<Vec<String>> = Mutex::new(Vec::new());

pub fn install_panic_recorder() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let name = thread::current().name().unwrap_or("<unnamed>").to_owned();
            let message = panic_text(info.payload());
            let location = info.location().map(|l| l.to_string()).unwrap_or_default();
            lock(&PANICS).push(format!("{name}: {message} at {location}"));
            default_hook(info);
            // If unwinding turns into an abort (a destructor panicking in turn), this line is
            // all that is left to replay the failure from.
            if let Ok(Some(op)) =
                CURRENT_OP.try_with(|op| op.borrow().as_ref().map(|op| op.load(Ordering::SeqCst)))
            {
                eprintln!("(thread '{name}' was at operation {op})");
            }
        }));
    });
}

thread_local! {
    /// The progress of the seed running on this thread, for the panic hook.
    static CURRENT_OP: RefCell<Option<Arc<AtomicU64>>> = const { RefCell::new(None) };
}

/// Tells the panic hook that this thread works for the seed whose progress is `progress`.
pub fn track_progress(progress: Arc<AtomicU64>) {
    CURRENT_OP.with(|op| *op.borrow_mut() = Some(progress));
}

/// The name of the remote thread of the seed whose thread is named `label`.
pub fn remote_thread_name(label: &str) -> String {
    format!("{label} remote")
}

/// Fails if a panic was recorded on the seed's thread, `label`, or its remote thread.
pub fn no_panics_on(label: &str) -> Result<(), String> {
    let ours = [format!("{label}: "), format!("{}: ", remote_thread_name(label))];
    let panics: Vec<_> = lock(&PANICS)
        .iter()
        .filter(|line| ours.iter().any(|prefix| line.starts_with(prefix)))
        .cloned()
        .collect();
    if panics.is_empty() {
        return Ok(());
    }
    Err(format!("{} panic(s) caught on the loop or remote thread: {panics:#?}", panics.len()))
}

pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
