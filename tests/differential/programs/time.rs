// Timers: firing order, zero delays and past deadlines, `call_later`'s
// cancel, `timeout`. Included once per runtime: `rt` is the runtime's crate.

/// The timer scenario's grid: sleeps on whole steps, `call_later`s half a
/// step after, so no two kinds ever share a deadline.
const GRID: Duration = Duration::from_millis(1);
/// How far ahead of the program's start the first deadline lies.
const LEAD: Duration = Duration::from_millis(20);

/// Many timers, registered out of order, all due at once: step 4 fires them
/// in (deadline, insertion) order — callbacks join the callback queue,
/// sleeps wake their tasks — and step 5 runs the callbacks, then the tasks.
///
/// Deterministic without trusting the clock: the program spins until every
/// deadline has passed before letting the turn that fires them begin, so one
/// turn fires all. It needs every timer registered before its deadline; an
/// attempt that checks it was not (a stall of 20 ms under load) is thrown
/// away and run again.
pub fn timer_order() -> Vec<String> {
    for _attempt in 0..10 {
        if let Some(log) = timer_order_attempt() {
            return log;
        }
    }
    panic!("timer_order: ten attempts in a row stalled for over 20 ms while registering 16 timers");
}

fn timer_order_attempt() -> Option<Vec<String>> {
    let log = Log::new();
    let valid = Rc::new(Cell::new(true));
    let rt = rt::Runtime::new().unwrap();
    rt.block_on(async {
        let t0 = Instant::now();
        let base = t0 + LEAD;
        let sleeps: [u32; 8] = [3, 1, 3, 0, 2, 1, 3, 0];
        let calls: [u32; 8] = [2, 0, 2, 3, 1, 0, 3, 1];
        let mut tasks = Vec::new();
        for (i, &g) in sleeps.iter().enumerate() {
            let (l, valid) = (log.clone(), valid.clone());
            let deadline = base + GRID * g;
            tasks.push(rt::spawn(async move {
                let ((), at_once) = first_poll(rt::sleep_until(deadline)).await;
                if at_once {
                    valid.set(false); // its deadline had passed: it never registered
                }
                l.push(format!("sleep {i} (deadline {g})"));
            }));
        }
        let mut handles = Vec::new();
        for (i, &h) in calls.iter().enumerate() {
            let l = log.clone();
            // Relative to t0: `call_later` adds its own `now`, a little later
            // than t0, so the deadline lands in [target, target + elapsed).
            let delay = base + GRID * h + GRID / 2 - t0;
            handles.push(rt::call_later(delay, move || l.push(format!("call {i} (deadline {h}.5)"))));
        }
        if t0.elapsed() >= GRID / 4 {
            valid.set(false); // a call_later's deadline may have slipped past the next grid step
        }
        yield_once().await; // turn 1: the sleeping tasks register their timers
        if log.len() > 0 || Instant::now() >= base {
            valid.set(false); // something fired early
        }
        while Instant::now() < base + GRID * 5 {
            std::hint::spin_loop();
        }
        log.push("main: every deadline has passed");
        for task in tasks {
            task.await.unwrap();
        }
        drop(handles);
    });
    valid.get().then(|| log.snapshot())
}

/// A zero delay fires on the next turn, in step 4, so it runs after the
/// callbacks already queued; a deadline already passed completes a sleep at
/// its first poll, without yielding; so does `sleep(ZERO)`.
pub fn zero_delays_and_past_deadlines() -> Vec<String> {
    let log = Log::new();
    let rt = rt::Runtime::new().unwrap();
    let past = Instant::now();
    rt.block_on(async {
        let mut handles = Vec::new();
        let l = log.clone();
        handles.push(rt::call_later(Duration::ZERO, move || l.push("L1 (call_later 0)")));
        let l = log.clone();
        rt::call_soon(move || {
            l.push("S1 (call_soon)");
            let l2 = l.clone();
            rt::call_soon(move || l2.push("S1's call_soon"));
            let l2 = l.clone();
            // Fires next turn, after the callback S1 queued just before it.
            drop(rt::call_later(Duration::ZERO, move || l2.push("S1's call_later 0")));
        });
        let l = log.clone();
        handles.push(rt::call_later(Duration::ZERO, move || l.push("L2 (call_later 0)")));
        let l = log.clone();
        rt::call_soon(move || l.push("S2 (call_soon)"));
        let l = log.clone();
        let t = rt::spawn(async move {
            l.push("t before sleep_until(past)");
            rt::sleep_until(past).await;
            l.push("t after it, same poll");
            rt::sleep(Duration::ZERO).await;
            l.push("t after sleep(0), same poll");
            let l2 = l.clone();
            drop(rt::call_later(Duration::ZERO, move || l2.push("t's call_later 0")));
            yield_once().await;
            l.push("t next turn");
        });
        let l = log.clone();
        let u = rt::spawn(async move { l.push("u") });
        t.await.unwrap();
        u.await.unwrap();
        drop(handles);
    });
    log.snapshot()
}

/// `TimerHandle::cancel`: `true` and the callback dropped at once while it
/// waits; `false` once it ran, once it was queued to run this turn, and
/// the second time. Dropping a handle does not cancel.
pub fn call_later_cancel() -> Vec<String> {
    let log = Log::new();
    let rt = rt::Runtime::new().unwrap();
    rt.block_on(async {
        let (l, g) = (log.clone(), log.guard("x's closure"));
        let x = rt::call_later(Duration::ZERO, move || {
            let _g = g;
            l.push("x ran");
        });
        log.push(format!("cancel x before it fired: {}", x.cancel()));

        let (l, g) = (log.clone(), log.guard("y's closure"));
        let y = rt::call_later(Duration::ZERO, move || {
            let _g = g;
            l.push("y ran");
        });
        let (l, g) = (log.clone(), log.guard("dropped handle's closure"));
        drop(rt::call_later(Duration::ZERO, move || {
            let _g = g;
            l.push("the timer whose handle was dropped ran");
        }));
        yield_once().await; // turn 1: y fires
        log.push(format!("cancel y after it ran: {}", y.cancel()));

        let (l, g) = (log.clone(), log.guard("z's closure"));
        let z = rt::call_later(Duration::from_secs(3600), move || {
            let _g = g;
            l.push("z ran");
        });
        log.push(format!("cancel z (an hour away): {}", z.cancel()));
        log.push(format!("cancel z again: {}", z.cancel()));

        // Two timers due in the same turn: the first's callback cancels the
        // second, which step 4 has already queued: too late, it runs.
        let second = Rc::new(RefCell::new(None::<rt::TimerHandle>));
        let (l, s) = (log.clone(), second.clone());
        let first = rt::call_later(Duration::ZERO, move || {
            let cancelled = s.borrow().as_ref().map(|h: &rt::TimerHandle| h.cancel());
            l.push(format!("first ran, cancels second: {cancelled:?}"));
        });
        let l = log.clone();
        *second.borrow_mut() = Some(rt::call_later(Duration::ZERO, move || l.push("second ran anyway")));
        yield_once().await; // turn 2
        drop(first);
        log.push("main done");
    });
    log.snapshot()
}

/// `timeout`: a deadline that passes drops the inner future before the
/// `Elapsed` comes back; a future ready first wins even against a zero
/// timeout (it is polled first); a timeout an hour long returns the result.
pub fn timeouts() -> Vec<String> {
    let log = Log::new();
    let rt = rt::Runtime::new().unwrap();
    rt.block_on(async {
        let r = rt::timeout(Duration::ZERO, pending_forever(log.guard("inner of timeout(0)"))).await;
        log.push(format!("timeout(0) of a pending future: elapsed {}", r.is_err()));

        let r =
            rt::timeout(Duration::from_millis(2), pending_forever(log.guard("inner of timeout(2ms)"))).await;
        log.push(format!("timeout(2ms) of a pending future: elapsed {}", r.is_err()));

        let g = log.guard("inner of timeout(0), ready at once");
        let r = rt::timeout(Duration::ZERO, async move {
            let _g = g;
            5
        })
        .await;
        log.push(format!("timeout(0) of a ready future: {:?}", r.ok()));

        let (l, g) = (log.clone(), log.guard("inner of timeout(1h)"));
        let r = rt::timeout(Duration::from_secs(3600), async move {
            let _g = g;
            l.push("inner yields twice");
            yield_times(2).await;
            l.push("inner returns");
            7
        })
        .await;
        log.push(format!("timeout(1h) of a yielding future: {:?}", r.ok()));

        // In a task beside another: the elapsed timeout's drop happens in the
        // task's own poll.
        let l = log.clone();
        let other = rt::spawn(async move {
            l.push("other task 0");
            yield_once().await;
            l.push("other task 1");
        });
        let l = log.clone();
        let t = rt::spawn(async move {
            let r = rt::timeout(Duration::ZERO, pending_forever(l.guard("inner in a task"))).await;
            l.push(format!("task's timeout(0): elapsed {}", r.is_err()));
        });
        t.await.unwrap();
        other.await.unwrap();
    });
    log.snapshot()
}
