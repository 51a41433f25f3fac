//! calloop with kettle's fd as a `Generic` source, in `Mode::Level` or
//! `Mode::Edge`.
//!
//! The source owns an `Rc<Runtime>`: `Rc<T>` is `AsFd` when `T` is, so
//! calloop registers kettle's fd without `unsafe` and without a `dup`, and
//! its callback reaches the runtime through the source itself. The callback
//! turns kettle once. No timeout source: kettle's timers make its fd
//! readable. Edge mode relies on kettle's contract (a new edge for every
//! piece of new work, including what a turn leaves behind); level mode
//! would work without it, at the cost of calloop re-arming the fd.
//!
//! Removing the source (`LoopHandle::remove`) deregisters the fd and drops
//! the source's `Rc`; the runtime can then be taken and shut down.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use calloop::generic::Generic;
use calloop::timer::{TimeoutAction, Timer};
use calloop::{EventLoop, Interest, Mode, PostAction, RegistrationToken};
use kettle::Runtime;

use crate::host::{HostCallback, HostLoop};

/// calloop's `EventLoop` with kettle's fd as a `Generic` source.
pub struct CalloopHost {
    event_loop: EventLoop<'static, ()>,
    rt: Rc<Runtime>,
    source: RegistrationToken,
    turns: Rc<Cell<usize>>,
    mode: Mode,
}

impl CalloopHost {
    /// A host driving `rt`, its fd registered in `mode` (`Mode::Level` or
    /// `Mode::Edge`).
    ///
    /// ```
    /// use std::time::Duration;
    /// use kettle_hosts::HostLoop;
    /// use kettle_hosts::calloop::CalloopHost;
    ///
    /// let rt = kettle::Runtime::new().unwrap();
    /// let mut host = CalloopHost::new(rt, calloop::Mode::Edge).unwrap();
    /// // Host code spawns between turns: kettle's fd gets an edge for it.
    /// let task = host.runtime().spawn(async { 1 + 1 });
    /// host.iterate(Duration::from_secs(1));
    /// assert!(task.is_finished());
    /// host.shutdown();
    /// ```
    pub fn new(rt: Runtime, mode: Mode) -> calloop::Result<CalloopHost> {
        let event_loop = EventLoop::try_new()?;
        let rt = Rc::new(rt);
        let turns = Rc::new(Cell::new(0));
        let counted = turns.clone();
        let source = event_loop
            .handle()
            .insert_source(Generic::new(rt.clone(), Interest::READ, mode), move |_readiness, rt, _| {
                // Refused only inside a nested loop run by a kettle task.
                if rt.try_turn(Some(Duration::ZERO)).is_ok() {
                    counted.set(counted.get() + 1);
                }
                Ok(PostAction::Continue)
            })
            .map_err(|error| error.error)?;
        Ok(CalloopHost { event_loop, rt, source, turns, mode })
    }
}

impl HostLoop for CalloopHost {
    fn name(&self) -> &'static str {
        match self.mode {
            Mode::Edge => "calloop edge",
            _ => "calloop level",
        }
    }

    fn runtime(&self) -> &Runtime {
        &self.rt
    }

    fn iterate(&mut self, cap: Duration) {
        self.event_loop.dispatch(Some(cap), &mut ()).expect("calloop's dispatch failed");
    }

    fn call_from_host(&mut self, after: Duration, callback: HostCallback) {
        let rt = self.rt.clone();
        let mut callback = Some(callback);
        self.event_loop
            .handle()
            .insert_source(Timer::from_duration(after), move |_deadline, _, _| {
                if let Some(callback) = callback.take() {
                    callback(&rt);
                }
                TimeoutAction::Drop
            })
            .expect("calloop refused a timer");
    }

    fn turns(&self) -> usize {
        self.turns.get()
    }

    fn shutdown(self) {
        // First the source: it deregisters the fd and drops its `Rc`.
        self.event_loop.handle().remove(self.source);
        // The host's own timers may hold the runtime too: they go with the loop.
        drop(self.event_loop);
        let rt = Rc::try_unwrap(self.rt).unwrap_or_else(|_| panic!("a host timer still holds the runtime"));
        rt.shutdown();
    }
}
