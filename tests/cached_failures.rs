//! Specifies that kettle keeps no failure that a retry could clear (issue
//! 17: one `EMFILE` while creating the signal pipe disabled signals for the
//! life of the process, because the error was stored in a `OnceLock`).
//!
//! Two parts:
//!
//! - **An inventory** of every piece of state in `src/` that outlives a
//!   call — every `static`, `thread_local!`, `OnceLock`, `OnceCell`,
//!   `LazyLock` and `LazyCell` — read from the source, each with what it
//!   holds. A new one fails the inventory until it is reviewed and listed
//!   here, and none may hold a `Result` or an error.
//! - **A transient failure, then success**, for each that is filled by
//!   something that can fail: in a child process (the signal pipe is
//!   created once per process), descriptors are exhausted so that creating
//!   a runtime, a signal listener and a Ctrl+C future all fail with
//!   `EMFILE`; then descriptors are freed, and each must work.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::Command;

use kettle::signal::{SignalKind, ctrl_c, signal};

/// Every piece of lasting state in `src/`, by file and name, with what it
/// holds. Those filled by a call that can fail say which test shows a
/// failure is not kept.
const INVENTORY: &[(&str, &str, &str)] = &[
    (
        "runtime/registry.rs",
        "RUNTIMES",
        "each living runtime's shared part, by id; a failed Core::new registers nothing",
    ),
    ("runtime/context.rs", "CURRENT", "the runtime running on this thread"),
    ("runtime/context.rs", "CURRENT_ID", "its id"),
    ("runtime/context.rs", "CURRENT_PAUSED", "whether its clock is paused"),
    ("runtime/context.rs", "LIVING", "the runtimes alive on this thread"),
    ("runtime/run_queue.rs", "CURRENT", "the run queue of the runtime running on this thread"),
    ("runtime/shared.rs", "NEXT_ID", "a counter of runtime ids"),
    ("signal/waiting.rs", "WAITING", "the wakers of waiting signal listeners"),
    ("signal/waiting.rs", "NEXT", "a counter of listener ids"),
    ("signal/handler.rs", "DELIVERIES", "a counter per signal"),
    (
        "process/reap.rs",
        "PIDFD_REFUSED",
        "pidfd_open refused with ENOSYS or EPERM only: neither the kernel nor a seccomp filter changes while the \
         process lives (EMFILE and the rest are returned, not cached)",
    ),
    ("process/reap.rs", "ORPHANS", "pids of dropped children nobody could reap yet, swept at each spawn"),
    (
        "process/sigchld.rs",
        "WATCH",
        "this thread's SIGCHLD listener, only once created: a failed creation stores nothing",
    ),
    ("signal/handler.rs", "PIPE_WRITE", "the self-pipe's write end, once made; `pipe2` can fail: see below"),
    ("signal/handler.rs", "PIPE_READ", "the self-pipe's read end, once made; `pipe2` can fail: see below"),
    ("signal/handler.rs", "CREATING", "a lock held while the pipe is made"),
    (
        "signal/handler.rs",
        "DISPOSITIONS",
        "listener counts and the dispositions to restore; a failed `sigaction` changes no count",
    ),
    ("combinators/wake_list.rs", "VTABLE", "a waker vtable"),
    ("task/waker.rs", "VTABLE", "a waker vtable"),
    ("contain.rs", "DROPS", "a counter in the module's unit tests"),
    ("time/queue.rs", "LAST", "the last instant `Instant` holds (never): computed, cannot fail"),
];

/// The lasting state declared in `text`: each `static NAME` (including
/// inside `thread_local!`) with its line, and each line that mentions a
/// `OnceLock`, `OnceCell`, `LazyLock` or `LazyCell`.
fn lasting_state(text: &str) -> (Vec<(String, String)>, Vec<String>) {
    let mut statics = Vec::new();
    let mut lazies = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with("//") {
            continue;
        }
        let code = line.split("//").next().unwrap_or("");
        for (at, _) in code.match_indices("static ") {
            let before = &code[..at];
            if before.ends_with('\'') || before.ends_with("&'") {
                continue; // a lifetime
            }
            let name: String = code[at + "static ".len()..]
                .trim_start_matches("mut ")
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() && name.chars().all(|c| c.is_uppercase() || c == '_' || c.is_numeric()) {
                statics.push((name, code.to_owned()));
            }
        }
        for lazy in ["OnceLock", "OnceCell", "LazyLock", "LazyCell"] {
            if code.contains(lazy) && !code.starts_with("use ") {
                lazies.push(code.to_owned());
            }
        }
    }
    (statics, lazies)
}

fn sources(dir: &Path, root: &Path, out: &mut Vec<(String, String)>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, root, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let name = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            out.push((name, fs::read_to_string(&path).unwrap()));
        }
    }
}

#[test]
fn every_lasting_piece_of_state_is_listed_and_none_holds_an_error() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &src, &mut files);
    let mut found = BTreeSet::new();
    for (file, text) in &files {
        let (statics, lazies) = lasting_state(text);
        for (name, line) in statics {
            for error in ["Result<", "Error", "errno"] {
                assert!(!line.contains(error), "{file}: a static holding a failure: {line}");
            }
            found.insert((file.clone(), name));
        }
        for line in lazies {
            assert!(line.contains("static "), "{file}: a once-cell that is not a listed static: {line}");
            for error in ["Result", "Error", "io::", "errno"] {
                assert!(!line.contains(error), "{file}: a once-cell holding a failure: {line}");
            }
        }
    }
    let listed: BTreeSet<(String, String)> =
        INVENTORY.iter().map(|(file, name, _)| (file.to_string(), name.to_string())).collect();
    let unlisted: Vec<_> = found.difference(&listed).collect();
    assert!(unlisted.is_empty(), "lasting state not yet reviewed (add it to INVENTORY): {unlisted:?}");
    let gone: Vec<_> = listed.difference(&found).collect();
    assert!(gone.is_empty(), "INVENTORY lists state the source no longer has: {gone:?}");
}

#[test]
fn the_inventory_reader_sees_a_static_a_thread_local_and_a_once_cell() {
    let (statics, lazies) = lasting_state(
        "static A: u8 = 0;\nthread_local! {\n    static B_2: Cell<u8> = const { Cell::new(0) };\n}\n\
         fn f(x: &'static str) {}\nstatic C: OnceLock<Result<i32, i32>> = OnceLock::new();\n// static D: u8\n",
    );
    let names: Vec<&str> = statics.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["A", "B_2", "C"]);
    assert_eq!(lazies.len(), 1, "{lazies:?}");
}

// ----- a transient failure, then success ------------------------------------------

/// Runs this binary's `child_...` test alone in a child process.
fn child(test: &str) {
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env("KETTLE_CACHED_FAILURES_CHILD", "1")
        .output()
        .unwrap();
    assert!(output.status.success(), "the child failed: {}", String::from_utf8_lossy(&output.stderr));
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("1 passed"),
        "the child test did not run: {output:?}"
    );
}

#[test]
fn runtimes_and_signal_listeners_refused_for_want_of_descriptors_work_once_descriptors_are_free() {
    child("child_exhausts_descriptors_then_frees_them");
}

/// Opens descriptors until the process has none left; returns them.
fn exhaust_descriptors() -> Vec<fs::File> {
    // A soft limit just above what is open now, so that exhausting it is quick.
    // SAFETY: plain libc calls on a local struct.
    unsafe {
        let mut limit: libc::rlimit = std::mem::zeroed();
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
        let open = fs::read_dir("/proc/self/fd").unwrap().count() as libc::rlim_t;
        limit.rlim_cur = limit.rlim_max.min(open + 64);
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &limit), 0);
    }
    let mut held = Vec::new();
    loop {
        match fs::File::open("/dev/null") {
            Ok(file) => held.push(file),
            Err(e) => {
                assert_eq!(e.raw_os_error(), Some(libc::EMFILE), "{e}");
                return held;
            }
        }
    }
}

fn is_emfile(e: &std::io::Error) -> bool {
    e.raw_os_error() == Some(libc::EMFILE)
}

/// The child's body: does nothing unless run by `child`.
#[test]
fn child_exhausts_descriptors_then_frees_them() {
    if std::env::var_os("KETTLE_CACHED_FAILURES_CHILD").is_none() {
        return;
    }
    let usr1 = SignalKind::user_defined1();
    let mut held = exhaust_descriptors();
    // Two failures each, with one descriptor free: the pipe needs two, a
    // runtime more.
    held.pop();
    for _ in 0..2 {
        let refused = kettle::Runtime::new().unwrap_err();
        assert!(is_emfile(&refused), "{refused}");
        let refused = signal(usr1).unwrap_err();
        assert!(is_emfile(&refused), "{refused}");
        let refused = ctrl_c(); // its error comes at its first poll, in a runtime
        assert!(format!("{refused:?}").contains("failed"), "{refused:?}");
    }
    drop(held);
    // Descriptors are free again: everything works, the signal too.
    let rt = kettle::Runtime::new().expect("a runtime, once descriptors are free");
    rt.block_on(async {
        let mut listener = signal(usr1).expect("a signal listener, once descriptors are free");
        let interrupt = ctrl_c();
        // SAFETY: raises a signal this process now handles.
        unsafe { libc::raise(libc::SIGUSR1) };
        let got = kettle::timeout(std::time::Duration::from_secs(5), listener.recv()).await;
        assert_eq!(got.expect("the signal was delivered"), Some(()));
        // SAFETY: as above: SIGINT is handled while `interrupt` exists.
        unsafe { libc::raise(libc::SIGINT) };
        let got = kettle::timeout(std::time::Duration::from_secs(5), interrupt).await;
        got.expect("Ctrl+C was delivered").expect("ctrl_c works once descriptors are free");
    });
}
