//! The driver: runs a seed's operations on the loop thread, one runtime at a time. It draws each
//! operation from the mix, with everything the operation needs — a task's program, a callback's
//! action, a destructor — and performs it: spawning, cancelling, joining and detaching tasks,
//! scheduling and cancelling callbacks, queue traffic, waking a queue waiter and cancelling it,
//! and commands to the remote thread. Every operation draws the same random numbers whatever
//! the runtime's state, so that a seed replays its workload. Where the driver stops to audit is
//! in `driver/checkpoints.rs`.

mod checkpoints;

use std::sync::atomic::Ordering;
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use kettle::sync::{Queue, oneshot};
use kettle::{JoinHandle, Runtime, yield_now};

use crate::callbacks::{CallbackAction, DropAction, add_done_callback, cancel_timer, schedule};
use crate::env::{Env, Timers};
use crate::harness::remote_thread_name;
use crate::ledger::{CallbackKind, Item, Ledger, Outcome, Output, Token, WaitKind};
use crate::mix::{Mix, Op, StepKind};
use crate::remote::{Fate, Remote, remote_thread};
use crate::rng::Rng;
use crate::worker::{Step, spawn_worker};
use crate::{IDLE_CHECK_OPS, MAX_LIVE, ROUND_OPS};

/// One runtime: `round_ops` operations in audited rounds, then `last_ops` more left running when
/// it is dropped. Returns the generator's final state.
pub fn run_runtime(
    label: &str,
    ledger: &Arc<Ledger>,
    seed: u64,
    mix: Mix,
    round_ops: u64,
    last_ops: u64,
) -> u64 {
    ledger.shutting_down.store(false, Ordering::SeqCst);
    let rt = Runtime::new().expect("a runtime");
    let (remote_tx, remote_rx) = mpsc::channel();
    let remote = thread::Builder::new()
        .name(remote_thread_name(label))
        .spawn({
            let (handle, ledger) = (rt.handle(), ledger.clone());
            move || remote_thread(&handle, &ledger, remote_rx)
        })
        .expect("spawn the remote thread");
    let mut driver = Driver::new(label, seed, mix, ledger.clone(), remote_tx);
    let mut left = round_ops;
    let mut round = 0;
    while left > 0 {
        let n = left.min(ROUND_OPS);
        left -= n;
        round += 1;
        let mut in_round = n;
        while in_round > 0 {
            let chunk = (1 + driver.rng.below(2 * IDLE_CHECK_OPS)).min(in_round);
            in_round -= chunk;
            rt.block_on(driver.run_ops(chunk));
            driver.check_no_waiter_is_forgotten(&rt);
        }
        driver.end_round(&rt, round);
    }
    driver.last_burst = true;
    rt.block_on(driver.run_ops(last_ops));
    let draws = driver.rng.0;
    driver.abandon(rt, remote);
    draws
}

struct Driver {
    label: String,
    rng: Rng,
    mix: Mix,
    ledger: Arc<Ledger>,
    queue: Queue<Item>,
    qid: usize,
    /// Closed queues, drained at the end of the round.
    old_queues: Vec<(Queue<Item>, usize)>,
    live: Vec<(usize, JoinHandle<Output>)>,
    timers: Timers,
    remote: mpsc::Sender<Remote>,
    op: u64,
    /// Tasks in the ledger, and remote ones, made before this runtime: its metrics count the rest.
    spawned_before: (usize, u64),
    /// In the last burst, the one left running for the runtime's destructor, more tasks get a
    /// destructor that spawns.
    last_burst: bool,
}

/// A fresh queue: bounded with room for one to three items, or (a quarter of the time)
/// unbounded.
fn new_queue(rng: &mut Rng, ledger: &Ledger) -> (Queue<Item>, usize) {
    let capacity = rng.below(4) as usize;
    let queue = if capacity == 0 { Queue::new() } else { Queue::bounded(capacity) };
    (queue, ledger.new_queue())
}

impl Driver {
    fn new(label: &str, seed: u64, mix: Mix, ledger: Arc<Ledger>, remote: mpsc::Sender<Remote>) -> Driver {
        let mut rng = Rng(seed);
        let (queue, qid) = new_queue(&mut rng, &ledger);
        let spawned_before = ledger.spawned();
        let op = ledger.op.load(Ordering::Relaxed); // runtimes of one seed number on
        Driver {
            label: label.to_owned(),
            rng,
            mix,
            ledger,
            queue,
            qid,
            old_queues: Vec::new(),
            live: Vec::new(),
            timers: Timers::default(),
            remote,
            op,
            spawned_before,
            last_burst: false,
        }
    }

    /// What tasks and callbacks spawned now act on: the current queue.
    fn env(&self) -> Env {
        self.env_of(self.queue.clone(), self.qid)
    }

    fn env_of(&self, queue: Queue<Item>, qid: usize) -> Env {
        Env { ledger: self.ledger.clone(), queue, qid, timers: self.timers.clone() }
    }

    fn send(&self, command: Remote) {
        self.remote.send(command).expect("the remote thread runs until the driver is done");
    }

    /// Spawns a task whose whole program is `step`.
    fn spawn_step(&self, step: Step) -> (usize, JoinHandle<Output>) {
        spawn_worker(&self.env(), vec![step], None)
    }

    async fn run_ops(&mut self, count: u64) {
        for _ in 0..count {
            self.op += 1;
            self.ledger.op.store(self.op, Ordering::Relaxed);
            let op = self.rng.weighted(self.mix.ops);
            self.run_op(op).await;
        }
    }

    /// One operation. Every branch draws the same random numbers whatever the runtime's state,
    /// so that a seed always draws the same sequence of operations.
    async fn run_op(&mut self, op: Op) {
        match op {
            Op::Spawn => {
                let program = self.program(0);
                let callbacks = self.rng.below(3);
                let cancel_now = self.rng.percent(10);
                let on_drop = self.drop_action();
                let (id, handle) = spawn_worker(&self.env(), program, on_drop);
                for _ in 0..callbacks {
                    let on_drop = self.drop_action();
                    add_done_callback(&self.env(), id, &handle, on_drop);
                }
                if cancel_now {
                    self.ledger.cancel(id, &handle);
                }
                self.live.push((id, handle));
                if self.live.len() > MAX_LIVE {
                    let (task, handle) = self.live.swap_remove(0);
                    drop(self.spawn_step(Step::Await { task, handle, limit: None })); // detached
                }
            }
            Op::Cancel => {
                if let Some(i) = self.rng.pick(self.live.len()) {
                    let (id, handle) = &self.live[i];
                    self.ledger.cancel(*id, handle);
                }
            }
            Op::AddDoneCallback => {
                let on_drop = self.drop_action();
                if let Some(i) = self.rng.pick(self.live.len()) {
                    let (id, handle) = &self.live[i];
                    add_done_callback(&self.env(), *id, handle, on_drop);
                }
            }
            Op::JoinHere => {
                let limit = if self.rng.percent(80) { Duration::ZERO } else { self.rng.short() / 3 };
                if let Some(i) = self.rng.pick(self.live.len()) {
                    let (id, mut handle) = self.live.swap_remove(i);
                    match kettle::timeout(limit, &mut handle).await {
                        Ok(result) => self.ledger.observe(id, Outcome::of(&result), "the driver"),
                        Err(_) => self.live.push((id, handle)),
                    }
                }
            }
            Op::HandToJoiner => {
                let limit = self.rng.maybe_limit();
                if let Some(i) = self.rng.pick(self.live.len()) {
                    let (task, handle) = self.live.swap_remove(i);
                    let joiner = self.spawn_step(Step::Await { task, handle, limit });
                    self.live.push(joiner);
                }
            }
            Op::Detach => {
                if let Some(i) = self.rng.pick(self.live.len()) {
                    drop(self.live.swap_remove(i));
                }
            }
            Op::CallLater | Op::CallSoon => {
                let delay = self.rng.short();
                let action = self.callback_action();
                let on_drop = self.drop_action();
                schedule(&self.env(), (op == Op::CallLater).then_some(delay), action, on_drop);
            }
            Op::CancelTimer => {
                let forget = self.rng.percent(50);
                let pick = self.rng.next();
                cancel_timer(&self.env(), pick, forget);
            }
            Op::TryPut => {
                let item = self.ledger.new_item(self.qid);
                self.env().try_put(item);
            }
            Op::TryGet => self.env().try_get("the driver's try_get"),
            Op::WakeThenCancel => {
                // Wake the first getter (an item arrives) or the first putter (a slot frees up),
                // then cancel it before it runs: its reservation must pass on, nothing lost.
                let wake_getter = self.rng.percent(50);
                let env = self.env();
                let woke = if wake_getter {
                    env.try_put(self.ledger.new_item(self.qid))
                } else if let Ok(item) = env.queue.try_get() {
                    drop(env.received(Some(item), "the driver's try_get"));
                    true
                } else {
                    false
                };
                let kind = if wake_getter { WaitKind::Get } else { WaitKind::Put };
                if woke && let Some(i) = self.ledger.longest_waiting(&self.live, kind, self.qid) {
                    let (id, handle) = &self.live[i];
                    self.ledger.cancel(*id, handle);
                    self.ledger.count(|stats| stats.woken_then_cancelled += 1);
                }
            }
            Op::SpawnQueueJoin => {
                let limit = self.rng.maybe_limit();
                let joiner = self.spawn_step(Step::QueueJoin { limit });
                self.live.push(joiner);
            }
            Op::ReplaceQueue => {
                self.queue.close();
                self.ledger.count(|stats| stats.queues_closed += 1);
                let (queue, qid) = new_queue(&mut self.rng, &self.ledger);
                let old = (std::mem::replace(&mut self.queue, queue), std::mem::replace(&mut self.qid, qid));
                self.old_queues.push(old);
            }
            Op::RemoteSpawn => {
                let nap = self.rng.short();
                let yields = self.rng.below(3) as u32;
                let with = self.rng.percent(50);
                let cancel_now = self.rng.percent(10);
                let carry = self.rng.percent(30);
                let fate = [Fate::Drop, Fate::Rebind, Fate::Keep][self.rng.below(3) as usize];
                let task = self.ledger.new_task(true);
                let token = Token::for_task(&self.ledger, task);
                self.send(Remote::Spawn { task, token, nap, yields, with, cancel_now, carry, fate });
            }
            Op::RemoteSend => {
                let limit = self.rng.maybe_limit();
                let (tx, rx) = oneshot::channel();
                let (id, handle) = self.spawn_step(Step::Receive { rx, limit });
                let token = self.ledger.token("value sent from the remote thread", id);
                self.live.push((id, handle));
                self.send(Remote::Send { tx, token });
            }
            Op::HandToRemote => {
                let cancel = self.rng.percent(30);
                if let Some(i) = self.rng.pick(self.live.len()) {
                    let (task, handle) = self.live.swap_remove(i);
                    self.send(Remote::Adopt { task, handle, cancel });
                }
            }
            Op::RemoteCallSoon => {
                let (callback, token) = self.ledger.new_callback(CallbackKind::Remote, None);
                self.send(Remote::CallSoon { callback, token });
            }
            Op::RemoteCancel => {
                let pick = self.rng.next();
                self.send(Remote::Cancel { pick });
            }
            Op::RemoteWait => {
                let pick = self.rng.next();
                self.send(Remote::Wait { pick });
            }
            Op::Yield => yield_now().await,
            Op::Sleep => {
                let duration = Duration::from_micros(self.rng.below(500));
                let start = Instant::now();
                kettle::sleep(duration).await;
                self.ledger.not_early("the driver's sleep", start, duration);
            }
        }
    }

    /// A random program of one to four steps; children (`depth` 1) get simple ones.
    fn program(&mut self, depth: u32) -> Vec<Step> {
        let len = 1 + self.rng.below(4);
        (0..len).map(|_| self.step(depth)).collect()
    }

    fn step(&mut self, depth: u32) -> Step {
        let kind = self.rng.weighted(self.mix.steps);
        match kind {
            StepKind::Yield => Step::Yield,
            StepKind::Sleep => Step::Sleep(self.rng.short()),
            StepKind::SleepUnderTimeout => {
                Step::SleepUnderTimeout { limit: self.rng.short(), sleep: self.rng.short() }
            }
            StepKind::ReadyUnderTimeout => Step::ReadyUnderTimeout { limit: self.rng.short() },
            StepKind::Get => Step::Get { limit: self.rng.maybe_limit(), hold: self.rng.percent(25) },
            StepKind::RaceGets => Step::RaceGets { n: 2 + self.rng.below(2) as usize },
            StepKind::Put => Step::Put { limit: self.rng.maybe_limit() },
            StepKind::TryGet => Step::TryGet,
            StepKind::TryPut => Step::TryPut,
            StepKind::QueueJoin => Step::QueueJoin { limit: self.rng.maybe_limit() },
            StepKind::SpawnChild if depth == 0 => Step::SpawnChild {
                program: self.program(1),
                cancel: self.rng.percent(30),
                detach: self.rng.percent(20),
            },
            StepKind::SpawnChild => Step::Sleep(self.rng.short()),
        }
    }

    fn simple_step(&mut self) -> Step {
        if self.rng.percent(50) { Step::Yield } else { Step::Sleep(self.rng.short()) }
    }

    fn callback_action(&mut self) -> CallbackAction {
        let choice = self.rng.below(6);
        let program = vec![self.simple_step()];
        let (pick, delay) = (self.rng.next(), self.rng.short());
        match choice {
            0 => CallbackAction::TryGet,
            1 => CallbackAction::Spawn(program),
            2 => CallbackAction::CancelTimer(pick),
            3 => CallbackAction::Chain(delay),
            _ => CallbackAction::Nothing,
        }
    }

    /// A destructor for a new task's future or callback: one in four gets one that acts on the
    /// runtime, and in the last burst six in sixteen more get one that spawns.
    fn drop_action(&mut self) -> Option<DropAction> {
        let choice = self.rng.below(16);
        let programs = (0..1 + self.rng.below(3)).map(|_| vec![self.simple_step()]).collect();
        let done_callbacks = self.rng.percent(70);
        let pick = self.rng.next();
        let target = self.rng.pick(self.live.len());
        match choice {
            0 => Some(DropAction::Spawn(programs, done_callbacks)),
            1 => Some(DropAction::CallSoon),
            2 => target.map(|i| {
                let (task, handle) = self.live.swap_remove(i);
                DropAction::Cancel(task, handle)
            }),
            3 => Some(DropAction::CancelTimer(pick)),
            4..10 if self.last_burst => Some(DropAction::Spawn(programs, done_callbacks)),
            _ => None,
        }
    }
}
