//! The engine under [`gather`](crate::gather), [`try_gather`](crate::try_gather)
//! and [`race`](crate::race): many futures polled inside one task, each only
//! when it was woken.
//!
//! # Vocabulary
//!
//! The **parent** is the future that owns the set (a `gather`, a `race`); it is
//! polled by whoever awaits it, with the **parent waker**. The **children** are
//! the futures in the set, numbered by their position in the input.
//!
//! # Why every child gets its own waker
//!
//! The simple way to run many futures in one task is to hand each child the
//! parent's waker and poll *every* child whenever the parent is woken. Then a
//! single child waking costs a poll of all `n`, and running `n` futures that
//! each wake a few times costs `O(n²)` polls — gathering 100,000 futures
//! would take minutes. Instead each child gets a waker of its own that lists
//! the child's index as ready and wakes the parent (`wake_list.rs`), and a
//! parent poll polls only the children listed since the previous one. The
//! total work is linear in the number of wakes.
//!
//! Within one parent poll the woken children run in input order (the batch is
//! sorted; in the common case it comes out of the wake list exactly
//! reversed, which costs one pass). That makes logs deterministic and gives
//! `race` its tie rule.
//!
//! # Where the children live
//!
//! All children sit in one buffer, allocated once and never resized, and are
//! polled where they are: the buffer is their pinned home. A child leaves it
//! only by being dropped in place — when it finishes, when the set is closed,
//! or with the set. All their wakers share one allocation too (the
//! [`WakeList`]). So a set of `n` children costs a handful of allocations,
//! not `2n`. The simple version would box each child (to pin it without
//! `unsafe`) and give each an `Arc` waker; for many small children the
//! allocator then costs more than the polling (the profile is in
//! PERFORMANCE.md).
//!
//! A finished child's future is dropped at once, not when the whole set
//! completes. A child that panics unwinds through the parent; the set is not
//! meant to be polled after that. Child wakers are `Send + Sync`: a child may
//! be a [`RemoteJoinHandle`](crate::RemoteJoinHandle) or a channel woken by
//! another thread. The children themselves need not be `Send`; they never
//! leave the parent.

use std::future::Future;
use std::mem;
use std::ops::ControlFlow;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::wake_list::WakeList;

/// Futures polled together in the calling task, each only when woken.
pub(crate) struct PollSet<F: Future> {
    /// The children in input order; `None` once finished or closed. Pinned in
    /// place: allocated once in `new`, never resized, reordered or moved out
    /// of (see [`PollSet::pinned`]).
    children: Vec<Option<F>>,
    /// The children's wakers and the list of woken children.
    wakes: Arc<WakeList>,
    /// The indices being polled in this parent poll; kept to reuse its buffer.
    batch: Vec<usize>,
    /// Children whose future is still there.
    live: usize,
}

/// The children are pinned in the heap buffer, not in the `PollSet`: moving
/// the set moves only the buffer's pointer. So the set is `Unpin` whatever
/// its children are (and `gather`, `try_gather` and `race` are whenever
/// their outputs are).
impl<F: Future> Unpin for PollSet<F> {}

impl<F: Future> PollSet<F> {
    /// A set of `futures`, all listed as ready so the first poll polls each.
    pub(crate) fn new(futures: impl IntoIterator<Item = F>) -> PollSet<F> {
        let children: Vec<Option<F>> = futures.into_iter().map(Some).collect();
        let n = children.len();
        // At `n`, the batch never grows.
        PollSet { children, wakes: WakeList::new(n), batch: Vec::with_capacity(n), live: n }
    }

    /// How many children were given.
    pub(crate) fn len(&self) -> usize {
        self.children.len()
    }

    /// No child is left to poll: all finished, or the set was closed.
    pub(crate) fn is_done(&self) -> bool {
        self.live == 0
    }

    /// Child `index`, pinned in its slot; `None` once it finished.
    ///
    /// Why the pin holds: `children` is the set's buffer, allocated once in
    /// `new` and never pushed to, truncated, reordered or swapped, so a child
    /// never moves — moving the `PollSet` moves only the `Vec`'s pointer, not
    /// the heap buffer. Nothing hands out `&mut F` except this function, as a
    /// pin. A child leaves its slot only by being dropped in place: assigning
    /// `None` runs its destructor where it lies, and so does dropping the
    /// `Vec`. That is `Pin`'s contract, drop guarantee included.
    fn pinned(children: &mut [Option<F>], index: usize) -> Option<Pin<&mut F>> {
        let child = children[index].as_mut()?;
        // SAFETY: the buffer never moves, resizes or hands out `&mut F`, and
        // children are dropped in place (see above): Pin's contract holds.
        Some(unsafe { Pin::new_unchecked(child) })
    }

    /// Polls every child woken since the last call, in input order, and hands
    /// each one that finishes to `on_ready` with its index.
    ///
    /// If `on_ready` breaks, the set is closed at once: every remaining child
    /// is dropped (cancelled) before this returns, and the break value is
    /// passed on. Children woken during this call wait for the next one (the
    /// parent waker has been woken for them).
    pub(crate) fn poll_ready<B>(
        &mut self,
        cx: &mut Context<'_>,
        mut on_ready: impl FnMut(usize, F::Output) -> ControlFlow<B>,
    ) -> ControlFlow<B> {
        let mut batch = mem::take(&mut self.batch);
        self.wakes.take(&mut batch, cx.waker());

        let mut flow = ControlFlow::Continue(());
        for &index in &batch {
            self.wakes.unlist(index);
            // A stale wake of a finished child: nothing to poll.
            let Some(child) = Self::pinned(&mut self.children, index) else { continue };
            let waker = self.wakes.waker(index);
            let Poll::Ready(output) = child.poll(&mut Context::from_waker(&waker)) else {
                continue;
            };
            // Drop the finished future now, in place, before its output is handled.
            self.children[index] = None;
            self.live -= 1;
            flow = on_ready(index, output);
            if flow.is_break() {
                break;
            }
        }
        batch.clear();
        self.batch = batch;
        if flow.is_break() {
            self.close();
        }
        flow
    }

    /// Drops every child that has not finished, in input order, each in place.
    pub(crate) fn close(&mut self) {
        for child in &mut self.children {
            *child = None;
        }
        self.live = 0;
    }
}
