//! Other threads: many pushers, hosts that block in kettle, random host sequences, a condition-variable host.

use super::*;

// ----- many threads pushing while the host turns ---------------------------------

#[test]
fn many_threads_pushing_while_the_host_turns_never_stall_either_host() {
    for kind in KINDS {
        let rt = Runtime::new().unwrap();
        let mut host = Host::new(&rt, kind);
        let ran = Arc::new(AtomicUsize::new(0));
        const THREADS: usize = 4;
        const EACH: usize = 2_000;
        let pushers: Vec<_> = (0..THREADS)
            .map(|t| {
                let handle = rt.handle();
                let ran = ran.clone();
                std::thread::spawn(move || {
                    for i in 0..EACH {
                        let ran = ran.clone();
                        if (i + t) % 2 == 0 {
                            handle
                                .call_soon(move || {
                                    ran.fetch_add(1, Ordering::SeqCst);
                                })
                                .unwrap();
                        } else {
                            handle
                                .spawn(async move {
                                    ran.fetch_add(1, Ordering::SeqCst);
                                })
                                .detach();
                        }
                        if i % 97 == 0 {
                            std::thread::sleep(Duration::from_micros(200));
                        }
                    }
                })
            })
            .collect();
        // Local busy work too, and a periodic timer.
        let spinner = rt.spawn(async {
            for _ in 0..200 {
                kettle::yield_now().await;
            }
        });
        let ticks = Rc::new(Cell::new(0));
        let counter = ticks.clone();
        let ticker = rt.spawn(async move {
            let mut interval = kettle::time::interval(Duration::from_millis(1));
            for _ in 0..20 {
                interval.tick().await;
                counter.set(counter.get() + 1);
            }
        });
        host.run_until(&rt, || {
            ran.load(Ordering::SeqCst) == THREADS * EACH && spinner.is_finished() && ticker.is_finished()
        });
        pushers.into_iter().for_each(|p| p.join().unwrap());
        host.assert_quiet(&rt, Duration::from_millis(30), 2);
    }
}

#[test]
fn a_single_push_racing_the_end_of_every_turn_is_never_lost() {
    // A pusher that waits for each of its tasks: every push races the
    // host's turn ending (and its hand-over). A lost push is a stall.
    for kind in KINDS {
        let rt = Runtime::new().unwrap();
        let mut host = Host::new(&rt, kind);
        let handle = rt.handle();
        let ran = Arc::new(AtomicUsize::new(0));
        let counter = ran.clone();
        let producer = std::thread::spawn(move || {
            let mut sum = 0u64;
            for i in 0..500u64 {
                let counter = counter.clone();
                let mut task = handle.spawn(async move {
                    counter.fetch_add(1, Ordering::SeqCst);
                    i
                });
                sum += task.wait_timeout(STALL).expect("a push was lost").unwrap();
            }
            sum
        });
        let spinner = rt.spawn(async {
            for _ in 0..300 {
                kettle::yield_now().await;
            }
        });
        host.run_until(&rt, || ran.load(Ordering::SeqCst) == 500 && spinner.is_finished());
        let watcher = producer;
        assert_eq!(watcher.join().unwrap(), (0..500).sum::<u64>());
    }
}

// ----- hosts that block in kettle, several runtimes, rendezvous hooks -----------

#[test]
fn a_host_turn_that_may_block_returns_for_a_timer_a_push_or_at_once_for_work() {
    let rt = Runtime::new().unwrap();
    let _host = Host::new(&rt, Kind::Edge);
    // Work queued: returns at once, even with a huge budget.
    let task = rt.spawn(async { 1 });
    let start = Instant::now();
    rt.turn(Some(Duration::MAX));
    assert!(task.is_finished());
    assert!(start.elapsed() < Duration::from_secs(1));
    // A timer inside the budget: returns for it, not early.
    let (_timer, due, fired) = timer_at(&rt, Duration::from_millis(10));
    while fired.get().is_none() {
        rt.turn(Some(Duration::from_secs(3)));
        assert!(due.elapsed() < Duration::from_secs(2), "slept past the timer");
    }
    assert!(fired.get().unwrap() >= due);
    // A push from another thread ends a blocking turn.
    let handle = rt.handle();
    let pusher = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(10));
        handle.call_soon(|| {}).unwrap();
    });
    let start = Instant::now();
    let mut injected = 0;
    while injected == 0 {
        injected += rt.turn(Some(Duration::MAX)).injected;
        assert!(start.elapsed() < STALL);
    }
    pusher.join().unwrap();
}

#[test]
fn a_paused_clock_host_turn_with_a_budget_jumps_to_the_timer() {
    let rt = kettle::Builder::new().start_paused(true).build().unwrap();
    let task = rt.spawn(kettle::sleep(Duration::from_secs(3600)));
    let start = Instant::now();
    let mut turns = 0;
    while !task.is_finished() {
        rt.turn(Some(Duration::from_millis(50)));
        turns += 1;
        assert!(turns < 20);
    }
    assert!(start.elapsed() < Duration::from_secs(2));
}

#[test]
fn two_runtimes_in_one_edge_host_each_get_their_own_edges() {
    let first = Runtime::new().unwrap();
    let second = Runtime::new().unwrap();
    let mut poll = mio::Poll::new().unwrap();
    let mut events = mio::Events::with_capacity(8);
    for (i, rt) in [&first, &second].into_iter().enumerate() {
        let fd = rt.as_raw_fd();
        poll.registry()
            .register(&mut mio::unix::SourceFd(&fd), mio::Token(i), mio::Interest::READABLE)
            .unwrap();
    }
    let spin = |n: usize| async move {
        for _ in 0..n {
            kettle::yield_now().await;
        }
    };
    let a = first.spawn(spin(30));
    let b = second.spawn(spin(7));
    let (_timer, _, fired) = timer_at(&second, Duration::from_millis(15));
    let mut iterations = 0;
    while !(a.is_finished() && b.is_finished() && fired.get().is_some()) {
        poll.poll(&mut events, Some(STALL)).unwrap();
        assert!(!events.is_empty(), "the host stalled");
        for event in events.iter() {
            [&first, &second][event.token().0].turn(NOW);
        }
        iterations += 1;
        assert!(iterations < 200, "spun");
    }
}

#[test]
fn an_on_wake_that_waits_for_the_host_to_turn_does_not_deadlock_it() {
    // The hook holds the pushing thread until the host has turned (a
    // synchronous hand-off): the host's turn must not need anything the
    // hook's caller holds.
    let (woke_tx, woke_rx) = std::sync::mpsc::sync_channel::<()>(16);
    let turned = Arc::new((Mutex::new(0usize), std::sync::Condvar::new()));
    let hook_turned = turned.clone();
    let owner = std::thread::current().id();
    let rt = kettle::Builder::new()
        .on_wake(move || {
            if std::thread::current().id() == owner {
                return;
            }
            let seen = *hook_turned.0.lock().unwrap();
            woke_tx.send(()).unwrap();
            let guard = hook_turned.0.lock().unwrap();
            let (_guard, timeout) =
                hook_turned.1.wait_timeout_while(guard, STALL, |count| *count == seen).unwrap();
            assert!(!timeout.timed_out(), "the host never turned while the hook waited");
        })
        .build()
        .unwrap();
    let handle = rt.handle();
    let pusher = std::thread::spawn(move || {
        for _ in 0..5 {
            let mut task = handle.spawn(async { 1 });
            task.wait_timeout(STALL).expect("lost").unwrap();
        }
    });
    let mut rounds = 0;
    while rounds < 5 {
        if woke_rx.recv_timeout(STALL).is_err() {
            panic!("the hook was never called");
        }
        rt.turn(NOW);
        *turned.0.lock().unwrap() += 1;
        turned.1.notify_all();
        rounds += 1;
    }
    pusher.join().unwrap();
}

#[test]
fn a_remote_join_handle_cancelled_by_host_code_makes_the_fd_readable() {
    host_code_adds_work("remote cancel", |rt| {
        let task = rt.handle().spawn(std::future::pending::<()>());
        rt.turn(NOW);
        assert!(!readable_now(rt));
        task.cancel();
        Box::new(move || task.is_finished())
    });
}

// ----- random sequences of host operations ---------------------------------------

/// A tiny deterministic generator (xorshift), so a failing seed replays.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// A task parked on a waker that host code holds: its handle, the waker's
/// slot, and the flag that lets it finish.
type Parked = (kettle::JoinHandle<()>, Rc<RefCell<Option<Waker>>>, Rc<Cell<bool>>);

/// Random host code between turns — spawns, cancels, wakes, remote pushes,
/// timers set and cancelled, block_ons, extra turns — then a drain: the host
/// loop watching only the fd must finish everything that was started, and
/// then go quiet.
fn random_host_session(kind: Kind, seed: u64, capacity: usize) {
    let rt = kettle::Builder::new().event_capacity(capacity).build().unwrap();
    let mut host = Host::new(&rt, kind);
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let local_done = Rc::new(Cell::new(0usize));
    let remote_done = Arc::new(AtomicUsize::new(0));
    let (mut local_expected, mut remote_expected) = (0usize, 0usize);
    let mut parked: Vec<Parked> = Vec::new();
    let mut timers: Vec<kettle::TimerHandle> = Vec::new();
    let mut threads = Vec::new();
    for step in 0..300 {
        match rng.below(11) {
            0 => {
                let yields = rng.below(4);
                let done = local_done.clone();
                local_expected += 1;
                rt.spawn(async move {
                    for _ in 0..yields {
                        kettle::yield_now().await;
                    }
                    done.set(done.get() + 1);
                })
                .detach();
            }
            1 => {
                let slot = Rc::new(RefCell::new(None));
                let flag = Rc::new(Cell::new(false));
                let task = rt.spawn(waiting_on(slot.clone(), flag.clone()));
                parked.push((task, slot, flag));
            }
            2 if !parked.is_empty() => {
                let (task, slot, flag) = parked.swap_remove(rng.below(parked.len() as u64) as usize);
                if rng.below(2) == 0 {
                    task.cancel();
                } else {
                    flag.set(true);
                    if let Some(waker) = slot.borrow_mut().take() {
                        waker.wake();
                    }
                }
                let done = local_done.clone();
                local_expected += 1;
                // Counted once the parked task is over, by a task awaiting it.
                rt.spawn(async move {
                    let _ = task.await;
                    done.set(done.get() + 1);
                })
                .detach();
            }
            3 | 4 => {
                let handle = rt.handle();
                let done = remote_done.clone();
                let spawn = rng.below(2) == 0;
                let delay = rng.below(3);
                remote_expected += 1;
                threads.push(std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis(delay));
                    if spawn {
                        handle
                            .spawn(async move {
                                done.fetch_add(1, Ordering::SeqCst);
                            })
                            .detach();
                    } else {
                        handle
                            .call_soon(move || {
                                done.fetch_add(1, Ordering::SeqCst);
                            })
                            .unwrap();
                    }
                }));
            }
            5 => {
                if rng.below(2) == 0 {
                    rt.block_on(kettle::yield_now());
                } else {
                    rt.block_on(kettle::sleep(Duration::from_micros(300)));
                }
            }
            6 => {
                let done = local_done.clone();
                let delay = Duration::from_micros(rng.below(8_000));
                local_expected += 1;
                timers.push(
                    rt.block_on(async move { kettle::call_later(delay, move || done.set(done.get() + 1)) }),
                );
            }
            7 if !timers.is_empty() => {
                let timer = timers.swap_remove(rng.below(timers.len() as u64) as usize);
                if timer.cancel() {
                    local_expected -= 1;
                }
            }
            8 => {
                rt.turn(NOW);
            }
            9 => {
                if host.wait(Duration::from_millis(rng.below(3))) {
                    rt.turn(NOW);
                }
            }
            _ => {
                // Drain: everything started must finish, the fd alone driving.
                let mut turns = 0;
                while local_done.get() < local_expected
                    || remote_done.load(Ordering::SeqCst) < remote_expected
                {
                    assert!(
                        host.wait(STALL),
                        "{kind:?} seed {seed} capacity {capacity} step {step}: stalled at {}/{} local, {}/{} remote",
                        local_done.get(),
                        local_expected,
                        remote_done.load(Ordering::SeqCst),
                        remote_expected
                    );
                    rt.turn(NOW);
                    turns += 1;
                    assert!(turns < 10_000, "{kind:?} seed {seed} step {step}: spun");
                }
            }
        }
    }
    for thread in threads {
        thread.join().unwrap();
    }
    // Release the parked tasks, and drain for the last time.
    for (task, slot, flag) in parked {
        flag.set(true);
        if let Some(waker) = slot.borrow_mut().take() {
            waker.wake();
        }
        host.run_until(&rt, || task.is_finished());
    }
    host.run_until(&rt, || {
        local_done.get() >= local_expected && remote_done.load(Ordering::SeqCst) >= remote_expected
    });
    assert_eq!(local_done.get(), local_expected);
    host.assert_quiet(&rt, Duration::from_millis(30), 2);
}

#[test]
fn random_host_sessions_never_stall_or_spin_either_host() {
    // `ATTACK_SEEDS=500 cargo test --test attack_embedding random` sweeps more.
    let seeds = std::env::var("ATTACK_SEEDS").ok().and_then(|n| n.parse().ok()).unwrap_or(12u64);
    for seed in 1..=seeds {
        for kind in KINDS {
            random_host_session(kind, seed, 1024);
        }
    }
}

#[test]
fn random_host_sessions_with_a_small_events_buffer_never_stall_or_spin() {
    for seed in 100..=106 {
        for kind in KINDS {
            random_host_session(kind, seed, 2);
        }
    }
}

// ----- a condition-variable host under contention -----------------------------------

/// A wake flag set by `on_wake`, waited on by the host.
#[derive(Default)]
struct WakeFlag {
    calls: AtomicUsize,
    set: Mutex<bool>,
    condvar: std::sync::Condvar,
}

impl WakeFlag {
    fn hook(self: &Arc<Self>) -> impl Fn() + Send + Sync + 'static {
        let flag = self.clone();
        move || {
            flag.calls.fetch_add(1, Ordering::SeqCst);
            *flag.set.lock().unwrap() = true;
            flag.condvar.notify_all();
        }
    }

    /// Waits for the hook at most `timeout`; whether it fired.
    fn wait(&self, timeout: Duration) -> bool {
        let set = self.set.lock().unwrap();
        let (mut set, result) = self.condvar.wait_timeout_while(set, timeout, |set| !*set).unwrap();
        *set = false;
        !result.timed_out()
    }
}

#[test]
fn a_condition_variable_host_with_many_producers_never_misses_a_wake() {
    let flag = Arc::new(WakeFlag::default());
    let rt = kettle::Builder::new().on_wake(flag.hook()).build().unwrap();
    let ran = Arc::new(AtomicUsize::new(0));
    const PRODUCERS: usize = 4;
    const EACH: usize = 300;
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let handle = rt.handle();
            let ran = ran.clone();
            std::thread::spawn(move || {
                for i in 0..EACH {
                    let ran = ran.clone();
                    let mut task = handle.spawn(async move {
                        ran.fetch_add(1, Ordering::SeqCst);
                    });
                    if (i + p) % 3 == 0 {
                        task.wait_timeout(STALL).expect("a push was never run").unwrap();
                    } else {
                        task.detach();
                    }
                }
            })
        })
        .collect();
    // Local work now and then: turns that leave work behind.
    let mut turns = 0;
    while ran.load(Ordering::SeqCst) < PRODUCERS * EACH {
        if rt.next_timeout() != Some(Duration::ZERO) {
            assert!(
                flag.wait(STALL),
                "the condition-variable host was never woken ({} of {} ran)",
                ran.load(Ordering::SeqCst),
                PRODUCERS * EACH
            );
        }
        if turns % 50 == 0 {
            rt.spawn(kettle::yield_now()).detach();
        }
        rt.turn(NOW);
        turns += 1;
        assert!(turns < 1_000_000);
    }
    producers.into_iter().for_each(|p| p.join().unwrap());
}
