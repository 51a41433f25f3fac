//! A timeline of what the loop did: every turn's steps, every task poll,
//! every callback, as a [`Trace`] that kettle can draw (SVG) or hand to a
//! trace viewer (Chrome's JSON).
//!
//! # What is recorded
//!
//! Between [`Runtime::start_trace`] and [`Runtime::stop_trace`] the loop
//! records one [`TraceEvent`] at each of a few named points:
//!
//! - each step of a turn it takes ([`TraceEvent::Phase`], with the step as a
//!   [`Phase`]: the idle handshake, the I/O poll — a peek, or a wait that
//!   could block —, inject, timers, run);
//! - each task poll, inside the run step ([`TraceEvent::Poll`]);
//! - each callback it runs ([`TraceEvent::Callback`]), with the place in the
//!   source where it was registered;
//! - each timer that fires, each I/O poll's count of readiness events, each
//!   task taken from the injector ([`TraceEvent::TimerFired`],
//!   [`TraceEvent::Io`], [`TraceEvent::RemoteSpawn`]).
//!
//! Times are offsets from the moment the trace started, in real time
//! ([`Instant`](std::time::Instant)), exact to the nanosecond the clock
//! gives. Besides the events, the trace keeps one [`TaskLabel`] per task
//! its events mention — the id, the name given at spawn if any, and where
//! it was spawned — so that a picture can say "task 7 fetch a.txt" rather
//! than "task 7". A label goes when the last event mentioning its task is
//! overwritten, so labels are bounded by the ring, as events are.
//!
//! # The ring buffer
//!
//! A loop that runs for hours must not grow a trace without bound, so the
//! events go into a ring buffer of fixed capacity (65 536 events by
//! default, a few megabytes): when it is full, each new event overwrites
//! the oldest one, and [`Trace::dropped`] counts them. A trace therefore
//! always holds the *last* stretch of the run, which is the stretch one
//! usually wants after noticing something odd; both writers say when the
//! beginning is missing. The buffer is `Recorder`, a plain data structure
//! in `recorder.rs` that the loop owns while a trace runs.
//!
//! # What it costs
//!
//! The loop holds its recorder in an `Option` (`runtime/core/record.rs`):
//! with no trace running, a turn costs one test of a flag, and a poll none
//! beyond debug mode's (the loop times its tasks while a trace records).
//! While a trace runs, an event costs a clock read or two (a step or a poll
//! needs its start and its end) and one store into the ring: no lock, no
//! allocation once the ring has grown to its capacity, nothing written to
//! disk. A task's label is copied when the task is first polled in the trace
//! (and again should its events all be overwritten); after that, recording a
//! poll costs one map lookup, and one more for a task's event it overwrites.
//! Everything else — sorting events into tracks, choosing rows, formatting —
//! happens in the writers, after [`Runtime::stop_trace`], off the loop's hot
//! path.
//!
//! # Reading the picture
//!
//! [`Trace::write_svg`] draws the timeline with time going right. The top
//! row is the loop: one coloured bar per step of each turn, the waits drawn
//! pale (time the loop spent blocked in `epoll_wait`, waiting for I/O or a
//! timer: the gaps of a healthy, mostly idle program), and below the bars a
//! lane of small marks — callbacks, timers firing, I/O, remote spawns. Each
//! task has a row of its own with a bar per poll, so a task that hogs the
//! loop shows as a long bar with the loop's run step stretched above it,
//! and a task woken too often shows as a dense comb. [`Trace::write_chrome_json`]
//! writes the same timeline for [Perfetto](https://ui.perfetto.dev) or
//! `chrome://tracing`, where it can be zoomed down to a single poll.
//!
//! [`Runtime::start_trace`]: crate::Runtime::start_trace
//! [`Runtime::stop_trace`]: crate::Runtime::stop_trace

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::panic::Location;
use std::time::Duration;

use crate::task::id::Id;

mod chrome;
mod recorder;
#[cfg(test)]
mod sample;
mod svg;

// The loop records through these (`runtime/core/record.rs`).
pub(crate) use recorder::{DEFAULT_CAPACITY, Recorder};

/// A recorded timeline of a runtime's loop, from
/// [`Runtime::stop_trace`](crate::Runtime::stop_trace): the events oldest first, a label
/// per task, and how many events the ring buffer had to drop.
///
/// Draw it with [`write_svg`](Trace::write_svg), open it in a trace viewer
/// with [`write_chrome_json`](Trace::write_chrome_json), or read the
/// [`events`](Trace::events) directly:
///
/// ```
/// use std::time::Duration;
/// use kettle::TraceEvent;
///
/// let rt = kettle::Runtime::new()?;
/// rt.start_trace();
/// rt.block_on(async {
///     let a = kettle::spawn(kettle::sleep(Duration::from_millis(10)));
///     a.await.unwrap();
/// });
/// let trace = rt.stop_trace();
/// println!("{trace:?}"); // Trace { events: 23, tasks: 1, dropped: 0, duration: 10.4ms }
/// let busiest = trace
///     .events()
///     .iter()
///     .filter_map(|event| match event {
///         TraceEvent::Poll { task, duration, .. } => Some((*duration, *task)),
///         _ => None,
///     })
///     .max();
/// if let Some((duration, task)) = busiest {
///     println!("longest poll: task {task}, {duration:?}");
/// }
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Trace {
    events: Vec<TraceEvent>,
    labels: BTreeMap<Id, TaskLabel>,
    dropped: u64,
    duration: Duration,
}

impl Trace {
    /// The recorded events, oldest first.
    pub fn events(&self) -> &[TraceEvent] {
        &self.events
    }

    /// How many events were overwritten because the ring buffer was full.
    /// The oldest go first, so a trace with drops is missing its beginning:
    /// [`events`](Trace::events) starts later than time zero.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// How long the trace ran: from `start_trace` to `stop_trace`, in real
    /// time.
    pub fn duration(&self) -> Duration {
        self.duration
    }

    /// The label of task `id`, if the trace saw the task.
    pub fn task_label(&self, id: Id) -> Option<&TaskLabel> {
        self.labels.get(&id)
    }

    /// Writes the trace in the Chrome trace-event format (JSON), which
    /// [Perfetto](https://ui.perfetto.dev) and `chrome://tracing` open.
    ///
    /// The process is called "kettle". One track ("thread"), named "loop",
    /// carries the turn's steps and, as instant events, the timers fired,
    /// I/O polls and remote spawns; a second, "callbacks", carries the
    /// callbacks; and each task has a track of its own carrying its polls,
    /// named after the task ("task 7 fetch a.txt (src/main.rs:12)") and
    /// numbered 1000 + its id. Times are in microseconds. `otherData`
    /// says how many events were dropped, and if any were, an instant event
    /// at time zero says so too.
    ///
    /// The output is written in many small pieces: pass a buffered writer,
    /// or a file, which this wraps in one.
    ///
    /// ```
    /// let rt = kettle::Runtime::new()?;
    /// rt.start_trace();
    /// rt.block_on(kettle::sleep(std::time::Duration::from_millis(5)));
    /// let trace = rt.stop_trace();
    /// // Open the file at https://ui.perfetto.dev.
    /// let path = std::env::temp_dir().join("kettle-doc-trace.json");
    /// trace.write_chrome_json(std::fs::File::create(&path)?)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # Errors
    /// Whatever `w` returns.
    pub fn write_chrome_json(&self, w: impl io::Write) -> io::Result<()> {
        let mut w = io::BufWriter::new(w);
        chrome::write(self, &mut w)?;
        io::Write::flush(&mut w)
    }

    /// Draws the trace as a self-contained SVG picture, about 1200 pixels
    /// wide: time on the x axis, a row for the loop's steps (with marks for
    /// callbacks, timers, I/O and remote spawns), and a row of polls per
    /// task. Hovering a bar shows what it is and how long it took.
    ///
    /// At most 40 tasks get a row of their own: those with the most poll
    /// time, listed by id. The others share a last row, "… N more tasks". A
    /// caption says when the ring buffer dropped the trace's beginning.
    ///
    /// ```
    /// let rt = kettle::Runtime::new()?;
    /// rt.start_trace();
    /// rt.block_on(kettle::sleep(std::time::Duration::from_millis(5)));
    /// let trace = rt.stop_trace();
    /// // Open the file in a browser.
    /// let path = std::env::temp_dir().join("kettle-doc-timeline.svg");
    /// trace.write_svg(std::fs::File::create(&path)?)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # Errors
    /// Whatever `w` returns.
    pub fn write_svg(&self, w: impl io::Write) -> io::Result<()> {
        let mut w = io::BufWriter::new(w);
        svg::write(self, &mut w)?;
        io::Write::flush(&mut w)
    }

    /// Every task the events mention (polled or remotely spawned), in id
    /// order.
    fn tasks(&self) -> Vec<Id> {
        let mut ids: Vec<Id> = self.events.iter().filter_map(TraceEvent::task).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// A task's full name: "task 7 fetch a.txt (src/main.rs:12)", "task 7
    /// src/main.rs:12" when unnamed, "task 7" without a label.
    fn task_title(&self, id: Id) -> String {
        match self.labels.get(&id) {
            Some(TaskLabel { name: Some(name), location, .. }) => {
                format!("task {id} {name} ({}:{})", location.file(), location.line())
            }
            Some(label) => label.to_string(),
            None => format!("task {id}"),
        }
    }
}

impl fmt::Debug for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Trace")
            .field("events", &self.events.len())
            .field("tasks", &self.labels.len())
            .field("dropped", &self.dropped)
            .field("duration", &self.duration)
            .finish()
    }
}

/// What a trace knows about a task: its id, the name it was given at spawn
/// (if any), and where in the source it was spawned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskLabel {
    /// The task's id.
    pub id: Id,
    /// The task's name, if it was spawned with one.
    pub name: Option<String>,
    /// Where the task was spawned.
    pub location: &'static Location<'static>,
}

impl fmt::Display for TaskLabel {
    /// "task 7 fetch a.txt", or "task 7 src/main.rs:12" when unnamed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "task {} {name}", self.id),
            None => write!(f, "task {} {}:{}", self.id, self.location.file(), self.location.line()),
        }
    }
}

/// One thing the loop did. Times are offsets from the start of the trace,
/// in real time.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TraceEvent {
    /// One step of a turn. `turn` numbers turns from the start of the trace.
    Phase {
        /// Which step.
        phase: Phase,
        /// The turn it belongs to, counted from the start of the trace.
        turn: u64,
        /// When the step began.
        start: Duration,
        /// How long it took.
        duration: Duration,
    },
    /// A task was polled (or, if cancelled, dropped).
    Poll {
        /// The task.
        task: Id,
        /// When the poll began.
        start: Duration,
        /// How long it took.
        duration: Duration,
    },
    /// A callback ran (`call_soon`, a due `call_later`/`call_at`, a done
    /// callback); `location` is where it was registered.
    Callback {
        /// Where the callback was registered.
        location: &'static Location<'static>,
        /// When it began.
        start: Duration,
        /// How long it took.
        duration: Duration,
    },
    /// A timer fired (a sleep woke its task, or a `call_later` queued its
    /// callback).
    TimerFired {
        /// When.
        at: Duration,
    },
    /// One I/O poll returned `events` readiness events.
    Io {
        /// When the poll returned.
        at: Duration,
        /// How many readiness events it returned.
        events: usize,
    },
    /// A task spawned from another thread was taken from the injector.
    RemoteSpawn {
        /// The task.
        task: Id,
        /// When the loop took it.
        at: Duration,
    },
}

impl TraceEvent {
    /// When the event began.
    pub(crate) fn start(&self) -> Duration {
        match *self {
            TraceEvent::Phase { start, .. }
            | TraceEvent::Poll { start, .. }
            | TraceEvent::Callback { start, .. } => start,
            TraceEvent::TimerFired { at }
            | TraceEvent::Io { at, .. }
            | TraceEvent::RemoteSpawn { at, .. } => at,
        }
    }

    /// The task the event is about: a poll's, or a remote spawn's.
    pub(crate) fn task(&self) -> Option<Id> {
        match *self {
            TraceEvent::Poll { task, .. } | TraceEvent::RemoteSpawn { task, .. } => Some(task),
            _ => None,
        }
    }

    /// When the event ended (its start, for an instant).
    fn end(&self) -> Duration {
        match *self {
            TraceEvent::Phase { start, duration, .. }
            | TraceEvent::Poll { start, duration, .. }
            | TraceEvent::Callback { start, duration, .. } => start.saturating_add(duration),
            _ => self.start(),
        }
    }
}

/// A step of a turn, as `Core::turn` takes them (DESIGN.md, "One turn").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Step 1: the idle handshake before a wait that may block.
    Idle,
    /// Step 2, when it could not block: an I/O poll with a zero timeout (a
    /// peek).
    Poll,
    /// Step 2, when it could block: time spent waiting for I/O, a timer or
    /// another thread — a gap in the picture, not work.
    Wait,
    /// Step 3: taking what other threads queued.
    Inject,
    /// Step 4: firing the due timers.
    Timers,
    /// Step 5: running the queued callbacks, then the queued tasks.
    Run,
}

impl Phase {
    /// Every phase, in the order a turn takes them.
    const ALL: [Phase; 6] = [Phase::Idle, Phase::Poll, Phase::Wait, Phase::Inject, Phase::Timers, Phase::Run];

    /// The phase's name in lower case: "idle", "poll", "wait", "inject",
    /// "timers" or "run".
    pub fn name(self) -> &'static str {
        match self {
            Phase::Idle => "idle",
            Phase::Poll => "poll",
            Phase::Wait => "wait",
            Phase::Inject => "inject",
            Phase::Timers => "timers",
            Phase::Run => "run",
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `d` in microseconds with three decimals ("1234.567"): exact, since a
/// `Duration` counts nanoseconds, and what both formats want.
fn micros(d: Duration) -> String {
    format!("{}.{:03}", d.as_micros(), d.subsec_nanos() % 1000)
}
