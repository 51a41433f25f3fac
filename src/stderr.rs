//! The one way kettle writes to stderr: whole lines, and never a panic.
//!
//! kettle writes to stderr in three places, all of them reports for people:
//! debug mode's slow-poll lines (the default hook, `runtime/debug.rs`), the
//! tasks left pending at a debug-mode runtime's drop (`runtime/mod.rs`), and
//! `kettle::test::check`'s seed line (`test.rs`). `eprintln!` panics when
//! the write fails — stderr closed, or a pipe whose reader has gone, as in
//! `prog 2>&1 | head` — and a panic there would unwind through the loop or,
//! at a runtime's drop, out of `drop`. So they write through
//! [`write_line`], which drops the line if stderr will not take it: a
//! report is worth less than the program it reports on.
//!
//! The line goes to the process's stderr itself, in one `write` where the
//! system allows: the test harness's capture of `eprintln!` does not see
//! it (the tests that read kettle's reports run a child process and read
//! its stderr).

use std::fmt;
use std::io::{self, Write};

/// Writes `line` and a newline to stderr; a failure to write is ignored.
pub(crate) fn write_line(line: impl fmt::Display) {
    let text = format!("{line}\n");
    let _ = io::stderr().lock().write_all(text.as_bytes());
}
