//! Specifies `kettle::join!`: futures of different types run concurrently in
//! the calling task, and their outputs come back as a tuple in argument order.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use kettle::{Runtime, sleep, yield_now};

mod common;
use common::DropCounter;

#[test]
fn join_returns_a_tuple_of_heterogeneous_outputs_in_argument_order() {
    let out = kettle::run(async {
        kettle::join!(
            async { 42u8 },
            async {
                sleep(Duration::from_millis(10)).await;
                "text"
            },
            async { vec![1.5, 2.5] },
            sleep(Duration::from_millis(5)),
            async { Ok::<_, String>('c') },
        )
    });
    assert_eq!(out, (42u8, "text", vec![1.5, 2.5], (), Ok('c')));
}

#[test]
fn join_runs_its_futures_concurrently_in_the_calling_task() {
    let rt = Runtime::new().unwrap();
    let log = RefCell::new(Vec::new());
    let start = Instant::now();
    rt.block_on(async {
        let step = |name: &'static str, ms: u64| {
            let log = &log;
            async move {
                log.borrow_mut().push(format!("{name} starts"));
                sleep(Duration::from_millis(ms)).await;
                log.borrow_mut().push(format!("{name} ends"));
            }
        };
        kettle::join!(step("a", 60), step("b", 20), step("c", 40));
    });
    let elapsed = start.elapsed();
    assert!(elapsed >= Duration::from_millis(60), "never early: {elapsed:?}");
    assert!(elapsed < Duration::from_millis(100), "about the longest, not the sum: {elapsed:?}");
    assert_eq!(*log.borrow(), ["a starts", "b starts", "c starts", "b ends", "c ends", "a ends"]);
    assert_eq!(rt.metrics().tasks_alive, 0, "nothing was spawned");
    assert_eq!(rt.metrics().timers_pending, 0);
}

#[test]
fn join_of_a_single_future_gives_a_one_element_tuple() {
    let out: (u32,) = kettle::run(async { kettle::join!(async { 7 }) });
    assert_eq!(out, (7,));
}

#[test]
fn join_accepts_sixteen_futures_and_a_trailing_comma() {
    let out = kettle::run(async {
        let n = |i: u32| async move {
            for _ in 0..i % 3 {
                yield_now().await;
            }
            i
        };
        kettle::join!(
            n(0),
            n(1),
            n(2),
            n(3),
            n(4),
            n(5),
            n(6),
            n(7),
            n(8),
            n(9),
            n(10),
            n(11),
            async { "twelve" },
            n(13),
            n(14),
            n(15),
        )
    });
    // (The standard library compares tuples of at most twelve elements.)
    let (a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15) = out;
    assert_eq!((a0, a1, a2, a3, a4, a5, a6, a7), (0, 1, 2, 3, 4, 5, 6, 7));
    assert_eq!((a8, a9, a10, a11, a12, a13, a14, a15), (8, 9, 10, 11, "twelve", 13, 14, 15));
}

#[test]
fn join_interleaves_its_futures_at_each_await() {
    let log = RefCell::new(Vec::new());
    kettle::run(async {
        let worker = |name: &'static str| {
            let log = &log;
            async move {
                for round in 0..3 {
                    log.borrow_mut().push(format!("{name}{round}"));
                    yield_now().await;
                }
            }
        };
        kettle::join!(worker("a"), worker("b"));
    });
    assert_eq!(*log.borrow(), ["a0", "b0", "a1", "b1", "a2", "b2"]);
}

#[test]
fn join_drops_each_future_as_soon_as_it_finishes() {
    let drops = Rc::new(Cell::new(0));
    let (fast_dropped_before_slow_finished, ()) = kettle::run(async {
        let fast = {
            let guard = DropCounter(drops.clone());
            async move {
                let _guard = guard;
                sleep(Duration::from_millis(5)).await;
            }
        };
        let slow = async {
            sleep(Duration::from_millis(40)).await;
            drops.get() == 1
        };
        let (was_dropped, ()) = kettle::join!(slow, fast);
        (was_dropped, ())
    });
    assert!(fast_dropped_before_slow_finished);
    assert_eq!(drops.get(), 1);
}

#[test]
fn join_futures_may_borrow_local_data_mutably() {
    let mut left = Vec::new();
    let mut right = 0;
    kettle::run(async {
        kettle::join!(
            async {
                left.push("pushed");
                yield_now().await;
            },
            async {
                right += 1;
                yield_now().await;
                right += 1;
            },
        );
    });
    assert_eq!((left, right), (vec!["pushed"], 2));
}
