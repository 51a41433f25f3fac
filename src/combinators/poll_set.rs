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
//! would take minutes. Instead each child gets a [`ChildWaker`], allocated
//! once, that remembers the child's index:
//!
//! ```text
//!  child i wakes ──▶ flag[i]: false → true ?──no──▶ done (already listed)
//!                        │ yes
//!                        ▼
//!                    lock; ready.push(i); was the list empty? ; unlock
//!                        │ yes: wake the parent waker (after unlocking)
//!                        ▼
//!  parent polled ──▶ lock; store the parent waker; swap the list out; unlock
//!                    sort the batch; for each i: flag[i] = false, poll child i
//! ```
//!
//! A poll of the parent therefore touches only the children woken since the
//! previous one, and the total work is linear in the number of wakes.
//!
//! # Invariants
//!
//! - `flag[i]` is true exactly while `i` is in the ready list or in the batch
//!   being polled and not yet reached. So a child is listed at most once, and
//!   any number of wakes before its next poll cost one entry. The parent
//!   clears the flag *before* polling the child, so a wake during that poll
//!   (a child that yields) lists it again for the next parent poll.
//! - Only the push that makes the list non-empty wakes the parent. A
//!   non-empty list means the parent was already woken since it last drained
//!   the list, or has never been polled (the list starts full); either way
//!   its next poll sees every entry. This keeps a burst of `n` wakes to one
//!   parent wake.
//! - The lock is held only to move indices and the parent waker; the parent
//!   waker is woken, and an old one dropped, after unlocking, so a waker that
//!   re-enters (or wakes on another thread) never meets our lock.
//!
//! Child wakers are `Send + Sync` (an `Arc` with a `Mutex` and atomics):
//! a child may be a [`RemoteJoinHandle`](crate::RemoteJoinHandle) or a
//! channel woken by another thread. The children themselves need not be
//! `Send`; they never leave the parent.
//!
//! Within one parent poll the woken children run in input order (the batch is
//! sorted; it is usually sorted already, which sorting notices in linear
//! time). That makes logs deterministic and gives `race` its tie rule.
//!
//! # Costs and limits
//!
//! Each child costs two allocations, made once: its boxed future (pinning it
//! in place without `unsafe`) and its waker. A finished child's future is
//! dropped at once, not when the whole set completes. A child that panics
//! unwinds through the parent; the set is not meant to be polled after that.

use std::future::Future;
use std::mem;
use std::ops::ControlFlow;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

/// Futures polled together in the calling task, each only when woken.
pub(crate) struct PollSet<F: Future> {
    /// One per child, in input order; a slot's future is `None` once the child
    /// finished or the set was closed.
    slots: Vec<Slot<F>>,
    /// What the child wakers share with the parent.
    ready: Arc<Ready>,
    /// The indices being polled in this parent poll; kept to reuse its buffer.
    batch: Vec<usize>,
    /// Children whose future is still there.
    live: usize,
}

struct Slot<F> {
    future: Option<Pin<Box<F>>>,
    waker: Waker,
}

/// The part shared between the parent and every child waker.
struct Ready {
    /// `listed[i]`: child `i` is waiting to be polled (see the invariants).
    listed: Box<[AtomicBool]>,
    inner: Mutex<ReadyList>,
}

struct ReadyList {
    /// Children woken since the parent last looked, in wake order.
    indices: Vec<usize>,
    /// Who to wake when the list becomes non-empty; `None` before the first
    /// parent poll.
    parent: Option<Waker>,
}

impl Ready {
    fn lock(&self) -> MutexGuard<'_, ReadyList> {
        // No code of ours panics while holding the lock, so a poisoned lock
        // still holds a consistent list.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The waker of child `index`: lists the child as ready and wakes the parent.
struct ChildWaker {
    index: usize,
    ready: Arc<Ready>,
}

impl Wake for ChildWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // Already listed: this wake is covered by the pending entry. AcqRel
        // pairs with the parent's swap, so what the waker did before waking
        // is visible to the child's next poll whichever of the two goes first.
        if self.ready.listed[self.index].swap(true, Ordering::AcqRel) {
            return;
        }
        let parent = {
            let mut list = self.ready.lock();
            list.indices.push(self.index);
            // Only the first entry since the parent drained wakes it.
            if list.indices.len() == 1 { list.parent.clone() } else { None }
        };
        // Fire after unlocking.
        if let Some(parent) = parent {
            parent.wake();
        }
    }
}

impl<F: Future> PollSet<F> {
    /// A set of `futures`, all listed as ready so the first poll polls each.
    pub(crate) fn new(futures: impl IntoIterator<Item = F>) -> PollSet<F> {
        let futures: Vec<F> = futures.into_iter().collect();
        let n = futures.len();
        let ready = Arc::new(Ready {
            listed: (0..n).map(|_| AtomicBool::new(true)).collect(),
            inner: Mutex::new(ReadyList { indices: (0..n).collect(), parent: None }),
        });
        let slots = futures
            .into_iter()
            .enumerate()
            .map(|(index, future)| Slot {
                future: Some(Box::pin(future)),
                waker: Waker::from(Arc::new(ChildWaker { index, ready: ready.clone() })),
            })
            .collect();
        PollSet { slots, ready, batch: Vec::new(), live: n }
    }

    /// How many children were given.
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// No child is left to poll: all finished, or the set was closed.
    pub(crate) fn is_done(&self) -> bool {
        self.live == 0
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
        let old_parent = {
            let mut list = self.ready.lock();
            // The empty `batch` buffer becomes the next ready list; both keep
            // their capacity from poll to poll.
            mem::swap(&mut list.indices, &mut batch);
            match &list.parent {
                Some(parent) if parent.will_wake(cx.waker()) => None,
                _ => list.parent.replace(cx.waker().clone()),
            }
        };
        drop(old_parent);
        batch.sort_unstable();

        let mut flow = ControlFlow::Continue(());
        for &index in &batch {
            // Unlist before polling: a wake from here on lists it again.
            self.ready.listed[index].swap(false, Ordering::AcqRel);
            let slot = &mut self.slots[index];
            // A stale wake of a finished child: nothing to poll.
            let Some(future) = slot.future.as_mut() else { continue };
            let Poll::Ready(output) = future.as_mut().poll(&mut Context::from_waker(&slot.waker)) else {
                continue;
            };
            // Drop the finished future now, before its output is handled.
            slot.future = None;
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

    /// Drops every child that has not finished, in input order.
    pub(crate) fn close(&mut self) {
        for slot in &mut self.slots {
            slot.future = None;
        }
        self.live = 0;
    }
}
