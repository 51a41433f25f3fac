use std::panic::Location;
use std::time::Duration;

use super::super::sample;
use super::super::{Phase, Recorder, Trace, TraceEvent};
use super::rows::MAX_TASK_ROWS;
use crate::task::id::Id;

fn svg(trace: &Trace) -> String {
    let mut out = Vec::new();
    trace.write_svg(&mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// Checks that `text` is well-formed XML as far as kettle writes it: one
/// `svg` root, every element closed in order, attributes quoted, and every
/// `&` the start of one of the five predefined entities.
fn check_well_formed(text: &str) {
    let body = text.strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n").expect("an XML declaration");
    let mut open: Vec<&str> = Vec::new();
    let mut roots = 0;
    let mut rest = body;
    while let Some(lt) = rest.find('<') {
        check_text(&rest[..lt]);
        let gt = rest[lt..].find('>').expect("an unclosed tag") + lt;
        let tag = &rest[lt + 1..gt];
        assert!(!tag.contains('<'), "a '<' inside tag {tag:?}");
        assert_eq!(tag.matches('"').count() % 2, 0, "unbalanced quotes in {tag:?}");
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(open.pop(), Some(name), "</{name}> closes the wrong element");
        } else {
            let name = tag.split([' ', '/']).next().unwrap();
            assert!(!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric()), "bad tag {tag:?}");
            for value in tag.split('"').skip(1).step_by(2) {
                check_text(value);
            }
            if open.is_empty() {
                roots += 1;
                assert_eq!(name, "svg", "the root is <svg>");
            }
            if !tag.ends_with('/') {
                open.push(name);
            }
        }
        rest = &rest[gt + 1..];
    }
    assert!(open.is_empty(), "unclosed elements {open:?}");
    assert_eq!(roots, 1);
    assert_eq!(rest.trim(), "", "text after the root");
}

fn check_text(text: &str) {
    assert!(!text.contains('>') || !text.contains('<'), "markup in text {text:?}");
    for (at, _) in text.match_indices('&') {
        let entity = ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"].iter().any(|e| text[at..].starts_with(e));
        assert!(entity, "a bare '&' in {text:?}");
    }
    assert!(!text.chars().any(|c| c < ' ' && c != '\n'), "a control character in {text:?}");
}

#[test]
fn the_checker_refuses_what_is_not_well_formed() {
    let head = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    for bad in ["<svg><g></svg>", "<svg>a & b</svg>", "<svg><rect x=\"1/></svg>", "<svg/><svg/>", "<svg>"] {
        let doc = format!("{head}{bad}");
        assert!(std::panic::catch_unwind(|| check_well_formed(&doc)).is_err(), "accepted {bad:?}");
    }
    check_well_formed(&format!("{head}<svg a=\"&lt;\"><g><rect/></g>x &amp; y</svg>\n"));
}

#[test]
fn an_empty_trace_draws_an_empty_timeline() {
    let text = svg(&Recorder::new(4).finish());
    check_well_formed(&text);
    sample::keep("empty.svg", text.as_bytes());
    assert!(text.contains("no events recorded"));
    assert!(text.contains("0 turns · 0 polls of 0 tasks"));
}

#[test]
fn a_trace_of_one_event_draws() {
    let mut recorder = Recorder::new(4);
    recorder.push(TraceEvent::Io { at: Duration::from_micros(3), events: 2 });
    let text = svg(&recorder.finish());
    check_well_formed(&text);
    sample::keep("one.svg", text.as_bytes());
    assert!(text.contains("I/O poll with events 0 ns at 0.003 ms"), "{text}");
}

#[test]
fn each_task_gets_a_labelled_row_by_name_or_by_spawn_location() {
    let trace = sample::tour();
    let text = svg(&trace);
    check_well_formed(&text);
    sample::keep("tour.svg", text.as_bytes());
    for label in ["1 main", "2 fetch a.txt", "5 crunch &quot;numbers&quot;", "7 from another thread"] {
        assert!(text.contains(&format!(">{label}<title>")), "no row labelled {label}");
    }
    let unnamed = trace.task_label(Id::from_u64(6)).unwrap().location;
    assert!(text.contains(&format!(">6 {}:{}<title>", unnamed.file(), unnamed.line())));
    assert!(!text.contains("more task"));
    assert!(!text.contains("dropped"));
}

#[test]
fn names_are_escaped_for_xml() {
    let mut recorder = Recorder::new(4);
    let id = Id::from_u64(1);
    recorder.label(id, Some("<b>&\"\u{1}"), Location::caller());
    recorder.push(TraceEvent::Poll { task: id, start: Duration::ZERO, duration: Duration::from_micros(10) });
    let text = svg(&recorder.finish());
    check_well_formed(&text);
    assert!(text.contains("1 &lt;b&gt;&amp;&quot;\u{fffd}"));
    assert!(!text.contains("<b>"));
}

#[test]
fn tasks_over_the_cap_share_a_last_row() {
    let text = svg(&sample::many_tasks(MAX_TASK_ROWS as u64 + 7));
    check_well_formed(&text);
    sample::keep("many.svg", text.as_bytes());
    assert!(text.contains(">… 7 more tasks<title>"));
    // Task n polls for 10 + n µs: tasks 1 to 7 are the least busy.
    for n in 1..=MAX_TASK_ROWS + 7 {
        let row = format!(">{n} worker {n}<title>");
        assert_eq!(text.contains(&row), n > 7, "task {n}");
    }
}

#[test]
fn dropped_events_get_a_caption() {
    let mut recorder = Recorder::new(3);
    for turn in 0..10 {
        let start = Duration::from_millis(turn);
        recorder.push(TraceEvent::Phase {
            phase: Phase::Wait,
            turn,
            start,
            duration: Duration::from_micros(900),
        });
    }
    let trace = recorder.finish();
    let text = svg(&trace);
    check_well_formed(&text);
    sample::keep("dropped.svg", text.as_bytes());
    assert!(text.contains("the 7 oldest events were dropped"));
}

#[test]
fn a_short_stretch_shows_the_steps_of_each_turn() {
    let tour = sample::tour();
    let until = Duration::from_millis(12);
    let events: Vec<_> = tour.events().iter().filter(|e| e.end() <= until).cloned().collect();
    let trace = Trace { events, labels: tour.labels.clone(), dropped: 0, duration: until };
    let text = svg(&trace);
    check_well_formed(&text);
    sample::keep("tour-12ms.svg", text.as_bytes());
    assert!(text.contains(">0 ms</text>") && text.contains(">10 ms</text>"), "ticked in ms");
    assert!(text.contains("inject step"));
}
