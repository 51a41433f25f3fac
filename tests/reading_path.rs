//! Checks that the README's reading path ("Reading the source") says true
//! things about its own size. The path promises a new reader the seven
//! questions in at most 2,500 lines and 45 minutes; each stop gives its
//! lines and minutes. Files grow, and nobody recounts by hand, so:
//!
//! 1. the stops' line counts add up to the total the section opens with
//!    (within 2%), and that total is at most 2,500 lines;
//! 2. the stops' minutes add up to at most 45, and each stop's minutes are
//!    its lines at the section's stated pace (56 lines a minute), within a
//!    minute;
//! 3. every stop that reads whole files (or a file up to its tests) states a
//!    count within 10% of what those files hold today.
//!
//! Stops that read "the essay and `f`" are checked by rules 1 and 2 only:
//! where a function ends is not worth parsing here.

use std::fs;
use std::path::Path;

/// The README's section between its heading and the first line after the stops.
fn section() -> String {
    let readme = fs::read_to_string(root().join("README.md")).expect("README.md");
    let start = readme.find("## Reading the source").expect("README has \"## Reading the source\"");
    let rest = &readme[start..];
    let end = rest.find("\nThen, in any order").expect("the stops end at \"Then, in any order\"");
    rest[..end].to_owned()
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The text's numbers followed by `unit` (" lines", " min"), as `f64`s, commas dropped.
fn numbers_before(text: &str, unit: &str) -> Vec<f64> {
    let mut found = Vec::new();
    for (at, _) in text.match_indices(unit) {
        let digits: String = text[..at]
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_digit() || *c == ',' || *c == '.')
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .filter(|c| *c != ',')
            .collect();
        if let Ok(n) = digits.parse() {
            found.push(n);
        }
    }
    found
}

/// The stops (the numbered paragraphs from `0.` on), each as one string.
fn stops(section: &str) -> Vec<String> {
    let body = &section[section.find("\n0. ").expect("stop 0")..];
    let mut stops: Vec<String> = Vec::new();
    for line in body.lines() {
        let starts_stop =
            line.len() > 2 && line.as_bytes()[0].is_ascii_digit() && line[1..].starts_with(". ");
        match stops.last_mut() {
            Some(stop) if !starts_stop => {
                stop.push(' ');
                stop.push_str(line.trim());
            }
            _ if starts_stop => stops.push(line.to_owned()),
            _ => {}
        }
    }
    stops
}

fn lines_of(path: &str) -> usize {
    fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}")).lines().count()
}

/// Lines of `path` before its first `#[cfg(test)]`.
fn lines_before_tests(path: &str) -> usize {
    let text = fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines().take_while(|line| !line.starts_with("#[cfg(test)]")).count()
}

#[test]
fn the_stops_add_up_to_the_stated_total_and_it_is_at_most_2500_lines() {
    let section = section();
    let intro = &section[..section.find("\n1. ").expect("the questions")];
    let total = numbers_before(intro, " lines")[0];
    let stated: f64 = stops(&section).iter().flat_map(|stop| numbers_before(stop, " lines")).sum();
    assert!(
        (stated - total).abs() <= total * 0.02,
        "the stops' line counts add up to {stated}, the section says about {total}: recount"
    );
    assert!(total <= 2500.0, "the reading path is {total} lines; its promise is at most 2,500");
}

#[test]
fn each_stops_minutes_are_its_lines_at_the_stated_pace_and_add_up_to_at_most_45() {
    let section = section();
    assert!(section.contains("56 lines a minute"), "the section states its pace (56 lines a minute)");
    let mut minutes = 0.0;
    for stop in stops(&section) {
        let (lines, min) = (numbers_before(&stop, " lines"), numbers_before(&stop, " min"));
        let (lines, min): (f64, f64) = (lines.iter().sum(), min.iter().sum());
        assert!(
            (lines / 56.0 - min).abs() <= 1.0,
            "{lines} lines at 56 a minute are {:.1} min, the stop says {min}: {stop}",
            lines / 56.0
        );
        minutes += min;
    }
    assert!(minutes <= 45.0, "the stops take {minutes} minutes; the promise is at most 45");
}

#[test]
fn whole_file_stops_state_their_files_size_within_ten_percent() {
    let section = section();
    // (the README's words right before the count, the files' lines today)
    let checks = [
        (
            "`net.rs` (",
            lines_of("mini/src/lib.rs") + lines_of("mini/src/time.rs") + lines_of("mini/src/net.rs"),
        ),
        ("(src/runtime/core.rs)** (", lines_of("src/runtime/core.rs")),
        ("its tests, ", lines_before_tests("src/runtime/run_queue.rs")),
        ("(src/task/waker.rs)**\n   (", lines_of("src/task/waker.rs")),
        ("(src/time/sleep.rs)** (", lines_of("src/time/sleep.rs")),
    ];
    let mut wrong = Vec::new();
    for (before, actual) in checks {
        let at = section
            .find(before)
            .unwrap_or_else(|| panic!("README no longer says {before:?}: update this test"));
        let rest = &section[at + before.len()..];
        let stated = numbers_before(&rest[..rest.find(" lines").expect("a count") + 6], " lines")[0];
        if (stated - actual as f64).abs() > actual as f64 * 0.10 {
            wrong.push(format!("after {before:?}: says {stated} lines, the files hold {actual}"));
        }
    }
    assert!(wrong.is_empty(), "the reading path's counts drifted:\n{}", wrong.join("\n"));
}
