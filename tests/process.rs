//! Specifies `kettle::process`: commands run to their end (`status`,
//! `output`), children waited for, killed, dropped; their pipes written and
//! read, including the edges — a child that exits before its stdin is
//! written, one that closes stdout early, one that is killed — and the
//! misuse: a program that does not exist.

use std::io;
use std::process::Stdio;
use std::time::{Duration, Instant};

use kettle::Runtime;
use kettle::process::{Child, Command};

/// Whether the process `pid` is gone: reaped, not even a zombie.
fn is_gone(pid: u32) -> bool {
    !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// Runs the loop (sleeping on it) until `pid` is gone; fails after 5 s.
async fn until_gone(pid: u32) {
    let start = Instant::now();
    while !is_gone(pid) {
        assert!(start.elapsed() < Duration::from_secs(5), "process {pid} is still there after 5 s");
        kettle::sleep(Duration::from_millis(5)).await;
    }
}

fn sh(script: &str) -> Command {
    let mut command = Command::new("sh");
    command.arg("-c").arg(script);
    command
}

#[test]
fn output_collects_stdout_stderr_and_the_exit_code() {
    kettle::run(async {
        let output = sh("echo out; echo err >&2; exit 7").output().await.unwrap();
        assert_eq!(output.status.code(), Some(7));
        assert_eq!(output.stdout, b"out\n");
        assert_eq!(output.stderr, b"err\n");
    });
}

#[test]
fn output_gives_the_child_an_empty_stdin() {
    kettle::run(async {
        let output = Command::new("cat").output().await.unwrap();
        assert!(output.status.success());
        assert_eq!(output.stdout, b"");
    });
}

#[test]
fn status_reports_the_exit_code_and_builder_settings_reach_the_child() {
    kettle::run(async {
        let dir = std::env::temp_dir();
        let status = sh("test \"$KETTLE_TEA\" = green && test -z \"$HOME\" && test \"$(pwd -P)\" = \"$1\"")
            .arg("sh")
            .arg(dir.canonicalize().unwrap())
            .env("KETTLE_TEA", "green")
            .env_remove("HOME")
            .current_dir(&dir)
            .status()
            .await
            .unwrap();
        assert!(status.success(), "{status}");
        let status = sh("exit 3").status().await.unwrap();
        assert_eq!(status.code(), Some(3));
    });
}

#[test]
fn env_clear_leaves_only_what_is_set_afterwards() {
    kettle::run(async {
        let output = Command::new("/usr/bin/env").env_clear().env("ONLY", "this").output().await.unwrap();
        assert_eq!(String::from_utf8(output.stdout).unwrap(), "ONLY=this\n");
    });
}

#[test]
fn a_std_command_converts_with_its_arguments() {
    kettle::run(async {
        let mut std = std::process::Command::new("echo");
        std.args(["a", "b"]);
        let output = Command::from(std).output().await.unwrap();
        assert_eq!(output.stdout, b"a b\n");
    });
}

#[test]
fn a_missing_program_is_not_found_and_the_error_names_it() {
    kettle::run(async {
        let error = Command::new("kettle-no-such-program").spawn().unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::NotFound);
        assert!(error.to_string().contains("kettle-no-such-program"), "{error}");
        let error = Command::new("kettle-no-such-program").output().await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::NotFound);
    });
}

#[test]
fn spawning_outside_a_runtime_panics_with_a_message_that_says_where_to_call_it_and_starts_nothing() {
    let marker = "kettle-spawned-outside-a-runtime";
    let panic =
        std::panic::catch_unwind(|| Command::new("sh").args(["-c", "sleep 5", marker]).spawn()).unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(message.contains("outside a kettle runtime"), "{message}");
    assert_eq!(child_with_argument(marker), None, "the child was started before the panic");
}

#[test]
fn what_is_written_to_stdin_comes_back_on_stdout() {
    kettle::run(async {
        let mut child = Command::new("cat").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        // Bigger than a pipe's buffer both ways, so writing and reading
        // must take turns: a writer task and this reader.
        let data: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        let expected = data.clone();
        let writer = kettle::spawn(async move {
            stdin.write_all(&data).await?;
            stdin.flush().await?;
            stdin.shutdown().await?;
            stdin.shutdown().await // twice is fine
        });
        let mut read = Vec::new();
        assert_eq!(stdout.read_to_end(&mut read).await.unwrap(), expected.len());
        assert!(read == expected, "cat returned other bytes");
        writer.await.unwrap().unwrap();
        assert!(child.wait().await.unwrap().success());
    });
}

#[test]
fn writing_after_shutdown_is_an_error_that_says_so() {
    kettle::run(async {
        let mut child = Command::new("cat").stdin(Stdio::piped()).spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.shutdown().await.unwrap();
        let error = stdin.write(b"late").await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::BrokenPipe);
        assert!(error.to_string().contains("shut down"), "{error}");
        assert!(child.wait().await.unwrap().success(), "cat saw end-of-file and exited");
    });
}

#[test]
fn a_child_that_exits_before_its_stdin_is_written_gives_broken_pipe() {
    kettle::run(async {
        let mut child = Command::new("true").stdin(Stdio::piped()).spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        assert!(child.wait().await.unwrap().success());
        let error = stdin.write_all(&[0; 100_000]).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::BrokenPipe);
    });
}

#[test]
fn a_child_that_closes_stdout_early_gives_end_of_file_while_it_runs() {
    kettle::run(async {
        let mut child = sh("echo first; exec >&-; sleep 0.2; exit 4").stdout(Stdio::piped()).spawn().unwrap();
        let mut text = String::new();
        child.stdout.as_mut().unwrap().read_to_string(&mut text).await.unwrap();
        assert_eq!(text, "first\n");
        assert!(child.try_wait().unwrap().is_none(), "end-of-file came before the exit");
        assert_eq!(child.wait().await.unwrap().code(), Some(4));
    });
}

#[test]
fn wait_with_output_reads_both_pipes_while_waiting_so_full_pipes_do_not_deadlock() {
    kettle::run(async {
        // 1 MB on each stream, stderr first: a parent that read stdout to
        // its end before stderr would wait forever on a full stderr pipe.
        let child = sh("head -c 1000000 /dev/zero >&2; head -c 1000000 /dev/zero")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let output = child.wait_with_output().await.unwrap();
        assert!(output.status.success());
        assert_eq!((output.stdout.len(), output.stderr.len()), (1_000_000, 1_000_000));
    });
}

#[test]
fn a_killed_child_reports_sigkill_and_kill_after_exit_is_ok() {
    use std::os::unix::process::ExitStatusExt;
    kettle::run(async {
        let mut child = Command::new("sleep").arg("10").spawn().unwrap();
        let pid = child.id().unwrap();
        child.kill().await.unwrap();
        let status = child.wait().await.unwrap();
        assert_eq!(status.signal(), Some(libc::SIGKILL));
        assert!(is_gone(pid));
        assert_eq!(child.id(), None, "no pid once reaped");
        child.kill().await.unwrap();
        child.start_kill().unwrap();
        assert_eq!(child.wait().await.unwrap(), status);
    });
}

#[test]
fn try_wait_is_none_while_running_then_the_status_and_wait_repeats_it() {
    kettle::run(async {
        let mut child = sh("read line; exit 5").stdin(Stdio::piped()).spawn().unwrap();
        assert!(child.try_wait().unwrap().is_none());
        assert!(child.id().is_some());
        child.stdin.as_mut().unwrap().write_all(b"go\n").await.unwrap();
        let status = child.wait().await.unwrap();
        assert_eq!(status.code(), Some(5));
        assert_eq!(child.try_wait().unwrap(), Some(status));
        assert_eq!(child.wait().await.unwrap(), status, "waiting twice gives the same status");
    });
}

#[test]
fn wait_closes_stdin_first_so_a_child_reading_to_the_end_finishes() {
    kettle::run(async {
        let mut child = Command::new("cat").stdin(Stdio::piped()).stdout(Stdio::null()).spawn().unwrap();
        let done = kettle::timeout(Duration::from_secs(5), child.wait()).await;
        assert!(done.expect("wait did not close stdin").unwrap().success());
    });
}

#[test]
fn wait_is_cancel_safe() {
    kettle::run(async {
        let mut child = sh("read line").stdin(Stdio::piped()).spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        for _ in 0..3 {
            let cancelled = kettle::timeout(Duration::from_millis(10), child.wait()).await;
            assert!(cancelled.is_err(), "the child waits for its line");
        }
        stdin.write_all(b"now\n").await.unwrap();
        let status = kettle::timeout(Duration::from_secs(5), child.wait()).await;
        assert!(status.expect("a cancelled wait lost the exit").unwrap().success());
    });
}

#[test]
fn a_timeout_around_output_with_kill_on_drop_returns_on_time_and_the_child_is_gone() {
    kettle::run(async {
        // A duration no other test uses, to find the child among ours.
        let marker = "10.0137";
        let timed = kettle::spawn(async move {
            let start = Instant::now();
            let mut sleep = Command::new("sleep");
            sleep.arg(marker).kill_on_drop(true);
            let result = kettle::timeout(Duration::from_millis(300), sleep.output()).await;
            (result.is_err(), start.elapsed())
        });
        let pid = loop {
            if let Some(pid) = child_with_argument(marker) {
                break pid;
            }
            kettle::sleep(Duration::from_millis(2)).await;
        };
        let (timed_out, took) = timed.await.unwrap();
        assert!(timed_out, "sleep 10 finished within 300 ms?");
        assert!(took < Duration::from_secs(2), "the timeout returned after {took:?}");
        // The future is gone: the child was killed and is reaped by a
        // background task, so it vanishes from /proc (not even a zombie).
        until_gone(pid).await;
    });
}

/// The pid of a child of this process that has `argument` on its command
/// line.
fn child_with_argument(argument: &str) -> Option<u32> {
    let me = std::process::id().to_string();
    std::fs::read_dir("/proc").unwrap().find_map(|entry| {
        let path = entry.ok()?.path();
        let pid = path.file_name()?.to_str()?.parse().ok()?;
        let stat = std::fs::read_to_string(path.join("stat")).ok()?;
        let parent = stat.rsplit_once(") ")?.1.split(' ').nth(1)?;
        let cmdline = std::fs::read_to_string(path.join("cmdline")).ok()?;
        (parent == me && cmdline.split('\0').any(|arg| arg == argument)).then_some(pid)
    })
}

#[test]
fn a_dropped_running_child_is_reaped_in_the_background() {
    kettle::run(async {
        let child = Command::new("sleep").arg("0.05").spawn().unwrap();
        let pid = child.id().unwrap();
        drop(child);
        until_gone(pid).await;
    });
}

#[test]
fn a_dropped_child_with_kill_on_drop_is_killed_and_reaped() {
    kettle::run(async {
        let child = Command::new("sleep").arg("10").kill_on_drop(true).spawn().unwrap();
        let pid = child.id().unwrap();
        drop(child);
        until_gone(pid).await;
    });
}

#[test]
fn a_child_dropped_after_its_runtime_is_reaped_by_the_next_spawn() {
    let rt = Runtime::new().unwrap();
    let child: Child = rt.block_on(async { Command::new("sleep").arg("0.05").spawn().unwrap() });
    let pid = child.id().unwrap();
    drop(rt);
    drop(child); // no runtime: onto the orphan list
    std::thread::sleep(Duration::from_millis(200));
    kettle::run(async {
        Command::new("true").status().await.unwrap(); // sweeps the orphans
    });
    assert!(is_gone(pid), "the orphan was not reaped");
}

#[test]
fn a_thousand_concurrent_children_complete_on_one_loop_with_no_pool_thread() {
    // 1,000 pidfds are open at once: more than a soft limit of 1,024
    // leaves room for, so raise it to the hard limit (raising is harmless
    // to the other tests of this binary).
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit and setrlimit read or write one live rlimit.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
        limit.rlim_cur = limit.rlim_max.min(65_536).max(limit.rlim_cur);
        libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
    }
    let rt = Runtime::new().unwrap();
    let statuses = rt.block_on(async {
        let children: Vec<_> =
            (0..1000).map(|_| kettle::spawn(async { Command::new("true").status().await })).collect();
        let mut statuses = Vec::new();
        for child in children {
            statuses.push(child.await.unwrap().unwrap());
        }
        statuses
    });
    assert!(statuses.iter().all(|status| status.success()));
    assert_eq!(rt.metrics().blocking_threads, 0, "a pool thread was started");
}

#[test]
fn a_child_held_by_a_task_when_its_runtime_is_dropped_is_killed_if_asked_and_reaped_later() {
    let rt = Runtime::new().unwrap();
    let (killed, kept) = rt.block_on(async {
        let killed = Command::new("sleep").arg("10").kill_on_drop(true).spawn().unwrap();
        let kept = Command::new("sleep").arg("0.05").spawn().unwrap();
        let pids = (killed.id().unwrap(), kept.id().unwrap());
        // Both handles live in a task that never finishes.
        kettle::spawn(async move {
            let _children = (killed, kept);
            std::future::pending::<()>().await
        })
        .detach();
        kettle::yield_now().await;
        pids
    });
    // Dropping the runtime drops the task, and with it the handles: a
    // background reaper spawned during shutdown is dropped too, so both
    // go on the orphan list; the first is killed on the way.
    drop(rt);
    std::thread::sleep(Duration::from_millis(200));
    kettle::run(async {
        Command::new("true").status().await.unwrap(); // sweeps the orphans
    });
    assert!(is_gone(killed), "the kill_on_drop child was not killed and reaped");
    assert!(is_gone(kept), "the child that exited by itself was not reaped");
}

#[test]
fn wait_with_output_cancelled_by_a_timeout_leaves_the_child_to_a_background_reaper() {
    kettle::run(async {
        let child = sh("sleep 0.5; echo late").stdout(Stdio::piped()).spawn().unwrap();
        let pid = child.id().unwrap();
        let cancelled = kettle::timeout(Duration::from_millis(10), child.wait_with_output()).await;
        assert!(cancelled.is_err());
        assert!(!is_gone(pid), "without kill_on_drop the child runs on");
        until_gone(pid).await;
    });
}

#[test]
fn try_read_and_try_write_never_wait() {
    kettle::run(async {
        let mut child = Command::new("cat").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
        let stdin = child.stdin.take().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let mut buf = [0; 64];
        assert_eq!(stdout.try_read(&mut buf).unwrap_err().kind(), io::ErrorKind::WouldBlock);
        // Fill the pipe: try_write stops at WouldBlock instead of waiting.
        let mut written = 0;
        loop {
            match stdin.try_write(&[b'x'; 4096]) {
                Ok(n) => written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("{e}"),
            }
            assert!(written < 64 << 20, "the pipe never filled");
        }
        drop(stdin);
        let mut all = Vec::new();
        stdout.read_to_end(&mut all).await.unwrap();
        assert_eq!(all.len(), written);
        assert!(child.wait().await.unwrap().success());
    });
}

#[test]
fn poll_write_vectored_sends_every_buffer_in_order() {
    use std::io::IoSlice;
    kettle::run(async {
        let mut child = Command::new("cat").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
        let stdin = child.stdin.take().unwrap();
        let bufs = [IoSlice::new(b"earl "), IoSlice::new(b""), IoSlice::new(b"grey\n")];
        let n = std::future::poll_fn(|cx| stdin.poll_write_vectored(cx, &bufs)).await.unwrap();
        assert_eq!(n, 10, "a pipe with room takes all of a small write");
        drop(stdin);
        let output = child.wait_with_output().await.unwrap();
        assert_eq!(output.stdout, b"earl grey\n");
    });
}
