//! Testing code built on kettle: sweeping schedules with [`check`].
//!
//! A runtime built with [`Builder::seed`](crate::Builder::seed) runs each
//! turn's ready tasks in an order drawn from its seed, so one test can try
//! many interleavings of the same program, and a failure replays from its
//! seed. [`check`] is the loop around that: it runs a test body once per
//! seed, stops at the first seed that panics, and says how to run that seed
//! alone — with the environment variable `KETTLE_SEED`, which makes every
//! `check` run only that seed. Add
//! [`start_paused(true)`](crate::Builder::start_paused), and time is part of
//! the replay too: timers fire in the same order at the same virtual
//! instants, however loaded the machine is.
//!
//! The body builds its own runtime from the seed, so `check` works with any
//! [`Builder`](crate::Builder) options and any way of running the loop.

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

/// The environment variable that, when set to a seed, makes [`check`] run
/// that seed alone: `KETTLE_SEED=17 cargo test the_test`. Decimal, or
/// hexadecimal with `0x`.
const SEED_VAR: &str = "KETTLE_SEED";

/// Runs `body(seed)` for each of `seeds`, in order, and fails with the
/// first seed whose run panics, naming it and saying how to replay it —
/// unless the environment variable `KETTLE_SEED` holds a seed (decimal, or
/// hexadecimal after `0x`): then only that one runs.
///
/// `body` builds a runtime with [`Builder::seed`](crate::Builder::seed)`(seed)`
/// (and usually [`start_paused(true)`](crate::Builder::start_paused)) and
/// runs the code under test on it. Its panic is caught and raised again
/// with the seed in front — `kettle::test::check: seed 17 failed:
/// <message>` — and the two ways to replay it: `KETTLE_SEED=17 cargo test
/// <this test>`, or `Builder::new().seed(17)` in the test. The panic hook
/// has already printed the original panic, with its location, above that.
///
/// ```
/// use std::{cell::Cell, rc::Rc};
///
/// // Two tasks count to 2 between them; each reads, yields, then writes.
/// // Correct in every order? The sweep says no (a lost update).
/// let sweep = std::panic::catch_unwind(|| {
///     kettle::test::check(0..64, |seed| {
///         let rt = kettle::Builder::new().seed(seed).start_paused(true).build().unwrap();
///         let count = Rc::new(Cell::new(0));
///         rt.block_on(async {
///             let add = |count: Rc<Cell<u32>>| async move {
///                 let seen = count.get();
///                 kettle::yield_now().await;
///                 count.set(seen + 1);
///             };
///             let a = kettle::spawn(add(count.clone()));
///             let b = kettle::spawn(add(count.clone()));
///             let _ = kettle::join!(a, b);
///         });
///         assert_eq!(count.get(), 2, "lost update");
///     });
/// });
/// let message = *sweep.unwrap_err().downcast::<String>().unwrap();
/// assert!(message.starts_with("kettle::test::check: seed 0 failed: "));
/// assert!(message.contains("KETTLE_SEED=0 cargo test"));
/// ```
///
/// (That race shows in wake order too; `tests/seeded_scheduling.rs` has one
/// that only a sweep finds.)
///
/// # Panics
/// At the first seed whose body panics, as above. If `KETTLE_SEED` is set
/// but is not a `u64`, before running anything.
#[doc(alias = "replay")]
#[doc(alias = "proptest")]
#[track_caller]
pub fn check<S: IntoIterator<Item = u64>, F: FnMut(u64)>(seeds: S, body: F) {
    let only = std::env::var(SEED_VAR).ok();
    check_with(only.as_deref(), seeds, body);
}

/// [`check`], given the value of `KETTLE_SEED` (`None`: unset) rather than
/// reading it, so that its unit tests need not set a variable that parallel
/// tests share.
#[track_caller]
fn check_with<S: IntoIterator<Item = u64>, F: FnMut(u64)>(only: Option<&str>, seeds: S, mut body: F) {
    let only = only.map(|value| match parse_seed(value) {
        Some(seed) => seed,
        None => panic!(
            "kettle::test::check: {SEED_VAR}={value:?} is not a seed (a u64, decimal or 0x-hexadecimal)"
        ),
    });
    let mut run =
        |seed: u64| catch_unwind(AssertUnwindSafe(|| body(seed))).err().map(|payload| (seed, payload));
    let failure = match only {
        Some(seed) => run(seed),
        None => seeds.into_iter().find_map(run),
    };
    let Some((seed, payload)) = failure else { return };
    let test = std::thread::current().name().filter(|name| *name != "main").map(str::to_owned);
    let replay = replay(seed, test.as_deref());
    let message = match payload.downcast_ref::<&str>() {
        Some(message) => (*message).to_owned(),
        None => match payload.downcast_ref::<String>() {
            Some(message) => message.clone(),
            None => {
                // Not a message: say the seed, then hand the payload on as it is.
                crate::stderr::write_line(format_args!("kettle::test::check: seed {seed} failed; {replay}"));
                resume_unwind(payload);
            }
        },
    };
    panic!("kettle::test::check: seed {seed} failed: {message}\n{replay}");
}

/// How to run `seed` again.
fn replay(seed: u64, test: Option<&str>) -> String {
    let test = test.unwrap_or("<test name>");
    format!(
        "replay it alone with `{SEED_VAR}={seed} cargo test {test}`, \
         or build the runtime with `Builder::new().seed({seed})`"
    )
}

/// A seed as `KETTLE_SEED` spells it: decimal, or hexadecimal after `0x`.
fn parse_seed(value: &str) -> Option<u64> {
    let value = value.trim();
    match value.strip_prefix("0x").or_else(|| value.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => value.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_is_decimal_or_hexadecimal() {
        assert_eq!(parse_seed("17"), Some(17));
        assert_eq!(parse_seed(" 0x11\n"), Some(17));
        assert_eq!(parse_seed("18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_seed("seventeen"), None);
        assert_eq!(parse_seed("-1"), None);
    }

    #[test]
    fn without_a_seed_from_the_environment_every_seed_runs_in_order() {
        let mut ran = Vec::new();
        check_with(None, [3, 1, 2], |seed| ran.push(seed));
        assert_eq!(ran, [3, 1, 2]);
    }

    #[test]
    fn a_seed_from_the_environment_runs_alone() {
        let mut ran = Vec::new();
        check_with(Some("0x11"), 0..64, |seed| ran.push(seed));
        assert_eq!(ran, [17]);
    }

    #[test]
    fn the_first_failing_seed_is_named_and_no_later_one_runs() {
        let mut ran = Vec::new();
        let failed = catch_unwind(AssertUnwindSafe(|| {
            check_with(None, 0..10, |seed| {
                ran.push(seed);
                assert!(seed % 4 != 3, "seed {seed} is unlucky");
            })
        }));
        let message = *failed.unwrap_err().downcast::<String>().unwrap();
        assert!(message.starts_with("kettle::test::check: seed 3 failed: seed 3 is unlucky\n"), "{message}");
        assert!(message.contains("KETTLE_SEED=3 cargo test"), "{message}");
        assert!(message.contains("Builder::new().seed(3)"), "{message}");
        assert_eq!(ran, [0, 1, 2, 3]);
    }

    #[test]
    #[should_panic(expected = "is not a seed")]
    fn a_seed_from_the_environment_that_is_not_a_number_is_refused() {
        check_with(Some("soon"), 0..4, |_| {});
    }
}
