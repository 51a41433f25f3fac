//! Specifies kettle's public error types as the ecosystem uses errors:
//! each is an `Error + Send + Sync + 'static`, so that `?` carries it into
//! `Box<dyn Error + Send + Sync>` (and `anyhow`, which asks the same), and
//! the ones a task's result can hold convert into `io::Error` (issue 17: a
//! `JoinError` held its panic payload as a plain `Box<dyn Any + Send>`, so
//! it was not `Sync`, and had no `io::Error` conversion).

use std::error::Error;
use std::io;

use kettle::sync::oneshot;
use kettle::sync::{Closed, TryGetError, TryPutError};
use kettle::{Elapsed, JoinError, RuntimeClosed};

/// Compiles only for errors the ecosystem can carry across threads and
/// box as `dyn Error + Send + Sync`.
fn carried_anywhere<E: Error + Send + Sync + 'static>() {}

#[test]
fn every_public_error_type_is_send_sync_and_static() {
    carried_anywhere::<JoinError>();
    carried_anywhere::<RuntimeClosed>();
    carried_anywhere::<Elapsed>();
    carried_anywhere::<oneshot::RecvError>();
    carried_anywhere::<oneshot::TryRecvError>();
    carried_anywhere::<Closed<String>>();
    carried_anywhere::<TryPutError<String>>();
    carried_anywhere::<TryGetError>();
}

#[test]
fn a_join_error_travels_through_question_mark_into_a_boxed_error_and_an_io_error() {
    async fn boxed() -> Result<u32, Box<dyn Error + Send + Sync>> {
        let n = kettle::spawn(async { 2 }).await?;
        kettle::spawn(async { panic!("inside the task") }).await?;
        Ok(n)
    }
    async fn io_result() -> io::Result<()> {
        let task = kettle::spawn(std::future::pending::<()>());
        task.cancel();
        task.await?;
        Ok(())
    }
    kettle::run(async {
        let boxed = boxed().await.unwrap_err();
        assert_eq!(boxed.to_string(), "task panicked: inside the task");
        let join = boxed.downcast::<JoinError>().expect("the JoinError itself");
        let payload = join.into_panic();
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"inside the task"), "the payload survives the trip");

        let io = io_result().await.unwrap_err();
        assert_eq!(io.kind(), io::ErrorKind::Other);
        assert_eq!(io.to_string(), "task was cancelled");
        let join = io.into_inner().unwrap().downcast::<JoinError>().unwrap();
        assert!(join.is_cancelled());
    });
}

#[test]
fn a_join_error_can_be_shared_between_threads_and_still_gives_up_its_payload() {
    let err = kettle::run(async { kettle::spawn(async { panic!("shared") }).await.unwrap_err() });
    let shared = std::sync::Arc::new(err);
    let seen = std::thread::scope(|s| {
        let threads: Vec<_> = (0..2).map(|_| s.spawn(|| shared.to_string())).collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect::<Vec<_>>()
    });
    assert_eq!(seen, ["task panicked: shared", "task panicked: shared"]);
    let err = std::sync::Arc::into_inner(shared).unwrap();
    assert_eq!(format!("{err:?}"), "JoinError::Panic(\"shared\")");
    let payload = err.into_panic();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"shared"));
}

#[test]
fn a_remote_join_handles_error_is_the_same_join_error() {
    let rt = kettle::Runtime::new().unwrap();
    let handle = rt.handle();
    let remote = std::thread::spawn(move || handle.spawn(async { panic!("remote") })).join().unwrap();
    let waited = std::thread::spawn(move || remote.wait());
    let give_up = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !waited.is_finished() {
        assert!(std::time::Instant::now() < give_up, "the remote task never finished");
        rt.block_on(kettle::sleep(std::time::Duration::from_millis(1)));
    }
    let err = waited.join().unwrap().unwrap_err();
    let as_io: io::Error = err.into();
    assert_eq!(as_io.to_string(), "task panicked: remote");
}

#[test]
fn a_panic_payload_that_is_not_sync_comes_back_unchanged_from_into_panic() {
    // `Cell` is `Send` but not `Sync`: the error must still be `Sync`.
    let err = kettle::run(async {
        kettle::spawn(async { std::panic::panic_any(std::cell::Cell::new(41_u32)) }).await.unwrap_err()
    });
    assert!(err.is_panic());
    assert_eq!(err.to_string(), "task panicked", "no message to show");
    let shared = std::sync::Arc::new(err);
    let seen = std::thread::scope(|s| s.spawn(|| format!("{:?}", shared)).join().unwrap());
    assert_eq!(seen, "JoinError::Panic(..)");
    let payload = std::sync::Arc::into_inner(shared).unwrap().into_panic();
    let cell = payload.downcast::<std::cell::Cell<u32>>().expect("the very payload the task panicked with");
    assert_eq!(cell.get(), 41);
}
