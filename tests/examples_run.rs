//! The examples are documentation, so they are tested: each one is run as a
//! real program and its output checked for the lines a reader is promised.
//!
//! To cover a new example, add a test that calls [`run_example`] and checks
//! its output.

use std::process::Command;
use std::time::Duration;

mod common;
use common::example::RunningExample;

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

/// The number that follows `after` on `line`, as the `10` in `at +10 ms`.
fn number_after(line: &str, after: &str) -> f64 {
    seconds_after(line, after)
}

/// The time stamp that opens `line`, as the `0.15` in `[0.15s] ...`.
fn stamp(line: &str) -> f64 {
    seconds_after(line, "[")
}

/// The index of the first line at or after line `from` that contains `needle`.
fn line_index(output: &str, needle: &str, from: usize) -> Option<usize> {
    output.lines().enumerate().skip(from).find(|(_, line)| line.contains(needle)).map(|(i, _)| i)
}

/// Checks that lines containing each of `needles` appear in this order (each
/// one after the line that matched the previous needle).
fn assert_in_order(output: &str, needles: &[&str]) {
    let mut from = 0;
    for needle in needles {
        let at = line_index(output, needle, from).unwrap_or_else(|| {
            panic!("no line with {needle:?} after line {from} (order {needles:?}):\n{output}")
        });
        from = at + 1;
    }
}

/// How many lines contain `needle`.
fn count_lines(output: &str, needle: &str) -> usize {
    output.lines().filter(|line| line.contains(needle)).count()
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

    // h) a task dump, one line per task, and the trace written as files.
    let dump = line_with(&out, "\"heartbeat\"");
    assert!(
        dump.contains("idle") && dump.contains("polls 1") && dump.contains("examples/tour.rs:"),
        "{dump}"
    );
    line_with(&out, "tour-trace.json");
    line_with(&out, "tour-timeline.svg");

    // Nothing left behind.
    let metrics = line_with(&out, "Metrics {");
    assert!(metrics.contains("tasks_alive: 0"), "tasks leaked: {metrics}");
    assert!(metrics.contains("timers_pending: 0"), "timers leaked: {metrics}");
}

#[test]
fn callback_chain_gives_the_same_result_with_callbacks_and_with_await() {
    let out = run_example("callback_chain");

    // Each callback runs after its step finished, and starts the next step.
    assert_in_order(
        &out,
        &[
            "main: chain started",
            "step1: found user id 7",
            "callback 1: step1 returned 7",
            "step2: user 7 is ada",
            "callback 2: step2 returned \"ada\"",
            "step3: greeting is \"hello, ada!\"",
            "callback 3: step3 returned \"hello, ada!\"",
            "callbacks result: \"hello, ada!\"",
            "async/await result: \"hello, ada!\"",
            "same result both ways: true",
        ],
    );
    // Three 10 ms steps one after another, twice.
    let by_callbacks = stamp(line_with(&out, "callbacks result"));
    assert!(by_callbacks >= 0.03, "the callback chain finished too early:\n{out}");
    let by_await = stamp(line_with(&out, "async/await result"));
    assert!(by_await >= by_callbacks + 0.03, "the awaited steps overlapped:\n{out}");
}

#[test]
fn gather_downloads_takes_about_the_longest_download_not_the_sum() {
    let out = run_example("gather_downloads");

    // All three start at once and finish shortest first; results in input order.
    assert_in_order(
        &out,
        &["a.txt: started", "b.txt: started", "c.txt: started", "b.txt: finished", "a.txt: finished"],
    );
    assert_in_order(&out, &["a.txt: finished", "c.txt: finished", "gather returned [40000, 20000, 60000]"]);
    let total = seconds_after(line_with(&out, "total "), "total ");
    assert!(
        (0.06..0.11).contains(&total),
        "downloads of 40/20/60 ms took {total}s: not the longest one (0.06s)\n{out}"
    );

    // return_exceptions=True: every outcome in its place.
    line_with(&out, r#"results: [Ok(40000), Err("b.txt: 404 not found"), Ok(60000)]"#);
    line_with(&out, "2 succeeded, 1 failed");

    // try_gather: the first error cancels the others, then returns.
    let try_line = line_with(&out, r#"try_gather: Err("b.txt: 404 not found")"#);
    let took = seconds_after(try_line, " after ");
    assert!((0.02..0.05).contains(&took), "try_gather did not stop at the first error ({took}s)\n{out}");
    let section = &out[out.find("── try_gather").expect("try_gather section")..];
    assert_in_order(section, &["b.txt: failed", "a.txt: cancelled", "try_gather: Err"]);
    assert_in_order(section, &["b.txt: failed", "c.txt: cancelled", "try_gather: Err"]);
    assert_eq!(count_lines(&out, "cancelled, partial download"), 2, "{out}");
}

#[test]
fn wait_for_timeout_cancels_the_slow_operation_and_lets_the_fast_one_finish() {
    let out = run_example("wait_for_timeout");

    // The slow operation is dropped where the timeout fires: cleanup first.
    assert_in_order(&out, &["slow: started", "slow: cleanup ran", "slow: timed out after"]);
    assert!(!out.contains("slow: finished"), "the slow operation was not cancelled:\n{out}");
    let timed_out = line_with(&out, "slow: timed out after ");
    assert!(timed_out.ends_with("s: Err(Elapsed): deadline has elapsed"), "{timed_out}");
    let waited = seconds_after(timed_out, "timed out after ");
    assert!((0.02..0.07).contains(&waited), "the 20 ms timeout fired after {waited}s\n{out}");

    // The fast one completes in time.
    assert_in_order(
        &out,
        &["fast: started", "fast: finished", "fast: cleanup ran", r#"fast: Ok("fast result")"#],
    );

    // A timeout around a handle stops the waiting; cancel() stops the task.
    assert_in_order(
        &out,
        &[
            "background: started",
            "background: stopped waiting after 20 ms",
            "background: cleanup ran",
            "is_cancelled() = true",
        ],
    );
    assert!(!out.contains("background: finished"), "the background task was not cancelled:\n{out}");
}

#[test]
fn create_task_order_starts_tasks_in_spawn_order_only_when_main_awaits() {
    let out = run_example("create_task_order");

    let order = line_with(&out, "order: ");
    let prefix = "order: main spawned A, B, C, main still running; no task has started yet, \
                  A started, B started, C started, main back from yield_now, ";
    // The steps interleave by deadline: A 10 and 20 ms, B 15 and 30, C 25
    // and 50. Every timer a step waits on is registered before any later
    // deadline is due — but for A's second (20 ms), registered only when
    // A's first step runs: a stall of over 5 ms (a loaded machine) can let
    // C's first step (25 ms) run before it. That one swap is all a stall
    // can change; anything else is a wrong order.
    let on_time = "A step 1, B step 1, A step 2, C step 1, B step 2, C step 2, main: all tasks done";
    let stalled = "A step 1, B step 1, C step 1, A step 2, B step 2, C step 2, main: all tasks done";
    let steps = order.strip_prefix(prefix).unwrap_or_else(|| panic!("the start is out of order\n{out}"));
    assert!(steps == on_time || steps == stalled, "the steps are not in deadline order:\n{out}");
    // C's second step is at 50 ms.
    let last_step = stamp(line_with(&out, "] C step 2"));
    assert!(last_step >= 0.05, "C step 2 came early, at {last_step}s\n{out}");
}

#[test]
fn producer_consumer_handles_every_order_exactly_once() {
    let out = run_example("producer_consumer");

    let mut handled: Vec<String> = out
        .lines()
        .filter_map(|line| {
            line.split_once(": handled ")?.1.split_once(" in ").map(|(order, _)| order.to_owned())
        })
        .collect();
    handled.sort();
    let mut expected: Vec<String> =
        (1..=2).flat_map(|p| (1..=5).map(move |n| format!("order {p}.{n}"))).collect();
    expected.sort();
    assert_eq!(handled, expected, "not every order was handled exactly once:\n{out}");

    // Every order was put before it was handled.
    for order in &expected {
        assert_in_order(&out, &[&format!("put {order} "), &format!("handled {order} ")]);
    }

    // join() returns after the last task_done; then the consumers stop.
    let joined = line_index(&out, "queue.join() returned", 0).expect("join line");
    let last_handled =
        out.lines().enumerate().filter(|(_, line)| line.contains(": handled ")).map(|(i, _)| i).last();
    let last_handled = last_handled.expect("handled lines");
    assert!(last_handled < joined, "queue.join() returned before every order was handled:\n{out}");
    assert_eq!(count_lines(&out, "queue closed, stopping after"), 3, "{out}");
    let first_stop = line_index(&out, "queue closed, stopping after", 0).expect("stop line");
    assert!(joined < first_stop, "a consumer stopped before join() returned:\n{out}");

    let per_consumer = line_with(&out, "orders per consumer: [");
    let counts: Vec<usize> = per_consumer
        .split_once("per consumer: [")
        .and_then(|(_, rest)| rest.split_once(']'))
        .map(|(list, _)| list.split(", ").map(|n| n.parse().expect("a count")).collect())
        .expect("a list of counts");
    assert_eq!(counts.iter().sum::<usize>(), 10, "{per_consumer}");
    line_with(&out, "10 orders handled, 10 distinct, 10 expected");
}

#[test]
fn cancel_cleanup_runs_the_cancelled_tasks_drop_guard() {
    let out = run_example("cancel_cleanup");

    assert!(count_lines(&out, "worker: step") >= 3, "the worker did not work before being cancelled:\n{out}");
    assert_in_order(
        &out,
        &[
            "worker: step 1",
            "main: worker.cancel()",
            "right after cancel(): is_finished() = false",
            "cleanup: closing connection db-1",
            "await worker = Err(task was cancelled); is_cancelled() = true",
            "is_finished() = true",
        ],
    );
    // No step after the cancellation.
    let cancelled = line_index(&out, "main: worker.cancel()", 0).expect("cancel line");
    assert!(line_index(&out, "worker: step", cancelled).is_none(), "the worker ran after cancel():\n{out}");

    // A task cancelled before its first poll never runs, but its captures are dropped.
    assert_in_order(&out, &["cleanup: closing connection db-2", "await never = Err(task was cancelled)"]);
    assert!(!out.contains("never prints"), "a cancelled task ran:\n{out}");

    line_with(&out, r#"await done = Ok("finished in time")"#);
}

#[test]
fn call_later_fires_callbacks_in_time_order_and_skips_the_cancelled_one() {
    let out = run_example("call_later");

    assert_in_order(
        &out,
        &[
            "none has run yet",
            "cancelled the 15 ms callback: cancel() = true",
            "fired: call_soon",
            "fired: call_later 10 ms",
            "fired: call_at t0 + 20 ms",
            "fired: call_later 30 ms",
            "is the 30 ms callback pending? false",
            "cancelling it now does nothing: cancel() = false",
        ],
    );
    assert!(!out.contains("fired: call_later 15 ms"), "the cancelled callback fired:\n{out}");

    // Never early, and not very late.
    for (name, due) in [
        ("call_soon", 0.0),
        ("call_later 10 ms", 10.0),
        ("call_at t0 + 20 ms", 20.0),
        ("call_later 30 ms", 30.0),
    ] {
        let at = number_after(line_with(&out, &format!("fired: {name} ")), "at +");
        assert!((due..due + 30.0).contains(&at), "{name} fired at +{at} ms, due at +{due} ms\n{out}");
    }
}

#[test]
fn two_phase_loop_resumes_a_pending_task_in_the_second_phase() {
    let out = run_example("two_phase_loop");

    assert_in_order(
        &out,
        &[
            "── phase 1",
            "background: tick 1",
            "background: tick 2",
            "phase 1: main future done; background finished? false",
            "── between phases",
            "main thread: pausing 30 ms",
            "main thread: background finished? false",
            "── phase 2",
            "background: tick 3",
            "background: tick 4",
            "phase 2: background finished all 4 ticks",
            "metrics: tasks_alive = 0, timers_pending = 0",
        ],
    );
    // Nothing ran between the phases.
    assert_eq!(count_lines(&out, "background: tick"), 4, "{out}");
    let paused_until = stamp(line_with(&out, "main thread: background finished?"));
    let tick3 = stamp(line_with(&out, "background: tick 3"));
    assert!(tick3 >= paused_until, "tick 3 ran while the loop was not running:\n{out}");
}

/// The `turn N: ...` line of the turn during which the work printed `note`.
fn turn_of<'a>(output: &'a str, note: &str) -> &'a str {
    let at = line_index(output, note, 0).unwrap_or_else(|| panic!("no line with {note:?}:\n{output}"));
    let turn = output.lines().take(at).filter(|line| line.contains("] turn ")).last();
    turn.unwrap_or_else(|| panic!("{note:?} came before any turn line:\n{output}"))
}

#[test]
fn turn_by_turn_shows_each_kind_of_work_done_by_its_own_step_of_a_turn() {
    let out = run_example("turn_by_turn");

    // Each piece of work reports once, in order, under a turn whose report
    // counts the step that let it run.
    let work = [
        ("spawned task: first run", "tasks_run"),
        ("call_soon callback:", "callbacks_run"),
        ("sleep: step 4 fired its timer", "timers_fired"),
        ("connect: step 2 saw the socket writable", "io_events"),
        ("remote task:", "injected"),
        ("read: step 2 saw the socket readable", "io_events"),
    ];
    assert_in_order(&out, &work.map(|(note, _)| note));
    for (note, count) in work {
        assert_eq!(count_lines(&out, note), 1, "{note:?} should be reported once:\n{out}");
        let turn = turn_of(&out, note);
        assert!(turn.contains(count), "{note:?} ran in a turn without {count}: {turn:?}\n{out}");
    }

    // A callback queued during a turn runs on the next one.
    let task_turn = number_after(turn_of(&out, "spawned task: first run"), "] turn ");
    let callback_turn = number_after(turn_of(&out, "call_soon callback:"), "] turn ");
    assert_eq!(callback_turn, task_turn + 1.0, "{out}");
    // The sleep is never early.
    let slept = stamp(turn_of(&out, "sleep: step 4"));
    assert!(slept >= 0.02, "the 20 ms sleep ended at {slept}s\n{out}");

    // The loop stopped by itself once the work was done, leaving nothing behind.
    line_with(&out, r#"the task read "ping""#);
    line_with(&out, "metrics: tasks_alive = 0, timers_pending = 0");
}

#[test]
fn threadsafe_submit_runs_submitted_work_on_the_loop_thread() {
    let out = run_example("threadsafe_submit");

    line_with(&out, "main: check 1: done? false");
    assert_eq!(count_lines(&out, "main: check "), 3, "{out}");
    assert_in_order(
        &out,
        &[
            "loop: the submitted coroutine runs here",
            "loop: the coroutine is done",
            "main: task.wait() returned 42",
            "loop: call_soon_threadsafe callback runs here",
            "main: handle.stop()",
            "loop: run_forever() returned",
            "main: loop thread joined; handle.is_closed() = true",
        ],
    );
    assert_in_order(&out, &["loop: run_forever()", "loop: the submitted coroutine runs here"]);
    let waited = stamp(line_with(&out, "main: task.wait() returned"));
    assert!(waited >= 0.03, "the 30 ms coroutine returned after {waited}s\n{out}");
}

#[test]
fn blocking_in_pool_runs_jobs_in_parallel_while_the_loop_keeps_ticking() {
    let out = run_example("blocking_in_pool");

    // Blocking the loop itself stops the ticker.
    line_with(&out, "ticks while the loop itself was blocked: 0");

    // On the pool, the jobs overlap and the loop goes on.
    assert_eq!(count_lines(&out, "on thread kettle-blocking"), 3, "{out}");
    line_with(&out, "main: results [100, 200, 300]");
    let ticks = number_after(line_with(&out, "ticks while the pool was busy: "), "busy: ");
    assert!(ticks >= 2.0, "the loop ticked only {ticks} times while the jobs ran\n{out}");
    let took = seconds_after(line_with(&out, "three 20 ms jobs took "), "took ");
    assert!((0.02..0.05).contains(&took), "three 20 ms jobs took {took}s: not in parallel (0.06s)\n{out}");
}

#[test]
fn event_gate_releases_every_waiter_and_the_impatient_one_gives_up() {
    let out = run_example("event_gate");

    for id in 1..=3 {
        assert_in_order(
            &out,
            &[
                &format!("worker {id}: waiting at the gate"),
                "main: gate.set()",
                &format!("worker {id}: through the gate"),
            ],
        );
    }
    assert_in_order(
        &out,
        &[
            "impatient: waiting at most 10 ms",
            "impatient: gave up (deadline has elapsed)",
            "main: gate.set()",
        ],
    );
    assert!(!out.contains("unexpected"), "{out}");
    let gave_up = stamp(line_with(&out, "impatient: gave up"));
    let set = stamp(line_with(&out, "main: gate.set()"));
    assert!(gave_up < set && set >= 0.03, "gave up at {gave_up}s, gate set at {set}s\n{out}");
    assert_in_order(&out, &["a late wait() passed at once", "gate.clear() — is_set = false"]);
}

#[test]
fn async_iteration_drains_a_closed_queue_and_ticks_an_interval() {
    let out = run_example("async_iteration");

    assert_in_order(
        &out,
        &[
            "consumer: got tea",
            "consumer: got coffee",
            "consumer: got cocoa",
            "producer: closed the queue",
            "consumer: get() returned None",
        ],
    );

    // Four ticks, the first at once, then at least 10 ms apart.
    let mut last = None;
    for n in 1..=4 {
        let at = number_after(line_with(&out, &format!("tick {n}, scheduled at +")), "at +");
        match last {
            None => assert_eq!(at, 0.0, "the first tick is immediate\n{out}"),
            Some(previous) => assert!(at >= previous + 10.0, "tick {n} came too soon\n{out}"),
        }
        last = Some(at);
    }

    assert_in_order(&out, &["countdown: 3", "countdown: 2", "countdown: 1", "countdown: liftoff"]);
}

#[test]
fn deterministic_sleeps_83_virtual_seconds_in_no_time_and_a_seed_sweep_finds_and_replays_the_race() {
    let out = run_example("deterministic");

    // The paused clock: exact virtual time stamps, every one.
    assert_in_order(
        &out,
        &[
            "attempt 1 at +0 s",
            "attempt 1 timed out at +30 s",
            "attempt 2 at +31 s",
            "attempt 2 timed out at +61 s",
            "attempt 3 at +63 s",
            "attempt 3 answered at +83 s of virtual time",
        ],
    );
    let real_ms = number_after(line_with(&out, "real time taken:"), "taken: ");
    assert!(real_ms < 1000.0, "83 virtual seconds took {real_ms} ms of real time\n{out}");

    // The seed sweep: spawn order hides the race; a seed finds it, and replays it.
    assert!(out.contains("in spawn order: 1 ticket sold"), "{out}");
    let found = line_with(&out, "the sweep says: kettle::test::check: seed ");
    assert!(found.contains("failed: the last seat was sold 2 times"), "{out}");
    let seed = number_after(found, "check: seed ");
    assert!(out.contains(&format!("replayed seed {seed} three times: oversold 3 times out of 3")), "{out}");
}

#[test]
fn ctrl_c_stop_ticks_until_sigint_then_cancels_the_worker_and_says_goodbye() {
    let mut example = RunningExample::start("ctrl_c_stop", &[], &[]);
    // Wait (building the example may take a while) until the waiter is
    // installed and the worker has ticked twice, then interrupt it.
    example.wait_for_all(&["press Ctrl+C to stop", "worker: tick 2"], Duration::from_secs(120));
    example.interrupt();
    let (status, out) = example.wait_exit(Duration::from_secs(10));

    assert!(status.success(), "ctrl_c_stop exited with {status}:\n{out}");
    assert_in_order(
        &out,
        &[
            "worker: tick 1",
            "main: press Ctrl+C to stop",
            "main: got Ctrl+C; cancelling the worker",
            "worker: cancelled, cleaning up",
            "main: worker ended: task was cancelled",
            "main: goodbye",
        ],
    );
}

/// The TCP echo pair, `echo_server` and `echo_client`: real processes
/// talking over loopback, with every wait bounded.
mod echo_pair {
    use std::io::{ErrorKind, Read, Write};
    use std::net::{Shutdown, SocketAddr, TcpStream};

    use std::sync::{Arc, Barrier};
    use std::thread;
    use std::time::Duration;

    use super::{RunningExample, assert_in_order, count_lines, line_with};

    fn connect(addr: SocketAddr) -> TcpStream {
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))
            .unwrap_or_else(|e| panic!("could not connect to {addr}: {e}"));
        stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        stream.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
        stream
    }

    /// Asserts that the peer closes `stream` without sending anything more.
    fn assert_closed(stream: &mut TcpStream, who: &str) {
        let mut buf = [0; 64];
        match stream.read(&mut buf) {
            Ok(0) => {}
            Ok(n) => panic!("{who}: expected end-of-file, got {:?}", &buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                panic!("{who}: the server did not close the connection within 5 s")
            }
            Err(e) => panic!("{who}: expected end-of-file, got {e}"),
        }
    }

    #[test]
    fn echo_server_serves_the_client_and_concurrent_connections_then_stops_on_ctrl_c() {
        let mut server = RunningExample::start("echo_server", &["0"], &[]);
        // Building the examples may take a while.
        let first = server.wait_for_line("listening on ", Duration::from_secs(120));
        let addr = first.split_once("listening on ").unwrap().1.trim();
        let addr: SocketAddr = addr.parse().unwrap_or_else(|e| panic!("bad address in {first:?}: {e}"));

        // The example client: each line sent comes back, in order.
        let client = RunningExample::start("echo_client", &[&addr.to_string()], &[]);
        let (status, out) = client.wait_exit(Duration::from_secs(120));
        assert!(status.success(), "echo_client exited with {status}:\n{out}");
        line_with(&out, &format!("connected to {addr}"));
        for line in ["hello, kettle", "the quick brown fox", "goodbye"] {
            assert_in_order(&out, &[&format!("sent: {line}"), &format!("echo: {line}")]);
        }
        assert_in_order(
            &out,
            &["echo: hello, kettle", "echo: the quick brown fox", "echo: goodbye", "3 of 3 lines echoed"],
        );
        assert_eq!(count_lines(&out, "echo: "), 3, "{out}");

        // Four connections open at once, each echoing its own bytes, round
        // after round.
        let clients = 4;
        let all_connected = Arc::new(Barrier::new(clients));
        let threads: Vec<_> = (0..clients)
            .map(|id| {
                let all_connected = all_connected.clone();
                thread::spawn(move || {
                    let mut stream = connect(addr);
                    all_connected.wait();
                    for round in 0..20 {
                        let message: Vec<u8> = (0..1000).map(|i| (id * 31 + round * 7 + i) as u8).collect();
                        stream.write_all(&message).expect("write");
                        let mut echoed = vec![0; message.len()];
                        stream.read_exact(&mut echoed).unwrap_or_else(|e| panic!("client {id}: {e}"));
                        assert!(echoed == message, "client {id}, round {round}: wrong echo");
                    }
                    // Closing our half ends the server's echo loop, which closes its half.
                    stream.shutdown(Shutdown::Write).expect("shutdown");
                    assert_closed(&mut stream, &format!("client {id}"));
                })
            })
            .collect();
        for thread in threads {
            thread.join().expect("a client thread failed");
        }

        // One more connection, still open at Ctrl+C: the server closes it.
        let mut open = connect(addr);
        open.write_all(b"still here\n").unwrap();
        let mut echoed = [0; 11];
        open.read_exact(&mut echoed).expect("echo before Ctrl+C");
        assert_eq!(&echoed, b"still here\n", "the echo proves the server accepted it");

        server.interrupt();
        assert_closed(&mut open, "the connection open at Ctrl+C");
        let (status, out) = server.wait_exit(Duration::from_secs(10));
        assert!(status.success(), "echo_server exited with {status} after SIGINT:\n{out}");
        assert_eq!(count_lines(&out, ": connected ("), 6, "{out}");
        assert_eq!(count_lines(&out, "closed by the client after 20000 byte(s)"), clients, "{out}");
        line_with(&out, "closed by the client after 42 byte(s)"); // echo_client's three lines
        assert_in_order(
            &out,
            &[
                "got Ctrl+C: stopped accepting; closing 1 open connection(s)",
                "served 6 connection(s); goodbye",
            ],
        );
    }
}

#[test]
fn subprocess_streams_lines_feeds_sort_and_kills_the_slow_child() {
    let out = run_example("subprocess");
    assert_in_order(
        &out,
        &["child said: line 1", "child said: line 2", "child said: line 3", "child exited: exit status: 0"],
    );
    assert!(count_lines(&out, "tick (the loop is free)") >= 4, "the loop was blocked:\n{out}");
    assert_in_order(&out, &["sorted: assam", "sorted: matcha", "sorted: oolong", "sorted: sencha"]);
    let gave_up = line_with(&out, "sleep 10: no exit after ");
    let waited = seconds_after(gave_up, "no exit after ");
    assert!((0.1..0.6).contains(&waited), "the 100 ms timeout fired after {waited}s\n{out}");
    assert!(out.contains("killed, signal Some(9), reaped: pid None"), "{out}");
}

#[test]
fn async_file_writes_and_reads_back_every_line_while_the_loop_keeps_ticking() {
    let out = run_example("async_file");

    line_with(&out, "main: wrote 50000 lines");
    assert_in_order(
        &out,
        &[
            "main: line 0: \"cup 0: green tea\"",
            "main: line 1: \"cup 1: black tea\"",
            "main: line 49999: \"cup 49999: white tea\"",
        ],
    );
    line_with(&out, "main: read 50000 lines back");
    // The error for the removed file names it, and keeps std's words.
    let error = line_with(&out, "main: opening it again: open `");
    assert!(error.contains("kettle-async-file-") && error.contains("No such file or directory"), "{out}");
    let ticks = number_after(line_with(&out, "the loop ticked "), "ticked ");
    assert!(ticks >= 1.0, "the ticker never ran while the file was written and read\n{out}");
}
