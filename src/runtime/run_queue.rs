//! The run queue: the tasks ready to run, in wake order — and the one part
//! of the loop a waker needs.
//!
//! It holds slab keys, not pointers: step 5 of the turn pops a key and polls
//! the task its slab entry lends (`core.rs`). A key is 32 bits, as in the
//! task's loop flags (`task/loop_flags.rs`): the queue's buffer keeps the size it
//! grew to, so a wide key would cost every live task four more bytes. A task is in the queue at most
//! once, exactly while its `queued` flag is set (`task/loop_flags.rs`):
//! [`enqueue`](RunQueue::enqueue) sets it and pushes, the loop clears it as
//! it pops.
//!
//! # Why a file of its own
//!
//! A wake on the loop's own thread is a push onto this queue, nothing more
//! (`task/waker.rs`). So the waker looks up the queue of the loop running on
//! this thread — a thread-local filled while a runtime runs, beside the
//! current runtime's slot in `context.rs` — and never needs the rest of the
//! loop. That keeps the dependencies one-way: the loop (`core.rs`) uses the
//! wakers, the wakers use this queue, and this queue uses only the task's
//! header.

use std::cell::{Cell, UnsafeCell};
use std::collections::VecDeque;
use std::ptr;
use std::rc::Rc;

use crate::task::header::{Header, OnLoop};

/// Slab keys of the tasks ready to run, in wake order.
pub(crate) struct RunQueue {
    keys: UnsafeCell<VecDeque<u32>>, // only through `RunQueue::keys`
    /// The loop this queue belongs to: proof of its thread, to reach the
    /// tasks' loop-only flags.
    on_loop: OnLoop,
}

thread_local! {
    /// The run queue of the loop running on this thread, or null; set by a
    /// [`MadeCurrent`], which keeps the queue alive meanwhile. A thread-local
    /// with nothing to drop is one load; the simple version, an
    /// `Option<Rc<RunQueue>>`, checks a destructor's registration on every
    /// wake (kettle: `CURRENT`).
    static CURRENT: Cell<*const RunQueue> = const { Cell::new(ptr::null()) };
}

impl RunQueue {
    pub(crate) fn new(on_loop: OnLoop) -> RunQueue {
        RunQueue { keys: UnsafeCell::new(VecDeque::new()), on_loop }
    }

    /// Runs `f`, which only pushes, pops or looks, on the keys. The simple
    /// version, a `RefCell`, costs each push and pop a check and two writes
    /// of a flag for a borrow that can never overlap another (kettle: `keys`).
    #[inline(always)]
    fn keys<R>(&self, f: impl FnOnce(&mut VecDeque<u32>) -> R) -> R {
        // SAFETY: the queue is `!Sync` (its `OnLoop` is), and no caller's `f`
        // can reach this queue again, so two `&mut` never overlap.
        f(unsafe { &mut *self.keys.get() })
    }

    /// Queues the task behind `header` unless it is already queued or done.
    #[inline]
    pub(crate) fn enqueue(&self, header: &Header) {
        let flags = header.flags(&self.on_loop);
        if flags.mark_queued() {
            self.keys(|keys| keys.push_back(flags.key()));
        }
    }

    /// Queues a task just adopted into the slab at `key`: born queued, it is
    /// pushed without asking its flags.
    #[inline]
    pub(crate) fn push_adopted(&self, key: usize) {
        debug_assert!(u32::try_from(key).is_ok(), "a slab key fits in 32 bits (`LoopFlags::adopt`)");
        self.keys(|keys| keys.push_back(key as u32));
    }

    /// The next task to run, if any. The caller clears its `queued` flag.
    #[inline]
    pub(crate) fn pop(&self) -> Option<usize> {
        self.keys(|keys| keys.pop_front()).map(|key| key as usize)
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.keys(|keys| keys.len())
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.keys(|keys| keys.is_empty())
    }

    /// Calls `f` with the keys, to reorder them (the seeded shuffle) or
    /// forget them (shutdown). `f` runs no user code.
    pub(crate) fn with_keys<R>(&self, f: impl FnOnce(&mut VecDeque<u32>) -> R) -> R {
        self.keys(f)
    }
}

/// Queues the task behind `header` on the loop running on this thread, if
/// that loop owns it. Returns `false` otherwise — another thread, no loop
/// running here, or another runtime's loop — and the caller goes through the
/// owner's injector instead.
#[inline]
pub(crate) fn enqueue_here(header: &Header) -> bool {
    let queue = CURRENT.with(Cell::get);
    // SAFETY: a non-null `CURRENT` is set by a live `MadeCurrent`, which holds the queue.
    match unsafe { queue.as_ref() } {
        Some(queue) if header.is_owned_by(&queue.on_loop) => queue.enqueue(header),
        _ => return false,
    }
    true
}

/// This thread's current run queue, until dropped: then the one before it.
/// Each lives in a `context::Entered` on the stack, so they end in the
/// reverse order they began, and each restores a queue still held.
pub(crate) struct MadeCurrent {
    queue: Rc<RunQueue>,
    previous: *const RunQueue,
}

/// Makes `queue` this thread's current run queue until the guard drops.
pub(crate) fn make_current(queue: &Rc<RunQueue>) -> MadeCurrent {
    let previous = CURRENT.with(|slot| slot.replace(Rc::as_ptr(queue)));
    MadeCurrent { queue: queue.clone(), previous }
}

impl Drop for MadeCurrent {
    fn drop(&mut self) {
        let current = CURRENT.with(|slot| slot.replace(self.previous));
        debug_assert!(ptr::eq(current, Rc::as_ptr(&self.queue)), "run queues stop being current last first");
    }
}

#[cfg(test)]
mod tests {
    use crate::runtime::Builder;
    use crate::runtime::core::Core;

    fn core() -> Core {
        Core::new(&Builder::new()).expect("epoll, eventfd and timerfd")
    }

    #[test]
    fn a_woken_task_is_queued_once_until_the_loop_pops_it() {
        let core = core();
        let task = core.spawn(std::future::pending::<()>(), std::panic::Location::caller());
        let queue = core.run_queue();
        assert_eq!(queue.len(), 1, "a spawned task is born queued");
        queue.enqueue(task.header());
        assert_eq!(queue.len(), 1, "already queued: a wake pushes nothing");
        let key = queue.pop().expect("the spawned task");
        task.header().flags(core.on_loop()).mark_dequeued();
        queue.enqueue(task.header());
        queue.enqueue(task.header());
        assert_eq!((queue.len(), queue.pop()), (1, Some(key)));
        task.header().flags(core.on_loop()).mark_dequeued();
        drop(task);
        core.shutdown();
    }

    #[test]
    fn a_wake_on_a_thread_whose_loop_does_not_run_is_not_queued_here() {
        let core = core();
        let task = core.spawn(std::future::pending::<()>(), std::panic::Location::caller());
        assert!(!super::enqueue_here(task.header()), "no loop runs on this thread: the injector's job");
        drop(task);
        core.shutdown();
    }

    #[test]
    #[cfg_attr(not(debug_assertions), ignore = "the owner check is a debug assertion")]
    #[should_panic(expected = "only by the task's own runtime")]
    fn another_loops_token_may_not_touch_a_tasks_loop_flags() {
        let owner = core();
        let other = core();
        let task = owner.spawn(std::future::pending::<()>(), std::panic::Location::caller());
        let touched = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = task.header().flags(other.on_loop()).is_queued();
        }));
        drop(task);
        owner.shutdown(); // the future is dropped on its loop, as always
        other.shutdown();
        if let Err(panic) = touched {
            std::panic::resume_unwind(panic);
        }
    }
}
