//! What a task dump says about a task: [`TaskInfo`] and [`TaskState`].
//!
//! asyncio answers "what is my program doing?" with `asyncio.all_tasks()`
//! and `current_task()`; kettle with [`Runtime::tasks`](crate::Runtime::tasks),
//! [`Handle::tasks`](crate::Handle::tasks) and [`current`](super::current).
//! A snapshot is taken on the loop's thread, between polls or inside one, so
//! it is consistent: each task is in exactly one state.
//!
//! What each field costs: the id, the spawn location and the poll count are
//! kept for every task (a counter, and two words written at spawn). The name
//! is kept only for tasks given one. The two durations need the clock read
//! around every poll, which a loop that polls a task in a few nanoseconds
//! cannot afford by default: they are measured only while the loop *times*
//! its tasks — in debug mode
//! ([`Builder::slow_poll_threshold`](crate::Builder::slow_poll_threshold),
//! `KETTLE_DEBUG=1`) or while a trace
//! records ([`Runtime::start_trace`](crate::Runtime::start_trace)) — and
//! read zero otherwise.

use std::fmt;
use std::panic::Location;
use std::time::{Duration, Instant};

use super::header::Header;
use super::id::Id;
use super::loop_flags::LoopFlags;
use super::notes::Notes;

/// Where a task is in its life, at the moment of a snapshot: one of four,
/// so a `match` on it may be exhaustive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TaskState {
    /// Woken and waiting in the run queue for its next poll.
    Queued,
    /// Being polled right now: the task that took the snapshot
    /// ([`task::current`](super::current)).
    Running,
    /// Waiting for a waker: a timer, I/O, another task.
    Idle,
    /// Finished (returned, panicked or cancelled) but its output not yet
    /// taken by its join handle. Listed only while the loop times its tasks
    /// (debug mode, or a trace recording): otherwise the loop forgets a task
    /// when it finishes.
    FinishedUnread,
}

impl TaskState {
    /// The state of a task the loop holds and is not polling now (the one
    /// it polls is `Running`, which its flags cannot tell).
    pub(crate) fn of(flags: &LoopFlags) -> TaskState {
        if flags.is_done() {
            TaskState::FinishedUnread
        } else if flags.is_queued() {
            TaskState::Queued
        } else {
            TaskState::Idle
        }
    }

    /// The state as a short lower-case word, as the dump prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Queued => "queued",
            TaskState::Running => "running",
            TaskState::Idle => "idle",
            TaskState::FinishedUnread => "finished-unread",
        }
    }
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// One task in a task dump: a plain snapshot, detached from the task.
///
/// `Display` prints it as one line of a dump:
///
/// ```text
/// task 7    idle            polls 1      age 10.1ms    busy 12µs      "poller"  examples/tour.rs:152:57
/// ```
///
/// ```
/// kettle::run(async {
///     let task = kettle::task::Builder::new().name("fetch a.txt").spawn(async {
///         kettle::sleep(std::time::Duration::from_millis(10)).await;
///     });
///     kettle::yield_now().await; // the task runs once, then waits
///     let dump = kettle::Handle::current().tasks().unwrap();
///     let info = dump.iter().find(|info| info.id == task.id()).unwrap();
///     assert_eq!(info.name.as_deref(), Some("fetch a.txt"));
///     assert_eq!(info.state, kettle::task::TaskState::Idle);
///     assert_eq!(info.polls, 1);
///     println!("{info}");
/// });
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskInfo {
    /// The task's id, unique in its runtime.
    pub id: Id,
    /// The name given with [`task::Builder::name`](super::Builder::name).
    pub name: Option<String>,
    /// Where the task was spawned: the caller of `kettle::spawn`,
    /// `Runtime::spawn`, `Handle::spawn` or `task::Builder::spawn`.
    pub location: &'static Location<'static>,
    /// Where the task is in its life.
    pub state: TaskState,
    /// How many times it has been polled.
    pub polls: u64,
    /// Time since it was spawned; zero unless the loop was timing its tasks
    /// when it was spawned (see the module docs).
    pub age: Duration,
    /// Time spent inside its polls while the loop timed them (see the
    /// module docs).
    pub busy: Duration,
}

impl TaskInfo {
    /// A snapshot of the task behind `header`, from its loop's flags and
    /// notes (`Core::task_info`, on the loop's thread).
    pub(crate) fn of(
        header: &Header,
        flags: &LoopFlags,
        notes: Option<&Notes>,
        state: TaskState,
        now: Instant,
    ) -> TaskInfo {
        let (name, age, busy) = match notes {
            None => (None, Duration::ZERO, Duration::ZERO),
            Some(notes) => (
                notes.name.clone(),
                notes.spawned_at.map_or(Duration::ZERO, |at| now.saturating_duration_since(at)),
                notes.busy,
            ),
        };
        TaskInfo {
            id: header.id(),
            name,
            location: header.location(),
            state,
            polls: flags.polls(notes.map_or(0, |notes| notes.polls_carried)),
            age,
            busy,
        }
    }
}

impl fmt::Display for TaskInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "task {:<4} {:<15} polls {:<6}", self.id, self.state, self.polls)?;
        if self.age.is_zero() && self.busy.is_zero() {
            f.write_str(" (untimed)              ")?;
        } else {
            write!(f, " age {:<9} busy {:<9}", Short(self.age), Short(self.busy))?;
        }
        match &self.name {
            Some(name) => write!(f, " {name:?}")?,
            None => f.write_str(" -")?,
        }
        write!(f, "  {}", self.location)
    }
}

/// A duration in three significant-ish digits, as the dump prints it:
/// `850µs`, `12.3ms`, `4.20s`.
struct Short(Duration);

impl fmt::Display for Short {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.as_secs_f64();
        let text = if secs < 1e-3 {
            format!("{:.0}µs", secs * 1e6)
        } else if secs < 1.0 {
            format!("{:.1}ms", secs * 1e3)
        } else {
            format!("{secs:.2}s")
        };
        f.pad(&text)
    }
}
