//! kettle draws its own timeline: a self-contained SVG 1.1 picture, about
//! 1200 pixels wide, with no script, font file or image in it.
//!
//! ```text
//!  kettle trace · 3.00 s                       title, then the counts
//!  412 turns, 1 234 polls of 7 tasks, ...
//!  ■ idle ■ poll ■ wait ■ inject ■ timers ■ run   legend
//!           0 s      0.5 s      1 s   ...           the axis, gridlines below
//!  loop     ▮▮▯▯▯▯▯▯▮▮▮▮▯▯▯▯▯▮▮▮▮▮▮▮▮▯▯▯▯          one bar per step, waits pale
//!     callbacks  |    |       |                     marks under the steps
//!  timers fired    |       |    |
//!  I/O · spawns  |  |  |      ◆
//!  1 main       ▮      ▮      ▮                     a row of polls per task
//!  2 fetch a.txt▮▮▮▮▮▮                              (the busiest 40; rows.rs)
//!  … 3 more tasks                                   the rest, together
//! ```
//!
//! The title, counts and legend are `key.rs`; the axis and its ticks are
//! `scale.rs`; which tasks get rows, and how
//! bars thinner than a pixel are merged and widened, is `rows.rs`. This
//! file lays the picture out top to bottom and writes it; every text that
//! comes from the trace goes through [`Xml`].
//!
//! Colours follow the Okabe–Ito palette, which stays distinct for the
//! common kinds of colour blindness; a mark has the colour of the step it
//! happens in (a timer fires in the timers step, I/O in the poll step, a
//! remote spawn in the inject step).

use std::fmt;
use std::io::{self, Write};
use std::time::Duration;

use super::{Phase, Trace, TraceEvent};
use key::{header, legend};
use rows::{Bar, Bars, TaskRows};
use scale::{Scale, human};

mod key;
mod rows;
mod scale;

/// The picture's width in pixels.
const WIDTH: f64 = 1200.0;
/// Where the plot starts: the row labels go left of it.
const PLOT_LEFT: f64 = 220.0;
/// The plot's width.
const PLOT_WIDTH: f64 = WIDTH - PLOT_LEFT - 30.0;
/// The height of a task row, and of a task's bars in it.
const ROW: f64 = 18.0;
const BAR: f64 = 11.0;
/// Row labels longer than this many characters are cut short.
const LABEL_CHARS: usize = 25;

/// A step's colour.
fn colour(phase: Phase) -> &'static str {
    match phase {
        Phase::Idle => "#999999",
        Phase::Poll => "#009E73",
        Phase::Wait => "#E6ECF0",
        Phase::Inject => "#CC79A7",
        Phase::Timers => "#E69F00",
        Phase::Run => "#56B4E9",
    }
}
const POLL_COLOUR: &str = "#0072B2";
const CALLBACK_COLOUR: &str = "#D55E00";
const TIMER_COLOUR: &str = "#E69F00";
const IO_COLOUR: &str = "#009E73";
const SPAWN_COLOUR: &str = "#CC79A7";

/// Writes `trace` as an SVG document.
pub(super) fn write(trace: &Trace, w: &mut impl Write) -> io::Result<()> {
    // The trace's duration; or, should an event end after stop_trace, that.
    let end = trace.events().iter().map(|e| e.end()).max().unwrap_or_default();
    let span = trace.duration().max(end);
    let scale = Scale::new(span, PLOT_LEFT, PLOT_WIDTH);
    let rows = TaskRows::choose(trace);
    let more = usize::from(!rows.rest.is_empty());
    let dropped = trace.dropped() > 0;

    // Top to bottom.
    let title_y = 26.0;
    let legend_y = title_y + if dropped { 58.0 } else { 40.0 };
    let axis_y = legend_y + 30.0;
    let loop_y = axis_y + 10.0;
    let tasks_y = loop_y + 64.0;
    let tasks_end = tasks_y + ROW * (rows.shown.len() + more) as f64;
    let bottom_axis = rows.shown.len() + more > 12;
    let footer_y = tasks_end + if bottom_axis { 40.0 } else { 22.0 };
    let height = footer_y + 12.0;

    write!(
        w,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" \
         width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\" \
         font-family=\"DejaVu Sans, Verdana, Arial, sans-serif\" font-size=\"11\" fill=\"#222222\">\n"
    )?;
    writeln!(w, "<rect width=\"100%\" height=\"100%\" fill=\"#FFFFFF\"/>")?;
    header(trace, span, w, title_y)?;
    legend(w, legend_y)?;

    // Stripes behind the task rows, then the grid over everything below the axis.
    for i in (0..rows.shown.len() + more).step_by(2) {
        let y = tasks_y + ROW * i as f64;
        writeln!(
            w,
            "<rect x=\"8\" y=\"{y}\" width=\"{}\" height=\"{ROW}\" fill=\"#F4F6F8\"/>",
            WIDTH - 16.0
        )?;
    }
    if dropped && let Some(first) = trace.events().first() {
        let x = scale.x(first.start());
        writeln!(
            w,
            "<rect x=\"{PLOT_LEFT}\" y=\"{loop_y}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#FBE3DF\"><title>dropped: \
             the ring buffer was full</title></rect>",
            x - PLOT_LEFT,
            tasks_end - loop_y
        )?;
    }
    let ticks = scale.ticks();
    writeln!(w, "<g stroke=\"#D0D5DA\" stroke-width=\"1\">")?;
    for (x, _) in &ticks {
        writeln!(w, "<line x1=\"{x:.1}\" y1=\"{}\" x2=\"{x:.1}\" y2=\"{tasks_end}\"/>", axis_y + 4.0)?;
    }
    writeln!(w, "</g>")?;
    axis_labels(w, &ticks, axis_y)?;
    if bottom_axis {
        axis_labels(w, &ticks, tasks_end + 14.0)?;
    }

    loop_row(trace, &scale, w, loop_y)?;
    task_rows(trace, &scale, &rows, w, tasks_y)?;
    writeln!(
        w,
        "<text x=\"12\" y=\"{footer_y}\" font-size=\"10\" fill=\"#777777\">Bars closer than half a pixel are drawn as one; \
         every bar is at least 1 px wide. Hover over a bar for what it stands for.</text>"
    )?;
    writeln!(w, "</svg>")
}

/// The tick labels, centred over their ticks (the first one left-aligned).
fn axis_labels(w: &mut impl Write, ticks: &[(f64, String)], y: f64) -> io::Result<()> {
    writeln!(w, "<g font-size=\"10\" fill=\"#555555\" text-anchor=\"middle\">")?;
    for (i, (x, label)) in ticks.iter().enumerate() {
        let anchor = if i == 0 { " text-anchor=\"start\"" } else { "" };
        writeln!(w, "<text x=\"{x:.1}\" y=\"{y}\"{anchor}>{}</text>", Xml(label))?;
    }
    writeln!(w, "</g>")
}

/// The loop: a lane of steps, then three lanes of marks.
fn loop_row(trace: &Trace, scale: &Scale, w: &mut impl Write, y: f64) -> io::Result<()> {
    let mut steps: [Bars; 6] = Default::default();
    let (mut callbacks, mut timers, mut io) = (Bars::default(), Bars::default(), Bars::default());
    let mut spawns = Vec::new();
    for event in trace.events() {
        match *event {
            TraceEvent::Phase { phase, start, duration, .. } => {
                steps[phase as usize].add(scale, start, duration)
            }
            TraceEvent::Callback { start, duration, .. } => callbacks.add(scale, start, duration),
            TraceEvent::TimerFired { at } => timers.add(scale, at, Duration::ZERO),
            TraceEvent::Io { at, events } if events > 0 => io.add(scale, at, Duration::ZERO),
            TraceEvent::RemoteSpawn { task, at } => spawns.push((task, at)),
            _ => {}
        }
    }
    let lane = |i: f64| y + 25.0 + 11.0 * i;
    writeln!(w, "<text x=\"12\" y=\"{}\" font-size=\"12\" font-weight=\"bold\">loop</text>", y + 14.0)?;
    writeln!(w, "<g font-size=\"9\" fill=\"#666666\" text-anchor=\"end\">")?;
    for (i, name) in ["callbacks", "timers fired", "I/O events · remote spawns"].iter().enumerate() {
        writeln!(w, "<text x=\"{}\" y=\"{}\">{name}</text>", PLOT_LEFT - 8.0, lane(i as f64) + 7.0)?;
    }
    writeln!(w, "</g>")?;
    if trace.events().is_empty() {
        let x = PLOT_LEFT + PLOT_WIDTH / 2.0;
        writeln!(
            w,
            "<text x=\"{x}\" y=\"{}\" text-anchor=\"middle\" fill=\"#777777\">no events recorded</text>",
            y + 14.0
        )?;
    }
    // Waits first, so that the work around them is drawn over them.
    let order = [Phase::Wait, Phase::Idle, Phase::Poll, Phase::Inject, Phase::Timers, Phase::Run];
    for phase in order {
        let what = format!("{} step", phase.name());
        bars(w, &steps[phase as usize].bars, colour(phase), (y, 20.0), &what)?;
    }
    bars(w, &callbacks.bars, CALLBACK_COLOUR, (lane(0.0), 8.0), "callback")?;
    bars(w, &timers.bars, TIMER_COLOUR, (lane(1.0), 8.0), "timer fired")?;
    bars(w, &io.bars, IO_COLOUR, (lane(2.0), 8.0), "I/O poll with events")?;
    writeln!(w, "<g fill=\"{SPAWN_COLOUR}\">")?;
    for (task, at) in spawns {
        let x = scale.x(at);
        writeln!(
            w,
            "<rect x=\"{:.1}\" y=\"{}\" width=\"2\" height=\"10\"><title>remote spawn: {} at {}</title></rect>",
            x - 1.0,
            lane(2.0) - 1.0,
            Xml(&trace.task_title(task)),
            at_ms(at)
        )?;
    }
    writeln!(w, "</g>")
}

/// A row per task shown, and the row of the rest.
fn task_rows(trace: &Trace, scale: &Scale, rows: &TaskRows, w: &mut impl Write, y: f64) -> io::Result<()> {
    let row_of = |id| rows.shown.binary_search_by_key(&id, |&(shown, _)| shown).unwrap_or(rows.shown.len());
    let mut lanes: Vec<Bars> = (0..=rows.shown.len()).map(|_| Bars::default()).collect();
    let mut spawns = Vec::new();
    let mut rest_busy = Duration::ZERO;
    for event in trace.events() {
        match *event {
            TraceEvent::Poll { task, start, duration } => {
                let row = row_of(task);
                if row == rows.shown.len() {
                    rest_busy += duration;
                }
                lanes[row].add(scale, start, duration);
            }
            TraceEvent::RemoteSpawn { task, at } => spawns.push((row_of(task), at)),
            _ => {}
        }
    }
    let row_y = |row: usize| y + ROW * row as f64;
    for (row, &(id, busy)) in rows.shown.iter().enumerate() {
        let label = match trace.task_label(id) {
            Some(label) => match &label.name {
                Some(name) => format!("{id} {name}"),
                None => format!("{id} {}:{}", label.location.file(), label.location.line()),
            },
            None => id.to_string(),
        };
        let title = trace.task_title(id);
        row_label(w, row_y(row), &label, &title, busy)?;
        bars(
            w,
            &lanes[row].bars,
            POLL_COLOUR,
            (row_y(row) + (ROW - BAR) / 2.0, BAR),
            &format!("{title}: poll"),
        )?;
    }
    if !rows.rest.is_empty() {
        let (row, n) = (rows.shown.len(), rows.rest.len());
        let label = format!("… {n} more task{}", if n == 1 { "" } else { "s" });
        let title = format!("{n} tasks with less poll time, drawn together");
        row_label(w, row_y(row), &label, &title, rest_busy)?;
        let what = format!("{n} more tasks: poll");
        bars(w, &lanes[row].bars, "#6A8CAF", (row_y(row) + (ROW - BAR) / 2.0, BAR), &what)?;
    }
    writeln!(w, "<g fill=\"{SPAWN_COLOUR}\" stroke=\"#FFFFFF\" stroke-width=\"0.8\">")?;
    for (row, at) in spawns {
        let (x, cy) = (scale.x(at), row_y(row) + ROW / 2.0);
        writeln!(
            w,
            "<path d=\"M{x:.1} {:.1}l4 4l-4 4l-4 -4z\"><title>spawned from another thread at {}</title></path>",
            cy - 4.0,
            at_ms(at)
        )?;
    }
    writeln!(w, "</g>")
}

/// A row's label on the left, cut short if long (the whole of it in the
/// tooltip), and its poll time at the right of the label column.
fn row_label(w: &mut impl Write, y: f64, label: &str, title: &str, busy: Duration) -> io::Result<()> {
    let short: String = if label.chars().count() > LABEL_CHARS {
        label.chars().take(LABEL_CHARS - 1).chain(['…']).collect()
    } else {
        label.to_owned()
    };
    writeln!(w, "<text x=\"12\" y=\"{:.1}\">{}<title>{}</title></text>", y + 12.5, Xml(&short), Xml(title))?;
    writeln!(
        w,
        "<text x=\"{}\" y=\"{:.1}\" font-size=\"9\" fill=\"#777777\" text-anchor=\"end\">{}</text>",
        PLOT_LEFT - 8.0,
        y + 12.5,
        human(busy)
    )
}

/// A lane's bars in one colour, `(top, height)`, each with a tooltip:
/// "`what` 1.20 ms at 350.120 ms", or for merged bars "`what` × 12, 3.40 ms
/// in all, 350.120 ms to 362.000 ms".
fn bars(
    w: &mut impl Write,
    bars: &[Bar],
    fill: &str,
    (top, height): (f64, f64),
    what: &str,
) -> io::Result<()> {
    let stroke = if fill == colour(Phase::Wait) { " stroke=\"#D5DDE3\" stroke-width=\"0.5\"" } else { "" };
    writeln!(w, "<g fill=\"{fill}\"{stroke}>")?;
    for bar in bars {
        write!(
            w,
            "<rect x=\"{:.2}\" y=\"{top}\" width=\"{:.2}\" height=\"{height}\"><title>",
            bar.x0,
            bar.width()
        )?;
        if bar.count == 1 && bar.busy == bar.end - bar.start {
            write!(w, "{} {} at {}", Xml(what), human(bar.busy), at_ms(bar.start))?;
        } else {
            write!(
                w,
                "{} × {}, {} in all, {} to {}",
                Xml(what),
                bar.count,
                human(bar.busy),
                at_ms(bar.start),
                at_ms(bar.end)
            )?;
        }
        writeln!(w, "</title></rect>")?;
    }
    writeln!(w, "</g>")
}

/// A time in the trace, in milliseconds to the microsecond: "350.120 ms".
fn at_ms(t: Duration) -> String {
    format!("{:.3} ms", t.as_secs_f64() * 1e3)
}

/// Text for XML: `&`, `<`, `>`, `"` and `'` as entities, and the control
/// characters XML 1.0 forbids as U+FFFD.
struct Xml<'a>(&'a str);

impl fmt::Display for Xml<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            match c {
                '&' => f.write_str("&amp;")?,
                '<' => f.write_str("&lt;")?,
                '>' => f.write_str("&gt;")?,
                '"' => f.write_str("&quot;")?,
                '\'' => f.write_str("&apos;")?,
                '\t' | '\n' | '\r' => f.write_str(" ")?,
                '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => f.write_str("\u{fffd}")?,
                c => fmt::Write::write_char(f, c)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
