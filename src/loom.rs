//! The synchronisation primitives of kettle's cross-thread protocols, in one
//! place, so that the [loom](https://docs.rs/loom) model checker can stand in
//! for them.
//!
//! Two protocols cross threads: the injector's remote wake protocol
//! (`runtime/shared.rs`: a mutex, two atomic flags) and the task cell's state
//! word (`task/cell.rs`, `task/state.rs`: two atomic words, and the two
//! `UnsafeCell`s they guard — the join waker's slot and the future's stage).
//! They take their `Mutex`, atomics and `UnsafeCell` from here. A normal
//! build re-exports the standard library's; `RUSTFLAGS="--cfg loom"` swaps
//! in loom's, which record every access, so that the models in
//! `runtime/core/loom_model.rs` and `task/cell/loom_model.rs` can run each
//! scenario under every interleaving the memory model allows (bounded by
//! `LOOM_MAX_PREEMPTIONS`) and fail on a lost wake, a double drop, or an
//! access to a cell that no happens-before edge protects.
//!
//! The one visible difference is [`cell::UnsafeCell`]: loom's is accessed
//! through `with` and `with_mut` closures, which mark where an access begins
//! and ends, so kettle's is too; in a normal build they are plain pointer
//! accesses. Everything else kettle does (its slab, its run queue, `sync`'s
//! primitives) lives on one thread and keeps using `std` directly.

#[cfg(not(loom))]
pub(crate) mod sync {
    pub(crate) use std::sync::{Mutex, MutexGuard};

    pub(crate) mod atomic {
        pub(crate) use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering, fence};
    }
}

#[cfg(loom)]
pub(crate) mod sync {
    pub(crate) use ::loom::sync::{Mutex, MutexGuard};

    pub(crate) mod atomic {
        pub(crate) use ::loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering, fence};
    }
}

#[cfg(not(loom))]
pub(crate) mod cell {
    /// `std::cell::UnsafeCell` with loom's access API.
    #[derive(Debug)]
    pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        pub(crate) const fn new(value: T) -> UnsafeCell<T> {
            UnsafeCell(std::cell::UnsafeCell::new(value))
        }

        /// Reads through a pointer valid for the closure's length.
        #[inline(always)]
        pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }

        /// Writes through a pointer valid for the closure's length.
        #[inline(always)]
        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }
}

#[cfg(loom)]
pub(crate) mod cell {
    pub(crate) use ::loom::cell::UnsafeCell;
}
