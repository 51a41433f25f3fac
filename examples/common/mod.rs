//! What every example shares: narration stamped with the time since the
//! program started, like `[0.15s] three downloads finished`.
#![allow(dead_code)] // each example uses some of these

use std::sync::LazyLock;
use std::time::{Duration, Instant};

/// When the program started; every line is stamped relative to it.
pub static START: LazyLock<Instant> = LazyLock::new(Instant::now);

/// Starts the clock now (otherwise it starts at the first `say!`).
pub fn start_clock() {
    LazyLock::force(&START);
}

/// `println!` with an elapsed-time stamp, like `[0.15s] ...`.
macro_rules! say {
    ($($arg:tt)*) => {
        println!("[{:.2}s] {}", $crate::common::START.elapsed().as_secs_f64(), format_args!($($arg)*))
    };
}
pub(crate) use say;

/// A section heading.
pub fn heading(title: &str) {
    println!("\n── {title} ──");
}

/// `n` milliseconds.
pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}
