//! What the examples and the checks need from a host loop, whatever it is.
//!
//! A host loop is a thread's main loop that kettle does not own. Each host
//! here wraps one (a `poll(2)` loop, a `mio::Poll`, calloop, glib) with
//! kettle's fd registered in it, and exposes three things: one iteration of
//! the host's own loop ([`HostLoop::iterate`]), a way to run code from one
//! of the host's *own* callbacks — a host timer, not a kettle task — which
//! is where a real program calls `rt.spawn(...)` ([`HostLoop::call_from_host`]),
//! and an explicit ending in the order kettle's docs ask for: the fd source
//! removed first, then `Runtime::shutdown` ([`HostLoop::shutdown`]).

use std::time::Duration;

use kettle::Runtime;

/// Code a host runs from one of its own callbacks (a host timer), given the
/// runtime: typically `rt.spawn(...)`.
pub type HostCallback = Box<dyn FnOnce(&Runtime)>;

/// A host loop with kettle's fd registered in it.
///
/// ```
/// use std::time::Duration;
/// use kettle_hosts::HostLoop;
///
/// let mut host = kettle_hosts::poll::PollHost::new(kettle::Runtime::new().unwrap());
/// let task = host.runtime().spawn(async {
///     kettle::sleep(Duration::from_millis(5)).await;
///     7
/// });
/// // The host's loop: kettle's fd fires for the timer, the host turns kettle.
/// while !task.is_finished() {
///     host.iterate(Duration::from_secs(1));
/// }
/// assert!(host.turns() >= 1);
/// host.shutdown();
/// ```
pub trait HostLoop {
    /// The host's name, for reports ("poll", "calloop edge", ...).
    fn name(&self) -> &'static str;

    /// The runtime the host drives.
    fn runtime(&self) -> &Runtime;

    /// One iteration of the host's loop: waits until one of its sources
    /// fires (kettle's fd, a host timer) or `cap` has passed, and dispatches
    /// what fired; kettle's fd turns kettle once. The host computes its wait
    /// from its own sources only: kettle's timers reach it through the fd.
    fn iterate(&mut self, cap: Duration);

    /// Runs `callback` from a host timer of the host's own, `after` from now
    /// (within the host's timer precision: whole milliseconds for some).
    fn call_from_host(&mut self, after: Duration, callback: HostCallback);

    /// How many times the host has turned kettle (its fd fired).
    fn turns(&self) -> usize;

    /// Ends the host's use of kettle in the order kettle's docs ask for:
    /// removes kettle's fd from the host's loop, then shuts the runtime down
    /// (every task cancelled, kettle's descriptors closed). The host's own
    /// descriptors go when it is dropped.
    fn shutdown(self)
    where
        Self: Sized;
}

/// The host timers of a hand-written host loop (`poll`, `mio_edge`): what
/// calloop's and glib's timer sources are to theirs.
#[derive(Default)]
pub struct HostTimers {
    pending: Vec<(std::time::Instant, HostCallback)>,
}

impl HostTimers {
    /// Adds a callback due `after` from now.
    pub fn add(&mut self, after: Duration, callback: HostCallback) {
        self.pending.push((std::time::Instant::now() + after, callback));
    }

    /// How long the host may wait: until the first host timer, at most `cap`.
    pub fn wait(&self, cap: Duration) -> Duration {
        let now = std::time::Instant::now();
        self.pending.iter().map(|(at, _)| at.saturating_duration_since(now)).fold(cap, Duration::min)
    }

    /// Runs the callbacks that are due, each given the runtime.
    pub fn run_due(&mut self, rt: &Runtime) {
        let now = std::time::Instant::now();
        let (due, pending): (Vec<_>, Vec<_>) = self.pending.drain(..).partition(|(at, _)| *at <= now);
        self.pending = pending;
        for (_, callback) in due {
            callback(rt);
        }
    }
}

/// `duration` in whole milliseconds rounded up, as `poll(2)` takes it: a
/// wait of 0.4 ms must not become 0 (a spin).
pub fn millis_rounded_up(duration: Duration) -> i32 {
    let ms = duration.as_nanos().div_ceil(1_000_000);
    i32::try_from(ms).unwrap_or(i32::MAX)
}
