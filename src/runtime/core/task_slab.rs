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
//! — one pointer, 8 bytes, `None` once it is free. Both buffers keep the size they grew to: with 10,000 live
//! tasks that is 8 bytes a task where the slab took 16 (and 4 more per
//! key freed since, for the stack).
//!
//! Keys are reused last-freed first, as the slab crate reuses them.
//!
//! A task stays in its slot while the loop polls it: [`TaskSlab::lend`]
//! copies its pointer out for the poll, and nothing is written back.

use std::mem::ManuallyDrop;
use std::ops::Deref;

use crate::task::header::TaskRef;

/// Every live task, by key: a `Slab<Option<TaskRef>>` in 8 bytes a slot.
pub(super) struct TaskSlab {
    /// A slot per key ever handed out: the task, or `None` if the key is
    /// free (or just taken by [`vacant_key`](TaskSlab::vacant_key)).
    slots: Vec<Option<TaskRef>>,
    /// The free keys, the last freed on top. Each names a `None` slot.
    free: Vec<u32>,
}

impl TaskSlab {
    pub(super) fn new() -> TaskSlab {
        TaskSlab { slots: Vec::new(), free: Vec::new() }
    }

    /// Takes a key for a task about to be adopted: its slot stays empty
    /// until [`fill`](TaskSlab::fill) fills it.
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

    /// The task at `key`, lent for one poll; `None` if the slot is empty.
    ///
    /// The simple version takes the `TaskRef` out of its slot for the poll
    /// and puts it back afterwards: two writes and a second borrow of the
    /// slab per poll, for a slot nobody else may empty meanwhile (kettle:
    /// `lend`).
    #[inline]
    pub(super) fn lend(&self, key: usize) -> Option<Lent> {
        let task = self.slots.get(key)?.as_ref()?;
        // SAFETY: the `ManuallyDrop` never releases the reference it copies;
        // the slot's reference keeps the cell alive for as long as the
        // `Lent` exists (see `Lent`).
        Some(Lent(ManuallyDrop::new(unsafe { TaskRef::from_raw(task.as_ptr()) })))
    }

    /// Puts a new task under its [`vacant_key`](TaskSlab::vacant_key).
    #[inline]
    pub(super) fn fill(&mut self, key: usize, task: TaskRef) {
        let slot = &mut self.slots[key];
        debug_assert!(slot.is_none(), "a vacant key's slot is empty");
        *slot = Some(task);
    }

    /// Frees `key` and returns its task, for the caller to drop outside
    /// the slab's borrow.
    #[inline]
    pub(super) fn remove(&mut self, key: usize) -> TaskRef {
        let task = self.slots[key].take().expect("a key is freed once, while its task is in its slot");
        self.free.push(key as u32);
        task
    }

    /// Keys in use.
    pub(super) fn len(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    /// The tasks in their slots, the one being polled included.
    pub(super) fn iter(&self) -> impl Iterator<Item = &TaskRef> {
        self.slots.iter().flatten()
    }

    /// Takes every task out and frees every key (shutdown).
    pub(super) fn take_all(&mut self) -> Vec<TaskRef> {
        self.free.clear();
        self.slots.drain(..).flatten().collect()
    }
}

/// A task lent by its slot for one poll ([`TaskSlab::lend`]): its pointer,
/// without a count of its own.
///
/// Only the loop empties a slot, and only between polls: `Core::settle`
/// after the task's own poll (which drops the `Lent` before it lets go of
/// the slot's reference) and `Core::shutdown` when the runtime is dropped,
/// which cannot happen during one of its polls (`block_on`, `run_forever`
/// and `turn` borrow the runtime). So the slot's reference outlives the
/// `Lent`. Spawning during the poll may move the slots, not the cell.
pub(super) struct Lent(ManuallyDrop<TaskRef>);

impl Deref for Lent {
    type Target = TaskRef;

    fn deref(&self) -> &TaskRef {
        &self.0
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
            slab.fill(key, task);
            key
        };
        assert_eq!(insert(&mut slab, a.clone()), 0);
        assert_eq!(insert(&mut slab, b.clone()), 1);
        let lent = slab.lend(0).expect("the first task");
        assert_eq!((slab.len(), slab.iter().count()), (2, 2), "a task being polled stays in its slot");
        assert_eq!(lent.id(), a.id(), "lent: the same cell");
        let refs = a.header().refs();
        assert_eq!(refs, 3, "lending counts nothing: the loop's slot, `a`, and this slab's slot");
        assert_eq!(slab.remove(0).id(), a.id(), "removing hands the slot's task back");
        assert!(slab.lend(0).is_none(), "a freed key lends nothing");
        assert_eq!(slab.len(), 1);
        assert_eq!(insert(&mut slab, a.clone()), 0, "the freed key first");
        assert_eq!(slab.take_all().len(), 2);
        assert_eq!(slab.len(), 0);
        assert_eq!(insert(&mut slab, a.clone()), 0, "empty, keys from 0 again");
        drop((a, b));
        core.shutdown();
    }
}
