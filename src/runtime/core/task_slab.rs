//! The task slab: every live task of the loop, by a small integer key.
//!
//! A key names one slot from the task's adoption until the loop lets go of
//! it (`Core::settle`); then the key is free for the next spawn. The run
//! queue holds keys (`run_queue.rs`), and a task's loop flags remember its
//! own (`task/state.rs`).
//!
//! The simple version is the `slab` crate's `Slab<Option<TaskRef>>`: its
//! free slots hold the next free key, so a slot is an enum of a task and
//! an index, 16 bytes. [`TaskSlab`] keeps the free keys beside the slots
//! instead, in a stack of 32-bit keys, so a slot is an `Option<TaskRef>`
//! — one pointer, 8 bytes, `None` while its task is being polled or once
//! it is free. Both buffers keep the size they grew to: with 10,000 live
//! tasks that is 8 bytes a task where the slab took 16 (and 4 more per
//! key freed since, for the stack).
//!
//! Keys are reused last-freed first, as the slab crate reuses them.

use crate::task::header::TaskRef;

/// Every live task, by key: a `Slab<Option<TaskRef>>` in 8 bytes a slot.
pub(super) struct TaskSlab {
    /// A slot per key ever handed out: the task, or `None` if its task is
    /// being polled (the loop holds it) or the key is free.
    slots: Vec<Option<TaskRef>>,
    /// The free keys, the last freed on top. Each names a `None` slot.
    free: Vec<u32>,
}

impl TaskSlab {
    pub(super) fn new() -> TaskSlab {
        TaskSlab { slots: Vec::new(), free: Vec::new() }
    }

    /// Takes a key for a task about to be adopted: its slot stays empty
    /// until [`put_back`](TaskSlab::put_back) fills it, as if the task were
    /// being polled.
    #[inline]
    pub(super) fn vacant_key(&mut self) -> usize {
        match self.free.pop() {
            Some(key) => key as usize,
            None => {
                let key = self.slots.len();
                assert!(u32::try_from(key).is_ok(), "kettle: more than 2^32 live tasks");
                self.slots.push(None);
                key
            }
        }
    }

    /// Takes the task at `key` out of its slot for a poll (the slot stays
    /// taken until [`put_back`](TaskSlab::put_back) or
    /// [`remove`](TaskSlab::remove)); `None` if the slot is empty.
    #[inline]
    pub(super) fn take(&mut self, key: usize) -> Option<TaskRef> {
        self.slots.get_mut(key).and_then(Option::take)
    }

    /// Returns a task taken with [`take`](TaskSlab::take) to its slot, or
    /// puts a new one under its [`vacant_key`](TaskSlab::vacant_key).
    #[inline]
    pub(super) fn put_back(&mut self, key: usize, task: TaskRef) {
        let slot = &mut self.slots[key];
        debug_assert!(slot.is_none(), "a task goes back to the slot it was taken from");
        *slot = Some(task);
    }

    /// Frees `key`, whose task was taken out for good (its slot is empty).
    #[inline]
    pub(super) fn remove(&mut self, key: usize) {
        debug_assert!(self.slots[key].is_none(), "a key is freed once its task was taken out");
        self.free.push(key as u32);
    }

    /// Keys in use: tasks in their slots, and the one being polled.
    pub(super) fn len(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    /// The tasks in their slots (not the one being polled).
    pub(super) fn iter(&self) -> impl Iterator<Item = &TaskRef> {
        self.slots.iter().flatten()
    }

    /// Takes every task out and frees every key (shutdown).
    pub(super) fn take_all(&mut self) -> Vec<TaskRef> {
        self.free.clear();
        self.slots.drain(..).flatten().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::TaskSlab;
    use crate::runtime::Builder;
    use crate::runtime::core::Core;

    #[test]
    fn a_freed_key_is_reused_first_and_only_keys_in_use_count() {
        let core = Core::new(&Builder::new()).expect("epoll, eventfd and timerfd");
        let spawn = || core.spawn(std::future::pending::<()>(), std::panic::Location::caller());
        let (a, b) = (spawn(), spawn());
        let mut slab = TaskSlab::new();
        let insert = |slab: &mut TaskSlab, task| {
            let key = slab.vacant_key();
            slab.put_back(key, task);
            key
        };
        assert_eq!(insert(&mut slab, a.clone()), 0);
        assert_eq!(insert(&mut slab, b.clone()), 1);
        let taken = slab.take(0).expect("the first task");
        assert_eq!((slab.len(), slab.iter().count()), (2, 1), "a task being polled keeps its key");
        assert!(slab.take(0).is_none(), "taken once");
        drop(taken);
        slab.remove(0);
        assert_eq!(slab.len(), 1);
        assert_eq!(insert(&mut slab, a.clone()), 0, "the freed key first");
        assert_eq!(slab.take_all().len(), 2);
        assert_eq!(slab.len(), 0);
        assert_eq!(insert(&mut slab, a.clone()), 0, "empty, keys from 0 again");
        drop((a, b));
        core.shutdown();
    }
}
