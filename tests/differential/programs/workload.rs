// The seeded random workload: spawn, cancel, sleep, timeout, call_later and
// its cancel, queue put/get, gates — drawn from a seed, the same on both
// runtimes. Included once per runtime: `rt` is the runtime's crate.
//
// No log line depends on how long anything took: every deadline is either
// already passed when it is first looked at (`sleep_until` of an instant
// taken before the runtime was built: ready at the first poll), or an hour
// away (never reached), or a `call_later` of zero (due at the next turn's
// step 4 whatever the clock says, and all of one turn's in the order they
// were made, since their deadlines follow the clock). Everything runs on the
// loop's thread; there is no I/O.

use crate::workload::{Step, TaskPlan, plan_task};

/// What the driver keeps between its polls.
struct World {
    log: Log,
    rng: Rng,
    reentrant_callbacks: bool,
    past: Instant,
    far: Instant,
    queues: [rt::sync::Queue<u32>; 2],
    gates: Rc<RefCell<Vec<Gate>>>,
    tasks: Vec<(u32, rt::JoinHandle<u32>)>,
    timers: Vec<(u32, rt::TimerHandle)>,
    next_task: u32,
    next_timer: u32,
    next_callback: u32,
}

/// Runs `ops` operations drawn from `seed` and returns the event log.
pub fn workload(seed: u64, ops: u32) -> Vec<String> {
    workload_with(seed, ops, true)
}

/// The same, with `reentrant_callbacks` off: the driver's callbacks then only
/// log, never call back into the loop (a nested `call_soon`, a gate that
/// wakes tasks). The seed draws the same numbers either way.
pub fn workload_with(seed: u64, ops: u32, reentrant_callbacks: bool) -> Vec<String> {
    let log = Log::new();
    let past = Instant::now();
    let rt = rt::Runtime::new().unwrap();
    rt.block_on(async {
        let mut world = World {
            log: log.clone(),
            rng: Rng::new(seed),
            reentrant_callbacks,
            past,
            far: Instant::now() + Duration::from_secs(3600),
            queues: [rt::sync::Queue::bounded(3), rt::sync::Queue::new()],
            gates: Rc::new(RefCell::new(vec![Gate::new()])),
            tasks: Vec::new(),
            timers: Vec::new(),
            next_task: 0,
            next_timer: 0,
            next_callback: 0,
        };
        let mut done = 0;
        while done < ops {
            let batch = 1 + world.rng.below(6) as u32;
            for _ in 0..batch.min(ops - done) {
                world.operate(done).await;
                done += 1;
            }
            yield_once().await;
        }
        world.finish().await;
    });
    let out = log.snapshot();
    drop(rt); // what it drops now (detached tasks still waiting) is not logged
    out
}

impl World {
    async fn operate(&mut self, op: u32) {
        let log = self.log.clone();
        match self.rng.below(100) {
            0..=27 => self.spawn_task(op),
            28..=39 if !self.tasks.is_empty() => {
                let (id, task) = &self.tasks[self.rng.below(self.tasks.len() as u64) as usize];
                let finished = task.is_finished();
                task.cancel();
                log.push(format!("op{op}: cancel t{id} (finished: {finished})"));
            }
            40..=43 if !self.tasks.is_empty() => {
                let (id, task) = self.tasks.swap_remove(self.rng.below(self.tasks.len() as u64) as usize);
                drop(task);
                log.push(format!("op{op}: detach t{id}"));
            }
            44..=51 if !self.tasks.is_empty() => {
                let start = self.rng.below(self.tasks.len() as u64) as usize;
                let n = self.tasks.len();
                let finished = (0..n).map(|i| (start + i) % n).find(|&i| self.tasks[i].1.is_finished());
                match finished {
                    Some(i) => {
                        let (id, task) = self.tasks.swap_remove(i);
                        log.push(format!("op{op}: join t{id}: {}", outcome(task.await)));
                    }
                    None => log.push(format!("op{op}: no finished task to join")),
                }
            }
            52..=61 => {
                let n = self.next_callback;
                self.next_callback += 1;
                let nested = self.rng.chance(30) && self.reentrant_callbacks;
                let gate = self.rng.chance(20).then(|| self.pick_gate()).filter(|_| self.reentrant_callbacks);
                log.push(format!("op{op}: call_soon cb{n}"));
                let l = log.clone();
                rt::call_soon(move || {
                    l.push(format!("cb{n} runs"));
                    if let Some((g, gate)) = gate {
                        l.push(format!("cb{n} opens gate {g}"));
                        gate.open();
                    }
                    if nested {
                        let l2 = l.clone();
                        rt::call_soon(move || l2.push(format!("cb{n}'s own call_soon runs")));
                    }
                });
            }
            62..=71 => {
                let n = self.next_timer;
                self.next_timer += 1;
                let (l, g) = (log.clone(), log.guard(format!("timer{n}'s closure")));
                let handle = rt::call_later(Duration::ZERO, move || {
                    let _g = g;
                    l.push(format!("timer{n} (call_later 0) runs"));
                });
                self.timers.push((n, handle));
                log.push(format!("op{op}: call_later(0) timer{n}"));
            }
            72..=74 => {
                let n = self.next_timer;
                self.next_timer += 1;
                let l = log.clone();
                let handle = rt::call_later(Duration::from_secs(3600), move || {
                    l.push(format!("timer{n} (an hour away) runs, it should not"))
                });
                self.timers.push((n, handle));
                log.push(format!("op{op}: call_later(1h) timer{n}"));
            }
            75..=83 if !self.timers.is_empty() => {
                let (n, handle) = self.timers.swap_remove(self.rng.below(self.timers.len() as u64) as usize);
                log.push(format!("op{op}: cancel timer{n}"));
                let pending = handle.cancel();
                log.push(format!("op{op}: timer{n} was pending: {pending}"));
            }
            84..=86 => {
                self.gates.borrow_mut().push(Gate::new());
                log.push(format!("op{op}: new gate {}", self.gates.borrow().len() - 1));
            }
            87..=89 => {
                let (g, gate) = self.pick_gate();
                log.push(format!("op{op}: open gate {g} (open already: {})", gate.is_open()));
                gate.open();
            }
            90..=94 => {
                let item = 1_000_000 + op;
                let r = self.queues[1].put(item).await; // unbounded: never waits
                log.push(format!("op{op}: put {item} into q1: ok {}", r.is_ok()));
            }
            95..=99 => {
                let q = self.rng.below(2) as usize;
                let r = rt::timeout(Duration::ZERO, self.queues[q].get()).await;
                log.push(format!("op{op}: timeout(0) get from q{q}: {:?}", r.ok()));
            }
            _ => log.push(format!("op{op}: nothing to do")),
        }
    }

    fn pick_gate(&mut self) -> (usize, Gate) {
        let gates = self.gates.borrow();
        let g = self.rng.below(gates.len() as u64) as usize;
        (g, gates[g].clone())
    }

    fn spawn_task(&mut self, op: u32) {
        let id = self.next_task;
        self.next_task += 1;
        let plan = plan_task(&mut self.rng, id, self.gates.borrow().len());
        self.log.push(format!("op{op}: spawn t{id} {:?}", plan.steps));
        let handle = rt::spawn(run_task(
            self.log.clone(),
            id,
            plan,
            self.queues.clone(),
            self.gates.clone(),
            self.past,
            self.far,
        ));
        self.tasks.push((id, handle));
    }

    /// Cancels every task still held, opens every gate, lets the stragglers
    /// run a few turns, and joins what it holds.
    async fn finish(&mut self) {
        for (_, task) in &self.tasks {
            task.cancel();
        }
        self.log.push("finish: every held task cancelled");
        let gates = self.gates.borrow().clone();
        gates.iter().for_each(Gate::open);
        yield_times(8).await;
        for (id, task) in std::mem::take(&mut self.tasks) {
            self.log.push(format!("finish: join t{id}: {}", outcome(task.await)));
        }
        for (n, handle) in std::mem::take(&mut self.timers) {
            self.log.push(format!("finish: timer{n} was pending: {}", handle.cancel()));
        }
    }
}

fn outcome<T: std::fmt::Debug>(result: Result<T, rt::JoinError>) -> String {
    match result {
        Ok(v) => format!("Ok({v:?})"),
        Err(e) if e.is_cancelled() => "cancelled".to_string(),
        Err(e) if e.is_panic() => "panicked".to_string(),
        Err(_) => "an error neither cancelled nor panic".to_string(),
    }
}

async fn run_task(
    log: Log,
    id: u32,
    plan: TaskPlan,
    queues: [rt::sync::Queue<u32>; 2],
    gates: Rc<RefCell<Vec<Gate>>>,
    past: Instant,
    far: Instant,
) -> u32 {
    let _guard = log.guard(format!("t{id}'s future"));
    log.push(format!("t{id} starts"));
    for (k, step) in plan.steps.into_iter().enumerate() {
        let at = format!("t{id}.{k}");
        match step {
            Step::Yield(n) => {
                yield_times(n).await;
                log.push(format!("{at} yielded {n}"));
            }
            Step::SleepPast(micros) => {
                rt::sleep_until(past.checked_sub(Duration::from_micros(micros.into())).unwrap_or(past)).await;
                log.push(format!("{at} slept until a past instant"));
            }
            Step::SleepFar => {
                rt::sleep_until(far).await;
                log.push(format!("{at} slept an hour, it should not"));
            }
            Step::TimeoutZeroPending => {
                let r =
                    rt::timeout(Duration::ZERO, pending_forever(log.guard(format!("{at}'s inner")))).await;
                log.push(format!("{at} timeout(0) elapsed: {}", r.is_err()));
            }
            Step::TimeoutFarYield(n) => {
                let r = rt::timeout(Duration::from_secs(3600), async move {
                    yield_times(n).await;
                    n
                })
                .await;
                log.push(format!("{at} timeout(1h) of {n} yields: {:?}", r.ok()));
            }
            Step::TimeoutZeroReady => {
                let r = rt::timeout(Duration::ZERO, async { 1 }).await;
                log.push(format!("{at} timeout(0) of a ready future: {:?}", r.ok()));
            }
            Step::Put(q, item) => {
                let r = queues[q].put(item).await;
                log.push(format!("{at} put {item} into q{q}: ok {}", r.is_ok()));
            }
            Step::Get(q) => {
                let item = queues[q].get().await;
                log.push(format!("{at} got {item:?} from q{q}"));
            }
            Step::TimeoutZeroGet(q) => {
                let r = rt::timeout(Duration::ZERO, queues[q].get()).await;
                log.push(format!("{at} timeout(0) get from q{q}: {:?}", r.ok()));
            }
            Step::CallSoon => {
                let l = log.clone();
                let name = at.clone();
                rt::call_soon(move || l.push(format!("{name}'s call_soon runs")));
            }
            Step::CallLaterZero => {
                let l = log.clone();
                let name = at.clone();
                drop(rt::call_later(Duration::ZERO, move || l.push(format!("{name}'s call_later(0) runs"))));
            }
            Step::SpawnChild => {
                let l = log.clone();
                let name = at.clone();
                drop(rt::spawn(async move {
                    l.push(format!("{name}'s child runs"));
                    yield_once().await;
                    l.push(format!("{name}'s child done"));
                }));
            }
            Step::WaitGate(g) => {
                let gate = gates.borrow()[g].clone();
                gate.wait().await;
                log.push(format!("{at} passed gate {g}"));
            }
            Step::OpenGate(g) => {
                log.push(format!("{at} opens gate {g}"));
                let gate = gates.borrow()[g].clone();
                gate.open();
            }
            Step::Panic => {
                log.push(format!("{at} panics"));
                if log.len() < usize::MAX {
                    panic!("t{id} panics on purpose (the differential workload)");
                }
            }
        }
    }
    log.push(format!("t{id} returns"));
    id
}
