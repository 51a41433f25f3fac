//! Where the driver stops its workload to check what can only be checked at rest:
//!
//! - every hundred operations or so, with the loop idle: no cancelled task is left, and no queue
//!   waiter is forgotten (`check_no_waiter_is_forgotten`);
//! - at the end of a round, with everything run out: the queues drained and done, every handle
//!   resolved, the runtime's metrics back to zero and counting every spawn, the ledger audited
//!   (`end_round`);
//! - after the runtime is dropped in the middle of its work: every handle resolved, every timer
//!   gone, every item free to take, the remote thread's checks done, the ledger audited
//!   (`abandon`).
//!
//! A failure here panics with the seed's label and the checkpoint; a violation booked in the
//! ledger surfaces at the next audit.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

use kettle::Runtime;
use kettle::sync::TryGetError;

use super::{Driver, new_queue};
use crate::SETTLE_LIMIT;
use crate::callbacks::cancel_timer;
use crate::env::Env;
use crate::harness::no_panics_on;
use crate::ledger::{Ledger, Outcome};
use crate::remote::Remote;

/// Fails the seed `label` at checkpoint `at`.
fn fail(label: &str, at: &str, message: String) -> ! {
    panic!("{label}: {at}: {message}")
}

/// Fails the seed `label` at checkpoint `at` if the ledger's audit found violations or a panic
/// was recorded on the seed's threads.
fn audit(ledger: &Ledger, label: &str, at: &str, settled: bool) {
    if let Err(message) = ledger.audit(settled).and_then(|()| no_panics_on(label)) {
        fail(label, at, message);
    }
}

impl Driver {
    /// The current queue and the closed ones not yet forgotten.
    fn all_queues(&self) -> impl Iterator<Item = Env> + '_ {
        let current = std::iter::once((self.queue.clone(), self.qid));
        current.chain(self.old_queues.iter().cloned()).map(|(queue, qid)| self.env_of(queue, qid))
    }

    /// Takes out every item not reserved for a waiting getter.
    fn drain_queues(&self) {
        for env in self.all_queues() {
            while let Ok(item) = env.queue.try_get() {
                drop(env.received(Some(item), "the end-of-round drain"));
            }
        }
    }

    /// Turns the loop until a turn finds nothing to run — no task is woken, so every waiter
    /// notified has had its turn — then checks that every cancelled task is gone, and that every
    /// task still waiting on a queue has reason to: getters wait only on an empty open queue,
    /// putters only on a full one. A lost wake-up would otherwise go unnoticed: the next put or
    /// get, or closing the queue at the end of the round, wakes the forgotten waiter anyway.
    pub(super) fn check_no_waiter_is_forgotten(&self, rt: &Runtime) {
        let deadline = Instant::now() + SETTLE_LIMIT;
        loop {
            let turn = rt.turn(Some(Duration::ZERO));
            if turn.tasks_run + turn.callbacks_run + turn.injected + turn.timers_fired == 0 {
                break;
            }
            if Instant::now() > deadline {
                return self.ledger.check(false, || format!("the loop never went idle: {:?}", rt.metrics()));
            }
        }
        let late = self.ledger.cancelled_alive();
        self.ledger
            .check(late.is_empty(), || format!("tasks {late:?} were cancelled, yet an idle loop kept them"));
        for env in self.all_queues() {
            let (getters, putters) = self.ledger.waiters(env.qid);
            let (len, closed) = (env.queue.len(), env.queue.is_closed());
            let full = env.queue.capacity().is_some_and(|capacity| len >= capacity);
            let what = |who| {
                format!("lost wake-up: {who} wait on queue {} (closed: {closed}, {len} items)", env.qid)
            };
            self.ledger.check(getters == 0 || (len == 0 && !closed), || what(format!("{getters} get(s)")));
            self.ledger.check(putters == 0 || (full && !closed), || what(format!("{putters} put(s)")));
        }
    }

    /// Stops the round: closes the queues, lets every task, timer and callback (and the remote
    /// thread's work) run out, then audits the ledger and the runtime's metrics.
    pub(super) fn end_round(&mut self, rt: &Runtime, round: u64) {
        let at = format!("round {round}");
        if self.rng.percent(50) {
            // Inside the runtime: the callbacks' destructors may spawn.
            let env = self.env();
            rt.block_on(async {
                let count = env.timers.borrow().len();
                for _ in 0..count {
                    cancel_timer(&env, 0, true);
                }
            });
        }
        for env in self.all_queues() {
            env.queue.close();
        }

        // Let everything run out; items left behind are drained by the way, which also lets
        // untimed `join`s finish.
        let (reply_tx, reply_rx) = mpsc::channel();
        self.send(Remote::Settle(reply_tx));
        let deadline = Instant::now() + SETTLE_LIMIT;
        let mut remote_settled = false;
        loop {
            rt.turn(Some(Duration::from_millis(1)));
            self.drain_queues();
            if !remote_settled {
                // What the remote thread pushed before replying is taken in by the next turn.
                remote_settled = reply_rx.try_recv().is_ok();
            } else {
                let m = rt.metrics();
                if m.tasks_alive == 0 && m.timers_pending == 0 && m.callbacks_pending == 0 {
                    break;
                }
            }
            if Instant::now() > deadline {
                let message = format!(
                    "did not settle within {SETTLE_LIMIT:?}: remote thread done: {remote_settled}, {:?}\n{}",
                    rt.metrics(),
                    self.ledger.audit(true).err().unwrap_or_default()
                );
                fail(&self.label, &at, message);
            }
        }

        self.timers.borrow_mut().clear();
        let live = std::mem::take(&mut self.live);
        let ledger = self.ledger.clone();
        rt.block_on(async move {
            for (id, handle) in live {
                let result = kettle::timeout(SETTLE_LIMIT, handle).await;
                ledger.check(result.is_ok(), || format!("task {id} finished but its handle did not resolve"));
                if let Ok(result) = result {
                    ledger.observe(id, Outcome::of(&result), "the end-of-round join");
                }
            }
        });
        for env in self.all_queues() {
            let (len, next) = (env.queue.len(), env.queue.try_get().map(|_| ()));
            self.ledger.check(len == 0 && next == Err(TryGetError::Closed), || {
                format!(
                    "queue {} closed and settled, but holds {len} items and try_get says {next:?}",
                    env.qid
                )
            });
            let joined = rt.block_on(kettle::timeout(Duration::ZERO, env.queue.join()));
            self.ledger
                .check(joined.is_ok(), || format!("queue {}: every item is done, yet join waits", env.qid));
        }

        let m = rt.metrics();
        let (tasks, remote_tasks) = self.ledger.spawned();
        let (tasks, remote_tasks) = (tasks - self.spawned_before.0, remote_tasks - self.spawned_before.1);
        if (m.tasks_alive, m.timers_pending, m.callbacks_pending) != (0, 0, 0)
            || m.tasks_spawned != tasks as u64
            || m.remote_spawns != remote_tasks
        {
            let message = format!(
                "after settling, {m:?}; the ledger spawned {tasks} tasks, {remote_tasks} of them remotely"
            );
            fail(&self.label, &at, message);
        }
        audit(&self.ledger, &self.label, &at, true);

        self.old_queues.clear();
        (self.queue, self.qid) = new_queue(&mut self.rng, &self.ledger);
    }

    /// Drops the runtime with the last burst of work still in flight, then checks that it
    /// dropped everything exactly once, that every handle resolves, and that no reservation was
    /// lost on the way.
    pub(super) fn abandon(mut self, rt: Runtime, remote: thread::JoinHandle<()>) {
        self.ledger.shutting_down.store(true, Ordering::SeqCst);
        drop(rt);

        let waker = Waker::noop();
        let mut cx = Context::from_waker(waker);
        for (id, mut handle) in std::mem::take(&mut self.live) {
            match Pin::new(&mut handle).poll(&mut cx) {
                Poll::Ready(result) => {
                    self.ledger.observe(id, Outcome::of(&result), "a handle after the drop")
                }
                Poll::Pending => {
                    self.ledger.check(false, || format!("task {id}'s handle still pending after the drop"))
                }
            }
        }
        for (callback, timer) in std::mem::take(&mut *self.timers.borrow_mut()) {
            let (pending, cancelled) = (timer.is_pending(), timer.cancel());
            self.ledger.check(!pending && !cancelled, || {
                format!("callback {callback}'s timer: pending {pending}, cancel {cancelled} after the drop")
            });
        }
        // Every waiter is gone, so every buffered item is free to take.
        self.drain_queues();
        for env in self.all_queues() {
            let len = env.queue.len();
            self.ledger.check(len == 0, || format!("queue {}: {len} items stuck after the drop", env.qid));
        }
        let Driver { remote: remote_tx, queue, old_queues, label, ledger, .. } = self;
        drop((queue, old_queues, remote_tx));
        if let Err(panic) = remote.join() {
            std::panic::resume_unwind(panic);
        }
        audit(&ledger, &label, "after dropping the runtime", false);
    }
}
