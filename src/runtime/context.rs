//! Which runtime is running on this thread.
//!
//! The free functions (`kettle::spawn`, `sleep`, `call_later`, ...) and the
//! wakers need to find "the current runtime". It lives in a thread-local slot
//! that is filled while a runtime runs on this thread — inside `block_on`,
//! `run_forever`, `turn`, and while a runtime is being dropped — and empty
//! otherwise. Filling an occupied slot is how nested `block_on` is detected.
//!
//! Cleanup needs more than "current": a `Sleep` created during one run may be
//! dropped between runs, when no runtime is current, and must still remove
//! its timer. So each thread also keeps a list of the runtimes *living* on it
//! (a `Runtime` is `!Send`, so it lives and dies on the thread that made it),
//! looked up by id.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use std::sync::Arc;

use super::core::Core;
use super::run_queue;
use super::shared::Shared;

thread_local! {
    static CURRENT: RefCell<Option<Rc<Core>>> = const { RefCell::new(None) };
    /// The id of the runtime in `CURRENT`, or 0: a copy that checks which
    /// runtime is running can read without borrowing `CURRENT`.
    static CURRENT_ID: Cell<u32> = const { Cell::new(0) };
    /// Whether the runtime in `CURRENT` has a paused clock: so that
    /// [`kettle::time::now`](crate::time::now) outside a paused runtime is
    /// this read and `Instant::now()`, with no borrow of `CURRENT`.
    static CURRENT_PAUSED: Cell<bool> = const { Cell::new(false) };
    /// Every runtime created on this thread and not yet dropped.
    static LIVING: RefCell<Vec<Weak<Core>>> = const { RefCell::new(Vec::new()) };
}

/// Records a new runtime as living on this thread.
pub(crate) fn register(core: &Rc<Core>) {
    LIVING.with_borrow_mut(|living| living.push(Rc::downgrade(core)));
}

/// Forgets a runtime that is being dropped.
pub(crate) fn unregister(core: &Core) {
    let _ = LIVING.try_with(|living| {
        living.borrow_mut().retain(|weak| weak.strong_count() > 0 && !std::ptr::eq(weak.as_ptr(), core));
    });
}

/// Calls `f` with the runtime whose id is `id` if it lives on this thread,
/// whether or not it is running right now.
pub(crate) fn with_runtime<R>(id: u32, f: impl FnOnce(Option<&Core>) -> R) -> R {
    // Usually it is the current one: no list walk.
    let current = with_current(|core| core.filter(|core| core.id() == id).cloned());
    if let Some(core) = current {
        return f(Some(&core));
    }
    let found = LIVING
        .try_with(|living| living.borrow().iter().filter_map(Weak::upgrade).find(|core| core.id() == id))
        .ok()
        .flatten();
    f(found.as_deref())
}

/// Calls `f` with the current runtime, if any. During thread teardown, when
/// the slot is already gone, behaves as if no runtime were running.
///
/// `f` gets a copy of the slot's `Rc`, not a borrow of the slot: it may run
/// user code (a waker's or a refused job's drop) that drops another
/// runtime, whose drop enters this slot to shut it down.
pub(crate) fn with_current<R>(f: impl FnOnce(Option<&Rc<Core>>) -> R) -> R {
    let core = CURRENT.try_with(|slot| slot.borrow().clone()).ok().flatten();
    f(core.as_ref())
}

/// Calls `f` with the current runtime; panics with a clear message naming
/// `what` outside a runtime.
#[track_caller]
pub(crate) fn expect_current<R>(what: &str, f: impl FnOnce(&Rc<Core>) -> R) -> R {
    with_current(|core| match core {
        Some(core) => f(core),
        None => panic!(
            "{what} called outside a kettle runtime: call it from code running \
             inside Runtime::block_on, run_forever or turn (or a task they run). \
             From another thread, use a kettle::Handle."
        ),
    })
}

/// The id of the runtime running on this thread, if any. Cheaper than
/// [`with_current`]: one thread-local read, no borrow.
pub(crate) fn current_id() -> Option<u32> {
    let id = CURRENT_ID.try_with(Cell::get).unwrap_or(0);
    (id != 0).then_some(id)
}

/// Whether the runtime running on this thread, if any, has a paused clock.
/// Cheap as [`current_id`].
#[inline]
pub(crate) fn current_is_paused() -> bool {
    CURRENT_PAUSED.try_with(Cell::get).unwrap_or(false)
}

/// Whether `shared`'s runtime is the one running on this thread: its id is
/// [`current_id`]'s (ids are never reused), one thread-local read.
#[inline]
pub(crate) fn is_current(shared: &Arc<Shared>) -> bool {
    current_id() == Some(shared.id())
}

/// Marks a runtime as running on this thread until dropped: it is the
/// current runtime, and its run queue the one this thread's wakers push to
/// (`run_queue.rs`).
pub(crate) struct Entered {
    previous: Option<Rc<Core>>,
    _queue: run_queue::MadeCurrent,
}

/// Enters `core` to run it. Panics if a runtime already runs on this thread.
#[track_caller]
pub(crate) fn enter(core: &Rc<Core>, what: &str) -> Entered {
    CURRENT.with(|slot| {
        let mut slot = slot.borrow_mut();
        assert!(
            slot.is_none(),
            "{what} called while a kettle runtime is already running on this thread \
             (nested block_on, or a runtime started from inside a task). \
             Inside a runtime, `.await` the future or `kettle::spawn` it instead."
        );
        *slot = Some(core.clone());
    });
    entered(core)
}

/// [`enter`], or `None` if a runtime already runs on this thread
/// (`Runtime::try_turn`, which must not panic). The check is repeated
/// rather than shared: sharing it cost `block_on` 19 instructions, the
/// slot's `with` no longer inlined (PERFORMANCE.md).
pub(crate) fn try_enter(core: &Rc<Core>) -> Option<Entered> {
    let free = CURRENT.with(|slot| {
        let mut slot = slot.borrow_mut();
        let free = slot.is_none();
        if free {
            *slot = Some(core.clone());
        }
        free
    });
    free.then(|| entered(core))
}

/// The rest of entering, once `core` holds the slot: its copies and its
/// run queue.
#[inline(always)]
fn entered(core: &Rc<Core>) -> Entered {
    CURRENT_ID.set(core.id());
    CURRENT_PAUSED.set(core.clock().is_paused());
    Entered { previous: None, _queue: run_queue::make_current(core.run_queue()) }
}

/// Enters `core` to tear it down, even inside another runtime (whose place is
/// restored afterwards): destructors that spawn or wake must find their own
/// runtime.
pub(crate) fn enter_for_shutdown(core: &Rc<Core>) -> Entered {
    let previous = CURRENT.try_with(|slot| slot.borrow_mut().replace(core.clone()));
    let _ = CURRENT_ID.try_with(|id| id.set(core.id()));
    let _ = CURRENT_PAUSED.try_with(|paused| paused.set(core.clock().is_paused()));
    Entered { previous: previous.ok().flatten(), _queue: run_queue::make_current(core.run_queue()) }
}

impl Drop for Entered {
    fn drop(&mut self) {
        let previous = self.previous.take();
        let _ = CURRENT_ID.try_with(|id| id.set(previous.as_ref().map_or(0, |core| core.id())));
        let _ = CURRENT_PAUSED
            .try_with(|paused| paused.set(previous.as_ref().is_some_and(|core| core.clock().is_paused())));
        let _ = CURRENT.try_with(|slot| *slot.borrow_mut() = previous);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use crate::runtime::Runtime;

    /// Whatever runs inside `with_current` — here, the drop of another
    /// runtime with a task in it, as a waker's or a refused job's drop may
    /// do — finds the slot free to enter for that runtime's shutdown.
    #[test]
    fn code_run_with_the_current_runtime_may_drop_another_runtime_whole() {
        let rt = Runtime::new().unwrap();
        let dropped = rt.block_on(async {
            super::with_current(|core| {
                assert!(core.is_some(), "inside block_on");
                let other = Runtime::new().unwrap();
                let task = other.spawn(std::future::pending::<()>());
                drop(other); // enters itself to shut down: cancels the task
                task.is_finished()
            })
        });
        assert!(dropped, "the other runtime's task was dropped with it");
    }
}
