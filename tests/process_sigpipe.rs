//! Specifies that writing to a child that has gone is a `BrokenPipe` error
//! and never a `SIGPIPE` that kills this process — even where `SIGPIPE`
//! has its default action. A Rust binary starts with it ignored (std's
//! start-up code), so this binary restores the default first: alone in its
//! own binary, since the disposition is process-wide.

use std::io;
use std::mem::MaybeUninit;
use std::process::Stdio;

use kettle::process::Command;

fn sigpipe_disposition() -> libc::sighandler_t {
    let mut current = MaybeUninit::<libc::sigaction>::zeroed();
    // SAFETY: a null new action only reads the disposition into `current`.
    assert_eq!(unsafe { libc::sigaction(libc::SIGPIPE, std::ptr::null(), current.as_mut_ptr()) }, 0);
    // SAFETY: zeroed is a valid sigaction, and the kernel filled it in.
    unsafe { current.assume_init() }.sa_sigaction
}

fn sigpipe_blocked() -> bool {
    let mut mask = MaybeUninit::<libc::sigset_t>::zeroed();
    // SAFETY: a null new mask only reads this thread's mask into `mask`.
    assert_eq!(unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, std::ptr::null(), mask.as_mut_ptr()) }, 0);
    // SAFETY: the call filled `mask` in.
    unsafe { libc::sigismember(mask.as_ptr(), libc::SIGPIPE) == 1 }
}

#[test]
fn writing_to_a_child_that_exited_is_broken_pipe_even_with_sigpipe_at_its_default() {
    // SAFETY: setting a disposition to SIG_DFL installs no code of ours.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    assert_eq!(sigpipe_disposition(), libc::SIG_DFL);
    kettle::run(async {
        for _ in 0..3 {
            let mut child = Command::new("true").stdin(Stdio::piped()).spawn().unwrap();
            let mut stdin = child.stdin.take().unwrap();
            assert!(child.wait().await.unwrap().success());
            let error = stdin.write(b"anyone?").await.unwrap_err();
            assert_eq!(error.kind(), io::ErrorKind::BrokenPipe);
            let error = stdin.write_all(&[7; 200_000]).await.unwrap_err();
            assert_eq!(error.kind(), io::ErrorKind::BrokenPipe);
            let bufs = [io::IoSlice::new(b"one"), io::IoSlice::new(b"two")];
            let error = std::future::poll_fn(|cx| stdin.poll_write_vectored(cx, &bufs)).await.unwrap_err();
            assert_eq!(error.kind(), io::ErrorKind::BrokenPipe);
        }
        // A child that stops reading half-way: `head` takes one line and
        // exits while the parent is still writing.
        let mut child =
            Command::new("head").arg("-n1").stdin(Stdio::piped()).stdout(Stdio::null()).spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let error = stdin.write_all(&b"line\n".repeat(1_000_000)).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::BrokenPipe);
        assert!(child.wait().await.unwrap().success());
    });
    // Still alive, and as we found it: default action, not blocked, none
    // pending (a pending SIGPIPE would kill us at the unblock).
    assert_eq!(sigpipe_disposition(), libc::SIG_DFL);
    assert!(!sigpipe_blocked(), "the write left SIGPIPE blocked");
}
