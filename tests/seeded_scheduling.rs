//! Specifies seeded scheduling (`Builder::seed`) and `kettle::test::check`:
//! without a seed tasks run in wake order; with one, each turn's tasks run
//! in an order drawn from it — the same for the same seed, different across
//! seeds — while callbacks keep their order; and a seed sweep finds a race
//! that wake order hides, then replays it from the seed it names.
//!
//! The tests that sweep with `check` expect `KETTLE_SEED` to be unset, as
//! it is in a normal `cargo test`: set, it makes every `check` run that one
//! seed, which is what it is for.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::process::Command;
use std::rc::Rc;

use kettle::Builder;

/// The order in which `n` tasks spawned in a row run their first poll, then
/// their second (each yields once in between).
fn order(builder: Builder, n: u32) -> Vec<u32> {
    let rt = builder.build().unwrap();
    let order = Rc::new(RefCell::new(Vec::new()));
    rt.block_on(async {
        let tasks: Vec<_> = (0..n)
            .map(|i| {
                let order = order.clone();
                kettle::spawn(async move {
                    order.borrow_mut().push(i);
                    kettle::yield_now().await;
                    order.borrow_mut().push(i);
                })
            })
            .collect();
        kettle::gather(tasks).await;
    });
    order.take()
}

#[test]
fn without_a_seed_tasks_spawned_in_a_row_run_in_spawn_order() {
    let in_order: Vec<u32> = (0..8).chain(0..8).collect();
    assert_eq!(order(Builder::new(), 8), in_order);
}

#[test]
fn the_same_seed_gives_the_same_order_twice() {
    for seed in [0, 1, 17, u64::MAX] {
        assert_eq!(order(Builder::new().seed(seed), 8), order(Builder::new().seed(seed), 8), "seed {seed}");
    }
}

#[test]
fn different_seeds_give_different_orders() {
    let orders: HashSet<Vec<u32>> = (0..20).map(|seed| order(Builder::new().seed(seed), 8)).collect();
    assert!(orders.len() >= 2, "20 seeds gave only {} order(s)", orders.len());
    assert!(
        orders.iter().any(|o| o[..8] != o[8..]),
        "a seed shuffles each turn anew, not once for the whole run"
    );
}

#[test]
fn a_seed_reorders_tasks_but_callbacks_keep_their_order() {
    for seed in 0..10 {
        let rt = Builder::new().seed(seed).build().unwrap();
        let ran = Rc::new(RefCell::new(Vec::new()));
        rt.block_on(async {
            for i in 0..8 {
                let ran = ran.clone();
                kettle::call_soon(move || ran.borrow_mut().push(i));
            }
            kettle::yield_now().await;
        });
        assert_eq!(*ran.borrow(), (0..8).collect::<Vec<_>>(), "seed {seed}");
    }
}

#[test]
fn a_seed_still_runs_a_task_woken_during_a_turn_on_the_next_turn() {
    for seed in 0..10 {
        let rt = Builder::new().seed(seed).build().unwrap();
        let turns = rt.block_on(async {
            let start = kettle::metrics().turns;
            let tasks: Vec<_> = (0..4).map(|_| kettle::spawn(kettle::yield_now())).collect();
            kettle::gather(tasks).await;
            kettle::metrics().turns - start
        });
        assert!(turns >= 2, "seed {seed}: yielding tasks took {turns} turn(s)");
    }
}

// ----- a race that wake order hides ---------------------------------------------

/// A small buggy program: an account of 100, a withdrawal of 70, and a
/// transfer of 70 that first authenticates (one `.await`). Each checks the
/// balance, awaits (say, an audit log write), then debits — check-then-act
/// across an await, with nothing holding the balance in between.
///
/// In spawn order it is safe by luck: the withdrawal checks first, and by
/// the time the transfer checks, the withdrawal has debited, so the
/// transfer is refused. Any schedule that lets the transfer check before
/// the withdrawal debits overdraws the account.
///
/// Returns the final balance; panics if it is negative.
fn bank(builder: Builder) -> i64 {
    let rt = builder.build().unwrap();
    let balance = Rc::new(Cell::new(100_i64));
    let debit = |balance: Rc<Cell<i64>>, amount: i64| async move {
        if balance.get() >= amount {
            kettle::yield_now().await; // write the audit log
            balance.set(balance.get() - amount);
        }
    };
    rt.block_on(async {
        let withdrawal = kettle::spawn(debit(balance.clone(), 70));
        let transfer = kettle::spawn({
            let debit = debit(balance.clone(), 70);
            async move {
                kettle::yield_now().await; // authenticate
                debit.await;
            }
        });
        let _ = kettle::join!(withdrawal, transfer);
    });
    let left = balance.get();
    assert!(left >= 0, "overdrawn: the balance is {left}");
    left
}

#[test]
fn the_race_is_hidden_in_spawn_order() {
    assert_eq!(bank(Builder::new()), 30, "the transfer was refused, as it should be");
}

#[test]
fn a_seed_sweep_finds_the_race_and_the_seed_it_names_replays_it() {
    if std::env::var_os("KETTLE_SEED").is_some() {
        return; // only one seed would run: not a sweep (see the module docs)
    }
    let mut passed = Vec::new();
    let sweep = catch_unwind(AssertUnwindSafe(|| {
        kettle::test::check(0..64, |seed| {
            bank(Builder::new().seed(seed));
            passed.push(seed);
        })
    }));
    let message = *sweep.expect_err("some seed overdraws the account").downcast::<String>().unwrap();
    // "kettle::test::check: seed N failed: overdrawn: ..."
    let seed: u64 = message
        .strip_prefix("kettle::test::check: seed ")
        .and_then(|rest| rest.split_once(' '))
        .and_then(|(seed, _)| seed.parse().ok())
        .unwrap_or_else(|| panic!("no seed named in {message:?}"));
    assert!(message.contains("overdrawn"), "{message}");
    assert!(message.contains(&format!("KETTLE_SEED={seed} cargo test")), "{message}");
    assert!(message.contains(&format!("Builder::new().seed({seed})")), "{message}");
    assert_eq!(passed, (0..seed).collect::<Vec<_>>(), "the sweep stopped at the first failing seed");
    // Replayed from its seed, the schedule — and the failure — come back,
    // every time.
    for _ in 0..3 {
        let replay = catch_unwind(|| bank(Builder::new().seed(seed)));
        assert!(replay.is_err(), "seed {seed} failed in the sweep but not on replay");
    }
}

// ----- KETTLE_SEED --------------------------------------------------------------

/// Run by [`check_runs_only_the_seed_in_kettle_seed_when_it_is_set`] in a
/// process of its own, with `KETTLE_SEED` set there and nowhere else (tests
/// share the process's environment, so none of them may set it).
#[test]
#[ignore = "run in a child process by check_runs_only_the_seed_in_kettle_seed_when_it_is_set"]
fn child_records_the_seeds_check_runs() {
    let mut ran = Vec::new();
    kettle::test::check(0..64, |seed| ran.push(seed));
    println!("check ran seeds {ran:?}");
}

#[test]
fn check_runs_only_the_seed_in_kettle_seed_when_it_is_set() {
    let child = |seed: &str| {
        let output = Command::new(std::env::current_exe().unwrap())
            .args(["child_records_the_seeds_check_runs", "--exact", "--ignored", "--nocapture"])
            .env("KETTLE_SEED", seed)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "the child failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        stdout
    };
    assert!(child("17").contains("check ran seeds [17]\n"));
    assert!(child("0x11").contains("check ran seeds [17]\n"), "hexadecimal, as the stress test prints seeds");
}
