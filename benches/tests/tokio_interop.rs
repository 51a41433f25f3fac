//! kettle's join handles awaited by tokio: the interop tests that need tokio,
//! kept here so that kettle's own `cargo test` never builds it.

use std::thread;
use std::time::Duration;

use kettle::{Handle, Runtime, sleep};

const LIMIT: Duration = Duration::from_secs(2);

/// Stops the loop when dropped, so a failing `work` does not hang the test.
struct StopOnDrop(Handle);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.stop();
    }
}

/// Runs the loop on this thread while `work` runs on another with a handle.
fn drive<T: Send + 'static>(rt: &Runtime, work: impl FnOnce(Handle) -> T + Send + 'static) -> T {
    let handle = rt.handle();
    let worker = thread::spawn(move || {
        let _stop = StopOnDrop(handle.clone());
        work(handle)
    });
    rt.run_forever();
    worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

#[test]
fn a_remote_join_handle_can_be_awaited_by_a_tokio_runtime_on_another_thread() {
    let rt = Runtime::new().unwrap();
    let out = drive(&rt, |handle| {
        let task = handle.spawn(async {
            sleep(Duration::from_millis(10)).await;
            String::from("from kettle")
        });
        let tokio_rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        tokio_rt.block_on(async { tokio::time::timeout(LIMIT, task).await.expect("woken in time") })
    });
    assert_eq!(out.unwrap(), "from kettle");
}

#[test]
fn a_local_join_handle_can_be_awaited_by_a_tokio_runtime_on_another_thread() {
    let rt = Runtime::new().unwrap();
    let child = rt.spawn(async {
        sleep(Duration::from_millis(5)).await;
        String::from("crossed")
    });
    let out = drive(&rt, move |_handle| {
        let tokio_rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        tokio_rt.block_on(async { tokio::time::timeout(LIMIT, child).await.expect("woken in time") })
    });
    assert_eq!(out.unwrap(), "crossed");
}
