//! Specifies `kettle::signal::ctrl_c`: it resolves on SIGINT raised in-process
//! (from the loop's thread or another), every waiter on every runtime wakes,
//! earlier signals don't count, and the previous SIGINT disposition comes
//! back once no waiter remains.
//!
//! Signal dispositions are process-wide, so the tests take turns (`SERIAL`),
//! and every SIGINT is raised only while a kettle waiter has its handler
//! installed — otherwise the default action would end the test process.

use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use kettle::Runtime;
use kettle::signal::ctrl_c;

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// The current SIGINT handler address (`SIG_DFL` is 0, `SIG_IGN` is 1).
fn sigint_handler() -> usize {
    // SAFETY: queries the disposition without changing it.
    unsafe {
        let mut current: libc::sigaction = std::mem::zeroed();
        assert_eq!(libc::sigaction(libc::SIGINT, std::ptr::null(), &mut current), 0);
        current.sa_sigaction
    }
}

fn raise_sigint() {
    // SAFETY: raising a signal the caller has ensured is handled.
    assert_eq!(unsafe { libc::raise(libc::SIGINT) }, 0);
}

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
