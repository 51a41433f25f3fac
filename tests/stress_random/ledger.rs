//! The ledger: what was made, and what became of it. One `Ledger` per seed, shared by the loop
//! thread and the remote thread. Everything the workload makes is entered in a book — tasks
//! (`ledger/tasks.rs`), callbacks (`ledger/callbacks.rs`), queue items and queues
//! (`ledger/items.rs`) — and every future, closure, output and item carries a `Token` that
//! reports its drop here. Each event is checked against its book as it is reported; `audit`
//! checks, at the end of a round or after the runtime is dropped, what must have happened by
//! then, and retires the round's entries.
//!
//! This file holds the ledger itself, its tokens, the violation report and the time checks.

mod callbacks;
mod items;
mod stats;
mod tasks;

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use callbacks::CallbackKind;
pub use items::Item;
pub use stats::Stats;
pub use tasks::{Outcome, Output, WaitKind};

use crate::MAX_MESSAGES;
use crate::harness::lock;
use callbacks::CallbackBook;
use items::{ItemBook, QueueBook};
use tasks::TaskBook;

pub struct Ledger {
    books: Mutex<Books>,
    /// The operation the driver is at: the seed's progress, and a time stamp for messages.
    pub op: Arc<AtomicU64>,
    /// Set just before the runtime is dropped: from then on, tasks end cancelled and
    /// callbacks may be dropped unrun.
    pub shutting_down: AtomicBool,
}

#[derive(Default)]
struct Books {
    tokens: Tally<TokenBook>,
    tasks: Tally<TaskBook>,
    callbacks: Tally<CallbackBook>,
    items: Tally<ItemBook>,
    queues: Tally<QueueBook>,
    report: Report,
    stats: Stats,
    /// Orders waits, to find the longest-waiting (the first woken) waiter of a queue.
    wait_seq: u64,
    /// Tasks waiting to get from, and to put into, each queue.
    waiting: HashMap<usize, (usize, usize)>,
    /// Workers cancelled (not from the remote thread) whose future is not dropped yet.
    cancelled_alive: BTreeSet<usize>,
}

/// Violations: all counted, the first few described.
#[derive(Default)]
struct Report {
    count: u64,
    messages: Vec<String>,
}

impl Report {
    fn fail(&mut self, op: u64, message: String) {
        self.count += 1;
        if self.messages.len() < MAX_MESSAGES {
            self.messages.push(format!("[op {op}] {message}"));
        }
    }

    /// The violations reported since the last call, if any, and a clean slate.
    fn take(&mut self) -> Result<(), String> {
        if self.count == 0 {
            return Ok(());
        }
        let mut text = format!("{} violation(s):", self.count);
        for message in self.messages.drain(..) {
            let _ = write!(text, "\n  {message}");
        }
        self.count = 0;
        Err(text)
    }
}

/// Entries numbered from `base`; entries of rounds already audited are retired.
struct Tally<T> {
    base: usize,
    entries: Vec<T>,
}

impl<T> Default for Tally<T> {
    fn default() -> Tally<T> {
        Tally { base: 0, entries: Vec::new() }
    }
}

impl<T> Tally<T> {
    fn add(&mut self, entry: T) -> usize {
        self.entries.push(entry);
        self.base + self.entries.len() - 1
    }

    fn get(&mut self, id: usize) -> Option<&mut T> {
        self.entries.get_mut(id.checked_sub(self.base)?)
    }

    fn iter(&self) -> impl Iterator<Item = (usize, &T)> {
        self.entries.iter().enumerate().map(|(i, entry)| (self.base + i, entry))
    }

    fn total(&self) -> usize {
        self.base + self.entries.len()
    }

    fn retire(&mut self) {
        self.base += self.entries.len();
        self.entries.clear();
    }
}

struct TokenBook {
    what: &'static str,
    of: usize,
    op: u64,
    drops: u32,
}

impl TokenBook {
    fn describe(&self) -> String {
        format!("{} #{} (made at op {})", self.what, self.of, self.op)
    }
}

/// Reports its drop to the ledger; carried by every future, closure and queue item.
pub struct Token {
    ledger: Arc<Ledger>,
    id: usize,
}

impl Token {
    /// A token counted under the task it belongs to.
    pub fn for_task(ledger: &Arc<Ledger>, task: usize) -> Token {
        ledger.token("task future", task)
    }
}

impl Drop for Token {
    fn drop(&mut self) {
        self.ledger.token_dropped(self.id);
    }
}

impl Books {
    /// Enters a token in the books (under the lock that enters what it belongs to).
    fn new_token(&mut self, what: &'static str, of: usize, op: u64) -> usize {
        self.tokens.add(TokenBook { what, of, op, drops: 0 })
    }

    fn token_drops(&mut self, id: usize) -> u32 {
        self.tokens.get(id).map_or(1, |token| token.drops)
    }
}

impl Ledger {
    pub fn new(op: Arc<AtomicU64>) -> Ledger {
        Ledger { books: Mutex::new(Books::default()), op, shutting_down: AtomicBool::new(false) }
    }

    /// Runs `f` on the books. `f` must not drop a `Token` (its drop takes the same lock).
    fn with<R>(&self, f: impl FnOnce(&mut Books, u64) -> R) -> R {
        let op = self.op.load(Ordering::Relaxed);
        f(&mut lock(&self.books), op)
    }

    pub fn check(&self, ok: bool, message: impl FnOnce() -> String) {
        if !ok {
            self.with(|books, op| books.report.fail(op, message()));
        }
    }

    /// Counts something the workload exercised.
    pub fn count(&self, f: impl FnOnce(&mut Stats)) {
        self.with(|books, _| f(&mut books.stats));
    }

    pub fn stats(&self) -> Stats {
        self.with(|books, _| books.stats)
    }

    fn shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }

    pub fn token(self: &Arc<Ledger>, what: &'static str, of: usize) -> Token {
        let id = self.with(|books, op| books.new_token(what, of, op));
        Token { ledger: self.clone(), id }
    }

    fn token_dropped(&self, id: usize) {
        self.with(|books, op| match books.tokens.get(id) {
            Some(token) => {
                token.drops += 1;
                if token.drops > 1 {
                    let message = format!("{} dropped {} times", token.describe(), token.drops);
                    books.report.fail(op, message);
                }
            }
            None => books.report.fail(op, format!("token {id} of an audited round dropped late")),
        });
    }

    // Time.

    pub fn not_early(&self, what: &str, start: Instant, wait: Duration) {
        let elapsed = start.elapsed();
        self.check(elapsed >= wait, || format!("{what} of {wait:?} ended after {elapsed:?}"));
    }

    pub fn timed_out(&self, what: &str, start: Instant, limit: Duration) {
        self.count(|stats| stats.timeouts_fired += 1);
        self.not_early(what, start, limit);
    }

    pub fn inner_won(&self) {
        self.count(|stats| stats.inner_won += 1);
    }

    /// Checks everything made since the last audit. `settled`: the round ran to quiescence, so
    /// every task must have ended and every callback run or been cancelled; otherwise (after the
    /// runtime was dropped) only what can be asked of a shutdown. Returns the violations
    /// reported since the last audit, these included, and retires the entries.
    pub fn audit(&self, settled: bool) -> Result<(), String> {
        self.with(|books, op| {
            for (_, token) in books.tokens.iter() {
                if token.drops != 1 {
                    let message = format!("{} was dropped {} times", token.describe(), token.drops);
                    books.report.fail(op, message);
                }
            }
            books.audit_tasks(op, settled);
            books.audit_callbacks(op, settled);
            books.audit_items(op);
            books.tokens.retire();
            books.tasks.retire();
            books.callbacks.retire();
            books.items.retire();
            books.queues.retire();
            books.report.take()
        })
    }
}
