//! Specifies spawning tasks and joining them: `kettle::spawn`, `Runtime::spawn`,
//! and what a `JoinHandle` yields, when, and to whom.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use kettle::{JoinHandle, Runtime, yield_now};

mod common;
use common::DropCounter;

#[test]
fn spawned_task_output_is_returned_by_awaiting_its_handle() {
    let out = kettle::run(async {
        let task = kettle::spawn(async { 6 * 7 });
        task.await
    });
    assert_eq!(out.unwrap(), 42);
}

#[test]
fn tasks_need_not_be_send() {
    let out = kettle::run(async {
        let shared = Rc::new(RefCell::new(Vec::new()));
        let writer = {
            let shared = shared.clone();
            kettle::spawn(async move {
                shared.borrow_mut().push(1);
                yield_now().await;
                shared.borrow_mut().push(2);
                Rc::clone(&shared)
            })
        };
        let back = writer.await.unwrap();
        assert!(Rc::ptr_eq(&back, &shared), "an Rc came back out of the task");
        back.borrow().clone()
    });
    assert_eq!(out, vec![1, 2]);
}

#[test]
fn tasks_spawned_in_a_row_first_run_in_spawn_order() {
    let log = Rc::new(RefCell::new(Vec::new()));
    kettle::run({
        let log = log.clone();
        async move {
            let handles: Vec<_> = (0..8)
                .map(|i| {
                    let log = log.clone();
                    kettle::spawn(async move { log.borrow_mut().push(i) })
                })
                .collect();
            for handle in handles {
                handle.await.unwrap();
            }
        }
    });
    assert_eq!(*log.borrow(), (0..8).collect::<Vec<_>>());
}

#[test]
fn spawn_does_not_run_the_task_inline() {
    let log = Rc::new(RefCell::new(Vec::new()));
    kettle::run({
        let log = log.clone();
        async move {
            let task = kettle::spawn({
                let log = log.clone();
                async move { log.borrow_mut().push("task body") }
            });
            log.borrow_mut().push("after spawn");
            assert!(!task.is_finished());
            task.await.unwrap();
            log.borrow_mut().push("after await");
        }
    });
    assert_eq!(*log.borrow(), ["after spawn", "task body", "after await"]);
}

#[test]
fn runtime_spawn_before_block_on_runs_once_the_loop_runs() {
    let rt = Runtime::new().unwrap();
    let ran = Rc::new(Cell::new(false));
    let task = rt.spawn({
        let ran = ran.clone();
        async move {
            ran.set(true);
            "done"
        }
    });
    assert!(!ran.get(), "nothing runs before the loop does");
    assert_eq!(rt.metrics().polls, 0);
    assert_eq!(rt.block_on(task).unwrap(), "done");
    assert!(ran.get());
    assert_eq!(rt.metrics().tasks_alive, 0);
}

#[test]
fn is_finished_turns_true_only_when_the_task_completes() {
    let rt = Runtime::new().unwrap();
    let task = rt.spawn(async {
        yield_now().await;
        1
    });
    assert!(!task.is_finished(), "not started yet");
    rt.turn(Some(Duration::ZERO));
    assert!(!task.is_finished(), "suspended at its yield");
    rt.turn(Some(Duration::ZERO));
    assert!(task.is_finished(), "returned on its second poll");
    assert_eq!(rt.block_on(task).unwrap(), 1);
}

#[test]
fn awaiting_a_handle_after_the_task_finished_still_gives_the_value() {
    let rt = Runtime::new().unwrap();
    let task = rt.spawn(async { String::from("kept") });
    rt.turn(Some(Duration::ZERO));
    assert!(task.is_finished());
    assert_eq!(rt.metrics().tasks_alive, 0, "the runtime let go of the finished task");
    // Several more turns: the output waits in the task for its handle.
    for _ in 0..3 {
        rt.turn(Some(Duration::ZERO));
    }
    assert_eq!(rt.block_on(task).unwrap(), "kept");
}

#[test]
fn dropping_a_join_handle_detaches_the_task_which_still_runs_to_completion() {
    let rt = Runtime::new().unwrap();
    let log = Rc::new(RefCell::new(Vec::new()));
    let task = rt.spawn({
        let log = log.clone();
        async move {
            log.borrow_mut().push("started");
            kettle::sleep(Duration::from_millis(5)).await;
            log.borrow_mut().push("finished");
        }
    });
    drop(task);
    // Nobody awaits the task: poll the log until it finishes (bounded).
    let finished = rt.block_on(async {
        let until_finished = async {
            while log.borrow().len() < 2 {
                yield_now().await;
            }
        };
        kettle::timeout(Duration::from_secs(1), until_finished).await
    });
    assert!(finished.is_ok(), "the detached task finished");
    assert_eq!(*log.borrow(), ["started", "finished"]);
    assert_eq!(rt.metrics().tasks_alive, 0);
}

#[test]
fn output_of_a_detached_task_is_dropped_exactly_once() {
    let rt = Runtime::new().unwrap();
    let drops = Rc::new(Cell::new(0));
    let task = rt.spawn({
        let drops = drops.clone();
        async move {
            yield_now().await;
            DropCounter(drops)
        }
    });
    rt.turn(Some(Duration::ZERO));
    drop(task); // before completion
    assert_eq!(drops.get(), 0);
    for _ in 0..3 {
        rt.turn(Some(Duration::ZERO));
    }
    assert_eq!(drops.get(), 1, "the loop dropped the unclaimed output");
    drop(rt);
    assert_eq!(drops.get(), 1, "and never again");
}

#[test]
fn unclaimed_output_is_dropped_exactly_once_with_its_handle() {
    let rt = Runtime::new().unwrap();
    let drops = Rc::new(Cell::new(0));
    let task = rt.spawn({
        let drops = drops.clone();
        async move { DropCounter(drops) }
    });
    rt.turn(Some(Duration::ZERO));
    assert!(task.is_finished());
    assert_eq!(drops.get(), 0, "the output waits for its handle");
    drop(task);
    assert_eq!(drops.get(), 1);
    drop(rt);
    assert_eq!(drops.get(), 1);
}

#[test]
fn claimed_output_is_dropped_only_by_its_receiver() {
    let rt = Runtime::new().unwrap();
    let drops = Rc::new(Cell::new(0));
    let task = rt.spawn({
        let drops = drops.clone();
        async move { DropCounter(drops) }
    });
    let output = rt.block_on(task).unwrap();
    assert_eq!(drops.get(), 0);
    drop(output);
    assert_eq!(drops.get(), 1);
    drop(rt);
    assert_eq!(drops.get(), 1);
}

#[test]
fn join_handle_is_send_when_its_output_is() {
    fn assert_send<T: Send>() {}
    assert_send::<JoinHandle<u32>>();
    assert_send::<JoinHandle<String>>();
    assert_send::<kettle::RemoteJoinHandle<u32>>();
}

#[test]
fn a_local_join_handle_can_be_awaited_inside_a_remotely_spawned_task() {
    let rt = Runtime::new().unwrap();
    let inner = rt.spawn(async {
        yield_now().await;
        21
    });
    let outer = rt.handle().spawn(async move { inner.await.unwrap() * 2 });
    assert_eq!(rt.block_on(outer).unwrap(), 42);
    assert_eq!(rt.metrics().tasks_alive, 0);
    assert_eq!(rt.metrics().remote_spawns, 1);
}

#[test]
fn a_local_join_handle_can_be_awaited_from_another_thread_through_a_remote_task() {
    let rt = Runtime::new().unwrap();
    let handle = rt.handle();
    let inner = rt.spawn(async {
        kettle::sleep(Duration::from_millis(5)).await;
        String::from("from the loop")
    });
    let waiter = std::thread::spawn(move || {
        let outer = handle.spawn(async move { inner.await.unwrap() + ", via a remote task" });
        let result = outer.wait().unwrap();
        handle.stop();
        result
    });
    rt.run_forever();
    assert_eq!(waiter.join().unwrap(), "from the loop, via a remote task");
}

#[test]
fn many_spawned_tasks_all_complete_and_leave_nothing_behind() {
    let rt = Runtime::new().unwrap();
    let sum = rt.block_on(async {
        let handles: Vec<_> = (0..1000u64)
            .map(|i| {
                kettle::spawn(async move {
                    if i % 2 == 0 {
                        yield_now().await;
                    }
                    i
                })
            })
            .collect();
        let mut sum = 0;
        for handle in handles {
            sum += handle.await.unwrap();
        }
        sum
    });
    assert_eq!(sum, (0..1000).sum::<u64>());
    let metrics = rt.metrics();
    assert_eq!(metrics.tasks_alive, 0);
    assert_eq!(metrics.tasks_spawned, 1000);
    assert_eq!(metrics.polls, 1500, "odd tasks poll once, even ones twice");
}
