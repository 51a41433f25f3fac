//! The callback books: `call_soon`, `call_later`, `Handle::call_soon` and done callbacks. A
//! callback runs at most once, never before it is due, never after `TimerHandle::cancel` said
//! true or `Handle::call_soon` refused it; a cancel that says true drops the closure, and so does
//! a refusal, which only a dropped runtime may give. Once settled, every callback has run exactly
//! once unless cancelled or refused.

use std::sync::Arc;
use std::time::Instant;

use super::{Books, Ledger, Token};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallbackKind {
    Later,
    Soon,
    Remote,
    Done { task: usize },
}

pub(super) struct CallbackBook {
    op: u64,
    kind: CallbackKind,
    /// Not to run before this.
    due: Option<Instant>,
    token: usize,
    ran: u32,
    /// `TimerHandle::cancel` returned true.
    cancelled: bool,
    /// `Handle::call_soon` returned an error.
    refused: bool,
}

impl CallbackBook {
    fn describe(&self, id: usize) -> String {
        format!("{:?} callback {id} (made at op {})", self.kind, self.op)
    }
}

impl Ledger {
    /// Enters a callback, and makes the token its closure carries.
    pub fn new_callback(self: &Arc<Ledger>, kind: CallbackKind, due: Option<Instant>) -> (usize, Token) {
        let (id, token) = self.with(|books, op| {
            let id = books.callbacks.total();
            let token = books.new_token("callback", id, op);
            books.callbacks.add(CallbackBook {
                op,
                kind,
                due,
                token,
                ran: 0,
                cancelled: false,
                refused: false,
            });
            (id, token)
        });
        (id, Token { ledger: self.clone(), id: token })
    }

    pub fn callback_ran(&self, id: usize) {
        let now = Instant::now();
        self.with(|books, op| {
            let Some(callback) = books.callbacks.get(id) else {
                return books.report.fail(op, format!("callback {id} of an audited round ran late"));
            };
            let what = callback.describe(id);
            callback.ran += 1;
            if callback.ran > 1 {
                books.report.fail(op, format!("{what} ran {} times", callback.ran));
            }
            if callback.cancelled {
                books.report.fail(op, format!("{what} ran though its cancel returned true"));
            }
            if callback.refused {
                books.report.fail(op, format!("{what} ran though call_soon refused it"));
            }
            if let Some(due) = callback.due
                && now < due
            {
                books.report.fail(op, format!("{what} ran {:?} early", due - now));
            }
            match callback.kind {
                CallbackKind::Done { .. } => books.stats.done_callbacks_ran += 1,
                _ => books.stats.callbacks_ran += 1,
            }
        });
    }

    /// `TimerHandle::cancel` returned `was_pending`; `is_pending` said `pending` just before.
    pub fn timer_cancelled(&self, id: usize, was_pending: bool, pending: bool) {
        self.with(|books, op| {
            let Some(callback) = books.callbacks.get(id) else { return };
            let (ran, token, what) = (callback.ran, callback.token, callback.describe(id));
            if was_pending {
                callback.cancelled = true;
                books.stats.timers_cancelled += 1;
            }
            if was_pending != pending {
                let message = format!("{what}: is_pending said {pending}, cancel then said {was_pending}");
                books.report.fail(op, message);
            }
            if was_pending && ran > 0 {
                books.report.fail(op, format!("{what}: cancel returned true after it ran"));
            }
            if was_pending && books.token_drops(token) != 1 {
                books.report.fail(op, format!("{what}: cancel returned true but did not drop the callback"));
            }
        });
    }

    /// `Handle::call_soon` returned an error: the closure must be gone, and the runtime too.
    pub fn refused(&self, id: usize) {
        let shutting_down = self.shutting_down();
        self.with(|books, op| {
            let Some(callback) = books.callbacks.get(id) else { return };
            callback.refused = true;
            let token = callback.token;
            let what = format!("Handle::call_soon refused callback {id}");
            if !shutting_down {
                books.report.fail(op, format!("{what} while the runtime was alive"));
            }
            if books.token_drops(token) != 1 {
                books.report.fail(op, format!("{what} but kept the closure"));
            }
        });
    }
}

impl Books {
    /// Once settled, every callback ran exactly as often as expected; after a drop, at most.
    pub(super) fn audit_callbacks(&mut self, op: u64, settled: bool) {
        for (id, callback) in self.callbacks.iter() {
            let expected_runs = match callback.kind {
                CallbackKind::Later => u32::from(!callback.cancelled),
                CallbackKind::Remote => u32::from(!callback.refused),
                CallbackKind::Soon | CallbackKind::Done { .. } => 1,
            };
            let what = callback.describe(id);
            if settled && callback.ran != expected_runs {
                self.report.fail(op, format!("{what} ran {} times, expected {expected_runs}", callback.ran));
            }
            if !settled && callback.ran > expected_runs {
                let message = format!("{what} ran {} times, at most {expected_runs} expected", callback.ran);
                self.report.fail(op, message);
            }
        }
    }
}
