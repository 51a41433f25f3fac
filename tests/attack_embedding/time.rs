//! Timers, the paused clock, debug mode and tracing.

use super::*;

// ----- timers --------------------------------------------------------------------

#[test]
fn a_timer_added_after_the_host_computed_its_timeout_still_fires_the_fd() {
    for kind in KINDS {
        let rt = Runtime::new().unwrap();
        let mut host = Host::new(&rt, kind);
        rt.turn(NOW);
        // The host computes its wait: nothing to wait for...
        assert_eq!(rt.next_timeout_ms(), None);
        // ...then its own code (another source's callback) sets a timer.
        let (_timer, due, fired) = timer_at(&rt, Duration::from_millis(20));
        // The host sleeps on the fd with the timeout it computed (none).
        host.run_until(&rt, || fired.get().is_some());
        assert!(fired.get().unwrap() >= due, "{kind:?}: early");
        assert!(fired.get().unwrap() - due < Duration::from_secs(1), "{kind:?}: late");
    }
}

#[test]
fn timers_fire_never_early_and_the_host_wakes_about_once_per_timer() {
    for kind in KINDS {
        let rt = Runtime::new().unwrap();
        let mut host = Host::new(&rt, kind);
        let timers: Vec<_> = (1..=10u64).map(|i| timer_at(&rt, Duration::from_millis(3 * i))).collect();
        let iterations = host.run_until(&rt, || timers.iter().all(|(_, _, fired)| fired.get().is_some()));
        for (i, (_, due, fired)) in timers.iter().enumerate() {
            assert!(
                fired.get().unwrap() >= *due,
                "{kind:?}: timer {i} early by {:?}",
                *due - fired.get().unwrap()
            );
        }
        assert!(iterations <= 25, "{kind:?}: {iterations} wakes for 10 timers");
        host.assert_quiet(&rt, Duration::from_millis(30), 1);
    }
}

#[test]
fn a_cancelled_timer_costs_at_most_one_spurious_wake_and_the_next_is_not_early() {
    for kind in KINDS {
        let rt = Runtime::new().unwrap();
        let mut host = Host::new(&rt, kind);
        let (near, _, near_fired) = timer_at(&rt, Duration::from_millis(10));
        let (_far, far_due, far_fired) = timer_at(&rt, Duration::from_millis(60));
        rt.turn(NOW);
        assert!(near.cancel(), "cancelled from host code between turns");
        let iterations = host.run_until(&rt, || far_fired.get().is_some());
        assert!(near_fired.get().is_none());
        assert!(far_fired.get().unwrap() >= far_due, "{kind:?}: early");
        assert!(iterations <= 3, "{kind:?}: {iterations} wakes");
        host.assert_quiet(&rt, Duration::from_millis(30), 1);
    }
}

#[test]
fn cancelling_every_timer_leaves_at_most_one_spurious_wake() {
    for kind in KINDS {
        let rt = Runtime::new().unwrap();
        let mut host = Host::new(&rt, kind);
        let (timer, _, fired) = timer_at(&rt, Duration::from_millis(10));
        rt.turn(NOW);
        timer.cancel();
        assert_eq!(rt.next_timeout(), None, "no timer left");
        host.assert_quiet(&rt, Duration::from_millis(40), 1);
        assert!(fired.get().is_none());
    }
}

#[test]
fn a_timer_in_the_past_fires_at_once() {
    for kind in KINDS {
        let rt = Runtime::new().unwrap();
        let mut host = Host::new(&rt, kind);
        let fired = Rc::new(Cell::new(false));
        let set = fired.clone();
        let past = Instant::now().checked_sub(Duration::from_secs(1)).unwrap();
        let _timer = rt.block_on(async move { kettle::call_at(past, move || set.set(true)) });
        assert_eq!(rt.next_timeout(), Some(Duration::ZERO));
        let start = Instant::now();
        host.run_until(&rt, || fired.get());
        assert!(start.elapsed() < Duration::from_millis(500));
    }
}

#[test]
fn a_timer_that_comes_due_while_the_runtime_is_busy_fires_on_time_not_early() {
    for kind in KINDS {
        let rt = Runtime::new().unwrap();
        let mut host = Host::new(&rt, kind);
        let (_timer, due, fired) = timer_at(&rt, Duration::from_millis(5));
        // The spinner stays busy until the timer has fired (or a cap).
        let seen = fired.clone();
        let spinner = rt.spawn(async move {
            let start = Instant::now();
            while seen.get().is_none() && start.elapsed() < STALL {
                kettle::yield_now().await;
            }
            seen.get().is_some()
        });
        host.run_until(&rt, || spinner.is_finished());
        assert!(rt.block_on(spinner).unwrap(), "{kind:?}: the timer never fired while the loop was busy");
        assert!(fired.get().unwrap() >= due, "{kind:?}: early");
    }
}

#[test]
fn a_sleeping_task_cancelled_by_host_code_costs_at_most_one_spurious_wake() {
    for kind in KINDS {
        let rt = Runtime::new().unwrap();
        let mut host = Host::new(&rt, kind);
        let task = rt.spawn(kettle::sleep(Duration::from_millis(10)));
        rt.turn(NOW);
        task.cancel();
        host.run_until(&rt, || task.is_finished());
        host.assert_quiet(&rt, Duration::from_millis(40), 1);
    }
}

#[test]
fn a_sleep_dropped_by_host_code_between_turns_leaves_the_host_quiet() {
    // Host code owns a Sleep polled once by a task (through an Rc), then drops it.
    for kind in KINDS {
        let rt = Runtime::new().unwrap();
        let mut host = Host::new(&rt, kind);
        let slot: Rc<RefCell<Option<std::pin::Pin<Box<kettle::Sleep>>>>> =
            Rc::new(RefCell::new(Some(Box::pin(kettle::sleep(Duration::from_millis(10))))));
        let polled = slot.clone();
        let task = rt.spawn(std::future::poll_fn(move |cx| match polled.borrow_mut().as_mut() {
            Some(sleep) => sleep.as_mut().poll(cx),
            None => Poll::Ready(()),
        }));
        rt.turn(NOW);
        drop(slot.borrow_mut().take());
        assert_eq!(rt.next_timeout(), None, "its timer went with it");
        host.assert_quiet(&rt, Duration::from_millis(40), 1);
        assert!(!task.is_finished());
    }
}

// ----- paused clock ----------------------------------------------------------------

#[test]
fn a_paused_clock_host_that_uses_next_timeout_runs_hours_of_sleeps_at_once_without_spinning() {
    for kind in KINDS {
        let rt = kettle::Builder::new().start_paused(true).build().unwrap();
        let mut host = Host::new(&rt, kind);
        let task = rt.spawn(async {
            let start = kettle::time::now();
            for _ in 0..3 {
                kettle::sleep(Duration::from_secs(3600)).await;
            }
            kettle::time::now() - start
        });
        let real = Instant::now();
        let mut iterations = 0;
        while !task.is_finished() {
            let timeout = rt.next_timeout().map_or(STALL, |t| t.min(STALL));
            assert!(timeout < STALL, "{kind:?}: a paused timer is pending, next_timeout must say so");
            host.wait(timeout);
            rt.turn(NOW);
            iterations += 1;
            assert!(iterations < 50, "{kind:?}: spun");
        }
        assert_eq!(rt.block_on(task).unwrap(), Duration::from_secs(3 * 3600));
        assert!(real.elapsed() < Duration::from_secs(1));
        assert_eq!(rt.next_timeout(), None);
        host.assert_quiet(&rt, Duration::from_millis(30), 1);
    }
}

#[test]
fn a_paused_clock_waits_for_a_blocking_job_then_wakes_the_host() {
    for kind in KINDS {
        let rt = kettle::Builder::new().start_paused(true).build().unwrap();
        let mut host = Host::new(&rt, kind);
        let task = rt.spawn(async {
            let job = kettle::spawn_blocking(|| std::thread::sleep(Duration::from_millis(20)));
            // A long timeout: with the clock paused, it must not fire while the job runs.
            kettle::time::timeout(Duration::from_secs(3600), job).await.is_ok()
        });
        let mut iterations = 0;
        while !task.is_finished() {
            let timeout = rt.next_timeout().map_or(STALL, |t| t.min(STALL));
            let woke = host.wait(timeout);
            assert!(woke || timeout < STALL, "{kind:?}: stalled");
            rt.turn(NOW);
            iterations += 1;
            assert!(iterations < 1_000, "{kind:?}: spun");
        }
        assert!(rt.block_on(task).unwrap(), "{kind:?}: the paused timeout fired while the job ran");
    }
}

// ----- debug mode, tracing -------------------------------------------------------

/// A mixed workload: a busy task, a timer, a remote push, a socket.
fn mixed_workload(rt: &Runtime, host: &mut Host) {
    let spinner = rt.spawn(async {
        for _ in 0..20 {
            kettle::yield_now().await;
        }
    });
    let (_timer, due, fired) = timer_at(rt, Duration::from_millis(10));
    let (ours, mut theirs) = StdUnixStream::pair().unwrap();
    let reader = rt.spawn(async move {
        let mut ours = kettle::net::UnixStream::from_std(ours).unwrap();
        let mut byte = [0u8];
        ours.read_exact(&mut byte).await.unwrap();
    });
    let handle = rt.handle();
    let remote_ran = Arc::new(AtomicBool::new(false));
    let ran = remote_ran.clone();
    let remote = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(5));
        theirs.write_all(b"x").unwrap();
        handle.spawn(async move { ran.store(true, Ordering::SeqCst) }).wait().unwrap()
    });
    // (Not `remote.is_finished()`: the thread's exit is no work of kettle's.)
    host.run_until(rt, || {
        spinner.is_finished()
            && reader.is_finished()
            && fired.get().is_some()
            && remote_ran.load(Ordering::SeqCst)
    });
    assert!(fired.get().unwrap() >= due, "early");
    remote.join().unwrap();
    host.assert_quiet(rt, Duration::from_millis(30), 1);
}

#[test]
fn a_traced_runtime_keeps_the_fd_contract() {
    for kind in KINDS {
        let rt = Runtime::new().unwrap();
        let mut host = Host::new(&rt, kind);
        rt.start_trace();
        mixed_workload(&rt, &mut host);
        let trace = rt.stop_trace();
        assert!(!trace.events().is_empty());
        host.assert_quiet(&rt, Duration::from_millis(20), 1);
    }
}

#[test]
fn a_runtime_in_debug_mode_keeps_the_fd_contract_even_with_slow_polls() {
    for kind in KINDS {
        let slow = Rc::new(Cell::new(0));
        let seen = slow.clone();
        let rt = kettle::Builder::new()
            .slow_poll_threshold(Duration::from_millis(1))
            .on_slow_poll(move |_| seen.set(seen.get() + 1))
            .build()
            .unwrap();
        let mut host = Host::new(&rt, kind);
        let sluggish = rt.spawn(async {
            for _ in 0..3 {
                std::thread::sleep(Duration::from_millis(3));
                kettle::yield_now().await;
            }
        });
        host.run_until(&rt, || sluggish.is_finished());
        assert!(slow.get() >= 3, "{kind:?}: slow polls reported: {}", slow.get());
        mixed_workload(&rt, &mut host);
    }
}

#[test]
fn a_seeded_runtime_keeps_the_fd_contract() {
    for kind in KINDS {
        let rt = kettle::Builder::new().seed(7).build().unwrap();
        let mut host = Host::new(&rt, kind);
        mixed_workload(&rt, &mut host);
    }
}
