//! Specifies `kettle::TaskGroup`: members are real tasks that succeed or fail
//! together — the first failure (an `Err` or a panic) cancels the others and is
//! reported by `join` — and no member outlives its group unnoticed.

use std::cell::{Cell, RefCell};
use std::future::pending;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::time::{Duration, Instant};

use kettle::{JoinHandle, Runtime, TaskGroup, sleep, yield_now};

mod common;
use common::DropCounter;

/// A member that holds a drop guard and never finishes.
fn pending_member(drops: &Rc<Cell<usize>>) -> impl Future<Output = Result<(), String>> + 'static {
    let guard = DropCounter(drops.clone());
    async move {
        let _guard = guard;
        pending::<()>().await;
        Ok(())
    }
}

/// A member body that panics.
fn explode(message: &'static str) -> Result<(), &'static str> {
    panic!("{message}")
}

#[test]
fn join_returns_ok_when_every_member_succeeds_and_each_handle_gives_its_value() {
    let rt = Runtime::new().unwrap();
    let start = Instant::now();
    let values = rt.block_on(async {
        let group = TaskGroup::<String>::new();
        let handles: Vec<JoinHandle<Option<u64>>> = [40, 10, 30]
            .map(|ms| {
                group.spawn(async move {
                    sleep(Duration::from_millis(ms)).await;
                    Ok(ms)
                })
            })
            .into();
        assert_eq!(group.join().await, Ok(()));
        let mut values = Vec::new();
        for handle in handles {
            assert!(handle.is_finished(), "join waited for every member");
            values.push(handle.await.unwrap());
        }
        values
    });
    assert_eq!(values, [Some(40), Some(10), Some(30)]);
    assert!(start.elapsed() < Duration::from_millis(100), "members ran concurrently: {:?}", start.elapsed());
    assert_eq!(rt.metrics().tasks_alive, 0);
    assert_eq!(rt.metrics().timers_pending, 0);
}

#[test]
fn join_of_an_empty_group_returns_ok_at_once() {
    assert_eq!(kettle::run(TaskGroup::<()>::new().join()), Ok(()));
}

#[test]
fn first_error_cancels_the_other_members_and_join_returns_it() {
    let rt = Runtime::new().unwrap();
    let drops = Rc::new(Cell::new(0));
    let start = Instant::now();
    let (outcome, drops_at_join, results) = rt.block_on(async {
        let group = TaskGroup::new();
        let done = group.spawn(async { Ok("finished first") });
        let sleeper = group.spawn(pending_member(&drops));
        let failing = group.spawn(async {
            sleep(Duration::from_millis(20)).await;
            Err::<(), _>("first failure".to_string())
        });
        let later_failing = group.spawn({
            let guard = DropCounter(drops.clone());
            async move {
                let _guard = guard;
                sleep(Duration::from_secs(2)).await;
                Err::<(), _>("never reported".to_string())
            }
        });
        let outcome = group.join().await;
        let drops_at_join = drops.get();
        let results = (done.await, sleeper.await, failing.await, later_failing.await);
        (outcome, drops_at_join, results)
    });
    assert_eq!(outcome, Err("first failure".to_string()));
    assert_eq!(drops_at_join, 2, "both cancelled members were dropped before join returned");
    let (done, sleeper, failing, later_failing) = results;
    assert_eq!(done.unwrap(), Some("finished first"));
    assert!(sleeper.unwrap_err().is_cancelled());
    assert_eq!(failing.unwrap(), None, "the failed member's error went to the group");
    assert!(later_failing.unwrap_err().is_cancelled());
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "did not wait for the 2 s member: {:?}",
        start.elapsed()
    );
    assert_eq!(rt.metrics().tasks_alive, 0);
    assert_eq!(rt.metrics().timers_pending, 0);
}

#[test]
fn panic_in_a_member_cancels_the_rest_and_join_resumes_it_with_its_payload() {
    let rt = Runtime::new().unwrap();
    let drops = Rc::new(Cell::new(0));
    let payload = catch_unwind(AssertUnwindSafe(|| {
        rt.block_on(async {
            let group = TaskGroup::<String>::new();
            let _sleeper = group.spawn(pending_member(&drops));
            let _bad = group.spawn(async {
                yield_now().await;
                std::panic::panic_any(String::from("member exploded"));
                #[allow(unreachable_code)]
                Ok(())
            });
            group.join().await
        })
    }))
    .expect_err("join resumed the member's panic");
    assert_eq!(
        payload.downcast_ref::<String>().map(String::as_str),
        Some("member exploded"),
        "the original payload"
    );
    assert_eq!(drops.get(), 1, "the other member was cancelled and dropped");
    assert_eq!(rt.metrics().tasks_alive, 0);
}

#[test]
fn only_the_first_failure_counts_because_the_others_never_run_again() {
    let (outcome, second) = kettle::run(async {
        let group = TaskGroup::new();
        let _first = group.spawn(async { Err::<(), _>("first") });
        // Queued in the same turn, but cancelled before its first poll.
        let second = group.spawn(async { explode("never runs") });
        (group.join().await, second.await)
    });
    assert_eq!(outcome, Err("first"));
    assert!(second.unwrap_err().is_cancelled());
}

#[test]
fn members_spawned_while_joining_are_awaited() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let outcome = kettle::run({
        let log = log.clone();
        async move {
            let group = TaskGroup::<()>::new();
            let parent = group.clone();
            let _first = group.spawn(async move {
                sleep(Duration::from_millis(10)).await;
                log.borrow_mut().push("parent spawns a child");
                let _child = parent.spawn(async move {
                    sleep(Duration::from_millis(20)).await;
                    log.borrow_mut().push("child done");
                    Ok(())
                });
                Ok(())
            });
            group.join().await
        }
    });
    assert_eq!(outcome, Ok(()));
    assert_eq!(*log.borrow(), ["parent spawns a child", "child done"], "join waited for the late child");
}

#[test]
fn dropping_the_group_without_joining_cancels_its_members() {
    let rt = Runtime::new().unwrap();
    let drops = Rc::new(Cell::new(0));
    let handles = rt.block_on(async {
        let group = TaskGroup::new();
        let handles = [group.spawn(pending_member(&drops)), group.spawn(pending_member(&drops))];
        yield_now().await; // let the members start
        assert_eq!(group.len(), 2);
        drop(group);
        handles
    });
    rt.block_on(async {
        for handle in handles {
            assert!(handle.await.unwrap_err().is_cancelled());
        }
    });
    assert_eq!(drops.get(), 2);
    assert_eq!(rt.metrics().tasks_alive, 0);
}

#[test]
fn a_member_spawned_after_a_failure_is_cancelled_at_once() {
    let ran = Rc::new(Cell::new(false));
    let (outcome, late) = kettle::run({
        let ran = ran.clone();
        async move {
            let group = TaskGroup::new();
            let _failing = group.spawn(async { Err::<(), _>("failed") });
            yield_now().await; // the failure happens
            let late = group.spawn(async move {
                ran.set(true);
                Ok(())
            });
            (group.join().await, late.await)
        }
    });
    assert_eq!(outcome, Err("failed"));
    assert!(late.unwrap_err().is_cancelled());
    assert!(!ran.get(), "the late member never ran");
}

#[test]
fn cancelling_a_member_by_its_handle_is_not_a_failure() {
    let drops = Rc::new(Cell::new(0));
    let outcome = kettle::run(async {
        let group = TaskGroup::<String>::new();
        let sleeper = group.spawn(pending_member(&drops));
        let _fine = group.spawn(async { Ok(()) });
        sleeper.cancel();
        group.join().await
    });
    assert_eq!(outcome, Ok(()));
    assert_eq!(drops.get(), 1);
}

#[test]
fn finished_members_leave_the_group_so_it_does_not_grow() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let group = TaskGroup::<()>::new();
        for round in 0..100 {
            let member = group.spawn(async move { Ok(round) });
            assert_eq!(member.await.unwrap(), Some(round));
            assert!(group.is_empty(), "round {round}: the finished member left the group");
        }
        group.join().await.unwrap();
    });
    assert_eq!(rt.metrics().tasks_alive, 0);
}

/// Panics when dropped.
struct PanicOnDrop;

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("destructor panicked");
    }
}

#[test]
fn a_member_whose_destructor_panics_when_cancelled_still_leaves_the_group() {
    let rt = Runtime::new().unwrap();
    let (outcome, stubborn) = rt.block_on(async {
        let group = TaskGroup::new();
        let stubborn = group.spawn(async {
            let _bomb = PanicOnDrop;
            pending::<()>().await;
            Ok(())
        });
        let _failing = group.spawn(async {
            yield_now().await;
            Err::<(), _>("failed")
        });
        (group.join().await, stubborn.await)
    });
    assert_eq!(outcome, Err("failed"), "join returned although a destructor panicked");
    assert!(stubborn.unwrap_err().is_panic(), "the runtime reports the destructor's panic on the handle");
    assert_eq!(rt.metrics().tasks_alive, 0);
}

#[test]
fn abandoning_join_on_a_timeout_cancels_the_members() {
    let rt = Runtime::new().unwrap();
    let drops = Rc::new(Cell::new(0));
    let (timed_out, sleeper) = rt.block_on(async {
        let group = TaskGroup::new();
        let sleeper = group.spawn(pending_member(&drops));
        // `join` consumed the last handle; dropping its future drops the group.
        let timed_out = kettle::timeout(Duration::from_millis(20), group.join()).await.is_err();
        (timed_out, sleeper.await)
    });
    assert!(timed_out);
    assert!(sleeper.unwrap_err().is_cancelled());
    assert_eq!(drops.get(), 1);
    assert_eq!(rt.metrics().tasks_alive, 0);
    assert_eq!(rt.metrics().timers_pending, 0);
}
