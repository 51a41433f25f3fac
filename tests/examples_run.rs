//! The examples are documentation, so they are tested: each one is run as a
//! real program and its output checked for the lines a reader is promised.
//!
//! To cover a new example, add a test that calls [`run_example`] and checks
//! its output.

use std::process::Command;

/// Runs `cargo run --quiet --example <name>` (debug build) and returns its
/// stdout, failing the test, with both streams shown, if it does not exit
/// successfully.
fn run_example(name: &str) -> String {
    let output = Command::new(env!("CARGO"))
        .args(["run", "--quiet", "--example", name])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap_or_else(|e| panic!("could not run `cargo run --example {name}`: {e}"));
    let stdout = String::from_utf8(output.stdout).expect("example stdout is not UTF-8");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "example `{name}` failed with {}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
        output.status
    );
    stdout
}

/// The first line of `output` containing `needle`, or a failure that shows the
/// whole output.
fn line_with<'a>(output: &'a str, needle: &str) -> &'a str {
    output
        .lines()
        .find(|line| line.contains(needle))
        .unwrap_or_else(|| panic!("no line contains {needle:?} in the output:\n{output}"))
}

/// The seconds in the number that follows `after` on `line`, as in
/// `took 0.15s`.
fn seconds_after(line: &str, after: &str) -> f64 {
    let (_, rest) = line.split_once(after).unwrap_or_else(|| panic!("{after:?} not in {line:?}"));
    let number: String = rest.chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
    number.parse().unwrap_or_else(|e| panic!("no number after {after:?} in {line:?}: {e}"))
}

#[test]
fn tour_example_runs_and_narrates_every_section() {
    let out = run_example("tour");

    // Every section is there, in order.
    let headings = [
        "a) sleep",
        "b) spawn and await",
        "c) a timeout",
        "d) callbacks",
        "e) cancelling",
        "f) from another thread",
        "g) a panicking task",
        "metrics",
    ];
    let mut from = 0;
    for heading in headings {
        let at = out[from..]
            .find(&format!("── {heading}"))
            .unwrap_or_else(|| panic!("section {heading:?} missing or out of order in:\n{out}"));
        from += at;
    }

    // a) sleep
    line_with(&out, "awake again");

    // b) three concurrent downloads take as long as the slowest, not the sum.
    for file in ["a.txt finished", "b.txt finished", "c.txt finished"] {
        line_with(&out, file);
    }
    let total = seconds_after(line_with(&out, "three downloads took "), "three downloads took ");
    assert!(
        (0.15..0.25).contains(&total),
        "the downloads of 100/50/150 ms took {total}s: they did not run concurrently\n{out}"
    );

    // c) the timeout fired.
    line_with(&out, "timeout: Err(Elapsed): deadline has elapsed");
    assert!(!out.contains("huge.iso arrived"), "the timeout did not fire:\n{out}");

    // d) one callback fired, the cancelled one did not.
    line_with(&out, "call_soon: runs on the next turn");
    line_with(&out, "call_later: fired after 50 ms");
    line_with(&out, "cancel() = true");
    assert!(!out.contains("never prints"), "a cancelled callback or task ran:\n{out}");

    // e) cancellation runs the task's cleanup.
    line_with(&out, "cleanup: closing connection");
    line_with(&out, "is_cancelled() = true");

    // f) a task submitted from another thread, waited for there.
    line_with(&out, "client: handle.spawn(...)");
    line_with(&out, "main: the submitted task runs on the loop");
    line_with(&out, "client: task.wait() returned 42");
    line_with(&out, "main: run_forever() returned");

    // g) a panicking task is reported, and the loop goes on.
    line_with(&out, "Err(task panicked: corrupt download); is_panic() = true");
    line_with(&out, "the loop kept running");

    // Nothing left behind.
    let metrics = line_with(&out, "Metrics {");
    assert!(metrics.contains("tasks_alive: 0"), "tasks leaked: {metrics}");
    assert!(metrics.contains("timers_pending: 0"), "timers leaked: {metrics}");
}
