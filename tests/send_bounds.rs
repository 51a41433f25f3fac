//! Specifies which kettle types may cross threads (compile-time checks), and that futures
//! using kettle's timers and join handles can be submitted with `Handle::spawn`.
//!
//! (`Runtime` being `!Send` is shown by the `compile_fail` doctest on `Handle`.)

use std::future::Ready;
use std::thread;
use std::time::Duration;

use kettle::time::Tick;

mod common;
use common::{block_on_thread, drive};
use kettle::{
    Elapsed, Handle, Interval, JoinHandle, RemoteJoinHandle, Runtime, RuntimeClosed, Sleep, time::Timeout,
};

fn assert_send<T: Send>() {}
fn assert_sync<T: Sync>() {}

/// Proves at compile time that the value is `Send`, and hands it back.
fn require_send<T: Send>(value: T) -> T {
    value
}

#[test]
fn timer_futures_are_send() {
    assert_send::<Sleep>();
    assert_send::<Interval>();
    assert_send::<Tick<'static>>();
    assert_send::<Timeout<Sleep>>();
    assert_send::<Timeout<Ready<u8>>>();
    assert_send::<Elapsed>();
    assert_sync::<Elapsed>();
}

#[test]
fn join_handles_are_send_when_the_output_is() {
    assert_send::<JoinHandle<u32>>();
    assert_send::<JoinHandle<String>>();
    assert_send::<RemoteJoinHandle<u32>>();
    assert_send::<RemoteJoinHandle<Vec<String>>>();
}

#[test]
fn handle_is_send_and_sync() {
    assert_send::<Handle>();
    assert_sync::<Handle>();
    assert_send::<RuntimeClosed>();
    assert_sync::<RuntimeClosed>();
}

#[test]
fn timer_values_really_cross_threads() {
    // Not just the types: live values, created inside a runtime, can be moved to another thread.
    let rt = Runtime::new().unwrap();
    let (sleep, interval, timeout) = rt.block_on(async {
        (
            kettle::sleep(Duration::from_secs(1)),
            kettle::interval(Duration::from_secs(1)),
            kettle::timeout(Duration::from_secs(1), async { 1 }),
        )
    });
    let seen = thread::spawn(move || {
        let deadline_gap = timeout.deadline().saturating_duration_since(sleep.deadline());
        (interval.period(), deadline_gap < Duration::from_millis(500))
    })
    .join()
    .unwrap();
    assert_eq!(seen, (Duration::from_secs(1), true));
}

#[test]
fn a_future_sleeping_with_kettle_can_be_spawned_from_another_thread() {
    let rt = Runtime::new().unwrap();
    let out = drive(&rt, |handle| {
        let d = Duration::from_millis(5);
        let task = handle.spawn(async move {
            kettle::sleep(d).await;
            42
        });
        task.wait().unwrap()
    });
    assert_eq!(out, 42);
}

#[test]
fn a_future_using_timeout_can_be_spawned_from_another_thread() {
    let rt = Runtime::new().unwrap();
    let (quick, slow) = drive(&rt, |handle| {
        let d = Duration::from_millis(5);
        let quick = handle.spawn(async move { kettle::timeout(d, async { 1 }).await });
        let slow = handle.spawn(async move { kettle::timeout(d, std::future::pending::<()>()).await });
        (quick.wait().unwrap(), slow.wait().unwrap())
    });
    assert_eq!(quick, Ok(1));
    assert!(slow.is_err());
}

#[test]
fn a_future_holding_intervals_and_join_handles_across_awaits_can_be_spawned_remotely() {
    let rt = Runtime::new().unwrap();
    let out = drive(&rt, |handle| {
        let task = handle.spawn(require_send(async {
            let mut ticks = kettle::interval(Duration::from_millis(2));
            let child: JoinHandle<u32> = kettle::spawn(async { 40 });
            ticks.tick().await;
            ticks.tick().await;
            child.await.unwrap() + 2
        }));
        task.wait().unwrap()
    });
    assert_eq!(out, 42);
}

#[test]
fn a_join_handle_can_be_awaited_from_another_thread() {
    let rt = Runtime::new().unwrap();
    let child = rt.spawn(async {
        kettle::sleep(Duration::from_millis(5)).await;
        String::from("crossed")
    });
    let out = drive(&rt, move |_handle| block_on_thread(child));
    assert_eq!(out.unwrap(), "crossed");
}
