//! Every way host code adds work, and work from odd places.

use super::*;

// ----- every way of adding work, from host code, idle runtime --------------

#[test]
fn a_cancel_from_host_code_makes_the_fd_readable() {
    host_code_adds_work("cancel", |rt| {
        let task = rt.spawn(std::future::pending::<()>());
        rt.turn(NOW);
        assert!(!readable_now(rt));
        task.cancel();
        Box::new(move || task.is_finished())
    });
}

#[test]
fn a_wake_from_host_code_through_a_stored_waker_makes_the_fd_readable() {
    host_code_adds_work("waker", |rt| {
        let slot = Rc::new(RefCell::new(None));
        let flag = Rc::new(Cell::new(false));
        let task = rt.spawn(waiting_on(slot.clone(), flag.clone()));
        rt.turn(NOW);
        assert!(!readable_now(rt));
        flag.set(true);
        slot.borrow_mut().take().unwrap().wake();
        Box::new(move || task.is_finished())
    });
}

#[test]
fn a_wake_by_ref_from_host_code_makes_the_fd_readable() {
    host_code_adds_work("wake_by_ref", |rt| {
        let slot = Rc::new(RefCell::new(None));
        let flag = Rc::new(Cell::new(false));
        let task = rt.spawn(waiting_on(slot.clone(), flag.clone()));
        rt.turn(NOW);
        flag.set(true);
        slot.borrow().as_ref().unwrap().wake_by_ref();
        Box::new(move || task.is_finished())
    });
}

#[test]
fn an_event_set_from_host_code_makes_the_fd_readable() {
    host_code_adds_work("event", |rt| {
        let event = Rc::new(kettle::sync::Event::new());
        let waiter = event.clone();
        let task = rt.spawn(async move { waiter.wait().await });
        rt.turn(NOW);
        event.set();
        Box::new(move || task.is_finished())
    });
}

#[test]
fn a_oneshot_sent_from_host_code_makes_the_fd_readable() {
    host_code_adds_work("oneshot", |rt| {
        let (tx, rx) = kettle::sync::oneshot::channel::<u32>();
        let task = rt.spawn(async move { rx.await.unwrap() });
        rt.turn(NOW);
        tx.send(4).unwrap();
        Box::new(move || task.is_finished())
    });
}

#[test]
fn a_oneshot_sender_dropped_by_host_code_makes_the_fd_readable() {
    host_code_adds_work("oneshot drop", |rt| {
        let (tx, rx) = kettle::sync::oneshot::channel::<u32>();
        let task = rt.spawn(async move { rx.await.is_err() });
        rt.turn(NOW);
        drop(tx);
        Box::new(move || task.is_finished())
    });
}

#[test]
fn a_queue_put_from_host_code_makes_the_fd_readable() {
    host_code_adds_work("queue", |rt| {
        let queue = Rc::new(kettle::sync::Queue::<u32>::new());
        let consumer = queue.clone();
        let task = rt.spawn(async move { consumer.get().await });
        rt.turn(NOW);
        queue.try_put(1).unwrap();
        Box::new(move || task.is_finished())
    });
}

#[test]
fn a_queue_closed_from_host_code_makes_the_fd_readable() {
    host_code_adds_work("queue close", |rt| {
        let queue = Rc::new(kettle::sync::Queue::<u32>::new());
        let consumer = queue.clone();
        let task = rt.spawn(async move {
            let _ = consumer.get().await;
        });
        rt.turn(NOW);
        queue.close();
        Box::new(move || task.is_finished())
    });
}

#[test]
fn a_handle_spawn_from_host_code_on_the_loop_thread_makes_the_fd_readable() {
    host_code_adds_work("handle spawn", |rt| {
        let task = rt.handle().spawn(async { 3 });
        Box::new(move || task.is_finished())
    });
}

#[test]
fn a_handle_call_soon_from_host_code_makes_the_fd_readable() {
    host_code_adds_work("handle call_soon", |rt| {
        let ran = Arc::new(AtomicBool::new(false));
        let set = ran.clone();
        rt.handle().call_soon(move || set.store(true, Ordering::SeqCst)).unwrap();
        Box::new(move || ran.load(Ordering::SeqCst))
    });
}

#[test]
fn a_handle_stop_from_host_code_neither_stalls_nor_spins_the_host() {
    for kind in KINDS {
        let rt = Runtime::new().unwrap();
        let mut host = Host::new(&rt, kind);
        rt.turn(NOW);
        rt.handle().stop();
        // A stop is no work for a host's turn: at most one turn for it.
        host.assert_quiet(&rt, Duration::from_millis(30), 1);
        // ...and the next run_forever returns after one turn.
        let start = Instant::now();
        rt.run_forever();
        assert!(start.elapsed() < STALL);
        host.assert_quiet(&rt, Duration::from_millis(30), 1);
    }
}

#[test]
fn host_spawned_tasks_run_on_both_kinds_of_host_busy_or_idle() {
    for kind in KINDS {
        for busy in [false, true] {
            let rt = Runtime::new().unwrap();
            let mut host = Host::new(&rt, kind);
            let spinner = busy.then(|| {
                rt.spawn(async {
                    for _ in 0..50 {
                        kettle::yield_now().await;
                    }
                })
            });
            rt.turn(NOW);
            let tasks: Vec<_> = (0..5).map(|i| rt.spawn(async move { i })).collect();
            host.run_until(&rt, || tasks.iter().all(|t| t.is_finished()));
            if let Some(spinner) = spinner {
                host.run_until(&rt, || spinner.is_finished());
            }
            host.assert_quiet(&rt, Duration::from_millis(30), 1);
        }
    }
}

#[test]
fn a_dropped_join_handle_gives_no_spurious_work() {
    for kind in KINDS {
        let rt = Runtime::new().unwrap();
        let mut host = Host::new(&rt, kind);
        let task = rt.spawn(async { 1 });
        host.run_until(&rt, || task.is_finished());
        drop(task);
        host.assert_quiet(&rt, Duration::from_millis(30), 1);
        // And a handle dropped while its task waits.
        let woke = Rc::new(Cell::new(false));
        let set = woke.clone();
        let task = rt.spawn(async move {
            kettle::sleep(Duration::from_millis(10)).await;
            set.set(true);
        });
        rt.turn(NOW);
        drop(task);
        host.run_until(&rt, || woke.get());
        host.assert_quiet(&rt, Duration::from_millis(30), 1);
    }
}

#[test]
fn a_spawn_blocking_completion_wakes_an_idle_host() {
    for kind in KINDS {
        let rt = Runtime::new().unwrap();
        let mut host = Host::new(&rt, kind);
        let task = rt.spawn(async {
            kettle::spawn_blocking(|| {
                std::thread::sleep(Duration::from_millis(20));
                6
            })
            .await
            .unwrap()
        });
        host.run_until(&rt, || task.is_finished());
        assert_eq!(rt.block_on(task).unwrap(), 6);
        host.assert_quiet(&rt, Duration::from_millis(30), 1);
    }
}

#[test]
fn a_signal_wakes_an_idle_host() {
    for kind in KINDS {
        let rt = Runtime::new().unwrap();
        let mut host = Host::new(&rt, kind);
        let task = rt.spawn(async {
            let mut signal = kettle::signal::signal(kettle::signal::SignalKind::user_defined2()).unwrap();
            std::future::poll_fn(|cx| signal.poll_recv(cx)).await
        });
        rt.turn(NOW);
        host.assert_quiet(&rt, Duration::from_millis(10), 1);
        // SAFETY: raising a signal kettle handles.
        unsafe { libc::raise(libc::SIGUSR2) };
        host.run_until(&rt, || task.is_finished());
        assert_eq!(rt.block_on(task).unwrap(), Some(()));
        host.assert_quiet(&rt, Duration::from_millis(30), 1);
    }
}

#[test]
fn io_while_idle_and_while_busy_reaches_both_hosts() {
    for kind in KINDS {
        for busy in [false, true] {
            let rt = Runtime::new().unwrap();
            let mut host = Host::new(&rt, kind);
            let (ours, mut theirs) = StdUnixStream::pair().unwrap();
            let reader = rt.spawn(async move {
                let mut ours = kettle::net::UnixStream::from_std(ours).unwrap();
                let mut buf = [0u8; 3];
                ours.read_exact(&mut buf).await.unwrap();
                buf
            });
            let spinner = rt.spawn(async move {
                for _ in 0..if busy { 20 } else { 0 } {
                    kettle::yield_now().await;
                }
            });
            rt.turn(NOW);
            theirs.write_all(b"abc").unwrap();
            host.run_until(&rt, || reader.is_finished() && spinner.is_finished());
            host.assert_quiet(&rt, Duration::from_millis(30), 1);
        }
    }
}

// ----- work from odd places ---------------------------------------------------------

#[test]
fn a_block_on_that_panics_in_host_code_still_hands_its_leftover_work_to_the_host() {
    for kind in KINDS {
        let rt = Runtime::new().unwrap();
        let mut host = Host::new(&rt, kind);
        let spinner = Rc::new(RefCell::new(None));
        let slot = spinner.clone();
        let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rt.block_on(async move {
                *slot.borrow_mut() = Some(kettle::spawn(async {
                    for _ in 0..10 {
                        kettle::yield_now().await;
                    }
                }));
                kettle::yield_now().await;
                panic!("host code's future panics");
            })
        }));
        assert!(unwound.is_err());
        let spinner = spinner.borrow_mut().take().unwrap();
        host.run_until(&rt, || spinner.is_finished());
        host.assert_quiet(&rt, Duration::from_millis(30), 1);
    }
}

#[test]
fn a_task_that_spawns_through_the_runtime_itself_is_run_by_the_host() {
    for kind in KINDS {
        let rt = Rc::new(Runtime::new().unwrap());
        let mut host = Host::new(&rt, kind);
        let inner = rt.clone();
        let spawned = Rc::new(RefCell::new(None));
        let slot = spawned.clone();
        let task = rt.spawn(async move {
            *slot.borrow_mut() = Some(inner.spawn(async { 3 }));
        });
        host.run_until(&rt, || task.is_finished());
        let child = spawned.borrow_mut().take().unwrap();
        host.run_until(&rt, || child.is_finished());
        host.assert_quiet(&rt, Duration::from_millis(30), 1);
    }
}

#[test]
fn work_added_to_a_hosted_runtime_by_a_task_of_another_runtime_reaches_its_host() {
    for kind in KINDS {
        let hosted = Rc::new(Runtime::new().unwrap());
        let mut host = Host::new(&hosted, kind);
        hosted.turn(NOW);
        let slot = Rc::new(RefCell::new(None));
        let flag = Rc::new(Cell::new(false));
        let parked = hosted.spawn(waiting_on(slot.clone(), flag.clone()));
        hosted.turn(NOW);
        let other = Runtime::new().unwrap();
        let target = hosted.clone();
        let spawned = other.block_on(async move {
            // Wake a task of the hosted runtime, and spawn onto it.
            flag.set(true);
            slot.borrow_mut().take().unwrap().wake();
            target.spawn(async { 4 })
        });
        host.run_until(&hosted, || parked.is_finished() && spawned.is_finished());
        host.assert_quiet(&hosted, Duration::from_millis(30), 1);
    }
}

#[test]
fn a_cancel_from_a_task_of_another_runtime_reaches_the_host() {
    for kind in KINDS {
        let hosted = Runtime::new().unwrap();
        let mut host = Host::new(&hosted, kind);
        let task = Rc::new(hosted.spawn(std::future::pending::<()>()));
        hosted.turn(NOW);
        let other = Runtime::new().unwrap();
        let target = task.clone();
        other.block_on(async move { target.cancel() });
        host.run_until(&hosted, || task.is_finished());
    }
}

/// A condition-variable host (no fd) that follows `Builder::on_wake`'s
/// docs: it turns when the hook fires.
#[test]
fn a_wake_callback_host_hears_of_work_a_setup_block_on_left() {
    let woken = Arc::new((Mutex::new(false), std::sync::Condvar::new()));
    let hook = woken.clone();
    let rt = kettle::Builder::new()
        .on_wake(move || {
            *hook.0.lock().unwrap() = true;
            hook.1.notify_all();
        })
        .build()
        .unwrap();
    let task = rt.block_on(async { kettle::spawn(async { 1 }) });
    while !task.is_finished() {
        let flag = woken.0.lock().unwrap();
        let (mut flag, timeout) = woken.1.wait_timeout_while(flag, STALL, |set| !*set).unwrap();
        assert!(!timeout.timed_out(), "the wake callback never fired although a task was queued");
        *flag = false;
        drop(flag);
        rt.turn(NOW);
    }
}

// ----- more ways host code releases waiting tasks -------------------------------------

#[test]
fn a_mutex_guard_dropped_by_host_code_makes_the_fd_readable() {
    host_code_adds_work("mutex", |rt| {
        let mutex = Rc::new(kettle::sync::Mutex::new(0));
        // Host code holds the lock while a task waits for it.
        let guard = mutex.try_lock().unwrap();
        let contender = mutex.clone();
        let task = rt.spawn(async move {
            *contender.lock().await += 1;
        });
        rt.turn(NOW);
        assert!(!task.is_finished());
        drop(guard);
        Box::new(move || task.is_finished())
    });
}

#[test]
fn a_semaphore_permit_released_by_host_code_makes_the_fd_readable() {
    host_code_adds_work("semaphore", |rt| {
        let semaphore = Rc::new(kettle::sync::Semaphore::new(1));
        let permit = semaphore.try_acquire().unwrap();
        let waiter = semaphore.clone();
        let task = rt.spawn(async move {
            let _permit = waiter.acquire().await;
        });
        rt.turn(NOW);
        assert!(!task.is_finished());
        drop(permit);
        Box::new(move || task.is_finished())
    });
}

#[test]
fn semaphore_permits_added_by_host_code_make_the_fd_readable() {
    host_code_adds_work("add_permits", |rt| {
        let semaphore = Rc::new(kettle::sync::Semaphore::new(0));
        let waiter = semaphore.clone();
        let task = rt.spawn(async move {
            let _permit = waiter.acquire().await;
        });
        rt.turn(NOW);
        semaphore.add_permits(1);
        Box::new(move || task.is_finished())
    });
}

/// Found here, fixed: `Sleep::reset` removed the sleep's timer and left
/// re-registering to the next poll, but nothing woke the task for that
/// poll: a sleep reset from outside the task awaiting it (host code between
/// turns, or another task) stranded that task. It now moves the timer with
/// its waker (as tokio's `reset` re-registers with the stored waker), and
/// re-arms the timerfd between runs.
#[test]
fn a_sleep_reset_earlier_by_host_code_wakes_its_task_by_the_new_deadline() {
    for kind in KINDS {
        let rt = Runtime::new().unwrap();
        let mut host = Host::new(&rt, kind);
        let sleep = Rc::new(RefCell::new(Box::pin(kettle::sleep(Duration::from_secs(3600)))));
        let polled = sleep.clone();
        let task = rt.spawn(std::future::poll_fn(move |cx| polled.borrow_mut().as_mut().poll(cx)));
        rt.turn(NOW);
        // Host code moves the deadline to 20 ms from now.
        let due = Instant::now() + Duration::from_millis(20);
        sleep.borrow_mut().as_mut().reset(due);
        assert!(rt.next_timeout().is_some(), "{kind:?}: no timer is left for the reset sleep");
        host.run_until(&rt, || task.is_finished());
        assert!(Instant::now() >= due);
    }
}
