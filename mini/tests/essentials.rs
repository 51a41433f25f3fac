//! kettle-mini's own checks of the essentials; the big comparison with kettle
//! is kettle's differential tests (`tests/differential.rs` at the repository root).

use std::{cell::RefCell, rc::Rc, time::Duration};

use kettle_mini::{Runtime, call_later, call_soon, sleep, spawn, sync::Queue, timeout, yield_now};

#[test]
fn one_turn_runs_the_callbacks_then_the_tasks_queued_now_and_defers_the_rest() {
    let seen: Rc<RefCell<Vec<&str>>> = Rc::default();
    let log = |what| {
        let seen = seen.clone();
        move || seen.borrow_mut().push(what)
    };
    let rt = Runtime::new().unwrap();
    let (a, b, later) = (log("a"), log("b"), log("callback from a"));
    let _a = rt.spawn(async move {
        a();
        call_soon(later); // next turn
        yield_now().await; // next turn, after the callback
        b();
    });
    let never = rt.spawn(async { unreachable!("cancelled before its first poll") });
    never.cancel();
    let remote = rt.handle().spawn(async { 40 });
    rt.block_on(async {
        call_soon(log("callback")); // callbacks run before tasks
        assert!(call_later(Duration::from_millis(1), log("cancelled")).cancel());
        assert!(timeout(Duration::from_millis(5), sleep(Duration::from_secs(5))).await.is_err());
        assert!(never.await.unwrap_err().is_cancelled());
        assert_eq!(spawn(async { panic!("boom") }).await.unwrap_err().to_string(), "task panicked");
        assert_eq!(remote.await.unwrap(), 40);
    });
    assert_eq!(*seen.borrow(), ["callback", "a", "callback from a", "b"]);
}

#[test]
fn a_cancelled_getter_passes_its_reserved_item_on() {
    kettle_mini::run(async {
        let queue = Queue::bounded(1);
        let (q1, q2) = (queue.clone(), queue.clone());
        let (first, second) = (spawn(async move { q1.get().await }), spawn(async move { q2.get().await }));
        yield_now().await; // both wait, in this order
        queue.put(1).await.unwrap(); // reserved for `first`, cancelled before it runs
        first.cancel();
        assert_eq!((first.await.is_err(), second.await.unwrap()), (true, Some(1)));
        queue.close();
        assert_eq!((queue.get().await, queue.put(2).await.is_err()), (None, true));
    });
}

#[test]
#[should_panic(expected = "nested block_on")]
fn nested_block_on_panics_with_a_message() {
    kettle_mini::run(async { kettle_mini::run(async {}) });
}
