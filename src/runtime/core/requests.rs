//! What the rest of kettle asks of the loop: spawn a task, queue a
//! callback, insert or remove a timer, add a done callback, submit a
//! blocking job. (Waking a task is the run queue's, `run_queue.rs`;
//! registering an I/O source is the reactor's, `reactor.rs`.)
//!
//! `Core`'s fields are private to `core.rs` and its children (this file,
//! `extras.rs`, `shutdown.rs`, and the four that watch or steer the turn:
//! `inspect.rs`, `watch.rs`, `record.rs`, `replay.rs`); other modules go
//! through methods. Each borrows a field only for the length of the call and
//! lets go before user code runs — a waker woken or dropped, a callback run
//! or dropped, a task freed.

use std::io;
use std::panic::Location;
use std::task::Waker;
use std::time::Instant;

use super::Core;
use crate::contain;
use crate::runtime::blocking_pool::Job;
use crate::task::cell::DoneCallback;
use crate::task::done::DoneBatch;
use crate::task::header::{Header, TaskRef};
use crate::task::id::Id;
use crate::task::notes::Notes;
use crate::time::queue::TimerKey;

/// A callback queued to run on the loop (`call_soon`, a due `call_later`),
/// with where it was registered — what debug mode and a trace report.
pub(crate) struct Callback {
    pub(crate) run: Box<dyn FnOnce()>,
    pub(crate) location: &'static Location<'static>,
}

impl Callback {
    pub(crate) fn new(run: impl FnOnce() + 'static, location: &'static Location<'static>) -> Callback {
        Callback { run: Box::new(run), location }
    }
}

/// What a timer does when it fires: the value the loop's timer queue keeps
/// for each timer, carried out by step 4 (`Core::fire_timers`).
pub(crate) enum Action {
    /// Wake a task (a sleep, timeout or interval).
    Wake(Waker),
    /// Queue a callback (`call_later`, `call_at`).
    Call(Callback),
}

/// How many task ids the loop reserves at once ([`Core::next_task_id`]).
const TASK_ID_BLOCK: u64 = 256;

impl Core {
    // ----- tasks ---------------------------------------------------------------

    /// Spawns `future` as a task of this loop, queued to run next turn.
    /// Returns the join handle's reference (the caller wraps it in a
    /// `JoinHandle`).
    pub(crate) fn spawn<F>(&self, future: F, location: &'static Location<'static>) -> TaskRef
    where
        F: std::future::Future + 'static,
    {
        let (task, join) =
            TaskRef::new_local(future, &self.shared, self.on_loop(), self.next_task_id(), location);
        self.extras.stats.on_spawn();
        self.adopt(task);
        join
    }

    /// A fresh task id for a local spawn.
    ///
    /// The simple version is one `fetch_add` on the shared counter per
    /// spawn; the loop reserves [`TASK_ID_BLOCK`] ids at a time instead, so
    /// a local spawn pays no atomic read-modify-write. Other threads take
    /// theirs one by one (`TaskRef::spawn_remote`); both come from the same
    /// counter, so ids stay unique.
    #[inline]
    pub(crate) fn next_task_id(&self) -> Id {
        let (mut next, mut end) = self.shortcuts.task_ids.get();
        if next == end {
            next = self.shared.take_task_ids(TASK_ID_BLOCK);
            end = next + TASK_ID_BLOCK;
        }
        self.shortcuts.task_ids.set((next + 1, end));
        Id::from_u64(next)
    }

    /// Calls `f` with the notes of the task behind `header` (`task/notes.rs`),
    /// creating them first if `create` and it has none. `f` runs with the
    /// table borrowed, so it must run no user code (it copies, adds, sets).
    ///
    /// The simple version keeps a `Box<Notes>` in every task's header; the
    /// table keeps the header's drop free of it, which an unnamed, untimed
    /// task — nearly every task — would otherwise pay at its free.
    pub(crate) fn with_notes<R>(
        &self,
        header: &Header,
        create: bool,
        f: impl FnOnce(Option<&mut Notes>) -> R,
    ) -> R {
        let mut table = self.extras.notes.borrow_mut();
        let flags = header.flags(self.on_loop());
        let key = match flags.notes_key() {
            None if create => {
                let key = table.insert(Notes::default());
                flags.set_notes_key(Some(key));
                Some(key)
            }
            key => key,
        };
        f(key.map(|key| &mut table[key]))
    }

    /// Adds 2^32 polls to the notes of a task whose 32-bit poll count in its
    /// flags has just wrapped (`LoopFlags::count_poll`).
    #[cold]
    #[inline(never)]
    pub(super) fn carry_polls(&self, header: &Header) {
        self.with_notes(header, true, |notes| notes.expect("created").polls_carried += 1 << 32);
    }

    /// Forgets the notes of a task the loop lets go of for good.
    pub(super) fn drop_notes(&self, header: &Header) {
        let flags = header.flags(self.on_loop());
        if let Some(key) = flags.notes_key() {
            flags.set_notes_key(None);
            let notes = self.extras.notes.borrow_mut().remove(key);
            drop(notes); // a name and numbers: no user code
        }
    }

    /// Puts a task into the slab and queues it for its first run.
    pub(super) fn adopt(&self, task: TaskRef) {
        let mut tasks = self.tasks.borrow_mut();
        let key = tasks.vacant_key();
        task.header().flags(self.on_loop()).adopt(key);
        self.note_spawn(&task);
        tasks.fill(key, task);
        drop(tasks);
        self.run_queue.push_adopted(key);
    }

    /// Registers a done callback (see `task/done.rs`): kept until the task
    /// completes, or queued at once if it already has.
    pub(crate) fn add_done_callback(&self, task: &TaskRef, callback: DoneCallback) {
        let batch = self.extras.done_callbacks.add(self.on_loop(), task, callback);
        if let Some(batch) = batch {
            self.queue_done_batch(batch);
        }
    }

    /// The task just completed: queue its done callbacks, if it has any.
    #[inline]
    pub(super) fn queue_done_callbacks(&self, task: &TaskRef) {
        // Most tasks have none: ask the flags before the table.
        if !task.header().flags(self.on_loop()).has_done_callbacks() {
            return;
        }
        if let Some(batch) = self.extras.done_callbacks.take(self.on_loop(), task) {
            self.queue_done_batch(batch);
        }
    }

    fn queue_done_batch(&self, batch: DoneBatch) {
        let location = batch.location();
        self.call_soon(Callback::new(move || batch.run(), location));
    }

    // ----- blocking jobs -------------------------------------------------------

    /// Hands `job` to this runtime's blocking pool (see `blocking_pool.rs`).
    pub(crate) fn submit_blocking(&self, job: Job) -> io::Result<()> {
        self.extras.blocking.submit(job)
    }

    // ----- callbacks -----------------------------------------------------------

    pub(crate) fn call_soon(&self, callback: Callback) {
        self.callbacks.borrow_mut().push_back(callback);
    }

    // ----- timers --------------------------------------------------------------
    //
    // The queue is private: other modules reach it only through these
    // methods, and each lets go of the borrow before user code runs (a waker
    // woken or dropped, a callback run or dropped).

    /// Adds a timer that does `action` at `deadline`.
    pub(crate) fn insert_timer(&self, deadline: Instant, action: Action) -> TimerKey {
        self.timers.borrow_mut().insert(deadline, action)
    }

    /// Removes `timer` if it is still pending here; returns whether it was.
    /// Its action is dropped once the queue is no longer borrowed, and
    /// contained: a waker's or a callback's destructor is user code.
    pub(crate) fn remove_timer(&self, timer: TimerKey) -> bool {
        let action = self.timers.borrow_mut().remove(timer);
        let was_pending = action.is_some();
        contain::drop_value(action);
        was_pending
    }

    /// Moves the pending timer `timer` to `deadline`, keeping its action
    /// (the waiting task's waker): returns its new key, or `None` if it is
    /// not pending here. No user code runs: the action moves, unread.
    pub(crate) fn move_timer(&self, timer: TimerKey, deadline: Instant) -> Option<TimerKey> {
        let mut timers = self.timers.borrow_mut();
        let action = timers.remove(timer)?;
        let moved = timers.insert(deadline, action);
        drop(timers);
        self.timer_moved(deadline); // for a host loop (`core/host.rs`)
        Some(moved)
    }

    /// Whether `timer` is still pending here.
    pub(crate) fn timer_is_pending(&self, timer: TimerKey) -> bool {
        self.timers.borrow().contains(timer)
    }

    /// Makes the pending wake-up `timer` wake `waker`, unless it would wake
    /// the same task anyway. Returns `false` if `timer` is not pending here
    /// (it fired, was removed, or is another runtime's).
    pub(crate) fn update_timer_waker(&self, timer: TimerKey, waker: &Waker) -> bool {
        let mut timers = self.timers.borrow_mut();
        let Some(Action::Wake(current)) = timers.get_mut(timer) else { return false };
        if current.will_wake(waker) {
            return true; // the common case: the same task polls again
        }
        drop(timers);
        // A waker's clone and drop are user code (another executor's waker):
        // the new one is made, and whichever is left over dropped, with the
        // queue not borrowed. Not contained: this is a sleep's poll, and a
        // panic here is the polling task's, like any other in its poll.
        let new = waker.clone();
        let swapped = match self.timers.borrow_mut().get_mut(timer) {
            Some(Action::Wake(current)) => Ok(std::mem::replace(current, new)),
            _ => Err(new), // gone meanwhile, if the clone touched it
        };
        let still_pending = swapped.is_ok();
        drop(swapped); // the old waker, or the unused new one
        still_pending
    }
}
