//! The key above the picture: the title (how long the trace ran), a line
//! of counts (turns, polls, callbacks, timers, I/O, remote spawns, and the
//! share of the time spent waiting), the caption when events were
//! dropped, and the legend of colours.

use std::io::{self, Write};
use std::time::Duration;

use super::super::{Phase, Trace, TraceEvent};
use super::scale::human;
use super::{CALLBACK_COLOUR, IO_COLOUR, POLL_COLOUR, SPAWN_COLOUR, TIMER_COLOUR, colour};

/// The title and the counts (and the caption about dropped events).
pub(super) fn header(trace: &Trace, span: Duration, w: &mut impl Write, y: f64) -> io::Result<()> {
    let (mut turns, mut last_turn, mut polls, mut callbacks, mut timers, mut io, mut spawns) =
        (0, None, 0, 0, 0, 0, 0);
    let mut waiting = Duration::ZERO;
    for event in trace.events() {
        match *event {
            TraceEvent::Phase { phase, turn, duration, .. } => {
                if last_turn != Some(turn) {
                    turns += 1;
                    last_turn = Some(turn);
                }
                if phase == Phase::Wait {
                    waiting += duration;
                }
            }
            TraceEvent::Poll { .. } => polls += 1,
            TraceEvent::Callback { .. } => callbacks += 1,
            TraceEvent::TimerFired { .. } => timers += 1,
            TraceEvent::Io { events, .. } => io += events,
            TraceEvent::RemoteSpawn { .. } => spawns += 1,
        }
    }
    let tasks = trace.tasks().len();
    let share = 100.0 * waiting.as_secs_f64() / span.as_secs_f64().max(1e-9);
    writeln!(
        w,
        "<text x=\"12\" y=\"{y}\" font-size=\"16\" font-weight=\"bold\">kettle trace · {}</text>",
        human(span)
    )?;
    let counts = [
        count(turns, "turn", "turns"),
        format!("{} of {}", count(polls, "poll", "polls"), count(tasks, "task", "tasks")),
        count(callbacks, "callback", "callbacks"),
        count(timers, "timer fired", "timers fired"),
        count(io, "I/O event", "I/O events"),
        count(spawns, "remote spawn", "remote spawns"),
        format!("waiting {} ({share:.0}%)", human(waiting)),
    ];
    writeln!(
        w,
        "<text x=\"12\" y=\"{}\" font-size=\"12\" fill=\"#444444\">{}</text>",
        y + 20.0,
        counts.join(" · ")
    )?;
    if trace.dropped() > 0 {
        writeln!(
            w,
            "<text x=\"12\" y=\"{}\" font-size=\"12\" fill=\"#B3261E\">The ring buffer was full: the {} oldest events \
             were dropped, so the picture starts late (shaded).</text>",
            y + 38.0,
            trace.dropped()
        )?;
    }
    Ok(())
}

/// `n` and the noun for one or for many: "1 turn", "2 turns".
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A swatch and a name for each step, for a task's poll, and for each kind
/// of mark, in three groups.
pub(super) fn legend(w: &mut impl Write, y: f64) -> io::Result<()> {
    let steps = Phase::ALL.iter().map(|&p| (colour(p), if p == Phase::Poll { "I/O peek" } else { p.name() }));
    let others = [
        (POLL_COLOUR, "poll"),
        (CALLBACK_COLOUR, "callback"),
        (TIMER_COLOUR, "timer fired"),
        (IO_COLOUR, "I/O events"),
        (SPAWN_COLOUR, "remote spawn"),
    ];
    let groups = [(0, "loop steps:"), (Phase::ALL.len(), "tasks:"), (Phase::ALL.len() + 1, "marks:")];
    let mut x = 12.0;
    for (i, (fill, name)) in steps.chain(others).enumerate() {
        if let Some((_, group)) = groups.iter().find(|&&(at, _)| at == i) {
            x += if i == 0 { 0.0 } else { 14.0 };
            writeln!(w, "<text x=\"{x}\" y=\"{y}\" fill=\"#555555\">{group}</text>")?;
            x += 6.5 * group.len() as f64 + 6.0;
        }
        let stroke = if fill == colour(Phase::Wait) { " stroke=\"#B8C2CC\"" } else { "" };
        writeln!(
            w,
            "<rect x=\"{x}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{fill}\"{stroke}/>",
            y - 9.0
        )?;
        writeln!(w, "<text x=\"{}\" y=\"{y}\">{name}</text>", x + 14.0)?;
        x += 14.0 + 6.5 * name.len() as f64 + 14.0;
    }
    Ok(())
}
