//! The Chrome trace-event format: the JSON that Perfetto and
//! `chrome://tracing` open, written by hand.
//!
//! The "JSON Object Format": `{"traceEvents": [...], "displayTimeUnit":
//! "ms", "otherData": {...}}`, one event per line. Its tracks are
//! "threads" of one process ("kettle", pid 1), each named by an `M`
//! (metadata) event and placed by a `thread_sort_index`:
//!
//! | tid         | track       | events                                            |
//! |-------------|-------------|---------------------------------------------------|
//! | 1           | loop        | the turn's steps (`X`); timers, I/O, remote spawns (`i`) |
//! | 2           | callbacks   | each callback (`X`), named by where it was registered |
//! | 1000 + id   | task id ... | the task's polls (`X`)                            |
//!
//! Callbacks get a track of their own rather than nesting under the run
//! step on the loop's: a viewer nests slices of one track by their times,
//! and a separate track cannot be drawn wrong if a hook's clock reads are
//! a little off. `ts` and `dur` are microseconds with three decimals,
//! exact to the nanosecond.
//!
//! Every string that may hold user text (a task's name, a file path) goes
//! through [`string`], which escapes what JSON requires — quotes,
//! backslashes, control characters — and `<`, `>`, `&` too, so that the
//! JSON can be pasted into an HTML page (`trace2html` does) without a task
//! named `</script>` ending the script.

use std::fmt;
use std::io::{self, Write};

use super::{Trace, TraceEvent, micros};

/// The loop's track.
const LOOP_TID: u64 = 1;
/// The callbacks' track.
const CALLBACKS_TID: u64 = 2;
/// Task `n`'s track is `TASK_TID_BASE + n`.
const TASK_TID_BASE: u64 = 1000;

/// Writes `trace` as a Chrome trace-event JSON object.
pub(super) fn write(trace: &Trace, w: &mut impl Write) -> io::Result<()> {
    let dropped = trace.dropped();
    write!(w, "{{\"displayTimeUnit\":\"ms\",\"otherData\":{{\"producer\":\"kettle\",\"dropped\":{dropped},")?;
    write!(w, "\"events\":{},\"duration_us\":{}}},", trace.events().len(), micros(trace.duration()))?;
    w.write_all(b"\n\"traceEvents\":[")?;
    let mut list = List { w, first: true };

    list.metadata(LOOP_TID, "process_name", "name", "\"kettle\"")?;
    list.track(LOOP_TID, "loop", 0)?;
    list.track(CALLBACKS_TID, "callbacks", 1)?;
    for (rank, id) in trace.tasks().into_iter().enumerate() {
        list.track(TASK_TID_BASE + id.as_u64(), &trace.task_title(id), 2 + rank)?;
    }
    if dropped > 0 {
        let message = format!("{dropped} earlier events dropped (the ring buffer was full)");
        list.item(format_args!(
            "\"name\":{},\"cat\":\"trace\",\"ph\":\"i\",\"s\":\"g\",\"ts\":0,\"pid\":1,\"tid\":{LOOP_TID}",
            Json(&message)
        ))?;
    }
    for event in trace.events() {
        list.event(event)?;
    }
    list.w.write_all(b"\n]}\n")
}

/// The `traceEvents` array being written: the writer, and whether the
/// next item is the first (no comma before it).
struct List<'w, W: Write> {
    w: &'w mut W,
    first: bool,
}

impl<W: Write> List<'_, W> {
    /// One event object, its fields given without the braces.
    fn item(&mut self, fields: fmt::Arguments<'_>) -> io::Result<()> {
        let comma = if self.first { "" } else { "," };
        self.first = false;
        write!(self.w, "{comma}\n{{{fields}}}")
    }

    /// An `M` event on track `tid`: `name` with one argument `key: value`
    /// (`value` already JSON).
    fn metadata(&mut self, tid: u64, name: &str, key: &str, value: &str) -> io::Result<()> {
        self.item(format_args!(
            "\"name\":\"{name}\",\"ph\":\"M\",\"pid\":1,\"tid\":{tid},\"args\":{{\"{key}\":{value}}}"
        ))
    }

    /// Names track `tid` and puts it `rank`th from the top.
    fn track(&mut self, tid: u64, name: &str, rank: usize) -> io::Result<()> {
        self.metadata(tid, "thread_name", "name", &Json(name).to_string())?;
        self.metadata(tid, "thread_sort_index", "sort_index", &rank.to_string())
    }

    /// A complete (`X`) event: a slice of track `tid` from `start`, lasting
    /// `duration`.
    fn slice(
        &mut self,
        tid: u64,
        name: &str,
        cat: &str,
        span: (std::time::Duration, std::time::Duration),
        args: fmt::Arguments<'_>,
    ) -> io::Result<()> {
        let (start, duration) = span;
        self.item(format_args!(
            "\"name\":{},\"cat\":\"{cat}\",\"ph\":\"X\",\"ts\":{},\"dur\":{},\"pid\":1,\"tid\":{tid},\"args\":{{{args}}}",
            Json(name),
            micros(start),
            micros(duration),
        ))
    }

    /// An instant (`i`) event on the loop's track.
    fn instant(
        &mut self,
        name: &str,
        cat: &str,
        at: std::time::Duration,
        args: fmt::Arguments<'_>,
    ) -> io::Result<()> {
        self.item(format_args!(
            "\"name\":{},\"cat\":\"{cat}\",\"ph\":\"i\",\"s\":\"t\",\"ts\":{},\"pid\":1,\"tid\":{LOOP_TID},\"args\":{{{args}}}",
            Json(name),
            micros(at),
        ))
    }

    /// One recorded event, on its track.
    fn event(&mut self, event: &TraceEvent) -> io::Result<()> {
        match *event {
            TraceEvent::Phase { phase, turn, start, duration } => self.slice(
                LOOP_TID,
                phase.name(),
                "phase",
                (start, duration),
                format_args!("\"turn\":{turn}"),
            ),
            TraceEvent::Poll { task, start, duration } => {
                let tid = TASK_TID_BASE + task.as_u64();
                self.slice(tid, "poll", "task", (start, duration), format_args!("\"task\":{task}"))
            }
            TraceEvent::Callback { location, start, duration } => {
                let name = format!("callback {}:{}", location.file(), location.line());
                let args = format_args!("\"location\":{}", Json(&location.to_string()));
                self.slice(CALLBACKS_TID, &name, "callback", (start, duration), args)
            }
            TraceEvent::TimerFired { at } => self.instant("timer fired", "timer", at, format_args!("")),
            TraceEvent::Io { at, events } => {
                self.instant(&format!("io: {events} events"), "io", at, format_args!("\"events\":{events}"))
            }
            TraceEvent::RemoteSpawn { task, at } => self.instant(
                &format!("remote spawn: task {task}"),
                "spawn",
                at,
                format_args!("\"task\":{task}"),
            ),
        }
    }
}

/// A string as a JSON string literal, quotes included.
struct Json<'a>(&'a str);

impl fmt::Display for Json<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        string(f, self.0)
    }
}

/// Writes `s` as a JSON string literal: `"` and `\` escaped, control
/// characters as `\n`-style or `\u00XX` escapes, `<`, `>` and `&` as
/// `\u003c`-style escapes (for HTML); everything else, non-ASCII included,
/// as itself (JSON is UTF-8).
fn string(f: &mut impl fmt::Write, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            '\u{0}'..='\u{1f}' | '\u{7f}' | '<' | '>' | '&' => write!(f, "\\u{:04x}", c as u32)?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}

#[cfg(test)]
mod tests;
