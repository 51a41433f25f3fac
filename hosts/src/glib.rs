//! glib's main loop with kettle in it, in either of two ways: a custom
//! `GSource` ([`glib_source`](crate::glib_source), the way glib's own
//! sources are written) or a unix-fd source on kettle's fd
//! (`glib::unix_fd_source_new`, the shortest glue).
//!
//! Either way glib watches kettle's fd for `G_IO_IN` (level-triggered) and
//! each dispatch turns kettle once; no timeout source, as kettle's timers
//! make its fd readable, so the host gets kettle's precision instead of
//! glib's whole milliseconds. (A host that adds one from `next_timeout`
//! must round *up*, `next_timeout_ms`: glib truncates a 0.4 ms wait to 0,
//! and spins.)
//!
//! Two things glib adds. Its callbacks are `extern "C"`: a panic in one
//! aborts the process, hence `try_turn`. And a kettle task may run a nested
//! main loop (a modal dialog): glib does not dispatch a source again while
//! its dispatch runs (`g_source_set_can_recurse` is off by default), so
//! kettle's source sleeps during the nested loop; any *other* host callback
//! that turns kettle then gets `TurnError` from `try_turn`, not a panic,
//! and kettle resumes when the outer turn returns.
//!
//! The host has a `MainContext` of its own (a program would use the default
//! one); glib's `*_local` helpers only know the default context, so the
//! closures here are wrapped in glib's `ThreadGuard` (they hold `Rc`s and
//! run on this thread only) and attached with `Source::attach`.
//!
//! Ending: destroy the source, then shut the runtime down. The custom
//! source holds the runtime, so the other order cannot even be written;
//! with the fd source it would leave glib polling a closed fd (`G_IO_NVAL`
//! on every iteration): its closure stops on `NVAL` for that reason.

use std::cell::Cell;
use std::os::fd::{AsFd, AsRawFd};
use std::rc::Rc;
use std::time::Duration;

use glib::thread_guard::ThreadGuard;
use glib::{ControlFlow, IOCondition, MainContext, Priority, Source};
use kettle::Runtime;

use crate::host::{HostCallback, HostLoop};

/// How kettle's fd gets into glib's loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Way {
    /// A custom `GSource` ([`glib_source`](crate::glib_source)).
    CustomSource,
    /// `glib::unix_fd_source_new` on kettle's fd.
    FdSource,
}

/// A glib main context with kettle in it.
pub struct GlibHost {
    context: MainContext,
    rt: Rc<Runtime>,
    source: Source,
    way: Way,
    turns: Rc<Cell<usize>>,
    refused: Rc<Cell<usize>>,
    host_timers: Vec<Source>,
}

impl GlibHost {
    /// A host driving `rt` from a main context of its own, kettle's fd in it
    /// the `way` given.
    ///
    /// ```
    /// use std::time::Duration;
    /// use kettle_hosts::HostLoop;
    /// use kettle_hosts::glib::{GlibHost, Way};
    ///
    /// let mut host = GlibHost::new(kettle::Runtime::new().unwrap(), Way::CustomSource);
    /// let task = host.runtime().spawn(kettle::sleep(Duration::from_millis(2)));
    /// while !task.is_finished() {
    ///     host.iterate(Duration::from_secs(1));
    /// }
    /// // The source first (it holds the runtime), then the runtime.
    /// host.shutdown();
    /// ```
    pub fn new(rt: Runtime, way: Way) -> GlibHost {
        let context = MainContext::new();
        let rt = Rc::new(rt);
        let turns = Rc::new(Cell::new(0));
        let refused = Rc::new(Cell::new(0));
        let source = match way {
            Way::CustomSource => crate::glib_source::new(rt.clone(), turns.clone(), refused.clone()),
            Way::FdSource => fd_source(&rt, &turns, &refused),
        };
        source.attach(Some(&context));
        GlibHost { context, rt, source, way, turns, refused, host_timers: Vec::new() }
    }

    /// The host's main context: a nested `MainLoop` runs on it.
    pub fn context(&self) -> &MainContext {
        &self.context
    }

    /// The runtime, shared: a kettle task that runs a nested main loop needs
    /// it to try turning kettle from there.
    pub fn shared_runtime(&self) -> Rc<Runtime> {
        self.rt.clone()
    }

    /// How many times kettle's own source was refused a turn (glib
    /// dispatched it inside a nested loop: it normally does not).
    pub fn refused(&self) -> usize {
        self.refused.get()
    }

    /// Attaches `callback` as a timeout source of this host's context:
    /// [`timeout_on`].
    pub fn timeout(&self, after: Duration, callback: impl FnMut() -> ControlFlow + 'static) -> Source {
        timeout_on(&self.context, after, callback)
    }
}

/// Attaches `callback` as a timeout source of `context`, `after` from now
/// (rounded *up* to glib's whole milliseconds: glib truncates, and a 0.4 ms
/// wait would become 0). glib's `timeout_add_local` knows only the default
/// context; this wraps the closure in glib's `ThreadGuard` (it may hold
/// `Rc`s: it runs on this thread only) and attaches it where asked.
pub fn timeout_on(
    context: &MainContext,
    after: Duration,
    callback: impl FnMut() -> ControlFlow + 'static,
) -> Source {
    let ms = Duration::from_millis(u64::try_from(after.as_nanos().div_ceil(1_000_000)).unwrap_or(u64::MAX));
    let mut guarded = ThreadGuard::new(callback);
    let source = glib::timeout_source_new(ms, None, Priority::DEFAULT, move || (guarded.get_mut())());
    source.attach(Some(context));
    source
}

/// kettle's fd as a unix-fd source: a turn per dispatch.
fn fd_source(rt: &Rc<Runtime>, turns: &Rc<Cell<usize>>, refused: &Rc<Cell<usize>>) -> Source {
    let (rt, turns, refused) = (rt.clone(), turns.clone(), refused.clone());
    let fd = rt.as_fd().as_raw_fd();
    let mut turn = ThreadGuard::new(move |condition: IOCondition| {
        if condition.contains(IOCondition::NVAL) {
            // The runtime was shut down with the source still attached:
            // stop, or glib calls this for ever.
            return ControlFlow::Break;
        }
        // `try_turn`, never `turn`: a panic here would abort the process.
        match rt.try_turn(Some(Duration::ZERO)) {
            Ok(_) => turns.set(turns.get() + 1),
            Err(_) => refused.set(refused.get() + 1),
        }
        ControlFlow::Continue
    });
    glib::unix_fd_source_new(fd, IOCondition::IN, Some("kettle"), Priority::DEFAULT, move |_, condition| {
        (turn.get_mut())(condition)
    })
}

impl HostLoop for GlibHost {
    fn name(&self) -> &'static str {
        match self.way {
            Way::CustomSource => "glib GSource",
            Way::FdSource => "glib fd source",
        }
    }

    fn runtime(&self) -> &Runtime {
        &self.rt
    }

    fn iterate(&mut self, cap: Duration) {
        // glib's iteration blocks until a source dispatches: a timeout
        // source caps it.
        let capped = Rc::new(Cell::new(false));
        let set = capped.clone();
        let cap_source = self.timeout(cap, move || {
            set.set(true);
            ControlFlow::Break
        });
        self.context.iteration(true);
        if !capped.get() {
            cap_source.destroy();
        }
    }

    fn call_from_host(&mut self, after: Duration, callback: HostCallback) {
        let rt = self.rt.clone();
        let mut callback = Some(callback);
        let source = self.timeout(after, move || {
            if let Some(callback) = callback.take() {
                callback(&rt);
            }
            ControlFlow::Break
        });
        self.host_timers.retain(|timer| !timer.is_destroyed());
        self.host_timers.push(source);
    }

    fn turns(&self) -> usize {
        self.turns.get()
    }

    fn shutdown(self) {
        // First kettle's source, which drops its `Rc` of the runtime...
        self.source.destroy();
        drop(self.source);
        // ...and the host timers not yet fired, which hold one too.
        for timer in self.host_timers {
            timer.destroy();
        }
        // Then the runtime, now held only here.
        let rt = Rc::try_unwrap(self.rt).unwrap_or_else(|_| panic!("something still holds the runtime"));
        rt.shutdown();
    }
}
