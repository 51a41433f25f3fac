//! Specifies that spawning a child when the process is out of file
//! descriptors (`EMFILE`) is an error that leaks nothing: no descriptor, no
//! running or zombie child. Alone in its own test binary: it lowers the
//! process's descriptor limit and counts open descriptors.

use std::process::Stdio;
use std::time::Duration;

use kettle::process::Command;

/// Open descriptors, not counting the one that lists them.
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").expect("procfs is mounted").count() - 1
}

/// This process's children, zombies included.
fn children() -> usize {
    let me = std::process::id().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| std::fs::read_to_string(entry.ok()?.path().join("stat")).ok())
        .filter(|stat| stat.rsplit_once(") ").and_then(|(_, rest)| rest.split(' ').nth(1)) == Some(&me))
        .count()
}

fn set_fd_limit(limit: u64) {
    let mut current = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit and setrlimit read or write one live rlimit.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut current), 0);
        current.rlim_cur = limit;
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &current), 0);
    }
}

/// Opens `/dev/null` until the process has no descriptor left under a
/// limit of a few more than are open, then closes `spare` of them again:
/// exactly `spare` descriptors can still be opened while the result lives.
fn exhaust_descriptors_but(spare: usize) -> Vec<std::fs::File> {
    set_fd_limit(open_fds() as u64 + 64);
    let mut fillers = Vec::new();
    loop {
        match std::fs::File::open("/dev/null") {
            Ok(file) => fillers.push(file),
            Err(e) => {
                assert_eq!(e.raw_os_error(), Some(libc::EMFILE), "{e}");
                break;
            }
        }
    }
    fillers.truncate(fillers.len() - spare);
    fillers
}

#[test]
fn spawning_out_of_descriptors_is_an_error_and_leaks_nothing() {
    kettle::run(async {
        // Warm up what stays open for the process's life (the runtime's
        // epoll and eventfd are open already).
        Command::new("true").status().await.unwrap();
        let (fds, kids) = (open_fds(), children());
        let mut refused = 0;
        // From no descriptor to spare up to enough for three pipes and a
        // pidfd: each step of spawn meets EMFILE at some limit. With
        // inherited stdio, std's spawn needs few or none, and the pidfd
        // is what runs out.
        for (spare, piped) in (0..12).map(|n| (n, true)).chain((0..4).map(|n| (n, false))) {
            let stdio = || if piped { Stdio::piped() } else { Stdio::inherit() };
            let fillers = exhaust_descriptors_but(spare);
            let spawned =
                Command::new("cat").stdin(stdio()).stdout(stdio()).stderr(stdio()).kill_on_drop(true).spawn();
            drop(fillers);
            set_fd_limit(4096);
            match spawned {
                Err(e) => {
                    refused += 1;
                    assert!(e.to_string().contains("Too many open files"), "spare {spare}: {e}");
                    assert!(
                        e.to_string().contains("cat"),
                        "spare {spare}: the error does not name the program: {e}"
                    );
                    eprintln!("spare {spare}, piped {piped}: {e}");
                }
                Ok(mut child) => {
                    child.kill().await.unwrap();
                }
            }
            // Nothing left behind: wait out a background reap, if any.
            for _ in 0..200 {
                if open_fds() == fds && children() == kids {
                    break;
                }
                kettle::sleep(Duration::from_millis(5)).await;
            }
            assert_eq!(open_fds(), fds, "spare {spare}: a descriptor leaked");
            assert_eq!(children(), kids, "spare {spare}: a child was left behind");
        }
        assert!(refused >= 3, "only {refused} spawns met EMFILE");
    });
}
