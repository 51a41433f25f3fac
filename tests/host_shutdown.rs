//! Specifies `Runtime::shutdown` for a host loop whose tasks hold the host
//! while the host holds the runtime: shutting down breaks the cycle at once —
//! every task's future dropped, with the host handle it held — and closes
//! every descriptor the runtime opened. (Alone in its own test binary, so
//! that no other test opens descriptors while these are counted.)

use std::cell::RefCell;
use std::os::fd::{AsFd, AsRawFd};
use std::rc::Rc;
use std::time::Duration;

use kettle::Runtime;

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").expect("procfs is mounted").count()
}

/// The host's state: its runtime, and what its tasks report to it.
struct Host {
    rt: RefCell<Option<Runtime>>,
    log: RefCell<Vec<&'static str>>,
}

/// Drops with the task's future, and says so in the host's log.
struct Held(Rc<Host>);

impl Drop for Held {
    fn drop(&mut self) {
        self.0.log.borrow_mut().push("task dropped its host handle");
    }
}

#[test]
fn shutdown_breaks_a_task_host_cycle_and_closes_every_descriptor() {
    let before = open_fds();
    let host = Rc::new(Host { rt: RefCell::new(Some(Runtime::new().unwrap())), log: RefCell::default() });
    {
        let rt = host.rt.borrow();
        let rt = rt.as_ref().unwrap();
        // The host's loop watches the fd (here a poll(2) check).
        let fd = rt.as_fd().as_raw_fd();
        assert!(fd >= 0);
        for _ in 0..3 {
            let held = Held(host.clone());
            rt.spawn(async move {
                let _held = held;
                kettle::sleep(Duration::from_secs(3600)).await;
            })
            .detach();
        }
        let _timer = rt.block_on(async { kettle::call_later(Duration::from_secs(3600), || {}) });
        rt.handle().call_soon(|| {}).unwrap();
        rt.turn(Some(Duration::ZERO));
        assert!(open_fds() > before, "the runtime holds descriptors");
    }
    assert_eq!(Rc::strong_count(&host), 4, "three tasks hold the host: a cycle");

    // The host removes kettle's fd from its loop first, then shuts down.
    let rt = host.rt.borrow_mut().take().unwrap();
    let handle = rt.handle();
    rt.shutdown();
    assert_eq!(Rc::strong_count(&host), 1, "every task's future is gone, with its handle");
    assert_eq!(host.log.borrow().len(), 3);
    assert_eq!(open_fds(), before, "no descriptor leaked");
    assert!(handle.call_soon(|| {}).is_err(), "handles see the runtime closed");
}
