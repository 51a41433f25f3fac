//! The columns of the bench table do the same work: each workload's tokio,
//! smol, floor and mini versions return the checksum kettle's returns (the
//! sum of the tasks' outputs, the items received, the bytes echoed), and
//! that checksum is the one the workload's parameters call for. A floor or
//! a peer that skipped part of the work would show here, not as a flattering
//! ratio in the table. Small parameters: this is about counts, not speed.

use std::sync::mpsc;

use kettle_bench::floor::{self, Floor};

#[path = "../peers/smol.rs"]
mod on_smol;
#[path = "../peers/tokio.rs"]
mod on_tokio;
#[path = "../peers/suite.rs"]
mod suite;

use on_smol::Smol;

/// Asserts that every column's checksum is `expected`, naming the culprit.
fn assert_same_work(workload: &str, expected: u64, columns: &[(&str, u64)]) {
    for (runtime, checksum) in columns {
        assert_eq!(*checksum, expected, "{workload} on {runtime}: checksum {checksum}, expected {expected}");
    }
}

struct Runtimes {
    kettle: kettle::Runtime,
    tokio: tokio::runtime::Runtime,
    mini: kettle_mini::Runtime,
}

fn runtimes() -> Runtimes {
    Runtimes {
        kettle: kettle::Runtime::new().unwrap(),
        tokio: on_tokio::runtime(),
        mini: kettle_mini::Runtime::new().unwrap(),
    }
}

#[test]
fn spawn_many_joins_every_tasks_output_on_every_runtime() {
    let rt = runtimes();
    let n = 500;
    assert_same_work(
        "spawn_many",
        (0..n as u64).sum(),
        &[
            ("kettle", kettle_bench::spawn_many(&rt.kettle, n)),
            ("tokio", on_tokio::spawn_many(&rt.tokio, n)),
            ("smol", on_smol::spawn_many(&Smol, n)),
            ("floor", floor::spawn_many(&Floor, n)),
            ("mini", kettle_bench::mini::spawn_many(&rt.mini, n)),
        ],
    );
}

#[test]
fn spawn_remote_runs_every_task_from_the_other_thread_on_every_runtime() {
    let rt = runtimes();
    let n = 500;
    let (jobs, rx) = mpsc::channel::<Box<dyn FnOnce() + Send>>();
    let other = std::thread::spawn(move || rx.into_iter().for_each(|job| job()));
    let submit = |job| jobs.send(job).unwrap();
    assert_same_work(
        "spawn_remote",
        (0..n as u64).sum(),
        &[
            ("kettle", kettle_bench::spawn_remote(&rt.kettle, n, submit)),
            ("tokio", on_tokio::spawn_remote(&rt.tokio, n, submit)),
            ("smol", on_smol::spawn_remote(&Smol, n, submit)),
            ("floor", floor::spawn_remote(&Floor, n, submit)),
            ("mini", kettle_bench::mini::spawn_remote(&rt.mini, n, submit)),
        ],
    );
    drop(jobs);
    other.join().unwrap();
}

#[test]
fn yield_many_yields_as_often_on_every_runtime() {
    let rt = runtimes();
    assert_same_work(
        "yield_many",
        20 * 50,
        &[
            ("kettle", kettle_bench::yield_many(&rt.kettle, 20, 50)),
            ("tokio", on_tokio::yield_many(&rt.tokio, 20, 50)),
            ("smol", on_smol::yield_many(&Smol, 20, 50)),
            ("floor", floor::yield_many(&Floor, 20, 50)),
            ("mini", kettle_bench::mini::yield_many(&rt.mini, 20, 50)),
        ],
    );
}

#[test]
fn ping_pong_answers_every_ping_on_every_runtime_that_has_a_oneshot() {
    let rt = runtimes();
    assert_same_work(
        "ping_pong",
        300,
        &[
            ("kettle", kettle_bench::ping_pong(&rt.kettle, 300)),
            ("tokio", on_tokio::ping_pong(&rt.tokio, 300)),
            ("smol", on_smol::ping_pong(&Smol, 300)),
            ("floor", floor::ping_pong(&Floor, 300)),
        ],
    );
}

#[test]
fn chained_spawn_runs_the_whole_chain_on_every_runtime() {
    let rt = runtimes();
    assert_same_work(
        "chained_spawn",
        301,
        &[
            ("kettle", kettle_bench::chained_spawn(&rt.kettle, 300)),
            ("tokio", on_tokio::chained_spawn(&rt.tokio, 300)),
            ("smol", on_smol::chained_spawn(&Smol, 300)),
            ("floor", floor::chained_spawn(&Floor, 300)),
            ("mini", kettle_bench::mini::chained_spawn(&rt.mini, 300)),
        ],
    );
}

#[test]
fn timeouts_let_their_futures_finish_on_every_runtime() {
    let rt = runtimes();
    assert_same_work(
        "timeout_ready",
        1,
        &[
            ("kettle", kettle_bench::timeout_ready(&rt.kettle)),
            ("tokio", on_tokio::timeout_ready(&rt.tokio)),
            ("smol", on_smol::timeout_ready(&Smol)),
            ("floor", floor::timeout_ready(&Floor)),
            ("mini", kettle_bench::mini::timeout_ready(&rt.mini)),
        ],
    );
    assert_same_work(
        "timeout_immediate",
        (0..100).sum(),
        &[
            ("kettle", kettle_bench::timeout_immediate(&rt.kettle, 100)),
            ("tokio", on_tokio::timeout_immediate(&rt.tokio, 100)),
            ("smol", on_smol::timeout_immediate(&Smol, 100)),
            ("floor", floor::timeout_immediate(&Floor, 100)),
            ("mini", kettle_bench::mini::timeout_immediate(&rt.mini, 100)),
        ],
    );
}

#[test]
fn sleep_spread_wakes_every_sleeper_no_earlier_than_its_deadline_on_every_runtime() {
    let rt = runtimes();
    let n = 200;
    let longest = (0..n).map(kettle_bench::spread).max().unwrap();
    let timed = |run: &dyn Fn() -> u64| {
        let start = std::time::Instant::now();
        let woke = run();
        assert!(start.elapsed() >= longest, "returned before the last deadline");
        woke
    };
    assert_same_work(
        "sleep_spread",
        n as u64,
        &[
            ("kettle", timed(&|| kettle_bench::sleep_spread(&rt.kettle, n))),
            ("tokio", timed(&|| on_tokio::sleep_spread(&rt.tokio, n))),
            ("smol", timed(&|| on_smol::sleep_spread(&Smol, n))),
            ("floor", timed(&|| floor::sleep_spread(&Floor, n))),
            ("mini", timed(&|| kettle_bench::mini::sleep_spread(&rt.mini, n))),
        ],
    );
}

#[test]
fn queue_delivers_every_item_once_on_every_runtime() {
    let rt = runtimes();
    let (producers, items, capacity) = (3, 1_000, 16);
    assert_same_work(
        "queue",
        producers as u64 * (0..items as u64).sum::<u64>(),
        &[
            ("kettle", kettle_bench::queue(&rt.kettle, producers, items, capacity)),
            ("tokio", on_tokio::queue(&rt.tokio, producers, items, capacity)),
            ("smol", on_smol::queue(&Smol, producers, items, capacity)),
            ("floor", floor::queue(&Floor, producers, items, capacity)),
            ("mini", kettle_bench::mini::queue(&rt.mini, producers, items, capacity)),
        ],
    );
}

#[test]
fn gather_collects_every_output_on_every_runtime() {
    let rt = runtimes();
    assert_same_work(
        "gather",
        1_000,
        &[
            ("kettle", kettle_bench::gather(&rt.kettle, 1_000)),
            ("tokio", on_tokio::gather(&rt.tokio, 1_000)),
            ("smol", on_smol::gather(&Smol, 1_000)),
            ("floor", floor::gather(&Floor, 1_000)),
            ("mini", kettle_bench::mini::gather(&rt.mini, 1_000)),
        ],
    );
}

#[test]
fn tcp_echo_echoes_every_byte_on_every_runtime() {
    let rt = runtimes();
    let (connections, round_trips) = (4, 20);
    assert_same_work(
        "tcp_echo",
        (connections * round_trips * kettle_bench::MESSAGE) as u64,
        &[
            ("kettle", kettle_bench::tcp_echo(&rt.kettle, connections, round_trips)),
            ("tokio", on_tokio::tcp_echo(&rt.tokio, connections, round_trips)),
            ("smol", on_smol::tcp_echo(&Smol, connections, round_trips)),
            ("floor", floor::tcp_echo(&Floor, connections, round_trips)),
            ("mini", kettle_bench::mini::tcp_echo(&rt.mini, connections, round_trips)),
        ],
    );
}

#[test]
fn the_floor_runs_one_workload_after_another_on_the_same_thread() {
    // Its loop is a thread-local, cleared after each `block_on`: a run must
    // not see the tasks or timers of the one before.
    for _ in 0..3 {
        assert_eq!(floor::timeout_ready(&Floor), 1);
        assert_eq!(floor::chained_spawn(&Floor, 10), 11);
        assert_eq!(floor::sleep_spread(&Floor, 3), 3);
    }
}

#[test]
fn the_floor_starts_afresh_after_a_block_on_that_panicked() {
    let panicked = std::panic::catch_unwind(|| {
        Floor.block_on(async {
            let _left_behind = floor::spawn(async { 1 });
            floor::yield_now().await;
            panic!("the root gives up with a task still queued");
        })
    });
    assert!(panicked.is_err());
    assert_eq!(floor::spawn_many(&Floor, 10), 45);
}

#[test]
fn every_suite_workload_has_kettle_tokio_smol_and_floor_and_mini_wherever_mini_can() {
    for workload in suite::suite() {
        let runtimes: Vec<_> = workload.columns.iter().map(|c| c.runtime).collect();
        let expected: &[&str] = if workload.name == "ping_pong" {
            &["kettle", "tokio", "smol", "floor"]
        } else {
            &suite::RUNTIMES
        };
        assert_eq!(runtimes, expected, "{}'s columns", workload.name);
    }
}
