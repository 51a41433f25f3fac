//! glib's `MainLoop` with kettle's fd as a unix-fd source.
//!
//! `glib::source::unix_fd_add_local` watches kettle's fd for `G_IO_IN`
//! (level-triggered: glib polls it each iteration) and its closure turns
//! kettle once. No timeout source: kettle's timers make its fd readable, so
//! the host gets kettle's precision instead of glib's whole milliseconds —
//! a host that does add one from `next_timeout` must round *up*
//! (`next_timeout_ms`), or a 0.4 ms remainder becomes a 0 ms timeout and a
//! spin.
//!
//! Two things glib adds. Its callbacks are `extern "C"`: a panic in one
//! aborts the process, hence `try_turn`. And a kettle task may run a nested
//! `MainLoop` (a modal dialog): glib does not dispatch a source again while
//! its dispatch runs (`g_source_set_can_recurse` is off by default), so
//! kettle's own source sleeps during the nested loop; any *other* host
//! callback that turns kettle then gets `TurnError` from `try_turn`, not a
//! panic, and kettle resumes when the outer turn returns.
//!
//! The `*_local` functions use glib's default main context, which one
//! thread at a time may own; the tests take a lock around each use.
//!
//! Ending: remove the source (`SourceId::remove`), then shut the runtime
//! down. The other order leaves glib polling a closed fd: `G_IO_NVAL` on
//! every iteration, the source called in a loop.

use std::cell::Cell;
use std::os::fd::{AsFd, AsRawFd};
use std::rc::Rc;
use std::time::Duration;

use glib::{ControlFlow, IOCondition, MainContext, SourceId};
use kettle::Runtime;

use crate::host::{HostCallback, HostLoop};

/// glib's default main context with kettle's fd as a unix-fd source.
pub struct GlibHost {
    context: MainContext,
    rt: Rc<Runtime>,
    source: Option<SourceId>,
    turns: Rc<Cell<usize>>,
    refused: Rc<Cell<usize>>,
    host_timers: Vec<SourceId>,
}

impl GlibHost {
    /// A host driving `rt` from glib's default main context.
    pub fn new(rt: Runtime) -> GlibHost {
        let rt = Rc::new(rt);
        let turns = Rc::new(Cell::new(0));
        let refused = Rc::new(Cell::new(0));
        let source = Some(add_kettle_source(&rt, &turns, &refused));
        GlibHost { context: MainContext::default(), rt, source, turns, refused, host_timers: Vec::new() }
    }

    /// The runtime, shared: a kettle task that runs a nested main loop needs
    /// it to show that turning kettle from there is refused.
    pub fn shared_runtime(&self) -> Rc<Runtime> {
        self.rt.clone()
    }

    /// How many times `try_turn` was refused from kettle's source (a nested
    /// loop that dispatched it: glib normally does not).
    pub fn refused(&self) -> usize {
        self.refused.get()
    }
}

/// Watches kettle's fd from glib's default context: a turn per dispatch.
fn add_kettle_source(rt: &Rc<Runtime>, turns: &Rc<Cell<usize>>, refused: &Rc<Cell<usize>>) -> SourceId {
    let (rt, turns, refused) = (rt.clone(), turns.clone(), refused.clone());
    let fd = rt.as_fd().as_raw_fd();
    glib::source::unix_fd_add_local(fd, IOCondition::IN, move |_, condition| {
        if condition.contains(IOCondition::NVAL) {
            // The runtime was shut down with the source still registered:
            // stop, or glib calls this for ever.
            return ControlFlow::Break;
        }
        match rt.try_turn(Some(Duration::ZERO)) {
            Ok(_) => turns.set(turns.get() + 1),
            Err(_) => refused.set(refused.get() + 1),
        }
        ControlFlow::Continue
    })
}

impl HostLoop for GlibHost {
    fn name(&self) -> &'static str {
        "glib"
    }

    fn runtime(&self) -> &Runtime {
        &self.rt
    }

    fn iterate(&mut self, cap: Duration) {
        // glib's iteration blocks until a source dispatches: a timeout
        // source of the test's own caps it.
        let capped = Rc::new(Cell::new(false));
        let set = capped.clone();
        let cap_source = glib::timeout_add_local_once(cap, move || set.set(true));
        self.context.iteration(true);
        if !capped.get() {
            cap_source.remove();
        }
    }

    fn call_from_host(&mut self, after: Duration, callback: HostCallback) {
        let rt = self.rt.clone();
        self.host_timers.push(glib::timeout_add_local_once(after, move || callback(&rt)));
    }

    fn turns(&self) -> usize {
        self.turns.get()
    }

    fn shutdown(mut self) {
        // First the source, which drops its closure and the `Rc` in it...
        if let Some(source) = self.source.take() {
            source.remove();
        }
        // ...and the host timers not yet fired (fired ones are gone).
        for source in self.host_timers.drain(..) {
            if let Some(source) = self.context.find_source_by_id(&source) {
                source.destroy();
            }
        }
        // Then the runtime, now held only here.
        let rt = Rc::try_unwrap(self.rt).unwrap_or_else(|_| panic!("something still holds the runtime"));
        rt.shutdown();
    }
}
