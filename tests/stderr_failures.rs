//! Specifies that nothing kettle writes to stderr can panic or abort (issue
//! 17: a debug-mode runtime dropped with stderr a broken pipe panicked in
//! `eprintln!`, and the unwinding freed a task still marked running, which
//! aborted the process).
//!
//! Every report kettle writes — debug mode's slow-poll lines for a task and
//! for a callback, the tasks pending and unread at a debug-mode runtime's
//! drop (with debug mode from the builder and from `KETTLE_DEBUG=1`),
//! `kettle::test::check`'s seed line — and the panic messages of contained
//! panics (a task's, a callback's), run in a child process of this test
//! binary (built with debug assertions, as tests are) whose stderr is
//! either closed or a pipe nobody reads. The child must finish its work and
//! exit normally.

// Spawning inside `block_on` and dropping the handle outside, on purpose.
#![allow(clippy::async_yields_async)]

use std::cell::Cell;
use std::process::Command;
use std::rc::Rc;
use std::time::Duration;

use kettle::{Builder, Runtime};

const MODE: &str = "KETTLE_STDERR_TEST_MODE";

/// Runs the child with its stderr `mode` ("closed" or "broken").
fn child(mode: &str) {
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_writes_every_report", "--nocapture", "--test-threads=1"])
        .env(MODE, mode)
        .env("KETTLE_DEBUG", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "the child did not survive a {mode} stderr: {output:?}");
    assert!(stdout.contains("every report written") && stdout.contains("1 passed"), "{stdout}");
}

#[test]
fn every_report_survives_a_closed_stderr() {
    child("closed");
}

#[test]
fn every_report_survives_stderr_being_a_pipe_nobody_reads() {
    child("broken");
}

/// Makes this process's stderr fail: closed (descriptor 2 then goes to the
/// next file opened — the runtime's epoll, say — which refuses writes), or
/// a pipe whose reading end is closed (`EPIPE`; Rust programs ignore
/// `SIGPIPE`).
fn break_stderr(mode: &str) {
    // SAFETY: plain descriptor calls on descriptors this function creates,
    // and on descriptor 2, which nothing in this process holds as an owned
    // handle.
    unsafe {
        match mode {
            "closed" => assert_eq!(libc::close(2), 0),
            "broken" => {
                let mut ends = [0; 2];
                assert_eq!(libc::pipe(ends.as_mut_ptr()), 0);
                assert_eq!(libc::close(ends[0]), 0);
                assert_eq!(libc::dup2(ends[1], 2), 2);
                assert_eq!(libc::close(ends[1]), 0);
            }
            other => panic!("unknown mode {other}"),
        }
    }
}

/// The child's body: does nothing unless run by `child`.
#[test]
fn child_writes_every_report() {
    let Ok(mode) = std::env::var(MODE) else { return };
    break_stderr(&mode);

    // Debug mode from the builder, with the default hook: a slow task poll
    // and a slow callback, then a drop with a task pending and one unread.
    let rt = Builder::new().slow_poll_threshold(Duration::ZERO).build().unwrap();
    let left = rt.block_on(async {
        kettle::task::Builder::new().name("slow").spawn(kettle::yield_now()).await.unwrap();
        let ran = Rc::new(Cell::new(false));
        let flag = ran.clone();
        kettle::call_soon(move || flag.set(true));
        kettle::yield_now().await;
        assert!(ran.get());
        let pending = kettle::task::Builder::new().name("pending").spawn(std::future::pending::<()>());
        let unread = kettle::spawn(async { 5 });
        kettle::yield_now().await;
        kettle::yield_now().await;
        (pending, unread)
    });
    drop(rt);
    drop(left);

    // Debug mode from KETTLE_DEBUG=1 (set by the parent), and contained
    // panics, whose messages the panic hook writes.
    let rt = Runtime::new().unwrap();
    let pending = rt.block_on(async {
        let err = kettle::spawn(async { panic!("a contained panic") }).await.unwrap_err();
        assert!(err.is_panic());
        kettle::call_soon(|| panic!("a contained callback panic"));
        kettle::yield_now().await;
        kettle::spawn(std::future::pending::<()>())
    });
    drop(rt);
    drop(pending);

    // kettle::test::check's seed line, before it hands the payload on.
    let payload = std::panic::catch_unwind(|| {
        kettle::test::check(0..1, |_| std::panic::panic_any(42_u32));
    })
    .unwrap_err();
    assert_eq!(payload.downcast_ref::<u32>(), Some(&42), "the body's own payload, not a write failure");

    println!("every report written");
}
