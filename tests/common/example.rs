//! Running an example as a real process: `cargo run --quiet --example NAME
//! -- ARGS`, its stdout read line by line on a thread so that every wait has
//! a deadline, and the process killed on drop unless it was waited for — a
//! failing test never leaves a server behind.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// A running example.
pub struct RunningExample {
    name: &'static str,
    child: Option<Child>,
    lines: mpsc::Receiver<String>,
    reader: Option<thread::JoinHandle<()>>,
    /// Everything it printed so far.
    out: String,
}

impl RunningExample {
    /// Starts `name` with `args` and extra environment variables `envs`.
    pub fn start(name: &'static str, args: &[&str], envs: &[(&str, &str)]) -> RunningExample {
        RunningExample::start_with_features(name, &[], args, envs)
    }

    /// [`start`](Self::start) for an example that needs cargo `features`.
    pub fn start_with_features(
        name: &'static str,
        features: &[&str],
        args: &[&str],
        envs: &[(&str, &str)],
    ) -> RunningExample {
        let features = features.iter().flat_map(|feature| ["--features", feature]);
        let mut child = Command::new(env!("CARGO"))
            .args(["run", "--quiet"])
            .args(features)
            .args(["--example", name, "--"])
            .args(args)
            .envs(envs.iter().copied())
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("could not run `cargo run --example {name}`: {e}"));
        let stdout = child.stdout.take().expect("piped stdout");
        let (line_tx, lines) = mpsc::channel();
        let reader = thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if line_tx.send(line).is_err() {
                    break;
                }
            }
        });
        RunningExample { name, child: Some(child), lines, reader: Some(reader), out: String::new() }
    }

    /// Reads one more line (at most until `deadline`), or panics with
    /// `waiting_for` and the output so far.
    fn next_line(&mut self, deadline: Instant, waiting_for: &str) -> String {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(line) = self.lines.recv_timeout(left) else {
            panic!("{} never printed {waiting_for}; output so far:\n{}", self.name, self.out);
        };
        self.out.push_str(&line);
        self.out.push('\n');
        line
    }

    /// Waits for a line containing `needle`; returns it.
    pub fn wait_for_line(&mut self, needle: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            let line = self.next_line(deadline, &format!("{needle:?}"));
            if line.contains(needle) {
                return line;
            }
        }
    }

    /// Waits until the output contains every one of `needles`, in any order.
    pub fn wait_for_all(&mut self, needles: &[&str], within: Duration) {
        let deadline = Instant::now() + within;
        while !needles.iter().all(|needle| self.out.contains(needle)) {
            self.next_line(deadline, &format!("all of {needles:?}"));
        }
    }

    /// Sends SIGINT.
    pub fn interrupt(&self) {
        self.send_signal(libc::SIGINT, "SIGINT");
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        self.send_signal(libc::SIGTERM, "SIGTERM");
    }

    fn send_signal(&self, signal: libc::c_int, name: &str) {
        let child = self.child.as_ref().expect("still running");
        // `cargo run` execs the example in place on Unix: the child is the example.
        let pid = i32::try_from(child.id()).expect("a pid fits in i32");
        // SAFETY: `kill` takes plain integers; `pid` is our own child, not
        // yet waited for, so it cannot name another process.
        let sent = unsafe { libc::kill(pid, signal) };
        assert_eq!(sent, 0, "could not send {name}: {}", std::io::Error::last_os_error());
    }

    /// Waits (at most `within`) for the process to exit; returns its status
    /// and all it printed.
    pub fn wait_exit(mut self, within: Duration) -> (ExitStatus, String) {
        let mut child = self.child.take().expect("still running");
        let deadline = Instant::now() + within;
        let status = loop {
            if let Some(status) = child.try_wait().expect("could not wait for the example") {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{} did not exit within {within:?}; output so far:\n{}", self.name, self.out);
            }
            thread::sleep(Duration::from_millis(10));
        };
        self.reader.take().expect("a reader thread").join().expect("the reader thread panicked");
        let rest: Vec<String> = self.lines.try_iter().collect();
        for line in rest {
            self.out.push_str(&line);
            self.out.push('\n');
        }
        (status, std::mem::take(&mut self.out))
    }
}

impl Drop for RunningExample {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
