// Spawn order, yields, callbacks against tasks, and `block_on`'s own future.
// Included once per runtime by `on_runtime!`: `rt` is the runtime's crate.

/// Tasks spawned in a row run in spawn order; a task that yields, or spawns,
/// goes to the back of the queue for the next turn.
pub fn spawn_order() -> Vec<String> {
    let log = Log::new();
    let rt = rt::Runtime::new().unwrap();
    rt.block_on(async {
        let l = log.clone();
        let a = rt::spawn(async move {
            for i in 0..3 {
                l.push(format!("a{i}"));
                if i < 2 {
                    yield_once().await;
                }
            }
            l.push("a done");
            'a'
        });
        let l = log.clone();
        let b = rt::spawn(async move {
            l.push("b0");
            let l2 = l.clone();
            let d = rt::spawn(async move {
                l2.push("d (spawned by b)");
                'd'
            });
            yield_once().await;
            l.push("b1");
            let d = d.await.unwrap();
            l.push("b done");
            d
        });
        let l = log.clone();
        let c = rt::spawn(async move {
            l.push("c0, c done");
            'c'
        });
        // Completion order, seen from the main future awaiting each handle.
        for task in [c, b, a] {
            let out = task.await.unwrap();
            log.push(format!("main joined {out}"));
        }
    });
    log.snapshot()
}

/// Step 5 runs the callbacks queued when it starts, then the tasks queued
/// when the task half starts; whatever they queue waits for the next turn —
/// except that a task woken by a callback is queued before the task half
/// starts, so it runs in the same turn.
pub fn callbacks_then_tasks() -> Vec<String> {
    let log = Log::new();
    let rt = rt::Runtime::new().unwrap();
    rt.block_on(async {
        let gate = Gate::new();
        let (l, g) = (log.clone(), gate.clone());
        let waiter = rt::spawn(async move {
            l.push("w waits");
            g.wait().await;
            l.push("w woken");
        });
        log.push("main 0");
        yield_once().await; // turn 1: w waits
        log.push("main 1");
        let l = log.clone();
        rt::call_soon(move || {
            l.push("cb1");
            let l2 = l.clone();
            rt::call_soon(move || l2.push("cb3 (queued by cb1)"));
        });
        let l = log.clone();
        let t = rt::spawn(async move {
            l.push("t");
            let l2 = l.clone();
            rt::call_soon(move || l2.push("cb4 (queued by t)"));
            yield_once().await; // wakes itself: next turn, not this one
            l.push("t again");
        });
        let (l, g) = (log.clone(), gate.clone());
        rt::call_soon(move || {
            l.push("cb2 opens the gate");
            g.open();
        });
        yield_once().await; // turn 2
        log.push("main 2");
        yield_once().await; // turn 3
        // Not awaited blindly: a runtime that lost a wake-up shows in the log
        // (and the diff) instead of hanging the test.
        log.push(format!("main 3: w finished {}, t finished {}", waiter.is_finished(), t.is_finished()));
        waiter.cancel();
        t.cancel();
        log.push("main done");
    });
    log.snapshot()
}

/// `block_on` polls its own future before each turn (it is not a task), so
/// it sees the tasks it spawned only after a turn has run them. Tasks spawned
/// before `block_on` with `Runtime::spawn` are queued first. Tasks still
/// pending when `block_on` returns stay queued and go on in the next
/// `block_on`.
pub fn main_future_and_tasks() -> Vec<String> {
    let log = Log::new();
    let rt = rt::Runtime::new().unwrap();
    let l = log.clone();
    let early = rt.spawn(async move {
        l.push("early (Runtime::spawn) runs");
        yield_once().await;
        l.push("early again");
    });
    let l = log.clone();
    let pending = rt.spawn(async move {
        for i in 0..4 {
            l.push(format!("long {i}"));
            yield_once().await;
        }
        l.push("long done");
    });
    rt.block_on(async {
        log.push("main first poll");
        let l = log.clone();
        let t = rt::spawn(async move {
            l.push("t runs");
        });
        log.push(format!("t finished right after spawn: {}", t.is_finished()));
        yield_once().await;
        log.push(format!("main after one turn, t finished: {}", t.is_finished()));
        t.await.unwrap();
        early.await.unwrap();
        log.push("main returns");
    });
    log.push("between the two block_ons");
    rt.block_on(async {
        log.push("second block_on first poll");
        pending.await.unwrap();
        log.push("second block_on returns");
    });
    log.snapshot()
}

/// A panicking task yields a `JoinError` with `is_panic`, and the loop goes
/// on: other tasks and callbacks still run. Also runs on the free fn `run`.
pub fn panicking_task() -> Vec<String> {
    let log = Log::new();
    let l = log.clone();
    rt::run(async move {
        let l2 = l.clone();
        let p = rt::spawn(async move {
            let _guard = l2.guard("p's future");
            l2.push("p runs, then panics");
            if l2.len() < 1_000 {
                panic!("boom (a differential test's panic, on purpose)");
            }
            7
        });
        let l2 = l.clone();
        let q = rt::spawn(async move {
            l2.push("q runs");
            yield_once().await;
            l2.push("q again");
            8
        });
        let l2 = l.clone();
        rt::call_soon(move || l2.push("callback runs"));
        match p.await {
            Ok(v) => l.push(format!("p returned {v}")),
            Err(e) => l.push(format!("p: cancelled {} panic {}", e.is_cancelled(), e.is_panic())),
        }
        let q = q.await.unwrap();
        l.push(format!("q returned {q}"));
    });
    log.snapshot()
}

/// A task whose handle is dropped still runs to the end, and its output is
/// dropped when it finishes (nobody will read it).
pub fn detached_task() -> Vec<String> {
    let log = Log::new();
    let rt = rt::Runtime::new().unwrap();
    rt.block_on(async {
        let gate = Gate::new();
        let (l, g) = (log.clone(), gate.clone());
        let handle = rt::spawn(async move {
            l.push("detached 0");
            yield_once().await;
            l.push("detached 1");
            yield_once().await;
            l.push("detached 2, returns its output");
            g.open();
            l.guard("detached task's output")
        });
        drop(handle);
        log.push("handle dropped");
        let l = log.clone();
        let watcher = rt::spawn(async move {
            gate.wait().await;
            l.push("watcher saw the gate open");
        });
        watcher.await.unwrap();
        log.push("main done");
    });
    log.snapshot()
}
