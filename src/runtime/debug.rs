//! Debug mode (asyncio's `loop.set_debug(True)`): the loop times every
//! task poll and every callback, and reports those slower than a threshold.
//!
//! A single-threaded loop is only as responsive as its slowest step: a task
//! that computes for 200 ms between two `.await`s holds up every timer,
//! socket and task behind it. Debug mode finds such steps. It is on when
//! the runtime is built with [`Builder::slow_poll_threshold`](super::Builder::slow_poll_threshold),
//! or when the environment has `KETTLE_DEBUG=1` (asyncio's
//! `PYTHONASYNCIODEBUG=1`) — then with asyncio's threshold, 100 ms. In debug
//! mode the loop also:
//!
//! - times its tasks, so task dumps show `age` and `busy`
//!   ([`TaskInfo`](crate::task::TaskInfo)), and keeps finished tasks whose
//!   output nobody read, to list them;
//! - at the runtime's drop, lists the tasks still pending (asyncio's "Task
//!   was destroyed but it is pending!") and those finished but never read,
//!   on stderr, with names and spawn locations.
//!
//! The price: two clock reads per poll and per callback, an entry per task
//! in the loop's table of notes, and a list entry per finished task. Off, the loop pays one
//! predictable branch per poll (`core/watch.rs`).

use std::fmt;
use std::panic::Location;
use std::rc::Rc;
use std::time::Duration;

use crate::contain::DropContained;
use crate::stderr;
use crate::task::id::Id;

/// asyncio's `slow_callback_duration` in debug mode: 100 ms.
pub const DEFAULT_SLOW_POLL_THRESHOLD: Duration = Duration::from_millis(100);

/// A task poll or a callback that took longer than the debug threshold:
/// what [`Builder::on_slow_poll`](super::Builder::on_slow_poll)'s hook
/// receives. `Display` prints the one line the default hook writes to
/// stderr:
///
/// ```text
/// kettle: task 7 "fetch a.txt" (src/main.rs:12:5) took 153.2 ms in one poll (threshold 100 ms)
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SlowPoll {
    /// The task polled, or `None` for a callback.
    pub task: Option<Id>,
    /// The task's name, if it has one.
    pub name: Option<String>,
    /// Where the task was spawned, or the callback registered. (Done
    /// callbacks run as one batch per task, reported at the task's spawn
    /// location.)
    pub location: &'static Location<'static>,
    /// How long the poll or the callback ran.
    pub duration: Duration,
    /// The threshold it exceeded.
    pub threshold: Duration,
}

impl fmt::Display for SlowPoll {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.task {
            Some(id) => write!(f, "kettle: task {id}")?,
            None => f.write_str("kettle: callback")?,
        }
        if let Some(name) = &self.name {
            write!(f, " {name:?}")?;
        }
        let what = if self.task.is_some() { "in one poll" } else { "to run" };
        write!(
            f,
            " ({}) took {:.1} ms {what} (threshold {} ms)",
            self.location,
            self.duration.as_secs_f64() * 1e3,
            self.threshold.as_millis()
        )
    }
}

/// The hook slow polls are reported to.
pub(crate) type SlowPollHook = Rc<dyn Fn(&SlowPoll)>;

/// Debug mode's settings, from the builder.
#[derive(Clone)]
pub(crate) struct DebugMode {
    pub(crate) threshold: Duration,
    /// User code, kept until the runtime is dropped: so its drop is
    /// contained too.
    pub(crate) hook: DropContained<SlowPollHook>,
}

impl DebugMode {
    pub(crate) fn new(threshold: Duration, hook: Option<SlowPollHook>) -> DebugMode {
        let to_stderr = || -> SlowPollHook { Rc::new(|slow: &SlowPoll| stderr::write_line(slow)) };
        DebugMode { threshold, hook: DropContained::new(hook.unwrap_or_else(to_stderr)) }
    }
}

impl fmt::Debug for DebugMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DebugMode").field("threshold", &self.threshold).finish_non_exhaustive()
    }
}

/// Whether `KETTLE_DEBUG` asks for debug mode: set, and neither empty nor `0`.
pub(crate) fn env_asks_for_debug(value: Option<&std::ffi::OsStr>) -> bool {
    value.is_some_and(|v| !v.is_empty() && v != "0")
}
