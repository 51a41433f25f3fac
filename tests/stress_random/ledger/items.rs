//! The queue books: every item made for a queue, and each queue's insertion and removal counts.
//! An item goes in at most once, and comes out exactly once, in the order it went in — or it
//! never goes in: handed back by a failed put, or dropped with a put that timed out. This is
//! where a cancelled waiter that swallows an item, or takes one that was not its own, shows.

use std::sync::Arc;

use super::{Books, Ledger, Token};

/// A queue item: its number in the ledger, and a token for its drop.
pub struct Item {
    pub id: usize,
    _token: Token,
}

pub(super) struct ItemBook {
    op: u64,
    queue: usize,
    token: usize,
    /// Its place in its queue's insertion order.
    inserted: Option<u64>,
    received: u32,
    /// A failed put handed it back.
    returned: bool,
    /// Its put was dropped by a timeout.
    abandoned: bool,
}

impl ItemBook {
    fn describe(&self, id: usize) -> String {
        format!("item {id} (made at op {} for queue {})", self.op, self.queue)
    }
}

#[derive(Default)]
pub(super) struct QueueBook {
    inserted: u64,
    removed: u64,
}

impl Ledger {
    pub fn new_queue(&self) -> usize {
        self.with(|books, _| books.queues.add(QueueBook::default()))
    }

    pub fn new_item(self: &Arc<Ledger>, queue: usize) -> Item {
        let (id, token) = self.with(|books, op| {
            let id = books.items.total();
            let token = books.new_token("queue item", id, op);
            books.items.add(ItemBook {
                op,
                queue,
                token,
                inserted: None,
                received: 0,
                returned: false,
                abandoned: false,
            });
            (id, token)
        });
        Item { id, _token: Token { ledger: self.clone(), id: token } }
    }

    /// Runs `f` on the books, with `id`'s description, if the item is still in them.
    fn with_item(&self, id: usize, f: impl FnOnce(&mut Books, u64, String)) {
        self.with(|books, op| match books.items.get(id) {
            Some(item) => {
                let what = item.describe(id);
                f(books, op, what);
            }
            None => books.report.fail(op, format!("item {id} of an audited round reported late")),
        });
    }

    pub fn inserted(&self, queue: usize, id: usize) {
        self.with_item(id, |books, op, what| {
            let item = books.items.get(id).expect("looked up");
            if item.inserted.is_some() || item.returned || item.abandoned {
                return books.report.fail(op, format!("{what} inserted twice, or after it was handed back"));
            }
            if item.queue != queue {
                return books.report.fail(op, format!("{what} inserted into queue {queue}"));
            }
            let Some(book) = books.queues.get(queue) else { return };
            item.inserted = Some(book.inserted);
            book.inserted += 1;
        });
    }

    pub fn received(&self, queue: usize, id: usize, by: &str) {
        self.with_item(id, |books, op, what| {
            let item = books.items.get(id).expect("looked up");
            item.received += 1;
            let (received, inserted) = (item.received, item.inserted);
            books.stats.items_received += 1;
            let Some(book) = books.queues.get(queue) else { return };
            let expected = book.removed;
            book.removed += 1;
            if received > 1 {
                books.report.fail(op, format!("{what} received a second time, by {by}"));
            } else if inserted != Some(expected) {
                let message = format!(
                    "{by} got {what} from queue {queue} as its item #{expected}; it went in as #{inserted:?} \
                     (an item lost, duplicated or out of order)"
                );
                books.report.fail(op, message);
            }
        });
    }

    /// A failed put handed the item back: it must not have gone in.
    pub fn returned(&self, id: usize) {
        self.with_item(id, |books, op, what| {
            let item = books.items.get(id).expect("looked up");
            item.returned = true;
            let inserted = item.inserted.is_some();
            books.stats.items_returned += 1;
            if inserted {
                books
                    .report
                    .fail(op, format!("{what} handed back by a failed put, but it had been inserted"));
            }
        });
    }

    /// A `put` under a timeout gave up: its item must have been dropped with it, not inserted.
    pub fn abandoned(&self, id: usize) {
        self.with_item(id, |books, op, what| {
            let item = books.items.get(id).expect("looked up");
            item.abandoned = true;
            let (inserted, token) = (item.inserted.is_some(), item.token);
            books.stats.puts_abandoned += 1;
            if inserted || books.token_drops(token) != 1 {
                books.report.fail(
                    op,
                    format!("{what}: its put timed out but the item lives on (swallowed by the queue?)"),
                );
            }
        });
    }
}

impl Books {
    /// Every item that went in came out once, and no other did; every queue gave out as many
    /// items as it took in.
    pub(super) fn audit_items(&mut self, op: u64) {
        for (id, item) in self.items.iter() {
            let what = item.describe(id);
            match (item.inserted, item.received) {
                (Some(_), 1) | (None, 0) => {}
                (Some(seq), 0) => {
                    self.report.fail(op, format!("{what} went in as #{seq} and never came out"))
                }
                (seq, n) => {
                    self.report.fail(op, format!("{what} (went in as #{seq:?}) was received {n} times"))
                }
            }
        }
        for (id, queue) in self.queues.iter() {
            if queue.inserted != queue.removed {
                let message =
                    format!("queue {id}: {} items inserted, {} taken out", queue.inserted, queue.removed);
                self.report.fail(op, message);
            }
        }
    }
}
