//! Specifies what happens when something that belongs to runtime A is
//! awaited inside runtime B on the *same* thread. A cannot run while B runs
//! there, so the wait could never end: instead of hanging silently, a
//! `JoinHandle` (or `RemoteJoinHandle`) panics and a socket operation fails
//! with an `io::Error`, each with a message that says why. Across threads
//! nothing is wrong — A runs on its own thread — and that keeps working.

use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use kettle::Runtime;
use kettle::net::{TcpListener, UdpSocket};

mod common;
use common::finishes_within;
use common::net::{ANY_LOCAL_PORT, LIMIT};

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload.downcast_ref::<String>().cloned().unwrap_or_default()
}

#[test]
fn a_join_handle_of_another_runtime_on_this_thread_panics_with_the_reason() {
    finishes_within(LIMIT, || {
        let (a, b) = (Runtime::new().unwrap(), Runtime::new().unwrap());
        let task = a.spawn(std::future::pending::<()>());
        let payload = catch_unwind(AssertUnwindSafe(|| b.block_on(task))).expect_err("must not hang");
        let message = panic_message(payload);
        assert!(message.contains("awaited inside runtime"), "{message}");
        assert!(message.contains("cannot run until this one returns"), "{message}");
        // Both runtimes are still usable afterwards.
        assert_eq!(b.block_on(async { 1 }), 1);
        assert_eq!(a.block_on(a.spawn(async { 2 })).unwrap(), 2);
    });
}

#[test]
fn a_task_of_another_runtime_awaited_inside_a_task_fails_that_task_only() {
    finishes_within(LIMIT, || {
        let (a, b) = (Runtime::new().unwrap(), Runtime::new().unwrap());
        let foreign = a.spawn(std::future::pending::<()>());
        let waiter = b.spawn(foreign);
        let outcome = b.block_on(waiter);
        assert!(outcome.unwrap_err().is_panic(), "the awaiting task panicked, the loop went on");
    });
}

#[test]
fn a_remote_join_handle_of_another_runtime_on_this_thread_panics_too() {
    finishes_within(LIMIT, || {
        let (a, b) = (Runtime::new().unwrap(), Runtime::new().unwrap());
        let task = a.handle().spawn(async { 3 });
        let payload = catch_unwind(AssertUnwindSafe(|| b.block_on(task))).expect_err("must not hang");
        assert!(panic_message(payload).contains("awaited inside runtime"));
    });
}

#[test]
fn a_finished_task_of_another_runtime_can_still_be_collected() {
    // Nothing needs to run any more: no wait, no panic.
    let (a, b) = (Runtime::new().unwrap(), Runtime::new().unwrap());
    let task = a.spawn(async { 4 });
    a.turn(Some(Duration::ZERO));
    assert!(task.is_finished());
    assert_eq!(b.block_on(task).unwrap(), 4);
}

#[test]
fn a_join_handle_of_a_runtime_on_another_thread_is_awaited_normally() {
    let a = Runtime::new().unwrap();
    let handle = a.handle();
    let (tx, rx) = std::sync::mpsc::channel();
    let other = std::thread::spawn(move || {
        let b = Runtime::new().unwrap();
        let task = handle.spawn(async { 5 });
        let out = b.block_on(async { kettle::timeout(LIMIT, task).await });
        tx.send(()).unwrap();
        out
    });
    // Turn A until the other thread is done with it (or gone: a panic there
    // disconnects the channel and is resumed by `join` below).
    let deadline = std::time::Instant::now() + LIMIT;
    while rx.try_recv() == Err(std::sync::mpsc::TryRecvError::Empty) {
        assert!(std::time::Instant::now() < deadline, "the other thread never finished");
        a.turn(Some(Duration::from_millis(1)));
    }
    assert_eq!(other.join().unwrap().expect("not timed out").unwrap(), 5);
}

#[test]
fn a_socket_of_another_runtime_on_this_thread_fails_with_an_error() {
    finishes_within(LIMIT, a_socket_of_another_runtime_fails);
}

fn a_socket_of_another_runtime_fails() {
    let (a, b) = (Runtime::new().unwrap(), Runtime::new().unwrap());
    let socket = a.block_on(async { UdpSocket::bind(ANY_LOCAL_PORT).unwrap() });
    let received = b.block_on(async { kettle::timeout(LIMIT, socket.recv_from(&mut [0; 8])).await });
    let error = received.expect("an error at once, not a hang").unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::Other);
    assert!(error.to_string().contains("its own runtime cannot run until this one returns"), "{error}");
    assert_eq!(b.metrics().io_sources, 0, "nothing was registered with B");

    let listener = a.block_on(async { TcpListener::bind(ANY_LOCAL_PORT).unwrap() });
    let accepted = b.block_on(async { kettle::timeout(LIMIT, listener.accept()).await });
    assert!(accepted.expect("an error at once").is_err());

    // In its own runtime the socket works as before.
    let peer = a.block_on(async { UdpSocket::bind(ANY_LOCAL_PORT).unwrap() });
    let to = socket.local_addr().unwrap();
    let got = a.block_on(async {
        peer.send_to(b"mine", to).await.unwrap();
        kettle::timeout(LIMIT, socket.recv_from(&mut [0; 8])).await
    });
    assert_eq!(got.expect("received in time").unwrap().0, 4);
}
