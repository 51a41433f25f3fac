// Remote work through `Handle`: `spawn` and `call_soon` from other threads
// (and from the loop's own). Included once per runtime: `rt` is the crate.

/// Work pushed from another thread before the loop runs is taken in one
/// batch by the first turn's step 3: the callbacks run first in push order,
/// then the tasks — after the tasks queued locally — in push order.
/// And a `Handle::call_soon` from the loop's own thread goes through the
/// injector too: next turn, after the callbacks queued locally, before the
/// timers that step 4 fires.
pub fn remote_work_before_the_loop_runs() -> Vec<String> {
    let log = Log::new();
    let rt = rt::Runtime::new().unwrap();
    let handle = rt.handle();
    let l = log.clone();
    let remote = std::thread::spawn(move || {
        let mut joins = Vec::new();
        for i in 0..4 {
            let l2 = l.clone();
            handle.call_soon(move || l2.push(format!("remote call_soon {i}"))).unwrap();
            let l2 = l.clone();
            joins.push(handle.spawn(async move {
                l2.push(format!("remote spawn {i}"));
                i
            }));
        }
        joins
    })
    .join()
    .unwrap();
    rt.block_on(async {
        log.push("main first poll");
        let l = log.clone();
        let local = rt::spawn(async move { l.push("local spawn") });
        let mut sum = 0;
        for join in remote {
            sum += join.await.unwrap();
        }
        local.await.unwrap();
        log.push(format!("main: remote tasks returned {sum}"));

        let handle = rt::Handle::current();
        let l = log.clone();
        let t = rt::spawn(async move {
            let l2 = l.clone();
            let _z = rt::call_later(Duration::ZERO, move || l2.push("call_later 0 (step 4)"));
            let l2 = l.clone();
            handle.call_soon(move || l2.push("Handle::call_soon from the loop (step 3)")).unwrap();
            let l2 = l.clone();
            rt::call_soon(move || l2.push("call_soon (queued last turn)"));
            let l2 = l.clone();
            let hs = handle.spawn(async move { l2.push("Handle::spawn from the loop") });
            let l2 = l.clone();
            let ls = rt::spawn(async move { l2.push("local spawn") });
            yield_once().await;
            l.push("t after its yield");
            hs.await.unwrap();
            ls.await.unwrap();
        });
        t.await.unwrap();
    });
    log.snapshot()
}

/// Work pushed from another thread while the loop runs. How it interleaves
/// with the loop's turns depends on timing, so the test compares only what
/// is deterministic: the callbacks run in push order, and the tasks do.
pub fn remote_work_while_the_loop_runs() -> Vec<String> {
    const EACH: usize = 50;
    let log = Log::new();
    let rt = rt::Runtime::new().unwrap();
    let handle = rt.handle();
    let done = Arc::new(AtomicUsize::new(0));
    rt.block_on(async {
        let (l, d) = (log.clone(), done.clone());
        let pusher = std::thread::spawn(move || {
            let mut joins = Vec::new();
            for i in 0..EACH {
                let (l2, d2) = (l.clone(), d.clone());
                handle
                    .call_soon(move || {
                        l2.push(format!("call {i}"));
                        d2.fetch_add(1, SeqCst);
                    })
                    .unwrap();
                let (l2, d2) = (l.clone(), d.clone());
                joins.push(handle.spawn(async move {
                    l2.push(format!("task {i}"));
                    d2.fetch_add(1, SeqCst);
                    i
                }));
                if i % 8 == 0 {
                    std::thread::yield_now();
                }
            }
            joins
        });
        // A busy local task, so the pushes land in turns of all kinds.
        let l = log.clone();
        let d = done.clone();
        let busy = rt::spawn(async move {
            while d.load(SeqCst) < 2 * EACH {
                yield_once().await;
            }
            l.push("busy task saw everything arrive");
        });
        busy.await.unwrap();
        let joins = pusher.join().unwrap();
        let mut sum = 0;
        for join in joins {
            sum += join.await.unwrap();
        }
        log.push(format!("sum {sum}"));
    });
    log.snapshot()
}
