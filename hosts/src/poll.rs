//! A plain `poll(2)` loop, level-triggered: the README's host, with host
//! timers of its own.
//!
//! Each iteration polls kettle's fd for `POLLIN` with a timeout that comes
//! from the host's own timers only — kettle's timers make the fd readable
//! by themselves — then turns kettle if the fd was readable and runs the
//! host timers that are due. Level-triggered: the fd stays readable while
//! kettle has work, so the host keeps turning until it has none.

use std::os::fd::{AsFd, AsRawFd};
use std::time::Duration;

use kettle::Runtime;

use crate::host::{HostCallback, HostLoop, HostTimers, millis_rounded_up};

/// A `poll(2)` host loop with kettle's fd in its set.
pub struct PollHost {
    rt: Runtime,
    timers: HostTimers,
    turns: usize,
}

impl PollHost {
    /// A host driving `rt`.
    pub fn new(rt: Runtime) -> PollHost {
        PollHost { rt, timers: HostTimers::default(), turns: 0 }
    }
}

impl HostLoop for PollHost {
    fn name(&self) -> &'static str {
        "poll"
    }

    fn runtime(&self) -> &Runtime {
        &self.rt
    }

    fn iterate(&mut self, cap: Duration) {
        let timeout = millis_rounded_up(self.timers.wait(cap));
        let mut fds = [libc::pollfd { fd: self.rt.as_fd().as_raw_fd(), events: libc::POLLIN, revents: 0 }];
        // SAFETY: `fds` is one valid `pollfd` that outlives the call, and
        // the count says one.
        let ready = unsafe { libc::poll(fds.as_mut_ptr(), 1, timeout) };
        assert!(ready >= 0 || std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted);
        assert!(fds[0].revents & libc::POLLNVAL == 0, "kettle's fd was closed while registered");
        if fds[0].revents & libc::POLLIN != 0 {
            // Refused only inside a nested loop run by a kettle task.
            if self.rt.try_turn(Some(Duration::ZERO)).is_ok() {
                self.turns += 1;
            }
        }
        self.timers.run_due(&self.rt);
    }

    fn call_from_host(&mut self, after: Duration, callback: HostCallback) {
        self.timers.add(after, callback);
    }

    fn turns(&self) -> usize {
        self.turns
    }

    fn shutdown(self) {
        // A poll(2) loop registers nothing: the fd leaves its set when the
        // next iteration does not list it.
        self.rt.shutdown();
    }
}
