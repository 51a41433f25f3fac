//! The suite: every standard workload, with its parameters, on every column
//! that has it — kettle, tokio, smol, the floor and kettle-mini — as one
//! list, so that the criterion bench (`benches/runtime.rs`) and the table's
//! timing loop (`examples/table.rs`) time the very same closures.
//!
//! | workload            | what one iteration does                                            |
//! |---------------------|--------------------------------------------------------------------|
//! | `spawn_many`        | 10,000 tasks spawned inside `block_on`, handles awaited            |
//! | `spawn_remote`      | 10,000 tasks spawned from another thread through a `Handle`        |
//! | `yield_many`        | 200 tasks × 1,000 `yield_now`                                      |
//! | `ping_pong`         | 1,000 pings, each a pair of tasks exchanging through two oneshots  |
//! | `chained_spawn`     | each task spawns the next, 1,000 deep                              |
//! | `timeout_ready`     | `timeout(1 s, f)`, `f` pending once: a timer set and cancelled     |
//! | `timeout_immediate` | 100 × `timeout(1 s, f)`, `f` ready at once: no timer needed        |
//! | `sleep_spread`      | 10,000 sleeping tasks, deadlines spread over 1–10 ms               |
//! | `queue`             | 4 producers × 100,000 items through a bounded(128) queue           |
//! | `gather`            | `kettle::gather` over 10,000 futures that yield once               |
//! | `tcp_echo`          | 32 loopback connections × 1,000 round trips of 512 bytes           |
//!
//! Every workload has a floor (`kettle_bench::floor` says what each floor
//! is, and which two are floors of a narrower kind). Every workload but
//! `ping_pong` has a mini column: kettle-mini has no oneshot.

#![allow(dead_code)] // each includer uses its own subset

use std::rc::Rc;
use std::sync::mpsc;
use std::thread;

use kettle_bench::floor::{self, Floor};

use super::on_smol::{self, Smol};
use super::on_tokio;

/// One workload: its name (the criterion group's), a line saying what an
/// iteration does, criterion's sample size for the slow ones, and its
/// columns.
pub struct Workload {
    pub name: &'static str,
    pub what: &'static str,
    pub sample_size: Option<usize>,
    pub columns: Vec<Column>,
}

/// One runtime's version of a workload: the runtime's name (the criterion
/// function's: `kettle`, `tokio`, `smol`, `floor`, `mini`) and one iteration,
/// returning the workload's checksum.
pub struct Column {
    pub runtime: &'static str,
    pub run: Box<dyn FnMut() -> u64>,
}

/// The columns, in the order the tables show them.
pub const RUNTIMES: [&str; 5] = ["kettle", "tokio", "smol", "floor", "mini"];

/// A thread outside the runtime that runs the jobs it is sent, one after the
/// other: the "other thread" of `spawn_remote`. It is started once and fed
/// through a channel, so thread creation stays out of the timings.
pub struct Submitter {
    jobs: Option<mpsc::Sender<Box<dyn FnOnce() + Send>>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Submitter {
    pub fn new() -> Submitter {
        let (jobs, rx) = mpsc::channel::<Box<dyn FnOnce() + Send>>();
        let thread = thread::spawn(move || {
            for job in rx {
                job();
            }
        });
        Submitter { jobs: Some(jobs), thread: Some(thread) }
    }

    pub fn submit(&self, job: Box<dyn FnOnce() + Send>) {
        self.jobs.as_ref().unwrap().send(job).unwrap();
    }
}

impl Drop for Submitter {
    fn drop(&mut self) {
        drop(self.jobs.take());
        self.thread.take().unwrap().join().unwrap();
    }
}

/// `Column { runtime, run }`, boxed.
fn column(runtime: &'static str, run: impl FnMut() -> u64 + 'static) -> Column {
    Column { runtime, run: Box::new(run) }
}

/// The whole suite, each runtime built once and shared by its columns.
pub fn suite() -> Vec<Workload> {
    let kettle = Rc::new(kettle::Runtime::new().unwrap());
    let mini = Rc::new(kettle_mini::Runtime::new().unwrap());
    let tokio = Rc::new(on_tokio::runtime());
    let submitter = Rc::new(Submitter::new());
    let mut suite = Vec::new();

    const SPAWNS: usize = 10_000;
    suite.push(Workload {
        name: "spawn_many",
        what: "10,000 tasks spawned and awaited",
        sample_size: None,
        columns: vec![
            column("kettle", {
                let rt = kettle.clone();
                move || kettle_bench::spawn_many(&rt, SPAWNS)
            }),
            column("tokio", {
                let rt = tokio.clone();
                move || on_tokio::spawn_many(&rt, SPAWNS)
            }),
            column("smol", move || on_smol::spawn_many(&Smol, SPAWNS)),
            column("floor", move || floor::spawn_many(&Floor, SPAWNS)),
            column("mini", {
                let rt = mini.clone();
                move || kettle_bench::mini::spawn_many(&rt, SPAWNS)
            }),
        ],
    });

    let submit = |s: &Rc<Submitter>| {
        let s = s.clone();
        move |job| s.submit(job)
    };
    suite.push(Workload {
        name: "spawn_remote",
        what: "10,000 tasks from another thread",
        sample_size: None,
        columns: vec![
            column("kettle", {
                let (rt, submit) = (kettle.clone(), submit(&submitter));
                move || kettle_bench::spawn_remote(&rt, SPAWNS, &submit)
            }),
            column("tokio", {
                let (rt, submit) = (tokio.clone(), submit(&submitter));
                move || on_tokio::spawn_remote(&rt, SPAWNS, &submit)
            }),
            column("smol", {
                let submit = submit(&submitter);
                move || on_smol::spawn_remote(&Smol, SPAWNS, &submit)
            }),
            column("floor", {
                let submit = submit(&submitter);
                move || floor::spawn_remote(&Floor, SPAWNS, &submit)
            }),
            column("mini", {
                let (rt, submit) = (mini.clone(), submit(&submitter));
                move || kettle_bench::mini::spawn_remote(&rt, SPAWNS, &submit)
            }),
        ],
    });

    const TASKS: usize = 200;
    const YIELDS: usize = 1_000;
    suite.push(Workload {
        name: "yield_many",
        what: "200 tasks × 1,000 yields",
        sample_size: None,
        columns: vec![
            column("kettle", {
                let rt = kettle.clone();
                move || kettle_bench::yield_many(&rt, TASKS, YIELDS)
            }),
            column("tokio", {
                let rt = tokio.clone();
                move || on_tokio::yield_many(&rt, TASKS, YIELDS)
            }),
            column("smol", move || on_smol::yield_many(&Smol, TASKS, YIELDS)),
            column("floor", move || floor::yield_many(&Floor, TASKS, YIELDS)),
            column("mini", {
                let rt = mini.clone();
                move || kettle_bench::mini::yield_many(&rt, TASKS, YIELDS)
            }),
        ],
    });

    const PINGS: usize = 1_000;
    suite.push(Workload {
        name: "ping_pong",
        what: "1,000 pairs through two oneshots",
        sample_size: None,
        columns: vec![
            column("kettle", {
                let rt = kettle.clone();
                move || kettle_bench::ping_pong(&rt, PINGS)
            }),
            column("tokio", {
                let rt = tokio.clone();
                move || on_tokio::ping_pong(&rt, PINGS)
            }),
            column("smol", move || on_smol::ping_pong(&Smol, PINGS)),
            column("floor", move || floor::ping_pong(&Floor, PINGS)),
        ],
    });

    const DEPTH: usize = 1_000;
    suite.push(Workload {
        name: "chained_spawn",
        what: "each task spawns the next, 1,000 deep",
        sample_size: None,
        columns: vec![
            column("kettle", {
                let rt = kettle.clone();
                move || kettle_bench::chained_spawn(&rt, DEPTH)
            }),
            column("tokio", {
                let rt = tokio.clone();
                move || on_tokio::chained_spawn(&rt, DEPTH)
            }),
            column("smol", move || on_smol::chained_spawn(&Smol, DEPTH)),
            column("floor", move || floor::chained_spawn(&Floor, DEPTH)),
            column("mini", {
                let rt = mini.clone();
                move || kettle_bench::mini::chained_spawn(&rt, DEPTH)
            }),
        ],
    });

    suite.push(Workload {
        name: "timeout_ready",
        what: "timeout(1 s) on a future ready at its 2nd poll",
        sample_size: None,
        columns: vec![
            column("kettle", {
                let rt = kettle.clone();
                move || kettle_bench::timeout_ready(&rt)
            }),
            column("tokio", {
                let rt = tokio.clone();
                move || on_tokio::timeout_ready(&rt)
            }),
            column("smol", move || on_smol::timeout_ready(&Smol)),
            column("floor", move || floor::timeout_ready(&Floor)),
            column("mini", {
                let rt = mini.clone();
                move || kettle_bench::mini::timeout_ready(&rt)
            }),
        ],
    });

    const TIMEOUTS: u32 = 100;
    suite.push(Workload {
        name: "timeout_immediate",
        what: "100 × timeout(1 s) on futures ready at once",
        sample_size: None,
        columns: vec![
            column("kettle", {
                let rt = kettle.clone();
                move || kettle_bench::timeout_immediate(&rt, TIMEOUTS)
            }),
            column("tokio", {
                let rt = tokio.clone();
                move || on_tokio::timeout_immediate(&rt, TIMEOUTS)
            }),
            column("smol", move || on_smol::timeout_immediate(&Smol, TIMEOUTS)),
            column("floor", move || floor::timeout_immediate(&Floor, TIMEOUTS)),
            column("mini", {
                let rt = mini.clone();
                move || kettle_bench::mini::timeout_immediate(&rt, TIMEOUTS)
            }),
        ],
    });

    const SLEEPERS: usize = 10_000;
    suite.push(Workload {
        name: "sleep_spread",
        what: "10,000 sleeps over 1–10 ms",
        sample_size: Some(10),
        columns: vec![
            column("kettle", {
                let rt = kettle.clone();
                move || kettle_bench::sleep_spread(&rt, SLEEPERS)
            }),
            column("tokio", {
                let rt = tokio.clone();
                move || on_tokio::sleep_spread(&rt, SLEEPERS)
            }),
            column("smol", move || on_smol::sleep_spread(&Smol, SLEEPERS)),
            column("floor", move || floor::sleep_spread(&Floor, SLEEPERS)),
            column("mini", {
                let rt = mini.clone();
                move || kettle_bench::mini::sleep_spread(&rt, SLEEPERS)
            }),
        ],
    });

    const PRODUCERS: usize = 4;
    const ITEMS: usize = 100_000;
    const CAPACITY: usize = 128;
    suite.push(Workload {
        name: "queue",
        what: "4 × 100,000 items through a bounded(128) queue",
        sample_size: Some(10),
        columns: vec![
            column("kettle", {
                let rt = kettle.clone();
                move || kettle_bench::queue(&rt, PRODUCERS, ITEMS, CAPACITY)
            }),
            column("tokio", {
                let rt = tokio.clone();
                move || on_tokio::queue(&rt, PRODUCERS, ITEMS, CAPACITY)
            }),
            column("smol", move || on_smol::queue(&Smol, PRODUCERS, ITEMS, CAPACITY)),
            column("floor", move || floor::queue(&Floor, PRODUCERS, ITEMS, CAPACITY)),
            column("mini", {
                let rt = mini.clone();
                move || kettle_bench::mini::queue(&rt, PRODUCERS, ITEMS, CAPACITY)
            }),
        ],
    });

    const GATHERED: usize = 10_000;
    suite.push(Workload {
        name: "gather",
        what: "10,000 futures yielding once",
        sample_size: None,
        columns: vec![
            column("kettle", {
                let rt = kettle.clone();
                move || kettle_bench::gather(&rt, GATHERED)
            }),
            column("tokio", {
                let rt = tokio.clone();
                move || on_tokio::gather(&rt, GATHERED)
            }),
            column("smol", move || on_smol::gather(&Smol, GATHERED)),
            column("floor", move || floor::gather(&Floor, GATHERED)),
            column("mini", {
                let rt = mini.clone();
                move || kettle_bench::mini::gather(&rt, GATHERED)
            }),
        ],
    });

    const CONNECTIONS: usize = 32;
    const ROUND_TRIPS: usize = 1_000;
    suite.push(Workload {
        name: "tcp_echo",
        what: "32 connections × 1,000 round trips of 512 B",
        sample_size: Some(10),
        columns: vec![
            column("kettle", {
                let rt = kettle.clone();
                move || kettle_bench::tcp_echo(&rt, CONNECTIONS, ROUND_TRIPS)
            }),
            column("tokio", {
                let rt = tokio.clone();
                move || on_tokio::tcp_echo(&rt, CONNECTIONS, ROUND_TRIPS)
            }),
            column("smol", move || on_smol::tcp_echo(&Smol, CONNECTIONS, ROUND_TRIPS)),
            column("floor", move || floor::tcp_echo(&Floor, CONNECTIONS, ROUND_TRIPS)),
            column("mini", {
                let rt = mini.clone();
                move || kettle_bench::mini::tcp_echo(&rt, CONNECTIONS, ROUND_TRIPS)
            }),
        ],
    });

    suite
}
