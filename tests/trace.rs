//! A timeline of the loop: `Runtime::start_trace` / `stop_trace`, what a
//! trace records, its ring buffer, and its two writers.

// Spawning inside `block_on` and awaiting later, on purpose.
#![allow(clippy::async_yields_async)]

use std::time::Duration;

use kettle::trace::{Phase, Trace, TraceEvent};
use kettle::{Builder, Runtime};

/// A small program with every kind of event: named tasks, a sleep (a wait
/// and a timer), a callback, a loopback read (I/O), a remote spawn.
fn traced(rt: &Runtime) -> Trace {
    rt.start_trace();
    let handle = rt.handle();
    rt.block_on(async {
        // The sleep starts inside the task, so its timer is set at the
        // task's first poll however slowly the rest runs (valgrind).
        let napper = kettle::task::Builder::new().name("napper").spawn(async {
            kettle::sleep(Duration::from_millis(5)).await;
        });
        kettle::call_soon(|| {});
        let listener = kettle::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let client = kettle::spawn(async move { kettle::net::TcpStream::connect(addr).await.unwrap() });
        let (_server, _) = listener.accept().await.unwrap();
        let _client = client.await.unwrap();
        let remote = std::thread::spawn(move || handle.spawn(async { 1 })).join().unwrap();
        assert_eq!(remote.await.unwrap(), 1);
        napper.await.unwrap();
        // Nothing else left to do: the loop must announce idle, wait, and
        // fire this timer, however slowly it ran so far (valgrind).
        kettle::sleep(Duration::from_millis(50)).await;
    });
    rt.stop_trace()
}

#[test]
fn a_trace_records_steps_polls_callbacks_timers_io_and_remote_spawns() {
    let rt = Runtime::new().unwrap();
    let trace = traced(&rt);
    let events = trace.events();
    let phases: Vec<Phase> = events
        .iter()
        .filter_map(|event| match event {
            TraceEvent::Phase { phase, .. } => Some(*phase),
            _ => None,
        })
        .collect();
    for phase in [Phase::Idle, Phase::Wait, Phase::Inject, Phase::Timers, Phase::Run] {
        assert!(phases.contains(&phase), "{phase:?} missing from {phases:?}");
    }
    let polled: Vec<_> = events
        .iter()
        .filter_map(|event| match event {
            TraceEvent::Poll { task, .. } => Some(*task),
            _ => None,
        })
        .collect();
    let napper = polled.iter().find(|id| trace.task_label(**id).unwrap().name.as_deref() == Some("napper"));
    assert!(napper.is_some(), "the named task's polls are labelled");
    assert_eq!(trace.task_label(*napper.unwrap()).unwrap().location.file(), file!());
    let count = |pred: fn(&TraceEvent) -> bool| events.iter().filter(|event| pred(event)).count();
    assert!(count(|e| matches!(e, TraceEvent::Callback { .. })) >= 1);
    assert!(count(|e| matches!(e, TraceEvent::TimerFired { .. })) >= 1);
    assert!(count(|e| matches!(e, TraceEvent::Io { .. })) >= 1);
    assert_eq!(count(|e| matches!(e, TraceEvent::RemoteSpawn { .. })), 1);
    assert_eq!(trace.dropped(), 0);
    assert!(trace.duration() >= Duration::from_millis(5));
}

#[test]
fn events_come_out_in_time_order_and_steps_do_not_overlap() {
    let rt = Runtime::new().unwrap();
    let trace = traced(&rt);
    let start = |event: &TraceEvent| match *event {
        TraceEvent::Phase { start, .. }
        | TraceEvent::Poll { start, .. }
        | TraceEvent::Callback { start, .. } => start,
        TraceEvent::TimerFired { at } | TraceEvent::Io { at, .. } | TraceEvent::RemoteSpawn { at, .. } => at,
        _ => unreachable!("no other events yet"),
    };
    assert!(trace.events().windows(2).all(|w| start(&w[0]) <= start(&w[1])));
    let mut last_end = Duration::ZERO;
    for event in trace.events() {
        if let TraceEvent::Phase { start, duration, .. } = *event {
            assert!(start >= last_end, "one step at a time");
            last_end = start + duration;
        }
    }
    // Polls happen inside run steps.
    for event in trace.events() {
        if let TraceEvent::Poll { start, duration, .. } = *event {
            let inside = trace.events().iter().any(|step| match *step {
                TraceEvent::Phase { phase: Phase::Run, start: s, duration: d, .. } => {
                    s <= start && start + duration <= s + d
                }
                _ => false,
            });
            assert!(inside, "a poll at {start:?} outside every run step");
        }
    }
}

#[test]
fn a_full_ring_keeps_the_newest_events_and_counts_the_dropped() {
    let rt = Builder::new().trace_capacity(16).build().unwrap();
    rt.start_trace();
    rt.block_on(async {
        let busy = kettle::spawn(async {
            for _ in 0..100 {
                kettle::yield_now().await;
            }
        });
        busy.await.unwrap();
    });
    let trace = rt.stop_trace();
    assert_eq!(trace.events().len(), 16);
    assert!(trace.dropped() > 50, "{trace:?}");
    // The newest survive: the steps kept belong to the last few turns.
    let turns: Vec<u64> = trace
        .events()
        .iter()
        .filter_map(|event| match event {
            TraceEvent::Phase { turn, .. } => Some(*turn),
            _ => None,
        })
        .collect();
    let last = *turns.iter().max().unwrap();
    assert!(last >= 100, "{turns:?}");
    assert!(turns.iter().all(|turn| last - turn < 16), "only the newest turns: {turns:?}");
    let mut svg = Vec::new();
    trace.write_svg(&mut svg).unwrap();
    let svg = String::from_utf8(svg).unwrap();
    assert!(svg.contains(&trace.dropped().to_string()) && svg.contains("dropped"), "the picture says so");
    let mut json = Vec::new();
    trace.write_chrome_json(&mut json).unwrap();
    let json = String::from_utf8(json).unwrap();
    assert!(json.contains(&format!("\"dropped\":{}", trace.dropped())), "{json}");
}

#[test]
fn stopping_a_trace_that_never_started_is_a_clear_error() {
    let rt = Runtime::new().unwrap();
    let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| rt.stop_trace())).unwrap_err();
    let message = err.downcast_ref::<String>().map(String::as_str).unwrap_or_default();
    assert!(message.contains("call Runtime::start_trace first"), "{message}");
    // Nor may a trace be stopped twice.
    rt.start_trace();
    let _ = rt.stop_trace();
    assert!(std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| rt.stop_trace())).is_err());
}

#[test]
#[should_panic(expected = "already recording")]
fn starting_a_second_trace_while_one_records_is_a_clear_error() {
    let rt = Runtime::new().unwrap();
    rt.start_trace();
    rt.start_trace();
}

#[test]
fn while_a_trace_records_tasks_are_timed_and_after_it_they_are_not() {
    let rt = Runtime::new().unwrap();
    rt.start_trace();
    let timed = rt.spawn(async {
        std::thread::sleep(Duration::from_millis(5));
        std::future::pending::<()>().await
    });
    rt.turn(Some(Duration::ZERO));
    let busy = rt.tasks().iter().find(|info| info.id == timed.id()).unwrap().busy;
    assert!(busy >= Duration::from_millis(5), "{busy:?}");
    let trace = rt.stop_trace();
    assert!(trace.events().iter().any(|e| matches!(e, TraceEvent::Poll { task, .. } if *task == timed.id())));
    let untimed = rt.spawn(std::future::pending::<()>());
    rt.turn(Some(Duration::ZERO));
    let info = rt.tasks().into_iter().find(|info| info.id == untimed.id()).unwrap();
    assert_eq!(info.age, Duration::ZERO, "spawned after the trace: not timed");
}

#[test]
fn the_json_has_a_track_per_task_and_the_svg_a_row_per_task() {
    let rt = Runtime::new().unwrap();
    let trace = traced(&rt);
    let mut json = Vec::new();
    trace.write_chrome_json(&mut json).unwrap();
    let json = String::from_utf8(json).unwrap();
    assert!(json.starts_with('{') && json.trim_end().ends_with('}'));
    assert!(json.contains("\"traceEvents\""));
    assert!(json.contains("napper"), "the task's track is named");
    let mut svg = Vec::new();
    trace.write_svg(&mut svg).unwrap();
    let svg = String::from_utf8(svg).unwrap();
    assert!(svg.starts_with("<?xml") || svg.starts_with("<svg"), "{}", &svg[..40]);
    assert!(svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains("napper"));
}

#[test]
fn an_empty_trace_still_writes_both_files() {
    let rt = Runtime::new().unwrap();
    rt.start_trace();
    let trace = rt.stop_trace();
    assert!(trace.events().is_empty());
    let (mut json, mut svg) = (Vec::new(), Vec::new());
    trace.write_chrome_json(&mut json).unwrap();
    trace.write_svg(&mut svg).unwrap();
    assert!(String::from_utf8(svg).unwrap().contains("</svg>"));
    assert!(!json.is_empty());
}

#[test]
fn a_task_that_lives_across_two_traces_is_labelled_in_both() {
    let rt = Runtime::new().unwrap();
    let task = rt.block_on(async {
        kettle::task::Builder::new().name("long-lived").spawn(async {
            loop {
                kettle::sleep(Duration::from_millis(1)).await;
            }
        })
    });
    for _ in 0..2 {
        rt.start_trace();
        rt.block_on(kettle::sleep(Duration::from_millis(5)));
        let trace = rt.stop_trace();
        let label = trace.task_label(task.id()).expect("labelled in this trace");
        assert_eq!(label.name.as_deref(), Some("long-lived"));
    }
}

#[test]
fn a_short_trace_over_a_hundred_thousand_named_tasks_keeps_labels_only_for_the_tasks_its_events_mention() {
    // Issue 17: every task the trace ever saw kept its label (33 MiB here).
    let rt = Builder::new().trace_capacity(1024).build().unwrap();
    rt.start_trace();
    let long_lived = rt.block_on(async {
        let long_lived = kettle::task::Builder::new().name("long-lived").spawn(async {
            loop {
                kettle::yield_now().await;
            }
        });
        for batch in 0..100 {
            let tasks: Vec<_> = (0..1_000)
                .map(|i| kettle::task::Builder::new().name(format!("task {batch}/{i}")).spawn(async {}))
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
        }
        long_lived
    });
    let trace = rt.stop_trace();
    let mentioned: std::collections::BTreeSet<_> = trace
        .events()
        .iter()
        .filter_map(|event| match event {
            TraceEvent::Poll { task, .. } | TraceEvent::RemoteSpawn { task, .. } => Some(*task),
            _ => None,
        })
        .collect();
    let labelled = format!("{trace:?}");
    assert!(
        labelled.contains(&format!("tasks: {}", mentioned.len())),
        "{labelled}, {} mentioned",
        mentioned.len()
    );
    assert!(mentioned.len() <= 1024);
    assert!(mentioned.iter().all(|id| trace.task_label(*id).is_some()), "every task mentioned is labelled");
    // The long-lived task's first polls were overwritten long ago; its label
    // came back with its later ones.
    let label = trace.task_label(long_lived.id()).expect("the long-lived task is still polled, and labelled");
    assert_eq!(label.name.as_deref(), Some("long-lived"));
    long_lived.cancel();
}
