//! Waiting for many futures at once: [`gather`] and [`try_gather`].
//!
//! Both run their futures *inside the calling task*: nothing is spawned, so
//! the futures need not be `'static` and may borrow from the caller. They are
//! built on the [`PollSet`](super::poll_set) engine, which gives every child
//! its own waker and polls only the children that were woken, so gathering
//! `n` futures costs work linear in `n` and in the number of wakes, never
//! `n` polls per wake.
//!
//! Outputs are stored by input index as children finish, in any order, and
//! handed back in input order once the last one is in. A finished child's
//! future is dropped at once; its output waits in its slot.
//!
//! `try_gather` differs in one place: the first `Err` closes the set, which
//! drops every other child on the spot, so when `try_gather` returns, every
//! destructor of every child has run (asyncio's `gather` leaves the others
//! running; dropping them is the Rust way, as in `futures::try_join_all`).

use std::future::{Future, poll_fn};
use std::ops::ControlFlow;
use std::task::Poll;

use super::poll_set::PollSet;

/// Runs all `futures` concurrently in the calling task and returns their
/// outputs in input order (asyncio's `gather`).
///
/// Nothing is spawned: the futures make progress whenever the task awaiting
/// `gather` runs, and only the ones that were woken are polled again, so
/// gathering a hundred thousand futures is as cheap per future as gathering
/// ten. An empty input resolves at once to an empty `Vec`.
///
/// ```
/// use std::time::{Duration, Instant};
///
/// let out = kettle::run(async {
///     let start = Instant::now();
///     let out = kettle::gather([30, 10, 20].map(|ms| async move {
///         kettle::sleep(Duration::from_millis(ms)).await;
///         ms
///     }))
///     .await;
///     assert!(start.elapsed() < Duration::from_millis(60), "concurrent, not one after another");
///     out
/// });
/// assert_eq!(out, [30, 10, 20], "input order, not completion order");
/// ```
///
/// # Errors as values (`return_exceptions=True`)
///
/// `gather` never stops early: with futures that return `Result`, the output
/// is a `Vec<Result<T, E>>` with every success and every failure in its place,
/// which is asyncio's `gather(..., return_exceptions=True)`. To stop at the
/// first error instead, use [`try_gather`].
///
/// ```
/// let results: Vec<Result<u32, String>> = kettle::run(kettle::gather((1..=4).map(|n| async move {
///     if n % 2 == 0 { Err(format!("{n} is even")) } else { Ok(n) }
/// })));
/// assert_eq!(results, [Ok(1), Err("2 is even".into()), Ok(3), Err("4 is even".into())]);
/// ```
///
/// # Panics
/// A panic in one of the futures propagates to the task awaiting `gather`
/// (the other futures are dropped as the `gather` is).
#[doc(alias = "asyncio.gather")]
#[doc(alias = "join_all")]
pub fn gather<I, F, T>(futures: I) -> impl Future<Output = Vec<T>>
where
    I: IntoIterator<Item = F>,
    F: Future<Output = T>,
{
    let mut set = PollSet::new(futures);
    // `None` once the outputs have been handed out.
    let mut outputs: Option<Vec<Option<T>>> = Some((0..set.len()).map(|_| None).collect());
    poll_fn(move |cx| {
        let slots = outputs.as_mut().expect("gather polled after completion");
        let flow: ControlFlow<()> = set.poll_ready(cx, |index, output| {
            slots[index] = Some(output);
            ControlFlow::Continue(())
        });
        debug_assert!(flow.is_continue(), "gather never breaks");
        if !set.is_done() {
            return Poll::Pending;
        }
        let slots = outputs.take().into_iter().flatten();
        Poll::Ready(slots.map(|o| o.expect("every child of a finished gather left an output")).collect())
    })
}

/// Runs all `futures` concurrently in the calling task and returns their
/// `Ok` values in input order, or the first `Err` (asyncio's `gather`
/// without `return_exceptions`, and then some: the other futures are
/// cancelled).
///
/// The first future to fail, in time, wins: its error is returned and every
/// other future — finished or still pending — is dropped before `try_gather`
/// returns, so their destructors (the Rust form of asyncio's
/// `CancelledError` cleanup) have all run. An empty input resolves at once to
/// `Ok` of an empty `Vec`.
///
/// ```
/// use std::time::Duration;
///
/// let out: Result<Vec<u64>, String> = kettle::run(kettle::try_gather([20, 5, 10].map(|ms| async move {
///     kettle::sleep(Duration::from_millis(ms)).await;
///     if ms == 10 { Err(format!("{ms} ms failed")) } else { Ok(ms) }
/// })));
/// // The 20 ms sleeper was still pending: it was dropped, not awaited.
/// assert_eq!(out, Err("10 ms failed".to_string()));
/// ```
///
/// # Panics
/// As [`gather`].
#[doc(alias = "try_join_all")]
pub fn try_gather<I, F, T, E>(futures: I) -> impl Future<Output = Result<Vec<T>, E>>
where
    I: IntoIterator<Item = F>,
    F: Future<Output = Result<T, E>>,
{
    let mut set = PollSet::new(futures);
    let mut outputs: Option<Vec<Option<T>>> = Some((0..set.len()).map(|_| None).collect());
    poll_fn(move |cx| {
        let slots = outputs.as_mut().expect("try_gather polled after completion");
        let flow = set.poll_ready(cx, |index, output| match output {
            Ok(value) => {
                slots[index] = Some(value);
                ControlFlow::Continue(())
            }
            Err(error) => ControlFlow::Break(error),
        });
        if let ControlFlow::Break(error) = flow {
            // `poll_ready` has dropped every other child; drop the values too.
            outputs = None;
            return Poll::Ready(Err(error));
        }
        if !set.is_done() {
            return Poll::Pending;
        }
        let slots = outputs.take().into_iter().flatten();
        Poll::Ready(Ok(slots
            .map(|o| o.expect("every child of a finished try_gather left an output"))
            .collect()))
    })
}
