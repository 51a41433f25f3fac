//! A fixed handful of different futures at once: [`join!`](crate::join!).
//!
//! [`gather`](crate::gather) needs all its futures to have one type. `join!`
//! takes futures of different types, written out in the source, and returns
//! a tuple of their outputs. It expands, inside the caller's `async` code, to
//! roughly this for `join!(a, b)`:
//!
//! ```text
//! let mut futures = (pin!(Some(a)), pin!(Some(b)));   // pinned on the stack
//! let mut outputs = (None, None);
//! poll_fn(|cx| {
//!     let a_done = poll_slot(futures.0.as_mut(), &mut outputs.0, cx);
//!     let b_done = poll_slot(futures.1.as_mut(), &mut outputs.1, cx);
//!     if a_done && b_done { Ready((outputs.0.take().unwrap(), outputs.1.take().unwrap())) }
//!     else { Pending }
//! }).await
//! ```
//!
//! Each future sits pinned inside an `Option`, so [`poll_slot`] can drop it in
//! place (`Pin::set(None)`) the moment it finishes — no `unsafe` projection
//! needed — while its output waits beside it. The tuple indices `0, 1, …`
//! come from a list of index tokens the helper macro pairs with the futures
//! one by one; the list's length is the macro's limit (16 futures).
//!
//! # Why `join!` polls every future on each wake
//!
//! Unlike `gather`, `join!` hands all its futures the caller's own waker and
//! polls each unfinished one whenever the caller is woken, as
//! `futures::join!` and `tokio::join!` do. With at most sixteen futures that
//! costs less than the bookkeeping `gather` pays to avoid it (a waker per
//! child in a shared wake list, a ready stack, a sorted batch); for many
//! futures, `gather`'s linear polling is the one to use.
//!
//! The helpers live in [`__private`](crate::__private), hidden from the docs,
//! because macro expansions can only reach public paths.

use std::future::Future;
use std::pin::Pin;
use std::task::Context;

/// Polls `slot`'s future unless it already finished; on completion moves the
/// output into `output` and drops the future in place. Returns whether the
/// future has finished.
#[doc(hidden)]
pub fn poll_slot<F: Future>(
    mut slot: Pin<&mut Option<F>>,
    output: &mut Option<F::Output>,
    cx: &mut Context<'_>,
) -> bool {
    let Some(future) = slot.as_mut().as_pin_mut() else {
        return true;
    };
    match future.poll(cx) {
        std::task::Poll::Ready(value) => {
            *output = Some(value);
            // Dropping in place is allowed for pinned data: it is never moved.
            slot.set(None);
            true
        }
        std::task::Poll::Pending => false,
    }
}

/// An empty output slot typed after the future in `slot`, so the macro needs
/// no type annotations.
#[doc(hidden)]
pub fn output_slot<F: Future>(_slot: &Pin<&mut Option<F>>) -> Option<F::Output> {
    None
}

/// Awaits several futures of different types concurrently, in the calling
/// task, and returns a tuple of their outputs in argument order (asyncio's
/// `gather` over a fixed, heterogeneous list).
///
/// `join!` must be used inside `async` code: it awaits. Each argument is an
/// expression that evaluates to a future; the futures are polled in argument
/// order each time the task is woken, and each is dropped as soon as it
/// finishes. One future gives a one-element tuple; up to 16 are accepted.
/// Nothing is spawned, so the futures may borrow local data.
///
/// ```
/// use std::time::{Duration, Instant};
///
/// kettle::run(async {
///     let start = Instant::now();
///     let (number, text, ()) = kettle::join!(
///         async {
///             kettle::sleep(Duration::from_millis(60)).await;
///             42
///         },
///         async { "no waiting" },
///         kettle::sleep(Duration::from_millis(40)),
///     );
///     assert_eq!((number, text), (42, "no waiting"));
///     assert!(start.elapsed() < Duration::from_millis(90), "concurrent, not 60 + 40 ms");
/// });
/// ```
///
/// For many futures of one type, use [`gather`](crate::gather), which polls
/// only the futures that were woken; to stop at the first error, use
/// [`try_gather`](crate::try_gather).
///
/// # Panics
/// A panic in one of the futures propagates out of `join!`; the others are
/// dropped as the caller unwinds.
#[doc(alias = "gather")]
#[macro_export]
macro_rules! join {
    ($($future:expr),+ $(,)?) => {
        $crate::__join_impl!(
            @pair [] [0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15] $($future,)+
        )
    };
}

/// Pairs each future of [`join!`](crate::join!) with a tuple index, then expands.
#[doc(hidden)]
#[macro_export]
macro_rules! __join_impl {
    // Every future has its index: build the pinned futures, the output
    // slots, and the poll loop.
    (@pair [$(($index:tt $future:expr))+] [$($unused:tt)*]) => {{
        let mut futures = ($(::core::pin::pin!(::core::option::Option::Some($future)),)+);
        let mut outputs = ($($crate::__private::output_slot(&futures.$index),)+);
        ::core::future::poll_fn(|cx| {
            let mut all_done = true;
            $(
                all_done &= $crate::__private::poll_slot(futures.$index.as_mut(), &mut outputs.$index, cx);
            )+
            if !all_done {
                return ::core::task::Poll::Pending;
            }
            ::core::task::Poll::Ready(($(
                outputs.$index.take().expect("kettle::join! polled after completion"),
            )+))
        })
        .await
    }};
    // Give the next future the next index.
    (@pair [$($paired:tt)*] [$next:tt $($indices:tt)*] $future:expr, $($rest:expr,)*) => {
        $crate::__join_impl!(@pair [$($paired)* ($next $future)] [$($indices)*] $($rest,)*)
    };
    // Out of indices.
    (@pair [$($paired:tt)*] [] $($rest:expr,)+) => {
        ::core::compile_error!("kettle::join! takes at most 16 futures; use kettle::gather for more")
    };
}
