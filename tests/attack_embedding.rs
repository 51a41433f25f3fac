//! Attacks the embedding contract (`src/runtime/embed.rs`, README's "Driving
//! kettle from your own loop"): the poll fd is readable whenever kettle has
//! work it could do now, with a new edge each time work appears; work host
//! code adds between turns makes it readable; timers fire it, never early;
//! `next_timeout` is zero whenever it is readable; `on_wake` fires once per
//! idle → work transition; `try_turn` refuses nested turns without a panic;
//! `shutdown` closes everything.
//!
//! Each test plays a host: an edge-triggered one (a `mio::Poll` of the
//! test's own, registering kettle's fd with `SourceFd`) or a
//! level-triggered one (`poll(2)`). A host's wait that reaches its cap
//! while kettle had work is a stall; a host that loops many more times than
//! the work asks for is a spin. Written by a session briefed only to break
//! the contract; the defects it found (a one-event buffer that spun the
//! host, work a setup `block_on` left unannounced, two wake callbacks for
//! one transition, a `Sleep` reset from host code that stranded its task,
//! a spurious edge after a busy `block_on`) are fixed, and their tests stay
//! as regressions.

// Setup code runs short `block_on`s that hand a task's handle back to the
// host on purpose: the handle is awaited (or checked) by the host loop.
#![allow(clippy::async_yields_async)]

use std::cell::{Cell, RefCell};
use std::io::Write;
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::net::UnixStream as StdUnixStream;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use kettle::Runtime;

const NOW: Option<Duration> = Some(Duration::ZERO);
/// A host wait this long, while kettle had work, is a stall.
const STALL: Duration = Duration::from_secs(5);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Edge,
    Level,
}

const KINDS: [Kind; 2] = [Kind::Edge, Kind::Level];

/// A host loop watching kettle's fd, edge- or level-triggered.
struct Host {
    kind: Kind,
    fd: i32,
    poll: mio::Poll,
    events: mio::Events,
}

impl Host {
    fn new(rt: &Runtime, kind: Kind) -> Host {
        let poll = mio::Poll::new().unwrap();
        let fd = rt.as_fd().as_raw_fd();
        if kind == Kind::Edge {
            poll.registry()
                .register(&mut mio::unix::SourceFd(&fd), mio::Token(0), mio::Interest::READABLE)
                .unwrap();
        }
        Host { kind, fd, poll, events: mio::Events::with_capacity(8) }
    }

    /// Waits at most `timeout` for kettle's fd; whether it fired.
    fn wait(&mut self, timeout: Duration) -> bool {
        match self.kind {
            Kind::Edge => {
                self.poll.poll(&mut self.events, Some(timeout)).unwrap();
                !self.events.is_empty()
            }
            Kind::Level => level_readable(self.fd, timeout),
        }
    }

    /// The host's loop: wait on the fd only (capped at `STALL`), turn, until
    /// `done`. Returns the number of iterations; panics on a stall.
    fn run_until(&mut self, rt: &Runtime, mut done: impl FnMut() -> bool) -> usize {
        let mut iterations = 0;
        while !done() {
            assert!(self.wait(STALL), "the {:?} host stalled: the fd did not fire for {STALL:?}", self.kind);
            rt.turn(NOW);
            iterations += 1;
            assert!(iterations < 100_000, "the {:?} host spun", self.kind);
        }
        iterations
    }

    /// After the work is done, the fd must quieten: at most `spurious` more
    /// wakes within `window`.
    fn assert_quiet(&mut self, rt: &Runtime, window: Duration, spurious: usize) {
        let start = Instant::now();
        let mut wakes = 0;
        while start.elapsed() < window {
            if self.wait(window.saturating_sub(start.elapsed())) {
                wakes += 1;
                rt.turn(NOW);
                assert!(wakes <= spurious, "the {:?} host spun: {wakes} wakes with nothing to do", self.kind);
            }
        }
    }
}

/// Whether `poll(2)` finds `fd` readable within `timeout`.
fn level_readable(fd: i32, timeout: Duration) -> bool {
    let mut pfd = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
    let ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
    // SAFETY: one valid pollfd on the stack.
    unsafe { libc::poll(&mut pfd, 1, ms) == 1 && pfd.revents & libc::POLLIN != 0 }
}

fn readable_now(rt: &Runtime) -> bool {
    level_readable(rt.as_raw_fd(), Duration::ZERO)
}

/// A future that stores its waker for host code and finishes once `flag` is set.
fn waiting_on(slot: Rc<RefCell<Option<Waker>>>, flag: Rc<Cell<bool>>) -> impl Future<Output = ()> {
    std::future::poll_fn(move |cx| {
        if flag.get() {
            Poll::Ready(())
        } else {
            *slot.borrow_mut() = Some(cx.waker().clone());
            Poll::Pending
        }
    })
}

/// A callback timer set through a short `block_on` (host code), recording
/// when it fired.
fn timer_at(rt: &Runtime, delay: Duration) -> (kettle::TimerHandle, Instant, Rc<Cell<Option<Instant>>>) {
    let fired = Rc::new(Cell::new(None));
    let at = fired.clone();
    let set = Instant::now();
    let timer = rt.block_on(async move { kettle::call_later(delay, move || at.set(Some(Instant::now()))) });
    (timer, set + delay, fired)
}

/// Sets a runtime up idle with one task parked, lets `add` (host code,
/// between turns) add work, and checks that both kinds of host see it.
fn host_code_adds_work(what: &str, add: impl Fn(&Runtime) -> Box<dyn Fn() -> bool>) {
    for kind in KINDS {
        let rt = Runtime::new().unwrap();
        let mut host = Host::new(&rt, kind);
        rt.turn(NOW);
        host.assert_quiet(&rt, Duration::from_millis(10), 0);
        let done = add(&rt);
        assert!(host.wait(STALL), "{what}: {kind:?}: the fd did not fire");
        assert_eq!(
            rt.next_timeout(),
            Some(Duration::ZERO),
            "{what}: {kind:?}: fd readable, next_timeout not zero"
        );
        rt.turn(NOW);
        host.run_until(&rt, &*done);
        host.assert_quiet(&rt, Duration::from_millis(30), 1);
    }
}

/// A runtime whose wake callback counts its calls, and the count.
fn counting_wakes() -> (Runtime, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let rt = kettle::Builder::new()
        .on_wake(move || {
            counted.fetch_add(1, Ordering::SeqCst);
        })
        .build()
        .unwrap();
    (rt, calls)
}

// The attacks, by what they try (one file each, under attack_embedding/).
#[path = "attack_embedding/lifecycle.rs"]
mod lifecycle;
#[path = "attack_embedding/threads.rs"]
mod threads;
#[path = "attack_embedding/time.rs"]
mod time;
#[path = "attack_embedding/wakes.rs"]
mod wakes;
#[path = "attack_embedding/work.rs"]
mod work;
