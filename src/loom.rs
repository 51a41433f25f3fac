//! The synchronisation primitives of kettle's cross-thread protocols, in one
//! place, so that the [loom](https://docs.rs/loom) model checker can stand in
//! for them.
//!
//! Four protocols cross threads: the injector's remote wake protocol
//! (`runtime/shared.rs`: a mutex, two atomic flags), the task cell's state
//! word (`task/cell.rs`, `task/state.rs`: two atomic words, and the two
//! `UnsafeCell`s they guard — the join waker's slot and the future's stage),
//! the blocking pool's accounting (`runtime/blocking_pool.rs`: a mutex,
//! a condition variable, and the worker threads it starts), and the oneshot
//! channel (`sync/oneshot.rs`: a word of flags and the two `UnsafeCell`s it
//! hands from side to side — the value and the receiver's waker).
//! They take their `Mutex`, `Condvar`, atomics, `UnsafeCell` and thread
//! spawning from here. A normal build re-exports the standard library's;
//! `RUSTFLAGS="--cfg loom"` swaps in loom's, which record every access, so
//! that the models in `runtime/core/loom_model.rs`,
//! `task/cell/loom_model.rs`, `runtime/blocking_pool/loom_model.rs` and
//! `sync/oneshot/loom_model.rs` can
//! run each scenario under every interleaving the memory model allows
//! (bounded by `LOOM_MAX_PREEMPTIONS`) and fail on a lost wake, a double
//! drop, a job no worker will run, or an access to a cell that no
//! happens-before edge protects.
//!
//! Two differences are visible. [`cell::UnsafeCell`]: loom's is accessed
//! through `with` and `with_mut` closures, which mark where an access begins
//! and ends, so kettle's is too; in a normal build they are plain pointer
//! accesses. And [`sync::Condvar::wait_timeout`]: loom has no clock, so its
//! timed wait is an untimed one that *reports* a time-out whenever it
//! wakes — the real thing can do exactly that (a notification and the
//! time-out racing), and a model ends a wait "by time" by notifying.
//!
//! Everything else kettle does (its slab, its run queue, `sync`'s other
//! primitives) lives on one thread and keeps using `std` directly.

#[cfg(not(loom))]
pub(crate) mod sync {
    pub(crate) use std::sync::{Condvar, Mutex, MutexGuard};

    pub(crate) mod atomic {
        pub(crate) use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering, fence};
    }
}

#[cfg(loom)]
pub(crate) mod sync {
    pub(crate) use ::loom::sync::{Mutex, MutexGuard};

    /// loom's condition variable, whose timed wait reports a time-out on
    /// every wake-up (see the module docs).
    #[derive(Debug, Default)]
    pub(crate) struct Condvar(::loom::sync::Condvar);

    /// What [`Condvar::wait_timeout`] says, as the standard library's does.
    pub(crate) struct WaitTimeoutResult;

    impl WaitTimeoutResult {
        /// Always: under loom, any wake-up may be the time-out.
        pub(crate) fn timed_out(&self) -> bool {
            true
        }
    }

    impl Condvar {
        pub(crate) fn new() -> Condvar {
            Condvar(::loom::sync::Condvar::new())
        }

        pub(crate) fn wait_timeout<'a, T>(
            &self,
            guard: MutexGuard<'a, T>,
            _: std::time::Duration,
        ) -> std::sync::LockResult<(MutexGuard<'a, T>, WaitTimeoutResult)> {
            let guard = self.0.wait(guard).unwrap_or_else(|e| e.into_inner());
            Ok((guard, WaitTimeoutResult))
        }

        pub(crate) fn notify_one(&self) {
            self.0.notify_one();
        }

        pub(crate) fn notify_all(&self) {
            self.0.notify_all();
        }
    }

    pub(crate) mod atomic {
        pub(crate) use ::loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering, fence};
    }
}

/// Starting a thread: `std::thread::Builder`, or loom's.
#[cfg(not(loom))]
pub(crate) mod thread {
    pub(crate) use std::thread::Builder;
}

#[cfg(loom)]
pub(crate) mod thread {
    pub(crate) use ::loom::thread::Builder;
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
