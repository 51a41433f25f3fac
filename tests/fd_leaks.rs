//! Specifies that a runtime owns no thread and that dropping it releases every
//! file descriptor it opened. (Alone in its own test binary, so that no other
//! test opens descriptors or threads while these are counted.)

use std::time::Duration;

use kettle::Runtime;

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").expect("procfs is mounted").count()
}

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").expect("procfs is mounted").count()
}

#[test]
fn dropped_runtimes_leak_no_file_descriptor_and_start_no_thread() {
    let (fds_before, threads_before) = (open_fds(), threads());

    let runtimes: Vec<Runtime> = (0..50)
        .map(|i| {
            let rt = Runtime::new().unwrap();
            // Use every part that could hold a resource: tasks, timers, the
            // injector and its eventfd (a remote call wakes the loop).
            rt.handle().call_soon(|| {}).unwrap();
            let task = rt.spawn(async move {
                kettle::sleep(Duration::from_millis(1)).await;
                i
            });
            assert_eq!(rt.block_on(task).unwrap(), i);
            let _pending = rt.spawn(std::future::pending::<()>());
            rt.turn(Some(Duration::ZERO));
            rt
        })
        .collect();
    assert!(open_fds() >= fds_before + 50, "each live runtime holds descriptors (the count sees them)");
    assert_eq!(threads(), threads_before, "runtimes start no thread");

    drop(runtimes);
    assert!(open_fds() <= fds_before, "fds: {} before, {} after", fds_before, open_fds());
    assert_eq!(threads(), threads_before);
}
