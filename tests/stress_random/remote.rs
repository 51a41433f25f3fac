//! The other thread: through the loop's `Handle` it spawns (`spawn` and `spawn_with`), cancels,
//! waits, calls and sends on the driver's command; it awaits the loop's own join handles inside
//! a runtime of its own; and it moves long sleeps back and forth between the two runtimes, each
//! of which must keep no timer of a sleep that left it. Once the driver drops the loop's runtime
//! and hangs up, it checks that every handle it holds resolves and that the `Handle` refuses new
//! work.

use std::rc::Rc;
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use kettle::sync::oneshot;
use kettle::{Handle, JoinError, JoinHandle, RemoteJoinHandle, Runtime, yield_now};

use crate::SETTLE_LIMIT;
use crate::harness::track_progress;
use crate::ledger::{CallbackKind, Ledger, Outcome, Output, Token};
use crate::rng::index;

/// Long enough never to end during a test: such a sleep's timer must go wherever it goes.
const FOREVER: Duration = Duration::from_secs(3_600);

/// What the driver asks of the remote thread.
pub enum Remote {
    Spawn {
        task: usize,
        token: Token,
        nap: Duration,
        yields: u32,
        with: bool,
        cancel_now: bool,
        carry: bool,
        fate: Fate,
    },
    CallSoon {
        callback: usize,
        token: Token,
    },
    /// Send `token` to a task waiting on the loop.
    Send {
        tx: oneshot::Sender<Token>,
        token: Token,
    },
    /// A local task's join handle, to await from the remote thread's runtime, cancelled first
    /// or not.
    Adopt {
        task: usize,
        handle: JoinHandle<Output>,
        cancel: bool,
    },
    Cancel {
        pick: u64,
    },
    Wait {
        pick: u64,
    },
    /// Wait for every task spawned so far, then reply.
    Settle(mpsc::Sender<()>),
}

/// What the remote thread does with a long sleep that a task hands back, bound to the loop's
/// runtime: drop it here, bind it to its own runtime, or keep it for a later task to carry.
#[derive(Clone, Copy)]
pub enum Fate {
    Drop,
    Rebind,
    Keep,
}

/// A remote task's value, and the long sleep it carried, if any.
type Carried = (Output, Option<kettle::Sleep>);

/// `nap` was made on the remote thread at `made`; `carried`, if any, is bound to this runtime
/// (its timer taken from wherever it was) and handed back.
async fn remote_body(
    ledger: Arc<Ledger>,
    task: usize,
    token: Token,
    (nap, made, nap_len): (kettle::Sleep, Instant, Duration),
    yields: u32,
    mut carried: Option<kettle::Sleep>,
) -> Carried {
    let _token = token;
    ledger.started(task);
    for _ in 0..yields {
        yield_now().await;
    }
    nap.await;
    ledger.not_early("a sleep made on the remote thread", made, nap_len);
    if let Some(sleep) = &mut carried {
        bind_here(&ledger, sleep).await;
    }
    ledger.finished(task);
    (Output::new(&ledger, task), carried)
}

/// Polls a long sleep once in the current runtime, which binds its timer here (taking it from
/// wherever it was); it must not end.
async fn bind_here(ledger: &Ledger, sleep: &mut kettle::Sleep) {
    let bound = kettle::timeout(Duration::ZERO, sleep).await;
    ledger.check(bound.is_err(), || "a sleep of an hour ended at once".to_owned());
}

struct RemoteSide<'a> {
    handle: &'a Handle,
    ledger: &'a Arc<Ledger>,
    /// The remote thread's own runtime, which long sleeps visit.
    own: Runtime,
    tasks: Vec<(usize, Fate, RemoteJoinHandle<Carried>)>,
    /// Handles of the loop's own tasks, awaited here inside `own`.
    adopted: Vec<(usize, JoinHandle<Output>)>,
    /// Long sleeps bound to one runtime or the other, waiting for a task to carry them.
    sleeps: Vec<kettle::Sleep>,
}

/// Runs the driver's remote commands until the driver hangs up (after dropping the runtime),
/// then checks that the dead runtime's handles all resolve and that the `Handle` refuses work.
pub fn remote_thread(handle: &Handle, ledger: &Arc<Ledger>, commands: mpsc::Receiver<Remote>) {
    track_progress(ledger.op.clone());
    let own = Runtime::new().expect("a runtime for the remote thread");
    let mut remote =
        RemoteSide { handle, ledger, own, tasks: Vec::new(), adopted: Vec::new(), sleeps: Vec::new() };
    for command in commands {
        remote.run(command);
    }
    remote.finish();
}

impl RemoteSide<'_> {
    fn run(&mut self, command: Remote) {
        let ledger = self.ledger;
        match command {
            Remote::Spawn { task, token, nap, yields, with, cancel_now, carry, fate } => {
                let made = Instant::now(); // before the sleep counts from
                let nap = (kettle::sleep(nap), made, nap);
                let carried = carry.then(|| self.sleeps.pop().unwrap_or_else(|| kettle::sleep(FOREVER)));
                let body = remote_body(ledger.clone(), task, token, nap, yields, carried);
                let join = if with {
                    self.handle.spawn_with(move || {
                        let not_send = Rc::new(()); // built on the loop thread
                        async move {
                            let _not_send = not_send;
                            body.await
                        }
                    })
                } else {
                    self.handle.spawn(body)
                };
                if cancel_now {
                    ledger.cancel_remote(task);
                    join.cancel();
                }
                self.tasks.push((task, fate, join));
            }
            Remote::CallSoon { callback, token } => {
                self.call_soon(callback, token);
            }
            Remote::Send { tx, token } => drop(tx.send(token)), // or back here, dropped
            Remote::Adopt { task, handle, cancel } => {
                if cancel {
                    ledger.cancel_remote(task);
                    handle.cancel();
                }
                self.adopted.push((task, handle));
            }
            Remote::Cancel { pick } => {
                if !self.tasks.is_empty() {
                    let (task, _, join) = &self.tasks[index(pick, self.tasks.len())];
                    ledger.cancel_remote(*task);
                    join.cancel();
                }
            }
            Remote::Wait { pick } => {
                if !self.tasks.is_empty() {
                    let i = index(pick, self.tasks.len());
                    if let Some(result) = self.tasks[i].2.wait_timeout(Duration::from_micros(200)) {
                        let (task, fate, _) = self.tasks.swap_remove(i);
                        self.observe(task, fate, result);
                    }
                }
                if !self.adopted.is_empty() {
                    let i = index(pick, self.adopted.len());
                    let waited = self
                        .own
                        .block_on(kettle::timeout(Duration::from_micros(200), &mut self.adopted[i].1));
                    if let Ok(result) = waited {
                        ledger.observe(
                            self.adopted.swap_remove(i).0,
                            Outcome::of(&result),
                            "the remote thread",
                        );
                    }
                }
            }
            Remote::Settle(reply) => {
                self.wait_all("not done");
                // Dropped here: timers bound to the loop's runtime are removed through its
                // injector, timers bound to ours at once.
                self.sleeps.clear();
                self.settle_own();
                let _ = reply.send(());
            }
        }
    }

    /// Sends the loop a callback through `Handle::call_soon`; returns whether it was accepted
    /// (a refusal is booked).
    fn call_soon(&self, callback: usize, token: Token) -> bool {
        let in_loop = self.ledger.clone();
        let accepted = self
            .handle
            .call_soon(move || {
                let _token = token;
                in_loop.callback_ran(callback);
            })
            .is_ok();
        if !accepted {
            self.ledger.refused(callback);
        }
        accepted
    }

    fn observe(&mut self, task: usize, fate: Fate, result: Result<Carried, JoinError>) {
        let (outcome, sleep) = match result {
            Ok((output, sleep)) => (Outcome::Value(output.value), sleep),
            Err(error) => (Outcome::of(&Err(error)), None),
        };
        self.ledger.observe(task, outcome, "its remote handle");
        let Some(mut sleep) = sleep else { return };
        self.ledger.count(|stats| stats.sleeps_moved += 1);
        match fate {
            Fate::Drop => drop(sleep),
            Fate::Rebind => {
                self.own.block_on(bind_here(self.ledger, &mut sleep));
                self.sleeps.push(sleep);
            }
            Fate::Keep => self.sleeps.push(sleep),
        }
        if self.sleeps.len() > 16 {
            drop(self.sleeps.remove(0));
        }
    }

    /// Waits for every handle, all within one `SETTLE_LIMIT`.
    fn wait_all(&mut self, problem: &str) {
        let deadline = Instant::now() + SETTLE_LIMIT;
        let late = |what: String| format!("{what}: {problem} within {SETTLE_LIMIT:?}");
        for (task, fate, mut join) in std::mem::take(&mut self.tasks) {
            match join.wait_timeout(deadline.saturating_duration_since(Instant::now())) {
                Some(result) => self.observe(task, fate, result),
                None => self.ledger.check(false, || late(format!("remote task {task}"))),
            }
        }
        for (task, handle) in std::mem::take(&mut self.adopted) {
            match self.own.block_on(kettle::timeout_at(deadline, handle)) {
                Ok(result) => self.ledger.observe(task, Outcome::of(&result), "the remote thread"),
                Err(_) => self.ledger.check(false, || late(format!("adopted task {task}"))),
            }
        }
    }

    /// Lets our runtime take in the removals sent by sleeps that left it, and checks that it
    /// holds no timer any more.
    fn settle_own(&self) {
        let deadline = Instant::now() + SETTLE_LIMIT;
        while self.own.metrics().timers_pending > 0 && Instant::now() < deadline {
            self.own.turn(Some(Duration::from_millis(1)));
        }
        let m = self.own.metrics();
        self.ledger.check(m.timers_pending == 0 && m.tasks_alive == 0, || {
            format!("the remote thread's runtime kept timers of sleeps that left it: {m:?}")
        });
    }

    /// The loop's runtime is gone: what is left resolves, and the handle refuses new work,
    /// dropping it.
    fn finish(mut self) {
        let ledger = self.ledger;
        self.wait_all("its handle hangs after the runtime was dropped");
        self.sleeps.clear();
        self.settle_own();
        ledger.check(self.handle.is_closed(), || "the handle of a dropped runtime is not closed".to_owned());
        let (callback, token) = ledger.new_callback(CallbackKind::Remote, None);
        let accepted = self.call_soon(callback, token);
        ledger.check(!accepted, || "Handle::call_soon accepted work for a dropped runtime".to_owned());
        let task = ledger.new_task(true);
        let nap = (kettle::sleep(Duration::ZERO), Instant::now(), Duration::ZERO);
        let body = remote_body(ledger.clone(), task, Token::for_task(ledger, task), nap, 0, None);
        match self.handle.spawn(body).wait_timeout(SETTLE_LIMIT) {
            Some(result) => {
                ledger.check(matches!(&result, Err(e) if e.is_cancelled()), || {
                    "Handle::spawn on a dropped runtime did not give a cancelled task".to_owned()
                });
                self.observe(task, Fate::Drop, result);
            }
            None => ledger.check(false, || "Handle::spawn on a dropped runtime hangs".to_owned()),
        }
    }
}
