//! Containing panics from user code.
//!
//! The loop runs user code in many places: a task's poll, the destructor of
//! a task's future or output, a callback and the captures it drops, a done
//! callback, a blocking job and the result it leaves behind, a waker's
//! `wake` and `drop`. A panic in any of them must stay there: the loop goes on
//! serving, its bookkeeping stays whole, and a runtime dropped while the
//! thread is already unwinding must not turn a panic into an abort.
//!
//! `catch_unwind` alone is not enough, because a panic leaves a *payload*
//! behind — any value, given to `panic_any` — and a payload may panic when it
//! is dropped. `let _ = catch_unwind(f)` drops it outside the guard, which
//! is how the panic escapes after all. So every place that discards a panic
//! uses [`drop_payload`], which drops the payload inside a guard of its own,
//! and the payload of *that* panic too, and so on. After [`MAX_NESTING`]
//! rounds a payload is forgotten instead (leaked): a chain of payloads that
//! each panic on drop has no end, and a leak is better than a hang or an
//! abort.
//!
//! The functions here are the only way kettle catches a panic; each caller
//! says in its own docs what it does with the error. A user value kettle
//! keeps for as long as a runtime lives (the slow-poll hook) is wrapped in
//! [`DropContained`], so that its drop, whenever the runtime's own drop
//! comes, is contained too.

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};

/// What a panic leaves behind.
pub(crate) type Payload = Box<dyn Any + Send + 'static>;

/// How many payloads-of-payloads [`drop_payload`] drops before it gives up
/// and leaks the next one.
const MAX_NESTING: usize = 8;

/// Runs `f`, returning its result or the payload of its panic.
///
/// `AssertUnwindSafe` is right for every caller: after a caught panic the
/// loop only ever drops or releases what `f` touched, never reads it as if
/// `f` had finished.
pub(crate) fn catch<R>(f: impl FnOnce() -> R) -> Result<R, Payload> {
    panic::catch_unwind(AssertUnwindSafe(f))
}

/// Runs `f`; a panic is contained and its payload dropped safely. Returns
/// `None` if `f` panicked.
pub(crate) fn call<R>(f: impl FnOnce() -> R) -> Option<R> {
    catch(f).map_err(drop_payload).ok()
}

/// Drops `value`, containing a panic from its destructor.
pub(crate) fn drop_value<T>(value: T) {
    call(move || drop(value));
}

/// Drops a panic payload, containing a panic from its destructor and from
/// the destructors of the payloads that panic leaves (see the module docs).
pub(crate) fn drop_payload(payload: Payload) {
    let mut next = payload;
    for _ in 0..MAX_NESTING {
        match catch(move || drop(next)) {
            Ok(()) => return,
            Err(again) => next = again,
        }
    }
    std::mem::forget(next);
}

/// A user value that kettle keeps for as long as something of its own
/// lives — the slow-poll hook a runtime keeps until it is dropped — and
/// whose drop, whenever it comes, is contained like every other user
/// value's: a panic in it neither escapes `drop(runtime)` nor aborts a
/// thread that is already unwinding.
pub(crate) struct DropContained<T>(Option<T>);

impl<T> DropContained<T> {
    pub(crate) fn new(value: T) -> DropContained<T> {
        DropContained(Some(value))
    }
}

impl<T> std::ops::Deref for DropContained<T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.0.as_ref().expect("a DropContained holds its value until it is dropped")
    }
}

impl<T: Clone> Clone for DropContained<T> {
    fn clone(&self) -> DropContained<T> {
        DropContained::new(T::clone(self))
    }
}

impl<T> Drop for DropContained<T> {
    fn drop(&mut self) {
        drop_value(self.0.take());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    thread_local! {
        static DROPS: Cell<usize> = const { Cell::new(0) };
    }

    /// A payload whose drop panics with another such payload, `depth` deep.
    struct Nested(usize);

    impl Drop for Nested {
        fn drop(&mut self) {
            DROPS.with(|d| d.set(d.get() + 1));
            if self.0 > 0 {
                panic::panic_any(Nested(self.0 - 1));
            }
        }
    }

    #[test]
    fn a_payload_that_panics_when_dropped_is_dropped_inside_the_guard() {
        DROPS.with(|d| d.set(0));
        assert!(call(|| panic::panic_any(Nested(3))).is_none());
        assert_eq!(DROPS.with(Cell::get), 4, "each payload in the chain was dropped once");
    }

    #[test]
    fn an_endless_chain_of_panicking_payloads_is_cut_off_not_followed_forever() {
        DROPS.with(|d| d.set(0));
        drop_payload(Box::new(Nested(usize::MAX)));
        assert_eq!(DROPS.with(Cell::get), MAX_NESTING, "the last payload is leaked, not dropped");
    }

    #[test]
    fn a_value_kept_in_a_drop_contained_has_its_panicking_drop_contained() {
        struct Bomb;
        impl Drop for Bomb {
            fn drop(&mut self) {
                panic!("bomb");
            }
        }
        let kept = DropContained::new((7, Bomb));
        assert_eq!((*kept).0, 7, "reached through Deref");
        drop(kept); // would panic out of here without the guard
    }

    #[test]
    fn a_destructor_that_panics_is_contained() {
        struct Bomb;
        impl Drop for Bomb {
            fn drop(&mut self) {
                panic!("bomb");
            }
        }
        drop_value(Bomb);
        assert_eq!(call(|| 7), Some(7));
    }
}
