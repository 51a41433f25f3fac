//! Reading and moving the loop's clock: [`now`] and [`advance`].
//!
//! Every kettle timer asks [`now`] what time it is, never
//! `Instant::now()` directly: inside a runtime built with
//! [`Builder::start_paused`](crate::Builder::start_paused) that is the
//! runtime's paused clock (`runtime/clock.rs` explains it), anywhere else the
//! real time. Outside a paused runtime `now` costs one thread-local read on
//! top of `Instant::now()`.

use std::time::{Duration, Instant};

use super::never;
use crate::runtime::context;

/// How far one [`advance`] moves a paused clock at most: about thirty years
/// (tokio's "far future"), so that `advance(Duration::MAX)` is a long wait,
/// not the end of time.
const LONGEST_ADVANCE: Duration = Duration::from_secs(60 * 60 * 24 * 365 * 30);

/// Where `advance(duration)` from `now` takes a paused clock: `now +
/// duration`, with the duration clamped to [`LONGEST_ADVANCE`], and in any
/// case short of [`never`](fn@never), which no clock reaches.
fn advanced(now: Instant, duration: Duration) -> Instant {
    let last_reachable = never() - Duration::from_nanos(1);
    now.checked_add(duration.min(LONGEST_ADVANCE)).map_or(last_reachable, |at| at.min(last_reachable))
}

/// The current time as kettle's timers see it (asyncio's `loop.time()`).
///
/// Inside a runtime built with
/// [`start_paused(true)`](crate::Builder::start_paused), the runtime's
/// paused clock: it stands still while tasks run and moves only when the
/// loop jumps to the next timer or [`advance`] moves it. Anywhere else —
/// outside a runtime, or in one with the real clock — exactly
/// `Instant::now()`. [`sleep`](crate::sleep), [`timeout`](crate::timeout),
/// [`interval`](crate::interval) and [`call_later`](crate::call_later) all
/// count from this.
///
/// ```
/// use std::time::Duration;
///
/// let rt = kettle::Builder::new().start_paused(true).build().unwrap();
/// rt.block_on(async {
///     let start = kettle::time::now();
///     std::thread::sleep(Duration::from_millis(5)); // real time passes...
///     assert_eq!(kettle::time::now(), start); // ...the paused clock does not
///     kettle::sleep(Duration::from_secs(60)).await;
///     assert_eq!(kettle::time::now() - start, Duration::from_secs(60));
/// });
/// ```
#[doc(alias = "loop.time")]
#[doc(alias = "Instant::now")]
#[inline]
pub fn now() -> Instant {
    if context::current_is_paused() {
        context::with_current(|core| core.map_or_else(Instant::now, |core| core.now()))
    } else {
        Instant::now()
    }
}

/// Moves the current runtime's paused clock forward by `duration`, then
/// yields once, so that the timers now due fire (tokio's `time::advance`).
///
/// When the returned future completes:
///
/// - [`now`] is exactly the time before plus `duration`, up to about
///   thirty years: a longer `duration`, such as `Duration::MAX`, moves the
///   clock thirty years (tokio's "far future"), so that a test can say
///   "much later" without reaching the deadline of a
///   [`sleep(Duration::MAX)`](crate::sleep), which is never;
/// - every timer due by then has fired, soonest first: each due
///   [`call_later`](crate::call_later) or [`call_at`](crate::call_at)
///   callback has run, and each task whose sleep, timeout or interval tick
///   is due has been woken. Those tasks run in the same turn as the caller
///   resumes, but not necessarily before it: to see what they did, await
///   them (a [`JoinHandle`](crate::JoinHandle), an event) or
///   [`yield_now`](crate::yield_now) once more. (From `block_on`'s own
///   future, which runs after each turn, they have run already.)
///
/// The clock never goes back, and between the move and the return it does
/// not move again (the caller is runnable, so the loop does not jump).
///
/// ```
/// use std::{cell::Cell, rc::Rc, time::Duration};
///
/// let rt = kettle::Builder::new().start_paused(true).build().unwrap();
/// rt.block_on(async {
///     let fired = Rc::new(Cell::new(false));
///     let flag = fired.clone();
///     kettle::call_later(Duration::from_secs(30), move || flag.set(true));
///     kettle::time::advance(Duration::from_secs(29)).await;
///     assert!(!fired.get());
///     kettle::time::advance(Duration::from_secs(1)).await;
///     assert!(fired.get());
/// });
/// ```
///
/// # Panics
/// When awaited outside a kettle runtime, or in one whose clock is not
/// paused: build the runtime with
/// [`Builder::start_paused(true)`](crate::Builder::start_paused). The panic
/// comes at the first poll, as the future is an `async fn`'s.
#[doc(alias = "pause")]
pub async fn advance(duration: Duration) {
    let moved = context::with_current(|core| {
        let Some(core) = core else {
            return Err("kettle::time::advance needs a paused clock, and it was awaited outside a kettle \
                        runtime: await it inside a runtime built with Builder::start_paused(true)");
        };
        let Some(paused) = core.clock().paused() else {
            return Err("kettle::time::advance needs a paused clock: build the runtime with \
                        Builder::start_paused(true)");
        };
        paused.advance_to(advanced(core.now(), duration));
        Ok(())
    });
    if let Err(message) = moved {
        panic!("{message}");
    }
    crate::yield_now().await;
}
