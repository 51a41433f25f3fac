//! What a spawned task does: a small random program of steps — yields, sleeps, timeouts that
//! may or may not fire, gets and puts (plain, under a timeout, raced), queue joins, children,
//! values from the remote thread, other tasks' handles — each booked in the ledger. The task's
//! future carries a token, a destructor that may act on the runtime, and an item per put; it is
//! marked as running while polled or dropped, so that a task that cancels itself is told from
//! one cancelled by another.

use std::cell::Cell;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use kettle::sync::{Closed, oneshot};
use kettle::{Elapsed, JoinHandle, yield_now};

use crate::callbacks::{DropAction, OnDrop};
use crate::env::Env;
use crate::ledger::{Item, Ledger, Outcome, Output, Token, WaitKind};

/// What a spawned task does, one step after another.
pub enum Step {
    Yield,
    Sleep(Duration),
    /// `timeout(limit, sleep(sleep))`: either may win.
    SleepUnderTimeout {
        limit: Duration,
        sleep: Duration,
    },
    /// `timeout(limit, <ready at once>)`: the inner future must win, even with a zero limit.
    ReadyUnderTimeout {
        limit: Duration,
    },
    /// `get`, perhaps under a timeout; `hold`: keep the item across a yield (and a cancel).
    Get {
        limit: Option<Duration>,
        hold: bool,
    },
    /// `race` of several `get`s: the losers are dropped, perhaps after being woken.
    RaceGets {
        n: usize,
    },
    /// `put` of the task's next item, perhaps under a timeout.
    Put {
        limit: Option<Duration>,
    },
    TryGet,
    TryPut,
    /// `join` on the queue, perhaps under a timeout.
    QueueJoin {
        limit: Option<Duration>,
    },
    /// Spawn a child running `program`; cancel it at once or not; await it or detach it.
    SpawnChild {
        program: Vec<Step>,
        cancel: bool,
        detach: bool,
    },
    /// Receive a value from the remote thread, perhaps under a timeout.
    Receive {
        rx: oneshot::Receiver<Token>,
        limit: Option<Duration>,
    },
    /// Await another task's handle, perhaps under a timeout (which detaches it).
    Await {
        task: usize,
        handle: JoinHandle<Output>,
        limit: Option<Duration>,
    },
}

/// Spawns a task running `program` on the current runtime.
pub fn spawn_worker(
    env: &Env,
    program: Vec<Step>,
    on_drop: Option<DropAction>,
) -> (usize, JoinHandle<Output>) {
    let id = env.ledger.new_task(false);
    let token = Token::for_task(&env.ledger, id);
    let items = program
        .iter()
        .filter(|step| matches!(step, Step::Put { .. } | Step::TryPut))
        .map(|_| env.ledger.new_item(env.qid))
        .collect();
    let on_drop = OnDrop(env.clone(), on_drop);
    let inner = Some(Box::pin(worker(env.clone(), id, (token, on_drop), program, items)));
    (id, kettle::spawn(Running { task: id, ledger: env.ledger.clone(), inner }))
}

thread_local! {
    /// The task whose future is being polled or dropped on this thread, if it is a worker.
    static RUNNING: Cell<Option<usize>> = const { Cell::new(None) };
}

/// The worker whose future is being polled or dropped on this thread, if any.
pub fn running() -> Option<usize> {
    RUNNING.get()
}

/// A worker's future, marked as `RUNNING` while it is polled or dropped, so that a task
/// cancelling itself (from its own code or a destructor) is told from one cancelled by another.
struct Running<F> {
    task: usize,
    ledger: Arc<Ledger>,
    inner: Option<Pin<Box<F>>>,
}

impl<F: Future> Future for Running<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let previous = RUNNING.replace(Some(self.task));
        let inner = self.inner.as_mut().expect("polled after completion");
        let out = inner.as_mut().poll(cx);
        RUNNING.set(previous);
        out
    }
}

impl<F> Drop for Running<F> {
    fn drop(&mut self) {
        let previous = RUNNING.replace(Some(self.task));
        drop(self.inner.take());
        RUNNING.set(previous);
        self.ledger.dropped(self.task);
    }
}

/// `future`, under a timeout of `limit` if there is one.
async fn limited<F: Future>(limit: Option<Duration>, future: F) -> Result<F::Output, Elapsed> {
    match limit {
        None => Ok(future.await),
        Some(limit) => kettle::timeout(limit, future).await,
    }
}

async fn worker(
    env: Env,
    id: usize,
    guards: (Token, OnDrop),
    program: Vec<Step>,
    mut items: VecDeque<Item>,
) -> Output {
    let _guards = guards;
    let ledger = &env.ledger;
    ledger.started(id);
    for step in program {
        match step {
            Step::Yield => yield_now().await,
            Step::Sleep(duration) => {
                let start = Instant::now();
                kettle::sleep(duration).await;
                ledger.not_early("a sleep", start, duration);
            }
            Step::SleepUnderTimeout { limit, sleep } => {
                let start = Instant::now();
                match kettle::timeout(limit, kettle::sleep(sleep)).await {
                    Ok(()) => {
                        ledger.inner_won();
                        ledger.not_early("a sleep under a timeout", start, sleep);
                    }
                    Err(_) => ledger.timed_out("a timeout around a sleep", start, limit),
                }
            }
            Step::ReadyUnderTimeout { limit } => {
                let won = kettle::timeout(limit, async { id }).await;
                ledger.check(won == Ok(id), || {
                    format!("a future ready at once lost to a timeout of {limit:?}")
                });
                ledger.inner_won();
            }
            Step::Get { limit, hold } => {
                ledger.set_wait(id, Some((WaitKind::Get, env.qid)));
                let start = Instant::now();
                let got = limited(limit, env.queue.get()).await;
                ledger.set_wait(id, None);
                match got {
                    Ok(got) => {
                        let item = env.received(got, "a get");
                        if hold && item.is_some() {
                            yield_now().await; // the item may be dropped here, by a cancel
                        }
                    }
                    Err(_) => ledger.timed_out("a timeout around a get", start, limit.unwrap_or_default()),
                }
            }
            Step::RaceGets { n } => {
                ledger.set_wait(id, Some((WaitKind::Get, env.qid)));
                let (_, got) = kettle::race((0..n).map(|_| env.queue.get())).await;
                ledger.set_wait(id, None);
                env.received(got, "a race of gets");
            }
            Step::Put { limit } => {
                let item = items.pop_front().expect("an item for each put");
                let item_id = item.id;
                ledger.set_wait(id, Some((WaitKind::Put, env.qid)));
                let start = Instant::now();
                let result = limited(limit, env.queue.put(item)).await;
                ledger.set_wait(id, None);
                match result {
                    Ok(Ok(())) => ledger.inserted(env.qid, item_id),
                    Ok(Err(Closed(item))) => {
                        ledger.check(env.queue.is_closed(), || "a put failed on an open queue".to_owned());
                        ledger
                            .check(item.id == item_id, || "a failed put handed back another item".to_owned());
                        ledger.returned(item.id);
                    }
                    Err(_) => {
                        ledger.timed_out("a timeout around a put", start, limit.unwrap_or_default());
                        ledger.abandoned(item_id);
                    }
                }
            }
            Step::TryGet => env.try_get("a task's try_get"),
            Step::TryPut => {
                let item = items.pop_front().expect("an item for each try_put");
                env.try_put(item);
            }
            Step::QueueJoin { limit } => {
                let start = Instant::now();
                if limited(limit, env.queue.join()).await.is_err() {
                    ledger.timed_out("a timeout around a queue join", start, limit.unwrap_or_default());
                }
            }
            Step::SpawnChild { program, cancel, detach } => {
                let (child, handle) = spawn_worker(&env, program, None);
                if cancel {
                    ledger.cancel(child, &handle);
                }
                if detach {
                    drop(handle);
                } else {
                    let result = handle.await;
                    ledger.observe(child, Outcome::of(&result), "its parent");
                }
            }
            Step::Receive { rx, limit } => {
                let start = Instant::now();
                match limited(limit, rx).await {
                    Ok(value) => drop(value.expect("the remote thread sends before it drops the sender")),
                    Err(_) => {
                        ledger.timed_out("a timeout around a oneshot", start, limit.unwrap_or_default())
                    }
                }
            }
            Step::Await { task, mut handle, limit } => {
                if let Ok(result) = limited(limit, &mut handle).await {
                    ledger.observe(task, Outcome::of(&result), "a joiner task");
                }
            }
        }
    }
    ledger.finished(id);
    Output::new(ledger, id)
}
