//! Asking the loop about itself from every place user code runs.
//!
//! A task dump, `task::current` and a trace read the loop's own state: the
//! slab, the run queue, each task's notes, the ring buffer. The class of bug
//! this file looks for is a read that meets a borrow the loop holds (a
//! `RefCell` already borrowed: a panic inside the loop) or a state that
//! only one exit path cleans up. So: every place where kettle runs user code
//! × every way of watching the loop (plain, debug mode, tracing, both), and
//! in each place the probe asks everything at once. A ledger checks that
//! every probe ran and saw a consistent answer: among others, that a dump
//! lists exactly the tasks `metrics().tasks_alive` counts (issue 17: the
//! slow-poll hook ran while its task was out of its slab entry, and a dump
//! taken there left it out).

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use kettle::task::{self, TaskState};
use kettle::{Builder, Handle, Runtime};

/// What one probe saw, and what it found wrong. Probes run in places that
/// contain panics (callbacks, hooks, destructors), where a failed `assert!`
/// would vanish: so they note problems, and the test asserts on the notes.
#[derive(Debug)]
struct Seen {
    place: &'static str,
    in_task: bool,
    tasks: usize,
    problems: Vec<String>,
}

type Ledger = Rc<RefCell<Vec<Seen>>>;

/// Asks everything the loop can be asked, from wherever it is called.
fn probe(ledger: &Ledger, place: &'static str) {
    let mut problems = Vec::new();
    let mut expect = |ok: bool, problem: String| {
        if !ok {
            problems.push(problem);
        }
    };
    let current = task::current();
    let dump = Handle::current().tasks().expect("the runtime is alive here");
    if let Some(me) = &current {
        expect(me.state == TaskState::Running, format!("task::current is {:?}", me.state));
        let listed = dump.iter().any(|info| info.id == me.id && info.state == TaskState::Running);
        expect(listed, format!("the running task is not in the dump: {dump:?}"));
    }
    let running = dump.iter().filter(|info| info.state == TaskState::Running).count();
    expect(running == usize::from(current.is_some()), format!("{running} running tasks in the dump"));
    expect(dump.windows(2).all(|w| w[0].id < w[1].id), "not one entry per task, by id".into());
    // Every live task is listed, wherever the loop holds it at the moment
    // (a finished one whose output is unread is listed too, but not alive).
    let alive = kettle::metrics().tasks_alive;
    let listed = dump.iter().filter(|info| info.state != TaskState::FinishedUnread).count();
    expect(listed == alive, format!("the dump lists {listed} live tasks, metrics count {alive}: {dump:?}"));
    ledger.borrow_mut().push(Seen { place, in_task: current.is_some(), tasks: dump.len(), problems });
}

/// Runs a value's probe when it is dropped.
struct ProbeOnDrop(Ledger, &'static str);

impl Drop for ProbeOnDrop {
    fn drop(&mut self) {
        probe(&self.0, self.1);
    }
}

#[derive(Clone, Copy, Debug)]
enum Watching {
    Plain,
    Debug,
    Traced,
    DebugAndTraced,
}

fn runtime(watching: Watching, ledger: &Ledger) -> Runtime {
    let builder = Builder::new();
    let builder = match watching {
        Watching::Plain | Watching::Traced => builder,
        Watching::Debug | Watching::DebugAndTraced => {
            let ledger = ledger.clone();
            // Every poll is "slow": the hook runs after each one, and probes.
            builder
                .slow_poll_threshold(Duration::ZERO)
                .on_slow_poll(move |_| probe(&ledger, "slow-poll hook"))
        }
    };
    let rt = builder.build().unwrap();
    if matches!(watching, Watching::Traced | Watching::DebugAndTraced) {
        rt.start_trace();
    }
    rt
}

/// Every place user code runs, each probing.
fn workload(rt: &Runtime, ledger: &Ledger) {
    let l = ledger.clone();
    rt.block_on(async move {
        probe(&l, "block_on's future");
        let l2 = l.clone();
        kettle::spawn(async move { probe(&l2, "a task's poll") }).await.unwrap();
        let l2 = l.clone();
        kettle::call_soon(move || probe(&l2, "a callback"));
        let l2 = l.clone();
        kettle::call_later(Duration::from_millis(1), move || probe(&l2, "a timer's callback"));
        let l2 = l.clone();
        let task = kettle::spawn(async { 1 });
        task.add_done_callback(move |_| probe(&l2, "a done callback"));
        task.await.unwrap();
        let guard = ProbeOnDrop(l.clone(), "a cancelled task's future");
        let doomed = kettle::spawn(async move {
            let _guard = guard;
            std::future::pending::<()>().await
        });
        kettle::yield_now().await;
        doomed.cancel();
        let _ = doomed.await;
        let output = ProbeOnDrop(l.clone(), "an unread output");
        kettle::spawn(async move { output }).detach();
        let handle = Handle::current();
        let from_thread = kettle::spawn_blocking(move || handle.tasks().unwrap().len()).await.unwrap();
        assert!(from_thread >= 1, "the blocking job's own waiting task");
        kettle::sleep(Duration::from_millis(3)).await;
        // Left pending: dropped with the runtime, probing then.
        let guard = ProbeOnDrop(l.clone(), "a task dropped with the runtime");
        drop(kettle::spawn(async move {
            let _guard = guard;
            std::future::pending::<()>().await
        }));
        kettle::yield_now().await;
    });
}

#[test]
fn every_place_user_code_runs_can_ask_for_a_dump_under_every_way_of_watching() {
    for watching in [Watching::Plain, Watching::Debug, Watching::Traced, Watching::DebugAndTraced] {
        let ledger: Ledger = Rc::default();
        let rt = runtime(watching, &ledger);
        workload(&rt, &ledger);
        if matches!(watching, Watching::Traced | Watching::DebugAndTraced) {
            let trace = rt.stop_trace();
            assert!(!trace.events().is_empty());
        }
        drop(rt);
        let seen = ledger.borrow();
        if let Some(probe) = seen.iter().find(|probe| !probe.problems.is_empty()) {
            panic!("{watching:?}, probed from {}: {:?}", probe.place, probe.problems);
        }
        let places: Vec<&str> = seen.iter().map(|s| s.place).collect();
        for place in [
            "block_on's future",
            "a task's poll",
            "a callback",
            "a timer's callback",
            "a done callback",
            "a cancelled task's future",
            "an unread output",
            "a task dropped with the runtime",
        ] {
            assert!(places.contains(&place), "{watching:?}: never probed from {place}: {places:?}");
        }
        let in_task = seen.iter().find(|s| s.place == "a task's poll").unwrap();
        assert!(in_task.in_task && in_task.tasks >= 1, "{watching:?}: {in_task:?}");
        assert!(!seen.iter().find(|s| s.place == "a callback").unwrap().in_task);
        if matches!(watching, Watching::Debug | Watching::DebugAndTraced) {
            assert!(places.contains(&"slow-poll hook"), "{watching:?}");
        }
    }
}

#[test]
fn starting_and_stopping_traces_from_inside_tasks_and_callbacks_is_safe() {
    // The trace's ring is borrowed at the end of every traced turn; starting
    // or stopping it from user code happens between those borrows.
    let rt = Rc::new(Runtime::new().unwrap());
    let traces = Rc::new(RefCell::new(Vec::new()));
    let (inner, kept) = (rt.clone(), traces.clone());
    rt.block_on(async move {
        inner.start_trace();
        let (rt2, kept2) = (inner.clone(), kept.clone());
        kettle::call_soon(move || {
            kept2.borrow_mut().push(rt2.stop_trace());
            rt2.start_trace();
        });
        kettle::yield_now().await;
        kettle::yield_now().await;
        let rt3 = inner.clone();
        let stopped = kettle::spawn(async move { rt3.stop_trace() }).await.unwrap();
        kept.borrow_mut().push(stopped);
    });
    assert_eq!(traces.borrow().len(), 2);
    assert!(traces.borrow().iter().all(|trace| trace.dropped() == 0));
}

#[test]
fn a_task_that_finishes_while_queued_is_not_alive_in_metrics_nor_live_in_a_dump() {
    // Found attacking issue 17's fixes: a task that cancels itself (or is
    // woken) in its last poll stays in the slab until its stale queue entry
    // is popped; metrics counted it alive while the dump called it finished.
    for watching in [Watching::Plain, Watching::Debug, Watching::Traced, Watching::DebugAndTraced] {
        for panics in [false, true] {
            let ledger: Ledger = Rc::default();
            let rt = runtime(watching, &ledger);
            let l = ledger.clone();
            rt.block_on(async move {
                let slot: Rc<RefCell<Option<kettle::JoinHandle<()>>>> = Rc::default();
                let own = slot.clone();
                let task = kettle::spawn(async move {
                    own.borrow_mut().take().expect("its own handle").cancel();
                    if panics {
                        std::panic::panic_any(0_u8);
                    }
                });
                *slot.borrow_mut() = Some(task);
                let l2 = l.clone();
                kettle::call_soon(move || probe(&l2, "a callback after the task finished while queued"));
                kettle::yield_now().await;
                probe(&l, "block_on's future after the task finished while queued");
                kettle::yield_now().await;
            });
            assert_eq!(rt.metrics().tasks_alive, 0, "{watching:?}");
            let seen = ledger.borrow();
            if let Some(probe) = seen.iter().find(|probe| !probe.problems.is_empty()) {
                panic!("{watching:?}, panics {panics}, probed from {}: {:?}", probe.place, probe.problems);
            }
            assert!(seen.len() >= 2, "{watching:?}: {seen:?}");
        }
    }
}
