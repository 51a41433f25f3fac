//! Checks that the README's reading path ("Reading the source") says true
//! things about itself. The path promises a new reader the seven questions
//! in at most 2,500 lines and 45 minutes; each stop names what to read and
//! gives its lines and minutes. Files grow and functions move, and nobody
//! recounts by hand, so [`PATH`] below lists what each stop reads — whole
//! files, essays, functions with their doc comments — and the tests check:
//!
//! 1. every stop's stated line count is within 10% (or 10 lines) of what it
//!    names holds today, and the section's total is the sum of its stops
//!    (within 2%) and at most 2,500 lines;
//! 2. each stop's minutes are its lines at the section's stated pace (56
//!    lines a minute), within a minute, and they add up to at most 45;
//! 3. every function [`PATH`] measures is named in its stop's text, so the
//!    table and the README describe the same path.
//!
//! A learner read the path for these counts on 2026-12-06 and answered the
//! seven questions from it; when you change the path, change [`PATH`] too.

use std::fs;
use std::path::Path;

/// What a stop reads in one file.
enum Read {
    /// The whole file.
    Whole,
    /// The file up to its first `#[cfg(test)]`.
    BeforeTests,
    /// The opening `//!` essay.
    Essay,
    /// The opening essay up to the line containing this text.
    EssayTo(&'static str),
    /// The item on the first line containing this text, with its doc
    /// comment and attributes, to its closing brace.
    Item(&'static str),
    /// A section of a Markdown file: from this heading to the next heading
    /// of the same level.
    Section(&'static str),
}

use Read::*;

/// The path, stop by stop: (file, what of it). Item names must appear in the
/// stop's README text (the needle's last word before `(`, `<` or `{`).
const PATH: [&[(&str, Read)]; 9] = [
    // 0: kettle-mini
    &[("mini/src/lib.rs", Whole)],
    // 1: the life of a task, why this order
    &[("DESIGN.md", Section("### The life of a task")), ("DESIGN.md", Section("### Why this order"))],
    // 2: the turn
    &[("src/runtime/core.rs", Whole)],
    // 3: spawn to first poll
    &[
        ("src/task/mod.rs", Item("pub fn spawn<")),
        ("src/runtime/context.rs", Item("fn expect_current")),
        ("src/runtime/core/requests.rs", Item("fn spawn<")),
        ("src/runtime/core/requests.rs", Item("fn next_task_id")),
        ("src/runtime/core/requests.rs", Item("fn adopt")),
        ("src/task/cell.rs", Item("fn new_local")),
        ("src/task/cell.rs", Item("fn run(")),
        ("src/task/cell/stage.rs", Item("fn allocate")),
        ("src/task/cell/stage.rs", Item("unsafe fn poll<")),
        ("src/task/header.rs", Item("fn new(")),
        ("src/task/join.rs", Item("fn new(")),
        ("src/task/loop_flags.rs", Item("fn adopt")),
        ("src/task/loop_flags.rs", Item("fn mark_dequeued")),
        ("src/runtime/mod.rs", Item("pub fn block_on")),
    ],
    // 4: a wake
    &[("src/runtime/run_queue.rs", BeforeTests), ("src/task/waker.rs", Whole)],
    // 5: other threads
    &[
        ("src/runtime/shared.rs", Essay),
        ("src/runtime/shared.rs", Item("fn push(")),
        ("src/runtime/shared.rs", Item("fn wake_if_idle")),
        ("src/runtime/shared.rs", Item("fn has_pending")),
        ("src/runtime/shared.rs", Item("fn begin_work")),
        ("src/runtime/shared.rs", Item("fn end_work")),
        ("src/runtime/shared.rs", Item("fn leave")),
        ("src/runtime/handle.rs", Item("pub fn spawn<")),
        ("src/task/cell.rs", Item("fn spawn_remote")),
        ("src/task/cell.rs", Item("fn inject")),
    ],
    // 6: the state word
    &[
        ("src/task/state.rs", Essay),
        ("src/task/state.rs", Item("fn complete")),
        ("src/task/state.rs", Item("fn request_cancel")),
        ("src/task/state.rs", Item("fn claim_remote_wake")),
        ("src/task/state.rs", Item("fn drop_join_interest")),
        ("src/task/cell.rs", Item("fn hand_over")),
        ("src/task/cell.rs", Item("fn drop_join_interest")),
        ("src/task/cell.rs", Item("fn complete")),
        ("src/task/state.rs", Item("fn hand_over")),
        ("src/task/join.rs", Item("pub fn cancel")),
        ("src/task/join.rs", Item("impl<T> Drop for JoinHandle")),
    ],
    // 7: time
    &[
        ("src/time/sleep.rs", Essay),
        ("src/time/sleep.rs", Item("pub struct Sleep")),
        ("src/time/sleep.rs", Item("fn poll(")),
        ("src/time/sleep.rs", Item("fn register")),
        ("src/time/sleep.rs", Item("impl Drop for Sleep")),
        ("src/time/sleep.rs", Item("fn cancel_timer")),
        ("src/time/sleep.rs", Item("fn remove_timer")),
        ("src/runtime/core/requests.rs", Item("fn insert_timer")),
        ("src/runtime/core/requests.rs", Item("fn remove_timer")),
        ("src/runtime/timerfd.rs", EssayTo("# Re-arming")),
        ("src/runtime/timerfd.rs", Item("fn arm_if_earlier")),
    ],
    // 8: I/O
    &[
        ("src/net/tcp/stream.rs", Item("pub fn read<")),
        ("src/net/byte_stream.rs", Item("fn read<")),
        ("src/net/evented.rs", Item("fn io_bytes")),
        ("src/net/evented.rs", Item("fn poll(")),
        ("src/runtime/reactor.rs", Essay),
        ("src/runtime/reactor.rs", Item("fn dispatch")),
        ("src/runtime/reactor/registration.rs", Item("fn poll_io")),
        ("src/runtime/reactor/registration.rs", Item("fn attempt")),
        ("src/runtime/reactor/registration.rs", Item("fn park")),
    ],
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The lines `what` covers in `path`.
fn measure(path: &str, what: &Read) -> usize {
    let text = read(path);
    let lines: Vec<&str> = text.lines().collect();
    match what {
        Whole => lines.len(),
        BeforeTests => lines.iter().take_while(|l| !l.starts_with("#[cfg(test)]")).count(),
        Essay => lines.iter().take_while(|l| l.starts_with("//!")).count(),
        EssayTo(needle) => lines.iter().take_while(|l| l.starts_with("//!") && !l.contains(needle)).count(),
        Section(heading) => {
            let start =
                lines.iter().position(|l| l == heading).unwrap_or_else(|| panic!("{path}: no {heading}"));
            let level = heading.split(' ').next().expect("a heading");
            let end = lines[start + 1..]
                .iter()
                .position(|l| {
                    l.split(' ').next().is_some_and(|h| h.starts_with('#') && h.len() <= level.len())
                })
                .map_or(lines.len(), |n| start + 1 + n);
            end - start
        }
        Item(needle) => {
            let at = lines
                .iter()
                .position(|l| l.contains(needle))
                .unwrap_or_else(|| panic!("{path}: no {needle:?}"));
            let first = lines[..at]
                .iter()
                .rposition(|l| {
                    let l = l.trim_start();
                    !(l.starts_with("///") || l.starts_with("#[") || l.starts_with("//"))
                })
                .map_or(0, |n| n + 1);
            let mut depth = 0i32;
            let mut opened = false;
            for (n, line) in lines[at..].iter().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                for c in code.chars() {
                    match c {
                        '{' => (depth, opened) = (depth + 1, true),
                        '}' => depth -= 1,
                        _ => {}
                    }
                }
                if (opened && depth == 0) || (!opened && code.trim_end().ends_with(';')) {
                    return at + n + 1 - first;
                }
            }
            panic!("{path}: {needle:?} never closes")
        }
    }
}

/// The README's section, from its heading to the line after the last stop.
fn section() -> String {
    let readme = read("README.md");
    let start = readme.find("## Reading the source").expect("README has \"## Reading the source\"");
    let rest = &readme[start..];
    rest[..rest.find("\nThen, in any order").expect("the stops end at \"Then, in any order\"")].to_owned()
}

/// The stops (the numbered paragraphs from `0.` on), each joined into one line.
fn stops(section: &str) -> Vec<String> {
    let body = &section[section.find("\n0. ").expect("stop 0")..];
    let mut stops: Vec<String> = Vec::new();
    for line in body.lines() {
        let starts_stop =
            line.len() > 2 && line.as_bytes()[0].is_ascii_digit() && line[1..].starts_with(". ");
        if starts_stop {
            stops.push(line.to_owned());
        } else if let Some(stop) = stops.last_mut() {
            stop.push(' ');
            stop.push_str(line.trim());
        }
    }
    stops
}

/// The numbers right before `unit` (" lines", " min"), commas dropped.
fn numbers_before(text: &str, unit: &str) -> Vec<f64> {
    text.match_indices(unit)
        .filter_map(|(at, _)| {
            let head = &text[..at];
            let start =
                head.rfind(|c: char| !(c.is_ascii_digit() || c == ',' || c == '.')).map_or(0, |n| n + 1);
            head[start..].replace(',', "").parse().ok()
        })
        .collect()
}

#[test]
fn each_stop_states_the_lines_it_names_and_they_add_up_to_at_most_2500() {
    let section = section();
    let stops = stops(&section);
    assert_eq!(stops.len(), PATH.len(), "the README has {} stops, PATH {}", stops.len(), PATH.len());
    let mut wrong = Vec::new();
    for (n, (stop, reads)) in stops.iter().zip(PATH).enumerate() {
        let actual: usize = reads.iter().map(|(path, what)| measure(path, what)).sum();
        let stated: f64 = numbers_before(stop, " lines").iter().sum();
        if (stated - actual as f64).abs() > (actual as f64 * 0.10).max(10.0) {
            wrong.push(format!("stop {n} says {stated} lines; what it names holds {actual}"));
        }
    }
    assert!(wrong.is_empty(), "the reading path's counts drifted:\n{}", wrong.join("\n"));
    let intro = &section[..section.find("\n1. ").expect("the questions")];
    let total = numbers_before(intro, " lines")[0];
    let stated: f64 = stops.iter().flat_map(|stop| numbers_before(stop, " lines")).sum();
    assert!(
        (stated - total).abs() <= total * 0.02,
        "the stops add up to {stated} lines, the section says {total}"
    );
    assert!(total <= 2500.0, "the reading path is {total} lines; its promise is at most 2,500");
}

#[test]
fn each_stops_minutes_are_its_lines_at_the_stated_pace_and_add_up_to_at_most_45() {
    let section = section();
    assert!(section.contains("56 lines a minute"), "the section states its pace (56 lines a minute)");
    let mut minutes = 0.0;
    for stop in stops(&section) {
        let lines: f64 = numbers_before(&stop, " lines").iter().sum();
        let min: f64 = numbers_before(&stop, " min").iter().sum();
        let at_pace = lines / 56.0;
        assert!(
            (at_pace - min).abs() <= 1.0,
            "{lines} lines are {at_pace:.1} min at 56 a minute, not {min}: {stop}"
        );
        minutes += min;
    }
    assert!(minutes <= 45.0, "the stops take {minutes} minutes; the promise is at most 45");
}

#[test]
fn every_function_the_path_measures_is_named_in_its_stop() {
    let section = section();
    let mut missing = Vec::new();
    for (n, (stop, reads)) in stops(&section).iter().zip(PATH).enumerate() {
        for (path, what) in reads {
            let Item(needle) = what else { continue };
            // `fn f(` names `f`, `struct S` names `S`, `impl<T> Drop for X` names `Drop`.
            let name = match needle.strip_prefix("impl") {
                Some(rest) => rest.split_whitespace().find(|w| !w.starts_with('<')).unwrap_or(""),
                None => needle.split(['(', '<']).next().unwrap_or("").split_whitespace().last().unwrap_or(""),
            };
            if !stop.contains(&format!("{name}`")) && !stop.contains(&format!("`{name}")) {
                missing.push(format!("stop {n} reads {path}'s {needle:?} but does not name `{name}`"));
            }
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}
