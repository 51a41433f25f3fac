//! The task books: what each task's body did (started, finished, where it waits), who cancelled
//! it and when, and what its join handle and done callbacks saw. A task cancelled by another
//! before it finished must never finish, one cancelled before its first poll must never run, one
//! nobody cancelled must finish with its own value, and everyone who looks at a task must see
//! the same outcome. The wait records let the driver find the waiter a put or get has just woken,
//! and check, when the loop is idle, that no waiter was forgotten.

use std::sync::Arc;

use kettle::{JoinError, JoinHandle};

use super::{Books, Ledger, Report, Token};
use crate::worker::running;

/// How a task ended, as a join handle or done callback sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Value(u64),
    Cancelled,
    Panicked,
}

impl Outcome {
    pub fn of(result: &Result<Output, JoinError>) -> Outcome {
        match result {
            Ok(output) => Outcome::Value(output.value),
            Err(error) if error.is_cancelled() => Outcome::Cancelled,
            Err(_) => Outcome::Panicked,
        }
    }
}

/// What a task returns: its number, and a token for the output's drop.
pub struct Output {
    pub value: u64,
    _token: Token,
}

impl Output {
    /// What task `task` returns when its body ends.
    pub fn new(ledger: &Arc<Ledger>, task: usize) -> Output {
        Output { value: task as u64, _token: ledger.token("task output", task) }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitKind {
    Get,
    Put,
}

#[derive(Clone, Copy)]
struct Wait {
    kind: WaitKind,
    queue: usize,
    seq: u64,
}

#[derive(Default)]
pub(super) struct TaskBook {
    op: u64,
    remote: bool,
    /// The body ran its first statement.
    started: bool,
    /// The body ran to its end.
    finished: bool,
    /// Someone called `cancel` (locally or remotely).
    cancel_requested: bool,
    /// `cancel` was called while the handle said the task had not finished.
    cancelled_unfinished: bool,
    /// ... and before its first poll.
    cancelled_unstarted: bool,
    /// `cancel` was called where whether the task will finish is not known: from the remote
    /// thread, or from inside the task's own poll or drop (whose poll then ends normally).
    cancelled_racily: bool,
    /// What a join handle or a done callback saw.
    outcome: Option<Outcome>,
    /// The queue operation it is waiting in, if any.
    wait: Option<Wait>,
    /// Its future was dropped (workers only).
    dropped: bool,
}

impl TaskBook {
    fn describe(&self, id: usize) -> String {
        format!("task {id} (spawned at op {})", self.op)
    }
}

impl Ledger {
    pub fn new_task(&self, remote: bool) -> usize {
        self.with(|books, op| {
            books.stats.tasks += 1;
            books.stats.remote_tasks += u64::from(remote);
            books.tasks.add(TaskBook { op, remote, ..TaskBook::default() })
        })
    }

    /// Tasks in the books so far, and how many of them were spawned remotely.
    pub fn spawned(&self) -> (usize, u64) {
        self.with(|books, _| (books.tasks.total(), books.stats.remote_tasks))
    }

    fn with_task(&self, id: usize, f: impl FnOnce(&mut TaskBook, &mut Report, u64)) {
        self.with(|books, op| match books.tasks.get(id) {
            Some(task) => f(task, &mut books.report, op),
            None => books.report.fail(op, format!("task {id} of an audited round reported late")),
        });
    }

    pub fn started(&self, id: usize) {
        self.with_task(id, |task, report, op| {
            if task.cancelled_unstarted {
                report.fail(op, format!("{} ran though cancelled before its first poll", task.describe(id)));
            }
            task.started = true;
        });
    }

    pub fn finished(&self, id: usize) {
        self.with_task(id, |task, report, op| {
            if task.cancelled_unfinished {
                report.fail(op, format!("{} ran to its end though cancelled before", task.describe(id)));
            }
            task.finished = true;
        });
    }

    /// Records a local `cancel`, classified by what the handle says now, then cancels.
    pub fn cancel(&self, id: usize, handle: &JoinHandle<Output>) {
        let finished = handle.is_finished();
        let itself = running() == Some(id);
        self.with(|books, _| {
            let (Some(task), stats) = (books.tasks.get(id), &mut books.stats) else { return };
            task.cancel_requested = true;
            if itself {
                task.cancelled_racily = true;
            } else if finished {
                stats.cancelled_finished += 1;
            } else {
                task.cancelled_unfinished = true;
                if task.started {
                    stats.cancelled_pending += 1;
                } else {
                    task.cancelled_unstarted = true;
                    stats.cancelled_unstarted += 1;
                }
            }
            if !task.dropped {
                books.cancelled_alive.insert(id);
            }
        });
        handle.cancel();
    }

    /// A worker's future was dropped: it waits for nothing any more.
    pub fn dropped(&self, id: usize) {
        self.set_wait(id, None);
        self.with(|books, _| {
            books.cancelled_alive.remove(&id);
            if let Some(task) = books.tasks.get(id) {
                task.dropped = true;
            }
        });
    }

    /// A few of the tasks cancelled whose future is not dropped yet.
    pub fn cancelled_alive(&self) -> Vec<usize> {
        self.with(|books, _| books.cancelled_alive.iter().take(5).copied().collect())
    }

    /// A cancel from the remote thread: whether the task had finished is racy, so only the
    /// request is recorded.
    pub fn cancel_remote(&self, id: usize) {
        self.with_task(id, |task, _, _| {
            task.cancel_requested = true;
            task.cancelled_racily = true;
        });
    }

    /// What a join handle or done callback saw; checked against what the body did.
    pub fn observe(&self, id: usize, seen: Outcome, by: &str) {
        let shutting_down = self.shutting_down();
        self.with_task(id, |task, report, op| {
            let problem = match (seen, task.outcome) {
                (Outcome::Panicked, _) => Some("panicked".to_owned()),
                (_, Some(before)) if before != seen => Some(format!("was seen {before:?} before")),
                (Outcome::Value(value), _) if value != id as u64 => Some(format!("returned {value}")),
                (Outcome::Value(_), _) if !task.finished => {
                    Some("returned though its body never ended".to_owned())
                }
                (Outcome::Value(_), _) if task.cancelled_unfinished => {
                    Some("returned though cancelled before it finished".to_owned())
                }
                (Outcome::Cancelled, _) if task.finished => {
                    Some("was cancelled after running to its end".to_owned())
                }
                (Outcome::Cancelled, _) if !task.cancel_requested && !shutting_down => {
                    Some("was cancelled though nobody cancelled it".to_owned())
                }
                _ => None,
            };
            if let Some(problem) = problem {
                report.fail(op, format!("{} {problem}, says {by}: {seen:?}", task.describe(id)));
            }
            task.outcome.get_or_insert(seen);
        });
    }

    /// Task `id` now waits in a `kind` operation on `queue`, or (`None`) no longer waits.
    pub fn set_wait(&self, id: usize, wait: Option<(WaitKind, usize)>) {
        self.with(|books, _| {
            let seq = books.wait_seq;
            books.wait_seq += 1;
            let Some(task) = books.tasks.get(id) else { return };
            let new = wait.map(|(kind, queue)| Wait { kind, queue, seq });
            for (wait, up) in [(std::mem::replace(&mut task.wait, new), false), (new, true)] {
                if let Some(Wait { kind, queue, .. }) = wait {
                    let counts = books.waiting.entry(queue).or_default();
                    let count = if kind == WaitKind::Get { &mut counts.0 } else { &mut counts.1 };
                    *count = if up { *count + 1 } else { *count - 1 };
                }
            }
        });
    }

    /// How many tasks wait to get from, and to put into, `queue`.
    pub fn waiters(&self, queue: usize) -> (usize, usize) {
        self.with(|books, _| books.waiting.get(&queue).copied().unwrap_or_default())
    }

    /// Of `candidates`, the one that has waited longest in a `kind` operation on `queue`: the
    /// first in its wait list, so the one a put or get has just woken.
    pub fn longest_waiting(
        &self,
        candidates: &[(usize, JoinHandle<Output>)],
        kind: WaitKind,
        queue: usize,
    ) -> Option<usize> {
        self.with(|books, _| {
            let mut best: Option<(u64, usize)> = None;
            for (index, (id, _)) in candidates.iter().enumerate() {
                let Some(task) = books.tasks.get(*id) else { continue };
                if let Some(wait) = task.wait
                    && wait.kind == kind
                    && wait.queue == queue
                    && !task.cancel_requested
                    && best.is_none_or(|(seq, _)| wait.seq < seq)
                {
                    best = Some((wait.seq, index));
                }
            }
            best.map(|(_, index)| index)
        })
    }
}

impl Books {
    /// No cancelled task ran or finished when it must not have; once settled, every local task
    /// finished unless cancelled, every remote task's handle resolved, and no task is still
    /// marked waiting; every cancelled task's future was dropped.
    pub(super) fn audit_tasks(&mut self, op: u64, settled: bool) {
        for (id, task) in self.tasks.iter() {
            let problem = if task.cancelled_unstarted && task.started {
                "ran though cancelled before its first poll"
            } else if task.cancelled_unfinished && task.finished {
                "finished though cancelled before"
            } else if settled && task.remote && task.outcome.is_none() {
                "is remote and its handle never resolved"
            } else if settled && !task.remote && !task.finished {
                match (task.cancelled_unfinished || task.cancelled_racily, task.started) {
                    (true, _) => continue,
                    (false, true) => "never finished, and nobody cancelled it",
                    (false, false) => "never even started, and nobody cancelled it",
                }
            } else {
                continue;
            };
            self.report.fail(op, format!("{} {problem}", task.describe(id)));
        }
        for (queue, waiting) in &self.waiting {
            if settled && *waiting != (0, 0) {
                self.report.fail(op, format!("queue {queue}: (gets, puts) {waiting:?} still marked waiting"));
            }
        }
        self.waiting.retain(|_, waiting| *waiting != (0, 0));
        if !self.cancelled_alive.is_empty() {
            self.report.fail(op, format!("cancelled tasks {:?} never dropped", self.cancelled_alive));
            self.cancelled_alive.clear();
        }
    }
}
