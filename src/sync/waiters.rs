//! The waiter list every primitive in `sync` is built on: a FIFO of parked
//! futures with O(1) enqueue, wake-up and cancellation.
//!
//! # How it works
//!
//! Each waiting future owns one **entry** in a slab and remembers its key.
//! While it waits, the entry is linked into a doubly linked list *by keys*
//! (`prev`/`next` are slab keys, not pointers), so the list needs no `unsafe`
//! and removing an entry from the middle — a dropped future — is O(1): unlink
//! it from its two neighbours and free the slot. No tombstones, no scans.
//!
//! ```text
//!            head                                  tail
//!             │                                      │
//!   slab: [ 3: Waiting ]⇄[ 0: Waiting ]⇄[ 5: Waiting ]      [ 2: Notified ]
//!            prev: -       prev: 3        prev: 0             (unlinked, kept
//!            next: 0       next: 5        next: -              until its owner
//!                                                              looks at it)
//! ```
//!
//! **Notifying** pops the head, turns it into a `Notified` entry and hands its
//! waker back to the caller. The entry is *not* freed: its owner learns that it
//! was notified the next time it looks (`poll_notified`), and frees the entry
//! with [`WaitList::remove`]. Keeping it has two benefits:
//!
//! - A key never goes stale. The owner frees its own entry, exactly once, so a
//!   key cannot come to name another waiter's slot, and no generation counter
//!   is needed.
//! - A notification is a *token* the owner holds. Each primitive gives it a
//!   meaning — "the lock is yours", "a permit is yours", "an item is reserved
//!   for you" — and when a notified future is dropped before it could use the
//!   token, `remove` reports `true` so the primitive can pass the token on to
//!   the next waiter. That is the whole cancel-safety story of `sync`.
//!
//! # Invariants
//!
//! 1. An entry is either `Waiting` (linked, in FIFO order) or `Notified`
//!    (unlinked); `waiting` and `notified` count them.
//! 2. Only the owner of an entry removes it, once; every other method
//!    leaves the slot in place.
//!
//! # Wakers are fired, and dropped, by the caller
//!
//! Nothing here calls `wake`, nor drops a waker. Notifying returns wakers,
//! which the primitive collects in [`Wakeups`] and fires after it has
//! released its `RefCell` borrow: a waker may run arbitrary code (another
//! runtime's waker might even poll inline), and that code may call back
//! into the same primitive. Dropping a waker is another executor's code
//! too — the last waker of a task may own the task, and drop its future —
//! so a waker replaced when a future is polled with a new one, or left in
//! an entry removed while it still waits, is *retired* into the same
//! `Wakeups`, and dropped with it, after the borrow. (Cloning a waker, to
//! store it, happens inside the borrow: every executor's clone is a count.)

use std::task::Waker;

use slab::Slab;

use crate::contain;

/// One parked future.
enum Entry {
    /// In the FIFO, waiting for a notification.
    Waiting { waker: Waker, prev: Option<usize>, next: Option<usize> },
    /// Taken out of the FIFO by `notify_one`/`notify_all`; the owner has not
    /// looked yet.
    Notified,
}

/// A FIFO of waiting futures; see the module docs.
pub(crate) struct WaitList {
    entries: Slab<Entry>,
    head: Option<usize>,
    tail: Option<usize>,
    /// Entries in the `Waiting` state (linked into the FIFO).
    waiting: usize,
    /// Entries in the `Notified` state (tokens not yet used or passed on).
    notified: usize,
}

impl WaitList {
    pub(crate) const fn new() -> WaitList {
        WaitList { entries: Slab::new(), head: None, tail: None, waiting: 0, notified: 0 }
    }

    /// Whether no entry is waiting (notified entries do not count).
    pub(crate) fn is_empty(&self) -> bool {
        self.waiting == 0
    }

    /// How many entries wait.
    pub(crate) fn waiting(&self) -> usize {
        self.waiting
    }

    /// How many entries were notified and have not been removed yet: the
    /// tokens handed out and still outstanding.
    pub(crate) fn notified(&self) -> usize {
        self.notified
    }

    /// Appends a waiter at the back of the FIFO and returns its key, which the
    /// caller must eventually give to [`remove`](WaitList::remove).
    pub(crate) fn push(&mut self, waker: &Waker) -> usize {
        let key = self.entries.insert(Entry::Waiting { waker: waker.clone(), prev: self.tail, next: None });
        match self.tail {
            Some(tail) => self.set_next(tail, Some(key)),
            None => self.head = Some(key),
        }
        self.tail = Some(key);
        self.waiting += 1;
        key
    }

    /// If `key` has been notified, returns `true`. Otherwise stores `waker`
    /// (when it would wake a different task than the one stored, whose
    /// waker is retired into `wakeups`) so that the latest poll is the one
    /// woken, and returns `false`.
    pub(crate) fn poll_notified(&mut self, key: usize, waker: &Waker, wakeups: &mut Wakeups) -> bool {
        match &mut self.entries[key] {
            Entry::Notified => true,
            Entry::Waiting { waker: stored, .. } => {
                if !stored.will_wake(waker) {
                    wakeups.retire(std::mem::replace(stored, waker.clone()));
                }
                false
            }
        }
    }

    /// Frees `key`'s entry, unlinking it if it was still waiting (its waker
    /// is retired into `wakeups`). Returns whether it had been notified: if
    /// so, the caller holds a token it must use or pass on.
    pub(crate) fn remove(&mut self, key: usize, wakeups: &mut Wakeups) -> bool {
        match self.entries.remove(key) {
            Entry::Notified => {
                self.notified -= 1;
                true
            }
            Entry::Waiting { waker, prev, next } => {
                self.unlink(prev, next);
                wakeups.retire(waker);
                false
            }
        }
    }

    /// Notifies the waiter at the front of the FIFO, if any, and returns its
    /// waker for the caller to fire once its borrow is released.
    ///
    /// Inline, so that the common call that finds nobody waiting costs one
    /// test; the hand-over itself is [`notify_head`](WaitList::notify_head).
    #[inline]
    pub(crate) fn notify_one(&mut self) -> Option<Waker> {
        let key = self.head?;
        Some(self.notify_head(key))
    }

    /// Notifies the head of the FIFO, `key`, and returns its waker.
    fn notify_head(&mut self, key: usize) -> Waker {
        let entry = std::mem::replace(&mut self.entries[key], Entry::Notified);
        let Entry::Waiting { waker, prev, next } = entry else {
            unreachable!("the FIFO links only waiting entries");
        };
        debug_assert_eq!(prev, None, "the head has no predecessor");
        self.unlink(prev, next);
        self.notified += 1;
        waker
    }

    /// Notifies every waiting entry, in FIFO order.
    pub(crate) fn notify_all(&mut self, wakeups: &mut Wakeups) {
        while let Some(waker) = self.notify_one() {
            wakeups.push(waker);
        }
    }

    /// Wakes every waiting entry *without* notifying it: each stays in the
    /// FIFO and holds no token, but its owner gets polled and can look at the
    /// primitive's state again (a queue that was closed, for instance).
    pub(crate) fn wake_all(&self, wakeups: &mut Wakeups) {
        let mut cursor = self.head;
        while let Some(key) = cursor {
            let Entry::Waiting { waker, next, .. } = &self.entries[key] else {
                unreachable!("the FIFO links only waiting entries");
            };
            wakeups.push(waker.clone());
            cursor = *next;
        }
    }

    /// Takes the entry between `prev` and `next` out of the FIFO.
    fn unlink(&mut self, prev: Option<usize>, next: Option<usize>) {
        match prev {
            Some(prev) => self.set_next(prev, next),
            None => self.head = next,
        }
        match next {
            Some(next) => self.set_prev(next, prev),
            None => self.tail = prev,
        }
        self.waiting -= 1;
    }

    fn set_next(&mut self, key: usize, to: Option<usize>) {
        match &mut self.entries[key] {
            Entry::Waiting { next, .. } => *next = to,
            Entry::Notified => unreachable!("the FIFO links only waiting entries"),
        }
    }

    fn set_prev(&mut self, key: usize, to: Option<usize>) {
        match &mut self.entries[key] {
            Entry::Waiting { prev, .. } => *prev = to,
            Entry::Notified => unreachable!("the FIFO links only waiting entries"),
        }
    }
}

/// Wakers collected under a borrow, to be fired — and wakers to be dropped
/// unwoken — after it is released.
///
/// Holds the first waker inline, so the common case — one operation wakes one
/// waiter — does not allocate. Retired wakers — the rare case of a waiter
/// cancelled, or polled by another task — go at the front of `rest`, so
/// that the common path pays nothing for them: dropping `rest` drops them.
#[must_use = "collected wakers must be fired"]
#[derive(Default)]
pub(crate) struct Wakeups {
    first: Option<Waker>,
    /// The retired wakers first (`retired` of them), then the wakers to
    /// wake after `first`.
    rest: Vec<Waker>,
    retired: usize,
}

impl Wakeups {
    pub(crate) fn new() -> Wakeups {
        Wakeups::default()
    }

    #[inline]
    pub(crate) fn push(&mut self, waker: Waker) {
        match self.first {
            None => self.first = Some(waker),
            Some(_) => self.rest.push(waker),
        }
    }

    /// Keeps `waker` to be dropped, not woken, once the borrow is released.
    pub(crate) fn retire(&mut self, waker: Waker) {
        self.rest.insert(self.retired, waker);
        self.retired += 1;
    }

    /// Adds `waker` if there is one (the result of `notify_one`).
    #[inline]
    pub(crate) fn extend(&mut self, waker: Option<Waker>) {
        if let Some(waker) = waker {
            self.push(waker);
        }
    }

    /// Wakes everything collected, in the order it was collected, then
    /// drops the retired wakers. Call only with no borrow of the primitive's
    /// state held.
    ///
    /// Inline, and the common cases first: most operations wake nobody, and
    /// most of the others wake one waiter. Keeping those two paths to a
    /// test or two each, with no call, is the whole point of holding
    /// `first` apart; the simple version would be one `Vec` of wakers,
    /// drained (`wake_several`) after every operation.
    #[inline]
    pub(crate) fn fire(self) {
        let Wakeups { first, rest, retired } = self;
        // Nobody to wake: the retired wakers, if any, are dropped with `rest`.
        let Some(first) = first else { return };
        if rest.len() > retired {
            return Wakeups::wake_several(first, rest, retired);
        }
        first.wake(); // the one waker: its panic is the caller's, as it is
    }

    /// Wakes `first`, then the wakers of `rest` after the `retired` ones,
    /// then drops them all. A waker is another executor's code: if one
    /// panics, the others are still woken — each was handed a notification,
    /// which only its wake-up makes anyone look at — and the first panic is
    /// resumed at the end, for the caller (the one waker of
    /// [`fire`](Wakeups::fire) panics at the caller directly).
    #[inline(never)]
    fn wake_several(first: Waker, mut rest: Vec<Waker>, retired: usize) {
        let mut panicked = None;
        for waker in std::iter::once(first).chain(rest.drain(retired..)) {
            if let Err(payload) = contain::catch(|| waker.wake()) {
                match panicked {
                    None => panicked = Some(payload),
                    Some(_) => contain::drop_payload(payload),
                }
            }
        }
        drop(rest);
        if let Some(payload) = panicked {
            std::panic::resume_unwind(payload);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The keys in FIFO order, walking `next` from the head and `prev` back
    /// from the tail (both must agree).
    fn order(list: &WaitList) -> Vec<usize> {
        let mut forward = Vec::new();
        let mut cursor = list.head;
        while let Some(key) = cursor {
            forward.push(key);
            let Entry::Waiting { next, .. } = &list.entries[key] else { panic!("linked notified entry") };
            cursor = *next;
        }
        let mut backward = Vec::new();
        let mut cursor = list.tail;
        while let Some(key) = cursor {
            backward.push(key);
            let Entry::Waiting { prev, .. } = &list.entries[key] else { panic!("linked notified entry") };
            cursor = *prev;
        }
        backward.reverse();
        assert_eq!(forward, backward, "prev and next links agree");
        assert_eq!(forward.len(), list.waiting());
        forward
    }

    #[test]
    fn waiters_are_notified_first_in_first_out() {
        let mut list = WaitList::new();
        let keys: Vec<_> = (0..4).map(|_| list.push(Waker::noop())).collect();
        assert_eq!(order(&list), keys);
        for (i, key) in keys.iter().enumerate() {
            assert!(list.notify_one().is_some());
            assert!(list.poll_notified(*key, Waker::noop(), &mut Wakeups::new()));
            assert_eq!(order(&list), keys[i + 1..]);
        }
        assert!(list.notify_one().is_none());
        assert_eq!(list.notified(), 4);
        for key in keys {
            assert!(list.remove(key, &mut Wakeups::new()), "each was notified");
        }
        assert_eq!(list.notified(), 0);
        assert!(list.entries.is_empty());
    }

    #[test]
    fn removing_from_the_middle_head_and_tail_keeps_the_links() {
        let mut list = WaitList::new();
        let keys: Vec<_> = (0..5).map(|_| list.push(Waker::noop())).collect();
        assert!(!list.remove(keys[2], &mut Wakeups::new()));
        assert_eq!(order(&list), [keys[0], keys[1], keys[3], keys[4]]);
        assert!(!list.remove(keys[0], &mut Wakeups::new()));
        assert!(!list.remove(keys[4], &mut Wakeups::new()));
        assert_eq!(order(&list), [keys[1], keys[3]]);
        let again = list.push(Waker::noop());
        assert_eq!(order(&list), [keys[1], keys[3], again]);
        assert!(list.notify_one().is_some());
        assert!(list.remove(keys[1], &mut Wakeups::new()), "the head was notified");
        assert!(!list.remove(keys[3], &mut Wakeups::new()));
        assert!(!list.remove(again, &mut Wakeups::new()));
        assert!(list.is_empty());
        assert!(list.entries.is_empty(), "no tombstones remain");
    }

    /// A waker that logs its id when woken.
    struct Logs(usize, std::sync::Arc<std::sync::Mutex<Vec<usize>>>);

    impl std::task::Wake for Logs {
        fn wake(self: std::sync::Arc<Self>) {
            self.1.lock().unwrap().push(self.0);
        }
    }

    #[test]
    fn fire_wakes_in_the_order_collected_and_drops_retired_wakers_unwoken() {
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let waker = |id| Waker::from(std::sync::Arc::new(Logs(id, log.clone())));
        for (woken, retired) in [(0, 0), (0, 1), (1, 0), (1, 2), (3, 0), (3, 2)] {
            log.lock().unwrap().clear();
            let mut wakeups = Wakeups::new();
            let retired_wakers: Vec<_> = (100..100 + retired).map(waker).collect();
            for id in 0..woken {
                wakeups.push(waker(id));
                if let Some(old) = retired_wakers.get(id) {
                    wakeups.retire(old.clone());
                }
            }
            for old in retired_wakers.iter().skip(woken) {
                wakeups.retire(old.clone());
            }
            wakeups.fire();
            assert_eq!(
                *log.lock().unwrap(),
                (0..woken).collect::<Vec<_>>(),
                "{woken} woken, {retired} retired"
            );
            // Left alive: `log`, and the originals of the retired wakers.
            assert_eq!(
                std::sync::Arc::strong_count(&log),
                1 + retired,
                "the woken wakers were consumed, the retired clones dropped"
            );
        }
    }

    #[test]
    fn wake_all_leaves_waiters_waiting() {
        let mut list = WaitList::new();
        let keys: Vec<_> = (0..3).map(|_| list.push(Waker::noop())).collect();
        let mut wakeups = Wakeups::new();
        list.wake_all(&mut wakeups);
        assert_eq!(wakeups.rest.len(), 2);
        wakeups.fire();
        assert_eq!(order(&list), keys);
        assert_eq!(list.notified(), 0);
    }
}
