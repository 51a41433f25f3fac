//! The measurements the tests make in every host, and kettle alone for
//! comparison.
//!
//! Each check drives a [`HostLoop`] the way a program would — iterations of
//! the host's own loop, nothing else — and returns what it measured; the
//! tests assert generous bounds on the figures and print them (run with
//! `--nocapture` to see them). A check that waits on the host caps the whole
//! wait at [`STALL`]: reaching it is a stall, reported as a panic that says
//! which host and what it waited for.

use std::cell::Cell;
use std::io::Write;
use std::os::unix::net::UnixStream as StdUnixStream;
use std::rc::Rc;
use std::time::{Duration, Instant};

use kettle::Runtime;

use crate::host::HostLoop;

/// A wait this long on the host is a stall.
pub const STALL: Duration = Duration::from_secs(5);

/// Iterates `host` until `done`, each wait capped at 100 ms; panics with
/// `what` if that takes [`STALL`].
pub fn run_until(host: &mut impl HostLoop, what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < STALL, "{}: stalled waiting for {what}", host.name());
        host.iterate(Duration::from_millis(100));
    }
}

/// The median of `samples` (sorted here).
pub fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Readiness that arrives while kettle is busy: in each of `rounds`, a task
/// keeps yielding for 10 ms (every turn is busy) while another thread
/// writes to a socket a kettle task reads, at an offset that moves from
/// 2 ms before the busy stretch ends to 2 ms after it. Returns, per round,
/// the time from the write to the reader having the data.
pub fn stall_latencies(host: &mut impl HostLoop, rounds: u32) -> Vec<Duration> {
    (0..rounds)
        .map(|round| {
            let round = BusyRound::start(host.runtime(), round, rounds);
            run_until(host, "data that arrived during a busy turn", || round.is_finished());
            round.latency()
        })
        .collect()
}

/// [`stall_latencies`] in kettle alone: `block_on` until the round is over.
pub fn stall_latencies_alone(rounds: u32) -> Vec<Duration> {
    let rt = Runtime::new().expect("a runtime");
    (0..rounds)
        .map(|round| {
            let round = BusyRound::start(&rt, round, rounds);
            rt.block_on(async {
                while !round.is_finished() {
                    kettle::sleep(Duration::from_micros(50)).await;
                }
            });
            round.latency()
        })
        .collect()
}

/// One round of [`stall_latencies`]: a reader, a spinner, a writer thread.
struct BusyRound {
    reader: kettle::JoinHandle<()>,
    spinner: kettle::JoinHandle<()>,
    writer: std::thread::JoinHandle<(Instant, StdUnixStream)>,
    arrived: Rc<Cell<Option<Instant>>>,
}

impl BusyRound {
    fn start(rt: &Runtime, round: u32, rounds: u32) -> BusyRound {
        let (ours, mut theirs) = StdUnixStream::pair().expect("a socket pair");
        let arrived = Rc::new(Cell::new(None));
        let busy_until = Instant::now() + Duration::from_millis(10);
        let offset = Duration::from_micros(4_000 * u64::from(round) / u64::from(rounds.max(1)));
        let write_at = busy_until - Duration::from_millis(2) + offset;
        let got = arrived.clone();
        let reader = rt.spawn(async move {
            let mut ours = kettle::net::UnixStream::from_std(ours).expect("register the socket");
            let mut buf = [0u8; 4];
            ours.read_exact(&mut buf).await.expect("read");
            got.set(Some(Instant::now()));
        });
        let spinner = rt.spawn(async move {
            while Instant::now() < busy_until {
                kettle::yield_now().await;
            }
        });
        let writer = std::thread::spawn(move || {
            std::thread::sleep(write_at.saturating_duration_since(Instant::now()));
            let written = Instant::now();
            theirs.write_all(b"data").expect("write");
            (written, theirs)
        });
        BusyRound { reader, spinner, writer, arrived }
    }

    fn is_finished(&self) -> bool {
        self.reader.is_finished() && self.spinner.is_finished()
    }

    fn latency(self) -> Duration {
        let (written, _theirs) = self.writer.join().expect("the writer thread");
        self.arrived.get().expect("the reader finished").saturating_duration_since(written)
    }
}

/// Work added from host code: `rounds` times, a host callback (a host timer
/// 2 ms off) spawns a task; returns, per round, the time from the spawn to
/// the task running.
pub fn host_spawn_latencies(host: &mut impl HostLoop, rounds: u32) -> Vec<Duration> {
    (0..rounds)
        .map(|_| {
            let ran = Rc::new(Cell::new(None));
            let got = ran.clone();
            host.call_from_host(
                Duration::from_millis(2),
                Box::new(move |rt: &Runtime| {
                    let spawned = Instant::now();
                    rt.spawn(async move { got.set(Some(spawned.elapsed())) }).detach();
                }),
            );
            run_until(host, "a task spawned from a host callback", || ran.get().is_some());
            ran.get().unwrap()
        })
        .collect()
}

/// An idle host with a timer 60 s off: how many loop iterations, and how
/// many kettle turns, it makes over `window`.
pub fn idle_iterations(host: &mut impl HostLoop, window: Duration) -> (usize, usize) {
    let far = host.runtime().spawn(kettle::sleep(Duration::from_secs(60)));
    // Let the spawn's own turn happen first.
    host.iterate(Duration::from_millis(10));
    let (start, turns) = (Instant::now(), host.turns());
    let mut iterations = 0;
    while start.elapsed() < window {
        host.iterate(window.saturating_sub(start.elapsed()));
        iterations += 1;
    }
    far.cancel();
    (iterations, host.turns() - turns)
}

/// `count` timers of `delay` one after another, each a `call_later` made by
/// a task; returns how late each fired (panics if one fired early).
pub async fn timer_lateness_task(count: u32, delay: Duration) -> Vec<Duration> {
    let mut lateness = Vec::new();
    for _ in 0..count {
        let (tx, rx) = kettle::sync::oneshot::channel();
        let asked = Instant::now();
        let _timer = kettle::call_later(delay, move || {
            let _ = tx.send(Instant::now());
        });
        let fired = rx.await.expect("the timer fired");
        let after = fired - asked;
        assert!(after >= delay, "a call_later({delay:?}) ran after {after:?}: early");
        lateness.push(after - delay);
    }
    lateness
}

/// [`timer_lateness_task`] in `host`: the host watches only kettle's fd.
pub fn timer_lateness(host: &mut impl HostLoop, count: u32, delay: Duration) -> Vec<Duration> {
    let task = host.runtime().spawn(timer_lateness_task(count, delay));
    run_until(host, "a chain of timers", || task.is_finished());
    host.runtime().block_on(task).expect("the timer task") // finished: returns at once
}

/// [`timer_lateness_task`] in kettle alone (`block_on`).
pub fn timer_lateness_alone(count: u32, delay: Duration) -> Vec<Duration> {
    Runtime::new().expect("a runtime").block_on(timer_lateness_task(count, delay))
}

/// How many descriptors this process has open (`/proc/self/fd`).
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").expect("/proc/self/fd").count()
}

/// A line for the report: `name  median / max` in milliseconds.
pub fn report(host: &str, what: &str, samples: &mut [Duration]) -> Duration {
    let median = median(samples);
    let max = samples.iter().max().copied().unwrap_or_default();
    println!("{host:14} {what:22} median {:.3} ms, max {:.3} ms", ms(median), ms(max));
    median
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}
