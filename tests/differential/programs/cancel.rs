// `JoinHandle::cancel` in each state a task can be in, with drop logs.
// Included once per runtime: `rt` is the runtime's crate.

/// How a join ended, in words that do not depend on a runtime's `Debug`.
fn outcome<T: std::fmt::Debug>(result: Result<T, rt::JoinError>) -> String {
    match result {
        Ok(v) => format!("Ok({v:?})"),
        Err(e) if e.is_cancelled() => "cancelled".to_string(),
        Err(e) if e.is_panic() => "panicked".to_string(),
        Err(_) => "an error neither cancelled nor panic".to_string(),
    }
}

/// Cancel a task not yet started, a queued one, a sleeping one, a finished
/// one, and one that cancels itself while being polled. A cancelled task's
/// future is dropped when the loop reaches it in the run queue: where it
/// already was if it was queued, at the back if it was waiting.
pub fn cancel_in_every_state() -> Vec<String> {
    let log = Log::new();
    let rt = rt::Runtime::new().unwrap();
    rt.block_on(async {
        let l = log.clone();
        let x = rt::spawn(async move {
            l.push("x ran");
            yield_once().await;
            l.push("x ran again");
        });
        let (l, g) = (log.clone(), log.guard("a (never started)"));
        let a = rt::spawn(async move {
            let _g = g;
            l.push("a ran (it should not)");
        });
        let (l, g) = (log.clone(), log.guard("q (queued)"));
        let q = rt::spawn(async move {
            let _g = g;
            l.push("q ran once");
            yield_once().await;
            l.push("q ran twice (it should not)");
        });
        let (l, g) = (log.clone(), log.guard("s (sleeping)"));
        let s = rt::spawn(async move {
            let _g = g;
            l.push("s sleeps for an hour");
            rt::sleep(Duration::from_secs(3600)).await;
            l.push("s woke (it should not)");
        });
        let l = log.clone();
        let f = rt::spawn(async move {
            l.push("f ran and finished");
            5
        });
        let me: Rc<RefCell<Option<rt::JoinHandle<()>>>> = Rc::default();
        let (l, g, m) = (log.clone(), log.guard("e (cancelled itself)"), me.clone());
        let e = rt::spawn(async move {
            let _g = g;
            l.push("e ran");
            let handle = m.borrow_mut().take().unwrap();
            handle.cancel();
            l.push(format!("e cancelled itself, finished: {}", handle.is_finished()));
            *m.borrow_mut() = Some(handle);
            yield_once().await;
            l.push("e ran after cancelling itself (it should not)");
        });
        *me.borrow_mut() = Some(e);
        let l = log.clone();
        let y = rt::spawn(async move { l.push("y ran") });
        a.cancel();
        log.push(format!("main cancelled a, finished: {}", a.is_finished()));
        yield_once().await; // turn 1

        log.push(format!(
            "main after turn 1: finished a {} q {} s {} f {}",
            a.is_finished(),
            q.is_finished(),
            s.is_finished(),
            f.is_finished()
        ));
        q.cancel();
        s.cancel();
        f.cancel();
        log.push("main cancelled q, s and f");
        yield_once().await; // turn 2

        log.push(format!(
            "main after turn 2: finished q {} s {} f {}",
            q.is_finished(),
            s.is_finished(),
            f.is_finished()
        ));
        let e = me.borrow_mut().take().unwrap();
        log.push(format!("a: {}", outcome(a.await)));
        log.push(format!("q: {}", outcome(q.await)));
        log.push(format!("s: {}", outcome(s.await)));
        log.push(format!("f: {}", outcome(f.await)));
        log.push(format!("e: {}", outcome(e.await)));
        log.push(format!("x: {}", outcome(x.await)));
        log.push(format!("y: {}", outcome(y.await)));
    });
    log.snapshot()
}

/// A task cancelled while it awaits another task's handle: the handle (and
/// the future holding it) is dropped; the awaited task goes on, detached.
/// And a task awaiting a cancelled task sees `is_cancelled`.
pub fn cancel_and_join_chains() -> Vec<String> {
    let log = Log::new();
    let rt = rt::Runtime::new().unwrap();
    rt.block_on(async {
        let (l, g) = (log.clone(), log.guard("inner's future"));
        let inner = rt::spawn(async move {
            let _g = g;
            l.push("inner 0");
            yield_times(2).await;
            l.push("inner done");
            1
        });
        let (l, g) = (log.clone(), log.guard("outer's future"));
        let outer = rt::spawn(async move {
            let _g = g;
            l.push("outer awaits inner");
            let r = inner.await;
            l.push(format!("outer got {} (it should not)", outcome(r)));
        });
        let l = log.clone();
        let target = rt::spawn(async move {
            l.push("target sleeps");
            rt::sleep(Duration::from_secs(3600)).await;
        });
        let l = log.clone();
        let watcher = rt::spawn(async move {
            l.push("watcher cancels the target and waits for it");
            target.cancel();
            l.push(format!("watcher saw the target end: {}", outcome(target.await)));
        });
        yield_once().await; // turn 1
        outer.cancel();
        log.push("main cancelled outer");
        log.push(format!("outer: {}", outcome(outer.await)));
        watcher.await.unwrap();
        yield_times(3).await;
        log.push("main done");
    });
    log.snapshot()
}
