//! The `SIGCHLD` fallback, forced: these tests set [`PIDFD_REFUSED`], as a
//! kernel without `pidfd_open` would, so every child in this test binary
//! waits through `SIGCHLD` (no other unit test spawns children).

use std::process::Stdio;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::Command;
use super::reap::{PIDFD_REFUSED, orphans};

fn refuse_pidfd() {
    PIDFD_REFUSED.store(true, Ordering::Relaxed);
}

#[test]
fn without_pidfd_a_child_is_waited_for_through_sigchld() {
    refuse_pidfd();
    crate::run(async {
        let mut child = Command::new("sh").args(["-c", "sleep 0.05; exit 6"]).spawn().unwrap();
        assert!(format!("{child:?}").contains("SIGCHLD"), "{child:?}");
        assert!(child.try_wait().unwrap().is_none());
        assert_eq!(child.wait().await.unwrap().code(), Some(6));
        assert_eq!(child.wait().await.unwrap().code(), Some(6));
    });
}

#[test]
fn without_pidfd_a_child_that_exited_before_its_first_poll_is_not_missed() {
    refuse_pidfd();
    crate::run(async {
        let mut child = Command::new("true").spawn().unwrap();
        std::thread::sleep(Duration::from_millis(50)); // exits, SIGCHLD comes, nobody polls
        let status = crate::timeout(Duration::from_secs(5), child.wait()).await;
        assert!(status.expect("the exit was lost").unwrap().success());
    });
}

#[test]
fn without_pidfd_many_concurrent_children_each_complete() {
    refuse_pidfd();
    crate::run(async {
        let children: Vec<_> = (0..200)
            .map(|i| {
                crate::spawn(async move {
                    Command::new("sh").arg("-c").arg(format!("exit {}", i % 7)).status().await
                })
            })
            .collect();
        for (i, child) in children.into_iter().enumerate() {
            let status =
                crate::timeout(Duration::from_secs(10), child).await.expect("a child was never woken");
            assert_eq!(status.unwrap().unwrap().code(), Some(i as i32 % 7));
        }
    });
}

#[test]
fn without_pidfd_output_kill_and_cancelled_waits_work() {
    use std::os::unix::process::ExitStatusExt;
    refuse_pidfd();
    crate::run(async {
        let output = Command::new("echo").arg("fallback").output().await.unwrap();
        assert_eq!(output.stdout, b"fallback\n");
        let mut child = Command::new("sleep").arg("10").stdin(Stdio::null()).spawn().unwrap();
        assert!(crate::timeout(Duration::from_millis(10), child.wait()).await.is_err());
        child.kill().await.unwrap();
        assert_eq!(child.wait().await.unwrap().signal(), Some(libc::SIGKILL));
    });
}

#[test]
fn without_pidfd_a_dropped_child_is_reaped_in_the_background() {
    refuse_pidfd();
    crate::run(async {
        let child = Command::new("sleep").arg("10").kill_on_drop(true).spawn().unwrap();
        let pid = child.id().unwrap();
        drop(child);
        let start = Instant::now();
        while std::path::Path::new(&format!("/proc/{pid}")).exists() {
            assert!(start.elapsed() < Duration::from_secs(5), "the dropped child is still there");
            crate::sleep(Duration::from_millis(5)).await;
        }
    });
}

#[test]
fn a_child_dropped_with_no_runtime_waits_on_the_orphan_list_until_the_next_spawn() {
    let rt = crate::Runtime::new().unwrap();
    // Long enough to be still running when its pid is listed: another
    // test's spawn may sweep the list at any moment (tests run in
    // parallel), and a sweep keeps a child that has not exited.
    let child = rt.block_on(async { Command::new("sleep").arg("0.3").spawn().unwrap() });
    let pid = child.id().unwrap();
    drop(rt);
    drop(child);
    assert!(orphans() >= 1);
    std::thread::sleep(Duration::from_millis(600));
    crate::run(async { Command::new("true").status().await.unwrap() });
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists(), "the orphan was not reaped");
}

#[test]
fn without_pidfd_spawning_outside_a_runtime_still_panics_before_starting_the_child() {
    refuse_pidfd();
    let marker = "kettle-outside-runtime-marker";
    let panic =
        std::panic::catch_unwind(|| Command::new("sh").args(["-c", "sleep 5", marker]).spawn()).unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(message.contains("outside a kettle runtime"), "{message}");
    let started = std::fs::read_dir("/proc").unwrap().any(|entry| {
        let cmdline = entry.ok().and_then(|e| std::fs::read_to_string(e.path().join("cmdline")).ok());
        cmdline.is_some_and(|c| c.contains(marker))
    });
    assert!(!started, "the child was started before the panic");
}

#[test]
fn without_pidfd_children_of_two_threads_each_wake_their_own_waiters() {
    refuse_pidfd();
    let threads: Vec<_> = (0..2)
        .map(|t| {
            std::thread::spawn(move || {
                crate::run(async move {
                    let children: Vec<_> = (0..50)
                        .map(|i| {
                            crate::spawn(async move {
                                let script = format!("sleep 0.0{}; exit {}", i % 5, t * 10 + i % 3);
                                Command::new("sh").arg("-c").arg(script).status().await
                            })
                        })
                        .collect();
                    for (i, child) in children.into_iter().enumerate() {
                        let status =
                            crate::timeout(Duration::from_secs(10), child).await.expect("never woken");
                        assert_eq!(status.unwrap().unwrap().code(), Some(t * 10 + i as i32 % 3));
                    }
                })
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
}
