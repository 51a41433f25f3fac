//! A program's own `mio::Poll` with kettle's fd registered in it:
//! edge-triggered, as mio registers everything.
//!
//! The host is told once per *edge* of kettle's fd, and turns kettle once
//! per edge. That is enough only because of kettle's contract: a turn that
//! leaves work behind (a task that yielded, readiness a busy turn did not
//! collect) gives the fd a new edge, and so do timers, host-side spawns and
//! remote work. Without it, data arriving during a busy turn would sit in
//! kettle's epoll until some unrelated event (issue 20's first defect).

use std::os::fd::{AsFd, AsRawFd};
use std::time::Duration;

use kettle::Runtime;
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};

use crate::host::{HostCallback, HostLoop, HostTimers};

const KETTLE: Token = Token(0);

/// A `mio::Poll` host loop with kettle's fd registered edge-triggered.
pub struct MioEdgeHost {
    poll: Poll,
    events: Events,
    rt: Runtime,
    timers: HostTimers,
    turns: usize,
}

impl MioEdgeHost {
    /// A host driving `rt`: registers kettle's fd in a new `mio::Poll`.
    pub fn new(rt: Runtime) -> std::io::Result<MioEdgeHost> {
        let poll = Poll::new()?;
        let fd = rt.as_fd().as_raw_fd();
        poll.registry().register(&mut SourceFd(&fd), KETTLE, Interest::READABLE)?;
        Ok(MioEdgeHost {
            poll,
            events: Events::with_capacity(16),
            rt,
            timers: HostTimers::default(),
            turns: 0,
        })
    }
}

impl HostLoop for MioEdgeHost {
    fn name(&self) -> &'static str {
        "mio edge"
    }

    fn runtime(&self) -> &Runtime {
        &self.rt
    }

    fn iterate(&mut self, cap: Duration) {
        let wait = self.timers.wait(cap);
        match self.poll.poll(&mut self.events, Some(wait)) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(error) => panic!("the host's poll failed: {error}"),
        }
        if self.events.iter().any(|event| event.token() == KETTLE)
            && self.rt.try_turn(Some(Duration::ZERO)).is_ok()
        {
            self.turns += 1;
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
        let fd = self.rt.as_fd().as_raw_fd();
        self.poll.registry().deregister(&mut SourceFd(&fd)).expect("kettle's fd is registered");
        self.rt.shutdown();
    }
}
