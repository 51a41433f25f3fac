//! `Env`: what a task, callback or destructor acts on — the ledger, the driver's current queue
//! and the `call_later` handles that may be cancelled — and the non-blocking queue operations
//! they all use, each booked in the ledger as it happens and checked against what the queue
//! says of itself (a queue may say it is closed only when it is, full only when bounded).

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use kettle::TimerHandle;
use kettle::sync::{Queue, TryGetError, TryPutError};

use crate::ledger::{Item, Ledger};

/// What tasks and callbacks need: the ledger, the current queue, and the `call_later` handles
/// that may be cancelled.
#[derive(Clone)]
pub struct Env {
    pub ledger: Arc<Ledger>,
    pub queue: Queue<Item>,
    pub qid: usize,
    pub timers: Timers,
}

/// `call_later` handles, with the ledger's number for each callback.
pub type Timers = Rc<RefCell<Vec<(usize, TimerHandle)>>>;

impl Env {
    /// Books what a `get` returned: an item (marked done at once, so `join` can finish), or
    /// `None`, which only a closed and drained queue may say.
    pub fn received(&self, got: Option<Item>, by: &str) -> Option<Item> {
        match got {
            Some(item) => {
                self.ledger.received(self.qid, item.id, by);
                self.queue.task_done();
                Some(item)
            }
            None => {
                self.check_closed_and_empty(|| format!("{by} got None"));
                None
            }
        }
    }

    pub fn try_get(&self, by: &str) {
        match self.queue.try_get() {
            Ok(item) => drop(self.received(Some(item), by)),
            Err(TryGetError::Empty) => {}
            Err(TryGetError::Closed) => self.check_closed_and_empty(|| format!("{by} said Closed")),
        }
    }

    /// Returns whether the item went in.
    pub fn try_put(&self, item: Item) -> bool {
        let item_id = item.id;
        match self.queue.try_put(item) {
            Ok(()) => {
                self.ledger.inserted(self.qid, item_id);
                return true;
            }
            Err(TryPutError::Full(item)) => {
                let bounded = self.queue.capacity().is_some();
                self.ledger.check(bounded && !self.queue.is_closed(), || {
                    "try_put said Full of an unbounded or closed queue".to_owned()
                });
                self.ledger.returned(item.id);
            }
            Err(TryPutError::Closed(item)) => {
                let closed = self.queue.is_closed();
                self.ledger.check(closed, || "try_put said Closed of an open queue".to_owned());
                self.ledger.returned(item.id);
            }
        }
        false
    }

    /// Checks a claim that the queue has nothing more to give: it must be closed and empty.
    fn check_closed_and_empty(&self, claim: impl FnOnce() -> String) {
        let (closed, empty) = (self.queue.is_closed(), self.queue.is_empty());
        self.ledger
            .check(closed && empty, || format!("{} of a queue closed: {closed}, empty: {empty}", claim()));
    }
}
