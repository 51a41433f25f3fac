//! The first of many futures to finish: [`race`].
//!
//! `race` is [`gather`](crate::gather) that stops at the first output: the
//! same [`PollSet`](super::poll_set) engine polls only the children that were
//! woken, and the first child to finish breaks out of the poll, which closes
//! the set and drops every other child before `race` returns. The losers are
//! thus cancelled the Rust way — their destructors run — rather than left
//! running as asyncio's `wait(..., return_when=FIRST_COMPLETED)` leaves them.
//!
//! Two rules a reader may wonder about:
//!
//! - **Ties.** Children woken in the same parent poll are polled in input
//!   order, and the first to finish wins, so when several are ready at once
//!   the lowest index wins. On the first poll every child is "woken", so a
//!   race of futures that are all ready at once is won by index 0.
//! - **No runners.** A race over nothing can never finish, and a future that
//!   silently never resolves is the worst kind of bug to find, so an empty
//!   input panics when `race` is called.

use std::future::{Future, poll_fn};
use std::ops::ControlFlow;
use std::task::Poll;

use super::poll_set::PollSet;

/// Runs `futures` concurrently in the calling task until the first one
/// finishes; returns its input index and output, and drops all the others
/// (asyncio's `wait(..., return_when=FIRST_COMPLETED)`, with the pending
/// ones cancelled).
///
/// Like [`gather`](crate::gather), nothing is spawned and only woken futures
/// are polled again. When several futures finish within the same poll, the
/// one with the **lowest index** wins. The losers are dropped — their
/// destructors have run — by the time `race` returns.
///
/// ```
/// use std::time::Duration;
///
/// let (index, name) = kettle::run(kettle::race([("slow", 50), ("fast", 10), ("medium", 30)].map(
///     |(name, ms)| async move {
///         kettle::sleep(Duration::from_millis(ms)).await;
///         name
///     },
/// )));
/// assert_eq!((index, name), (1, "fast"));
/// ```
///
/// For a deadline on a single future, [`timeout`](crate::timeout) says more
/// directly what is meant.
///
/// # Panics
/// When called with no futures: a race without runners never finishes. A
/// panic in one of the futures propagates to the task awaiting `race`.
#[doc(alias = "asyncio.wait")]
#[doc(alias = "FIRST_COMPLETED")]
#[doc(alias = "select")]
#[track_caller]
pub fn race<I, F, T>(futures: I) -> impl Future<Output = (usize, T)>
where
    I: IntoIterator<Item = F>,
    F: Future<Output = T>,
{
    let mut set = PollSet::new(futures);
    assert!(set.len() > 0, "kettle::race needs at least one future: a race with no runners never finishes");
    let mut finished = false;
    poll_fn(move |cx| {
        assert!(!finished, "race polled after completion");
        // The first child to finish breaks out; `poll_ready` then drops the rest.
        match set.poll_ready(cx, |index, output| ControlFlow::Break((index, output))) {
            ControlFlow::Break(winner) => {
                finished = true;
                Poll::Ready(winner)
            }
            ControlFlow::Continue(()) => Poll::Pending,
        }
    })
}
