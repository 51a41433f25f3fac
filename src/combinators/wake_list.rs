//! The children's wakers of a poll set, and the list they write to.
//!
//! A [`PollSet`](super::poll_set) of `n` children needs `n` *distinct*
//! wakers: a waker has to say which child it belongs to, or a wake would
//! cost a poll of every child. The simple version would be one `Arc` per
//! child through std's [`Wake`](std::task::Wake) trait: safe, but an
//! allocation per child, and for many small children the allocator then
//! takes most of the time (the profile is in PERFORMANCE.md).
//!
//! So all `n` wakers share **one** allocation, the [`WakeList`]: it holds an
//! [`Entry`] per child, and a child's waker is a raw waker whose data pointer
//! is its entry. The entry knows its index and where its list is, which is
//! all a wake needs:
//!
//! ```text
//!  child i wakes ──▶ entry i: listed false → true ?──no──▶ done (already listed)
//!                        │ yes
//!                        ▼
//!                    push i on the ready stack (one compare-and-swap)
//!                        │ the stack was empty: wake the parent waker
//!                        ▼
//!  parent polls ──▶ store the parent waker (lock, only if it changed);
//!                   take the whole stack (one swap); walk it into a batch;
//!                   for each i in input order: unlist i, poll child i with waker i
//! ```
//!
//! The ready list is a lock-free stack threaded through the entries (each
//! entry's `next` is the index below it), so a wake is two atomic
//! operations: claim the entry, push it. The parent never pops one entry at
//! a time — it swaps the whole stack out — so the stack has no ABA problem.
//! The parent waker sits behind a mutex, touched on a wake only by the push
//! that finds the stack empty: once per round, not once per child.
//!
//! # Ownership: who keeps the list alive
//!
//! The list lives in an `Arc`. The poll set holds one count. A waker the
//! parent *lends* a child for one poll ([`WakeList::waker`]) holds none: it
//! borrows the poll set's count and is never dropped. A clone of it (a child
//! that stores its waker, a timer, a channel) owns one count, given back when
//! it is dropped. So a child's waker may outlive the whole `gather`, wake
//! from any thread, and still find its list; a wake that arrives after the
//! set finished just lists an index nobody reads.
//!
//! # Invariants
//!
//! - `listed` of entry `i` is true exactly while `i` is in the ready list or
//!   in the parent's batch and not yet polled. So a child is listed at most
//!   once, however often it wakes before its next poll. The parent unlists a
//!   child *before* polling it, so a wake during that poll (a child that
//!   yields) lists it again for the next parent poll.
//! - Only the push that makes the stack non-empty wakes the parent. A
//!   non-empty stack means the parent was woken since it last took the stack
//!   (or has never polled: the stack starts full), so its next poll sees
//!   every entry. A burst of `n` wakes costs one parent wake.
//! - The parent stores its waker *before* taking the stack. A push that then
//!   finds the stack empty read the parent's swap, so it sees that waker.
//! - The lock guards only the parent waker. It is woken, and an old one
//!   dropped, after unlocking, so a waker that re-enters (or wakes on
//!   another thread) never meets the lock held.
//!
//! The `unsafe` here — the four vtable functions, and the one call that
//! builds a waker from them — is listed with the rest of kettle's in
//! DESIGN.md, "Where `unsafe` lives".

use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops::Deref;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{RawWaker, RawWakerVTable, Waker};

/// What the children's wakers share with the parent: an entry per child and
/// the stack of children woken since the parent last looked.
pub(super) struct WakeList {
    entries: Box<[Entry]>,
    /// The top of the ready stack: a child's index, or [`EMPTY`].
    head: AtomicUsize,
    /// Who to wake when the stack becomes non-empty; `None` before the first
    /// parent poll.
    parent: Mutex<Option<Waker>>,
}

/// The end of the ready stack (no child has this index: a `Vec` cannot hold
/// `usize::MAX` entries of a non-zero size).
const EMPTY: usize = usize::MAX;

/// Child `index`'s part of the list; its address is the data pointer of the
/// child's wakers.
struct Entry {
    /// The list this entry belongs to. Written once by [`WakeList::new`],
    /// before any waker exists (a waker reaches another thread only through
    /// some synchronising hand-over, which carries this write along). Atomic
    /// only so that `Entry` is `Send + Sync` without an `unsafe impl`.
    list: AtomicPtr<WakeList>,
    index: usize,
    /// Child `index` is waiting to be polled (see the invariants).
    listed: AtomicBool,
    /// While listed: the index below this one on the ready stack, or [`EMPTY`].
    next: AtomicUsize,
}

// Wakers are `Send + Sync`, so everything they reach must be too.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<WakeList>();
};

impl WakeList {
    /// A list for `n` children, all of them listed, so the parent's first
    /// poll polls each once. They are stacked as if woken in input order
    /// (`n - 1` on top), the order the parent expects most.
    pub(super) fn new(n: usize) -> Arc<WakeList> {
        let entries = (0..n)
            .map(|index| Entry {
                list: AtomicPtr::new(ptr::null_mut()),
                index,
                listed: AtomicBool::new(true),
                next: AtomicUsize::new(index.checked_sub(1).unwrap_or(EMPTY)),
            })
            .collect();
        let head = AtomicUsize::new(n.checked_sub(1).unwrap_or(EMPTY));
        let list = Arc::new(WakeList { entries, head, parent: Mutex::new(None) });
        let address = Arc::as_ptr(&list).cast_mut();
        for entry in &list.entries {
            entry.list.store(address, Ordering::Relaxed);
        }
        list
    }

    fn parent(&self) -> MutexGuard<'_, Option<Waker>> {
        // No code of ours panics while holding the lock, so a poisoned lock
        // still holds a valid waker.
        self.parent.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Makes `parent` the waker to wake for the next wakes, then moves the
    /// children woken since the last call into `batch` (which must be empty),
    /// in input order.
    pub(super) fn take(&self, batch: &mut Vec<usize>, parent: &Waker) {
        debug_assert!(batch.is_empty(), "the batch buffer is handed over empty");
        let old = {
            let mut current = self.parent();
            match &*current {
                Some(old) if old.will_wake(parent) => None,
                _ => current.replace(parent.clone()),
            }
        };
        // Dropped outside the lock.
        drop(old);
        // Acquire pairs with each push's release: the `next` links written
        // before the pushes are visible to the walk.
        let mut index = self.head.swap(EMPTY, Ordering::AcqRel);
        while index != EMPTY {
            batch.push(index);
            index = self.entries[index].next.load(Ordering::Relaxed);
        }
        // The stack gives the latest wake first; children woken in input
        // order (the common case) come out exactly reversed.
        batch.reverse();
        if !batch.is_sorted() {
            batch.sort_unstable();
        }
    }

    /// Marks child `index` as no longer listed, just before the parent polls
    /// it: a wake from here on lists it again.
    pub(super) fn unlist(&self, index: usize) {
        // AcqRel pairs with the waker's swap, so what the waker did before
        // waking is visible to the poll that follows, whichever goes first.
        let was_listed = self.entries[index].listed.swap(false, Ordering::AcqRel);
        debug_assert!(was_listed, "a child in the parent's batch is listed until the parent polls it");
    }

    /// Child `index`'s waker, lent for one poll: it borrows the list's `Arc`
    /// (no count changes hands), and a clone of it owns a count of its own.
    ///
    /// This is the vtable's contract for a lent waker: the entry's list is
    /// kept alive by the `Arc` borrowed for the `WakerRef`'s lifetime, and
    /// the `WakerRef` never drops its waker (it is `ManuallyDrop` and only
    /// lends `&Waker`), so no count is given back that was never taken.
    pub(super) fn waker(self: &Arc<Self>, index: usize) -> WakerRef<'_> {
        let entry: *const Entry = &self.entries[index];
        // SAFETY: a lent waker on an entry of a list the borrowed `Arc` keeps
        // alive, never dropped (see above): the vtable's contract.
        let waker = unsafe { Waker::from_raw(RawWaker::new(entry.cast(), &VTABLE)) };
        WakerRef { waker: ManuallyDrop::new(waker), _list: PhantomData }
    }

    /// What any waker of child `index` does.
    fn wake(&self, index: usize) {
        let entry = &self.entries[index];
        // Already listed: this wake is covered by the pending entry.
        if entry.listed.swap(true, Ordering::AcqRel) {
            return;
        }
        // Push: link to the current top, then make this the top if the top
        // has not changed meanwhile. Release publishes the link to the
        // parent's swap.
        let mut below = self.head.load(Ordering::Relaxed);
        loop {
            entry.next.store(below, Ordering::Relaxed);
            match self.head.compare_exchange_weak(below, index, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => break,
                Err(top) => below = top,
            }
        }
        // Only the push onto an empty stack wakes the parent; fire after
        // unlocking.
        if below == EMPTY {
            let parent = self.parent().clone();
            if let Some(parent) = parent {
                parent.wake();
            }
        }
    }
}

/// A child's waker lent for one poll, without touching the list's count.
pub(super) struct WakerRef<'a> {
    waker: ManuallyDrop<Waker>,
    _list: PhantomData<&'a Arc<WakeList>>,
}

impl Deref for WakerRef<'_> {
    type Target = Waker;

    fn deref(&self) -> &Waker {
        &self.waker
    }
}

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_waker);

/// # Safety (all four)
/// `data` points to an [`Entry`] of a [`WakeList`] that lives in an `Arc`,
/// and the waker either owns one strong count of that `Arc` (made by
/// `clone`) or is lent by [`WakeList::waker`] while the `Arc` is borrowed.
/// A lent waker is only ever used by reference, so only an owning waker
/// reaches `wake` and `drop_waker`, which give its count back.
unsafe fn clone(data: *const ()) -> RawWaker {
    // SAFETY: the waker being cloned keeps the list, and so the entry, alive.
    let entry = unsafe { &*data.cast::<Entry>() };
    // SAFETY: `entry.list` is the `Arc::as_ptr` of that live `Arc` (set in
    // `WakeList::new`); the count taken here is the new waker's.
    unsafe { Arc::increment_strong_count(entry.list.load(Ordering::Relaxed)) };
    RawWaker::new(data, &VTABLE)
}

unsafe fn wake(data: *const ()) {
    // SAFETY: the contract of this function is the contract of both: an
    // owning waker, whose count `drop_waker` gives back after the wake.
    unsafe {
        wake_by_ref(data);
        drop_waker(data);
    }
}

unsafe fn wake_by_ref(data: *const ()) {
    // SAFETY: the waker keeps the list, and so the entry, alive.
    let entry = unsafe { &*data.cast::<Entry>() };
    // SAFETY: as above, for the list the entry points back to.
    let list = unsafe { &*entry.list.load(Ordering::Relaxed) };
    list.wake(entry.index);
}

unsafe fn drop_waker(data: *const ()) {
    // Read the list's address first: giving the count back may free the list
    // and, with it, the entry.
    // SAFETY: the waker keeps the list, and so the entry, alive until the
    // count is given back below.
    let list = unsafe { &*data.cast::<Entry>() }.list.load(Ordering::Relaxed);
    // SAFETY: this waker owns one count of that `Arc` (the contract); it is
    // given back exactly once, here, and the entry is not touched after.
    unsafe { Arc::decrement_strong_count(list) };
}
