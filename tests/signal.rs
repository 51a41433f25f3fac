//! Specifies `kettle::signal`: `signal(kind)` and `Signal::recv` for any
//! signal a program may handle, and `ctrl_c`. A delivery raised in-process
//! (from the loop's thread or another) resolves every listener of that
//! signal on every runtime; deliveries between two `recv`s coalesce into one
//! and none is lost, even by a cancelled `recv`; earlier deliveries don't
//! count; the previous disposition comes back with the last listener; and
//! the signals no handler may serve are an `InvalidInput` error, not a panic.
//!
//! Signal dispositions are process-wide, so the tests take turns (`SERIAL`),
//! and every signal is raised only while a kettle listener has its handler
//! installed — otherwise the default action would end the test process.

use std::sync::Mutex;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use kettle::Runtime;
use kettle::signal::{SignalKind, ctrl_c, signal};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// A signal's current disposition: the handler address (`SIG_DFL` is 0,
/// `SIG_IGN` is 1) and the flags.
fn disposition(signal: i32) -> (usize, i32) {
    // SAFETY: queries the disposition without changing it.
    unsafe {
        let mut current: libc::sigaction = std::mem::zeroed();
        assert_eq!(libc::sigaction(signal, std::ptr::null(), &mut current), 0);
        (current.sa_sigaction, current.sa_flags)
    }
}

/// The current SIGINT handler address (`SIG_DFL` is 0, `SIG_IGN` is 1).
fn sigint_handler() -> usize {
    disposition(libc::SIGINT).0
}

/// Raises `signal` on this thread (its handler runs before `raise` returns).
fn raise(signal: i32) {
    assert_ne!(disposition(signal).0, libc::SIG_DFL, "raised only while a listener handles it");
    // SAFETY: raising a signal that, as just checked, is handled.
    assert_eq!(unsafe { libc::raise(signal) }, 0);
}

fn raise_sigint() {
    raise(libc::SIGINT);
}

const SECOND: Duration = Duration::from_secs(1);
const SHORT: Duration = Duration::from_millis(30);

#[test]
fn ctrl_c_resolves_when_sigint_is_raised_in_process() {
    let _serial = serial();
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let waiter = ctrl_c();
        raise_sigint();
        waiter.await.unwrap();
    });
    assert_eq!(rt.metrics().io_sources, 0, "the waiter's pipe left the reactor");
}

#[test]
fn sigint_from_another_thread_wakes_a_loop_blocked_in_poll() {
    let _serial = serial();
    let rt = Runtime::new().unwrap();
    let start = Instant::now();
    rt.block_on(async {
        let waiter = ctrl_c(); // installed before the other thread signals
        let signaller = thread::spawn(|| {
            thread::sleep(Duration::from_millis(20));
            // SAFETY: a kettle waiter has the handler installed.
            unsafe { libc::kill(libc::getpid(), libc::SIGINT) };
        });
        let out = kettle::timeout(Duration::from_secs(5), waiter).await;
        signaller.join().unwrap();
        assert!(out.expect("woken by the signal, not by the timeout").is_ok());
    });
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(20) && took < Duration::from_secs(2), "took {took:?}");
}

#[test]
fn one_sigint_resolves_every_waiter_on_every_runtime() {
    let _serial = serial();
    let (installed_tx, installed_rx) = std::sync::mpsc::channel();
    let other = thread::spawn(move || {
        kettle::run(async move {
            let waiter = ctrl_c();
            installed_tx.send(()).unwrap();
            kettle::timeout(Duration::from_secs(5), waiter).await
        })
    });
    installed_rx.recv().unwrap();
    let rt = Runtime::new().unwrap();
    let both = rt.block_on(async {
        let (first, second) = (ctrl_c(), ctrl_c());
        raise_sigint();
        (first.await, second.await)
    });
    assert!(both.0.is_ok() && both.1.is_ok());
    let remote = other.join().unwrap();
    assert!(remote.expect("the other runtime's waiter woke too").is_ok());
}

#[test]
fn a_sigint_from_before_a_waiter_existed_does_not_resolve_it() {
    let _serial = serial();
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let early = ctrl_c();
        raise_sigint(); // early's signal; its byte may still sit in the pipe
        let late = ctrl_c();
        early.await.unwrap();
        let late_result = kettle::timeout(Duration::from_millis(30), late).await;
        assert!(late_result.is_err(), "the late waiter ignored the earlier signal");
        let later = ctrl_c();
        raise_sigint();
        later.await.unwrap();
    });
}

#[test]
fn the_default_disposition_is_restored_when_the_last_waiter_finishes_or_is_dropped() {
    let _serial = serial();
    assert_eq!(sigint_handler(), libc::SIG_DFL, "tests start with the default");
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let first = ctrl_c();
        let second = ctrl_c();
        assert_ne!(sigint_handler(), libc::SIG_DFL, "kettle's handler is installed");
        drop(first);
        assert_ne!(sigint_handler(), libc::SIG_DFL, "a waiter remains");
        raise_sigint();
        second.await.unwrap();
        assert_eq!(sigint_handler(), libc::SIG_DFL, "restored as soon as the last waiter completed");
    });
}

#[test]
fn a_custom_previous_disposition_is_restored_too() {
    let _serial = serial();
    // SAFETY: sets SIGINT to "ignore", then back to the default at the end.
    unsafe { libc::signal(libc::SIGINT, libc::SIG_IGN) };
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let waiter = ctrl_c();
        assert_ne!(sigint_handler(), libc::SIG_IGN);
        raise_sigint();
        waiter.await.unwrap();
    });
    assert_eq!(sigint_handler(), libc::SIG_IGN, "the ignore disposition came back");
    // SAFETY: back to the default for the other tests.
    unsafe { libc::signal(libc::SIGINT, libc::SIG_DFL) };
}

#[test]
fn a_dropped_waiter_leaves_no_descriptor_or_registration_behind() {
    let _serial = serial();
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        for _ in 0..100 {
            let waiter = ctrl_c();
            drop(waiter);
        }
    });
    assert_eq!(rt.metrics().io_sources, 0);
    assert_eq!(sigint_handler(), libc::SIG_DFL);
}

#[test]
fn ctrl_c_built_outside_a_runtime_catches_sigint_and_resolves_once_awaited_inside() {
    let _serial = serial();
    let waiter = ctrl_c(); // no runtime yet: the handler is installed anyway
    assert_ne!(sigint_handler(), libc::SIG_DFL, "a SIGINT from now on is caught");
    raise_sigint();
    let rt = Runtime::new().unwrap();
    let out = rt.block_on(kettle::timeout(Duration::from_secs(5), waiter));
    assert!(out.expect("the earlier signal counts").is_ok());
    assert_eq!(sigint_handler(), libc::SIG_DFL);
    assert_eq!(rt.metrics().io_sources, 0);
}

#[test]
#[should_panic(expected = "polling kettle::signal::ctrl_c called outside a kettle runtime")]
fn polling_ctrl_c_outside_a_runtime_panics() {
    let _serial = serial();
    let mut waiter = std::pin::pin!(ctrl_c());
    let _ = std::future::Future::poll(
        waiter.as_mut(),
        &mut std::task::Context::from_waker(std::task::Waker::noop()),
    );
}

// ----- signal(kind): the normal path ------------------------------------------

#[test]
fn signal_recv_resolves_when_its_signal_is_raised() {
    let _serial = serial();
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
        assert_eq!(usr1.kind(), SignalKind::user_defined1());
        raise(libc::SIGUSR1);
        assert_eq!(usr1.recv().await, Some(()));
        assert_eq!(rt.metrics().io_sources, 1, "the listener's pipe is registered while it lives");
    });
    assert_eq!(rt.metrics().io_sources, 0, "the listener's pipe left the reactor");
    assert_eq!(disposition(libc::SIGUSR1).0, libc::SIG_DFL);
}

#[test]
fn the_named_kinds_are_the_libc_signal_numbers_and_debug_names_them() {
    for (kind, number, name) in [
        (SignalKind::interrupt(), libc::SIGINT, "SignalKind(SIGINT)"),
        (SignalKind::terminate(), libc::SIGTERM, "SignalKind(SIGTERM)"),
        (SignalKind::hangup(), libc::SIGHUP, "SignalKind(SIGHUP)"),
        (SignalKind::user_defined1(), libc::SIGUSR1, "SignalKind(SIGUSR1)"),
        (SignalKind::user_defined2(), libc::SIGUSR2, "SignalKind(SIGUSR2)"),
        (SignalKind::from_raw(libc::SIGWINCH), libc::SIGWINCH, "SignalKind(SIGWINCH)"),
        (SignalKind::from_raw(libc::SIGRTMIN() + 2), libc::SIGRTMIN() + 2, "SignalKind(SIGRTMIN+2)"),
        (SignalKind::from_raw(10_000), 10_000, "SignalKind(10000)"),
        (SignalKind::from_raw(-3), -3, "SignalKind(-3)"),
    ] {
        assert_eq!(kind.as_raw(), number, "{name}");
        assert_eq!(kind, SignalKind::from_raw(number), "{name}");
        assert_eq!(format!("{kind:?}"), name);
    }
    assert_ne!(SignalKind::user_defined1(), SignalKind::user_defined2());
}

#[test]
fn a_delivery_from_another_thread_wakes_a_loop_blocked_in_poll() {
    let _serial = serial();
    let rt = Runtime::new().unwrap();
    let start = Instant::now();
    rt.block_on(async {
        let mut hup = signal(SignalKind::hangup()).unwrap(); // installed before the other thread signals
        let signaller = thread::spawn(|| {
            thread::sleep(Duration::from_millis(20));
            // SAFETY: a kettle listener has the handler installed.
            unsafe { libc::kill(libc::getpid(), libc::SIGHUP) };
        });
        let out = kettle::timeout(5 * SECOND, hup.recv()).await;
        signaller.join().unwrap();
        assert_eq!(out.expect("woken by the signal, not by the timeout"), Some(()));
    });
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(20) && took < 2 * SECOND, "took {took:?}");
}

#[test]
fn two_listeners_of_one_signal_on_one_runtime_both_wake_and_again_on_the_next_delivery() {
    let _serial = serial();
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let mut first = signal(SignalKind::user_defined2()).unwrap();
        let mut second = signal(SignalKind::user_defined2()).unwrap();
        for round in 0..3 {
            // Both wait before the delivery (the signal comes from a task).
            let raiser = kettle::spawn(async {
                kettle::sleep(Duration::from_millis(5)).await;
                raise(libc::SIGUSR2);
            });
            let both = kettle::join!(
                kettle::timeout(5 * SECOND, first.recv()),
                kettle::timeout(5 * SECOND, second.recv())
            );
            assert_eq!(both, (Ok(Some(())), Ok(Some(()))), "round {round}");
            raiser.await.unwrap();
        }
    });
}

#[test]
fn listeners_on_two_runtimes_on_two_threads_both_wake() {
    let _serial = serial();
    let (listening_tx, listening_rx) = mpsc::channel();
    let other = thread::spawn(move || {
        kettle::run(async move {
            let mut term = signal(SignalKind::terminate()).unwrap();
            listening_tx.send(()).unwrap();
            kettle::timeout(5 * SECOND, term.recv()).await
        })
    });
    listening_rx.recv().unwrap();
    let rt = Runtime::new().unwrap();
    let here = rt.block_on(async {
        let mut term = signal(SignalKind::terminate()).unwrap();
        raise(libc::SIGTERM);
        kettle::timeout(5 * SECOND, term.recv()).await
    });
    assert_eq!(here, Ok(Some(())));
    assert_eq!(other.join().unwrap().expect("the other runtime's listener woke too"), Some(()));
    assert_eq!(disposition(libc::SIGTERM).0, libc::SIG_DFL);
}

#[test]
fn a_listener_resolves_for_its_own_signal_only() {
    let _serial = serial();
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
        let mut usr2 = signal(SignalKind::user_defined2()).unwrap();
        raise(libc::SIGUSR2); // its byte wakes both: usr1's counter decides
        assert_eq!(usr2.recv().await, Some(()));
        assert!(kettle::timeout(SHORT, usr1.recv()).await.is_err(), "no SIGUSR1 was sent");
        raise(libc::SIGUSR1);
        assert_eq!(usr1.recv().await, Some(()));
        assert!(kettle::timeout(SHORT, usr2.recv()).await.is_err(), "only one SIGUSR2 was sent");
    });
}

#[test]
fn real_time_signals_can_be_listened_for() {
    let _serial = serial();
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let number = libc::SIGRTMIN() + 1;
        let mut rt_signal = signal(SignalKind::from_raw(number)).unwrap();
        raise(number);
        assert_eq!(kettle::timeout(5 * SECOND, rt_signal.recv()).await, Ok(Some(())));
    });
}

// ----- coalescing, and nothing lost ---------------------------------------------

#[test]
fn deliveries_before_a_recv_coalesce_into_one_and_a_later_delivery_wakes_the_next_recv() {
    let _serial = serial();
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let mut hup = signal(SignalKind::hangup()).unwrap();
        for _ in 0..5 {
            raise(libc::SIGHUP);
        }
        assert_eq!(hup.recv().await, Some(()), "five deliveries, one recv");
        assert!(
            kettle::timeout(SHORT, hup.recv()).await.is_err(),
            "all five were taken up by the first recv"
        );
        raise(libc::SIGHUP);
        assert_eq!(kettle::timeout(5 * SECOND, hup.recv()).await, Ok(Some(())), "a later delivery counts");
    });
}

#[test]
fn a_delivery_while_no_recv_runs_is_kept_for_the_next_recv() {
    let _serial = serial();
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
        raise(libc::SIGUSR1);
        assert_eq!(usr1.recv().await, Some(()));
        raise(libc::SIGUSR1); // nobody is waiting: the counter keeps it
        kettle::sleep(SHORT).await; // the pipe's byte is seen and drained meanwhile
        assert_eq!(kettle::timeout(5 * SECOND, usr1.recv()).await, Ok(Some(())));
    });
}

#[test]
fn a_recv_cancelled_by_a_timeout_loses_nothing() {
    let _serial = serial();
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let mut usr2 = signal(SignalKind::user_defined2()).unwrap();
        // Cancelled while nothing had arrived.
        assert!(kettle::timeout(SHORT, usr2.recv()).await.is_err());
        raise(libc::SIGUSR2);
        assert_eq!(kettle::timeout(5 * SECOND, usr2.recv()).await, Ok(Some(())));

        // Cancelled after the delivery arrived but before it was polled
        // again: a pending recv, the signal, then the recv dropped unseen.
        {
            let mut recv = std::pin::pin!(usr2.recv());
            let first = std::future::poll_fn(|cx| std::task::Poll::Ready(recv.as_mut().poll(cx))).await;
            assert!(first.is_pending());
            raise(libc::SIGUSR2);
        }
        assert_eq!(kettle::timeout(5 * SECOND, usr2.recv()).await, Ok(Some(())), "the next recv sees it");
    });
}

#[test]
fn a_listener_whose_runtime_was_busy_while_another_runtime_drained_the_pipe_still_wakes() {
    // An edge-triggered epoll drops an event whose descriptor is no longer
    // readable when it hands the event out. Here runtime B's thread is busy
    // inside a task when SIGUSR1 arrives; runtime A drains the pipe before B
    // collects its event, so B's edge is eaten: only A's drainer waking the
    // waiting listeners can wake B's (signal/waiting.rs).
    let _serial = serial();
    let (listening_tx, listening_rx) = mpsc::channel();
    let (drained_tx, drained_rx) = mpsc::channel::<()>();
    let busy = thread::spawn(move || {
        kettle::run(async move {
            let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
            let waiter = kettle::spawn(async move { kettle::timeout(5 * SECOND, usr1.recv()).await });
            kettle::sleep(Duration::from_millis(10)).await; // the waiter registers and waits
            listening_tx.send(()).unwrap();
            drained_rx.recv().unwrap(); // busy: the loop collects no event meanwhile
            let free = Instant::now();
            (waiter.await.unwrap(), free.elapsed())
        })
    });
    listening_rx.recv().unwrap();
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        // A SIGUSR2 listener sees the pipe readable with its own counter
        // unchanged: it drains the SIGUSR1 byte.
        let mut usr2 = signal(SignalKind::user_defined2()).unwrap();
        raise(libc::SIGUSR1);
        assert!(
            kettle::timeout(Duration::from_millis(100), usr2.recv()).await.is_err(),
            "no SIGUSR2 was sent"
        );
    });
    drained_tx.send(()).unwrap();
    let (woke, after) = busy.join().unwrap();
    // (A recv polled again for any reason sees the counter; the timeout's
    // own wake-up would do that after 5 s. The wake-up must come first.)
    assert_eq!(woke.expect("woken although its epoll event was eaten"), Some(()));
    assert!(after < 2 * SECOND, "woken by its timeout after {after:?}, not by the drainer");
}

// ----- where a listener lives -------------------------------------------------

#[test]
fn a_signal_built_outside_a_runtime_catches_deliveries_and_resolves_when_polled_inside() {
    let _serial = serial();
    // Whatever this process inherited (under `nohup`, SIGHUP is ignored).
    let before = disposition(libc::SIGHUP);
    let mut hup = signal(SignalKind::hangup()).unwrap(); // no runtime yet: the handler is installed anyway
    assert_ne!(disposition(libc::SIGHUP).0, before.0, "a SIGHUP from now on is caught");
    raise(libc::SIGHUP);
    let rt = Runtime::new().unwrap();
    let out = rt.block_on(kettle::timeout(5 * SECOND, hup.recv()));
    assert_eq!(out.expect("the earlier delivery counts"), Some(()));
    drop(hup);
    assert_eq!(disposition(libc::SIGHUP), before, "the inherited disposition came back");
    assert_eq!(rt.metrics().io_sources, 0);
}

#[test]
fn a_signal_moves_to_the_runtime_that_polls_it_next() {
    let _serial = serial();
    let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
    let first = Runtime::new().unwrap();
    raise(libc::SIGUSR1);
    assert_eq!(first.block_on(usr1.recv()), Some(()));
    assert_eq!(first.metrics().io_sources, 1);

    // The first runtime still lives: the listener leaves its reactor.
    let second = Runtime::new().unwrap();
    raise(libc::SIGUSR1);
    assert_eq!(second.block_on(kettle::timeout(5 * SECOND, usr1.recv())), Ok(Some(())));
    assert_eq!((first.metrics().io_sources, second.metrics().io_sources), (0, 1));

    // The second one is dropped: a third runtime still gets the deliveries.
    drop(second);
    let third = Runtime::new().unwrap();
    let signaller = thread::spawn(|| {
        thread::sleep(Duration::from_millis(20));
        // SAFETY: `usr1` has the handler installed.
        unsafe { libc::kill(libc::getpid(), libc::SIGUSR1) };
    });
    assert_eq!(third.block_on(kettle::timeout(5 * SECOND, usr1.recv())), Ok(Some(())));
    signaller.join().unwrap();
    drop(usr1);
    assert_eq!(third.metrics().io_sources, 0);
}

#[test]
fn polling_a_signal_outside_a_runtime_panics_with_the_clear_message() {
    let _serial = serial();
    let mut usr2 = signal(SignalKind::user_defined2()).unwrap();
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    let payload = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| usr2.poll_recv(&mut cx)))
        .expect_err("polled outside a runtime, it must panic");
    let message = payload.downcast_ref::<String>().map(String::as_str).unwrap_or_default();
    assert!(message.contains("kettle::signal::Signal::recv called outside a kettle runtime"), "{message}");
    drop(usr2);
    assert_eq!(disposition(libc::SIGUSR2).0, libc::SIG_DFL, "the listener still cleaned up");
}

#[test]
fn ctrl_c_and_a_sigint_signal_share_the_handler_and_both_wake() {
    let _serial = serial();
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let mut interrupts = signal(SignalKind::interrupt()).unwrap();
        let once = ctrl_c();
        raise_sigint();
        once.await.unwrap();
        assert_ne!(sigint_handler(), libc::SIG_DFL, "ctrl_c is done, but a SIGINT listener remains");
        assert_eq!(interrupts.recv().await, Some(()));
        raise_sigint();
        assert_eq!(interrupts.recv().await, Some(()));
    });
    assert_eq!(sigint_handler(), libc::SIG_DFL);
}

// ----- dispositions -----------------------------------------------------------

extern "C" fn marker_handler(_: libc::c_int) {}

#[test]
fn dropping_the_last_listener_restores_the_previous_disposition() {
    let _serial = serial();
    // SIGHUP ignored, SIGUSR2 with a handler of our own (no SA_RESTART).
    // SAFETY: sets dispositions for signals nothing else uses while
    // `SERIAL` is held; both are put back to the default at the end.
    unsafe {
        let mut own: libc::sigaction = std::mem::zeroed();
        own.sa_sigaction = marker_handler as *const () as usize;
        libc::sigemptyset(&mut own.sa_mask);
        assert_eq!(libc::sigaction(libc::SIGUSR2, &own, std::ptr::null_mut()), 0);
        libc::signal(libc::SIGHUP, libc::SIG_IGN);
    }
    let (usr2_before, hup_before) = (disposition(libc::SIGUSR2), disposition(libc::SIGHUP));
    assert_eq!(usr2_before.0, marker_handler as *const () as usize);
    assert_eq!(hup_before.0, libc::SIG_IGN);

    let first = signal(SignalKind::user_defined2()).unwrap();
    let second = signal(SignalKind::user_defined2()).unwrap();
    let hup = signal(SignalKind::hangup()).unwrap();
    let kettles = disposition(libc::SIGUSR2);
    assert_ne!(kettles.0, usr2_before.0, "kettle's handler is installed");
    assert_eq!(disposition(libc::SIGHUP).0, kettles.0, "one handler for every signal");
    drop(first);
    assert_eq!(disposition(libc::SIGUSR2), kettles, "a listener remains");
    drop(second);
    assert_eq!(disposition(libc::SIGUSR2), usr2_before, "our own handler came back, flags and all");
    assert_eq!(disposition(libc::SIGHUP), kettles, "SIGHUP still has its listener");
    drop(hup);
    assert_eq!(disposition(libc::SIGHUP), hup_before, "the ignore disposition came back");

    // SAFETY: back to the default for the other tests.
    unsafe {
        libc::signal(libc::SIGUSR2, libc::SIG_DFL);
        libc::signal(libc::SIGHUP, libc::SIG_DFL);
    }
}

#[test]
fn the_handler_is_installed_with_sa_restart() {
    let _serial = serial();
    let term = signal(SignalKind::terminate()).unwrap();
    let (_, flags) = disposition(libc::SIGTERM);
    assert_ne!(flags & libc::SA_RESTART, 0, "interrupted system calls elsewhere resume");
    assert_eq!(flags & libc::SA_SIGINFO, 0, "a plain handler, no siginfo");
    drop(term);
}

#[test]
fn dropped_signals_leave_no_descriptor_registration_or_handler_behind() {
    let _serial = serial();
    let open_fds = || std::fs::read_dir("/proc/self/fd").expect("procfs is mounted").count();
    drop(signal(SignalKind::user_defined1()).unwrap()); // the pipe exists from here on
    let before = open_fds();
    let rt = Runtime::new().unwrap();
    let fds_with_runtime = open_fds();
    rt.block_on(async {
        for i in 0..100 {
            let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
            if i % 2 == 0 {
                // Registered, too: a pending recv, cancelled.
                assert!(kettle::timeout(Duration::ZERO, usr1.recv()).await.is_err());
            }
        }
    });
    assert_eq!(rt.metrics().io_sources, 0);
    assert_eq!(open_fds(), fds_with_runtime, "every duplicate was closed");
    drop(rt);
    assert_eq!(open_fds(), before);
    assert_eq!(disposition(libc::SIGUSR1).0, libc::SIG_DFL);
}

// ----- misuse: signals that may not be handled ----------------------------------

#[test]
fn forbidden_signals_are_an_invalid_input_error_naming_the_signal() {
    let _serial = serial();
    for (number, name, why) in [
        (libc::SIGKILL, "SIGKILL", "neither caught nor ignored"),
        (libc::SIGSTOP, "SIGSTOP", "neither caught nor ignored"),
        (libc::SIGSEGV, "SIGSEGV", "fault"),
        (libc::SIGBUS, "SIGBUS", "fault"),
        (libc::SIGFPE, "SIGFPE", "fault"),
        (libc::SIGILL, "SIGILL", "fault"),
    ] {
        let before = disposition(number);
        let err = signal(SignalKind::from_raw(number)).expect_err(name);
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{name}: {err}");
        let message = err.to_string();
        assert!(message.contains(&format!("{name} ({number})")), "{name}: {message}");
        assert!(message.contains(why), "{name}: {message}");
        assert_eq!(disposition(number), before, "{name}: the refusal changed nothing");
    }
}

#[test]
fn numbers_that_are_not_signals_are_an_invalid_input_error() {
    let _serial = serial();
    for number in [0, -1, i32::MIN, libc::SIGRTMAX() + 1, 65, 10_000, i32::MAX] {
        let err = signal(SignalKind::from_raw(number)).expect_err(&number.to_string());
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{number}: {err}");
        assert!(err.to_string().contains(&format!("signal {number}:")), "{number}: {err}");
        assert!(err.to_string().contains("not a signal number"), "{number}: {err}");
    }
    // Between the standard signals and SIGRTMIN: the C library's own.
    for number in 32..libc::SIGRTMIN() {
        let err = signal(SignalKind::from_raw(number)).expect_err(&number.to_string());
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{number}: {err}");
        assert!(err.to_string().contains("C library"), "{number}: {err}");
    }
}

#[test]
fn the_lowest_and_highest_signal_numbers_are_accepted() {
    let _serial = serial();
    // SIGHUP is 1; SIGRTMAX ends the range. Created and dropped, never raised.
    for number in [1, libc::SIGRTMIN(), libc::SIGRTMAX()] {
        let listener = signal(SignalKind::from_raw(number)).unwrap_or_else(|e| panic!("{number}: {e}"));
        assert_ne!(disposition(number).0, libc::SIG_DFL, "{number}");
        drop(listener);
        assert_eq!(disposition(number).0, libc::SIG_DFL, "{number}");
    }
}
