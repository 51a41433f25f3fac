//! Specifies the poll fd's contract with a host loop (`src/runtime/embed.rs`):
//! readable whenever kettle has work it could do now, with a new edge each
//! time, so that level- and edge-triggered hosts alike never stall — for
//! readiness that arrives during a busy turn, work a turn leaves behind,
//! work host code adds between turns, remote work and timers; that
//! `next_timeout` agrees with it; that a nested turn is refused without a
//! panic; and that the wake callback fires once per idle → work transition.
//!
//! The edge-triggered host is a `mio::Poll` of the test's own (mio registers
//! every descriptor edge-triggered), the level-triggered one `poll(2)`. A
//! host's wait that reaches its cap is a stall: the cap is generous (5 s),
//! and what is asserted is that the wait ended because the fd fired.

// Some setup `block_on`s return a spawned task's handle on purpose: the task
// must still be queued when they return.
#![allow(clippy::async_yields_async)]

use std::io::Write;
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::net::UnixStream as StdUnixStream;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use kettle::Runtime;

const NOW: Option<Duration> = Some(Duration::ZERO);
/// A host wait this long is a stall.
const STALL: Duration = Duration::from_secs(5);

/// A host loop that registers kettle's fd edge-triggered, as calloop in
/// `Mode::Edge` or a program's own `mio::Poll` does.
struct EdgeHost {
    poll: mio::Poll,
    events: mio::Events,
}

impl EdgeHost {
    fn new(rt: &Runtime) -> EdgeHost {
        let poll = mio::Poll::new().unwrap();
        let fd = rt.as_fd().as_raw_fd();
        poll.registry()
            .register(&mut mio::unix::SourceFd(&fd), mio::Token(0), mio::Interest::READABLE)
            .unwrap();
        EdgeHost { poll, events: mio::Events::with_capacity(8) }
    }

    /// Waits at most `timeout` for a new edge on kettle's fd; whether one came.
    fn wait(&mut self, timeout: Duration) -> bool {
        self.poll.poll(&mut self.events, Some(timeout)).unwrap();
        !self.events.is_empty()
    }

    /// The host's loop: wait for an edge (no timeout but the stall cap: the
    /// fd must fire for everything, timers included), turn, until `done`.
    /// Returns the number of iterations; panics on a stall.
    fn run_until(&mut self, rt: &Runtime, mut done: impl FnMut() -> bool) -> usize {
        let mut iterations = 0;
        while !done() {
            assert!(self.wait(STALL), "the edge-triggered host stalled: no edge for {STALL:?}");
            rt.turn(NOW);
            iterations += 1;
        }
        iterations
    }
}

/// Whether `poll(2)` finds kettle's fd readable within `timeout` (a
/// level-triggered host).
fn level_readable(rt: &Runtime, timeout: Duration) -> bool {
    let mut fd = libc::pollfd { fd: rt.as_raw_fd(), events: libc::POLLIN, revents: 0 };
    let ms = i32::try_from(timeout.as_millis()).unwrap();
    // SAFETY: one valid pollfd on the stack.
    unsafe { libc::poll(&mut fd, 1, ms) == 1 }
}

/// A task that wakes itself `times` times: a busy loop for that many turns.
async fn busy(times: usize) {
    for _ in 0..times {
        kettle::yield_now().await;
    }
}

#[test]
fn readiness_that_arrives_during_a_busy_turn_reaches_an_edge_triggered_host() {
    let rt = Runtime::new().unwrap();
    let mut host = EdgeHost::new(&rt);
    let (ours, mut theirs) = StdUnixStream::pair().unwrap();
    let reader = rt.spawn(async move {
        let mut ours = kettle::net::UnixStream::from_std(ours).unwrap();
        let mut buf = [0u8; 5];
        ours.read_exact(&mut buf).await.unwrap();
        buf
    });
    let spinner = rt.spawn(busy(3));
    rt.turn(NOW); // the reader waits for data; the spinner stays queued
    // The data arrives while a task is queued: the next turn is busy.
    theirs.write_all(b"hello").unwrap();
    host.run_until(&rt, || reader.is_finished() && spinner.is_finished());
    assert_eq!(rt.block_on(reader).unwrap(), *b"hello");
    assert!(!host.wait(Duration::ZERO), "no edge once everything is done");
}

#[test]
fn readiness_beyond_the_events_buffer_reaches_an_edge_triggered_host() {
    // Room for one event per poll, and four sockets ready at once.
    let rt = kettle::Builder::new().event_capacity(1).build().unwrap();
    let mut host = EdgeHost::new(&rt);
    let mut peers = Vec::new();
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let (ours, theirs) = StdUnixStream::pair().unwrap();
            peers.push(theirs);
            rt.spawn(async move {
                let mut ours = kettle::net::UnixStream::from_std(ours).unwrap();
                let mut byte = [0u8];
                ours.read_exact(&mut byte).await.unwrap();
                byte[0]
            })
        })
        .collect();
    rt.turn(NOW);
    for (i, peer) in peers.iter_mut().enumerate() {
        peer.write_all(&[i as u8]).unwrap();
    }
    host.run_until(&rt, || readers.iter().all(|reader| reader.is_finished()));
    let bytes: Vec<u8> = readers.into_iter().map(|reader| rt.block_on(reader).unwrap()).collect();
    assert_eq!(bytes, [0, 1, 2, 3]);
}

#[test]
fn a_turn_that_leaves_work_behind_gives_the_fd_a_new_edge() {
    let rt = Runtime::new().unwrap();
    let mut host = EdgeHost::new(&rt);
    let spinner = rt.spawn(busy(10));
    let iterations = host.run_until(&rt, || spinner.is_finished());
    assert!(iterations >= 10, "one turn per yield: {iterations}");
    assert!(iterations <= 13, "and not many more: {iterations}");
    // A callback that queues a callback: the same, for the callback queue.
    let count = Rc::new(std::cell::Cell::new(0));
    let counted = count.clone();
    rt.block_on(async move {
        kettle::call_soon(move || {
            counted.set(1);
            kettle::call_soon(move || counted.set(2));
        });
    });
    host.run_until(&rt, || count.get() == 2);
}

#[test]
fn work_added_by_host_code_between_turns_makes_the_fd_readable() {
    let rt = Runtime::new().unwrap();
    let mut host = EdgeHost::new(&rt);
    rt.turn(NOW);
    assert!(!host.wait(Duration::ZERO), "an idle runtime's fd is quiet");
    assert!(!level_readable(&rt, Duration::ZERO));
    // The host's own callback spawns: no turn runs, yet the fd must fire.
    let first = rt.spawn(async { 1 });
    let second = rt.spawn(async { 2 });
    assert!(level_readable(&rt, Duration::ZERO), "level-triggered: readable");
    assert!(host.wait(Duration::from_secs(1)), "edge-triggered: an edge");
    assert_eq!(rt.next_timeout(), Some(Duration::ZERO));
    let turn = rt.turn(NOW);
    assert_eq!(turn.tasks_run, 2, "both ran in the turn the edge asked for");
    assert!((first.is_finished(), second.is_finished()) == (true, true));
    assert!(!host.wait(Duration::ZERO), "and the fd is quiet again");
    assert!(!level_readable(&rt, Duration::ZERO));
}

#[test]
fn remote_work_reaches_both_kinds_of_host() {
    let rt = Runtime::new().unwrap();
    let mut host = EdgeHost::new(&rt);
    rt.turn(NOW);
    let handle = rt.handle();
    let mut task = std::thread::spawn(move || handle.spawn(async { 5 })).join().unwrap();
    assert!(host.wait(STALL));
    assert!(level_readable(&rt, Duration::ZERO));
    rt.turn(NOW);
    assert_eq!(task.wait_timeout(Duration::ZERO).unwrap().unwrap(), 5);
    assert!(!level_readable(&rt, Duration::ZERO));
}

#[test]
fn a_host_that_only_watches_the_fd_is_woken_for_timers_never_early() {
    for host_kind in ["edge", "level"] {
        let rt = Runtime::new().unwrap();
        let mut host = EdgeHost::new(&rt);
        let fired = Rc::new(std::cell::Cell::new(None));
        let start = Instant::now();
        let at = fired.clone();
        rt.block_on(async move {
            kettle::call_later(Duration::from_millis(20), move || at.set(Some(Instant::now())));
        });
        while fired.get().is_none() {
            let woke = match host_kind {
                "edge" => host.wait(STALL),
                _ => level_readable(&rt, STALL),
            };
            assert!(woke, "{host_kind}: the fd did not fire for the timer");
            rt.turn(NOW);
        }
        let late = fired.get().unwrap() - start;
        assert!(late >= Duration::from_millis(20), "{host_kind}: early: {late:?}");
        assert!(late < Duration::from_secs(2), "{host_kind}: {late:?}");
    }
}

#[test]
fn an_idle_host_loop_does_not_spin() {
    // A timer far off, and a host that waits on the fd and on
    // `next_timeout_ms`, as a millisecond host does: over 100 ms it wakes
    // a handful of times, not thousands.
    let rt = Runtime::new().unwrap();
    let _far = rt.block_on(async { kettle::call_later(Duration::from_secs(60), || {}) });
    let _near = rt.block_on(async { kettle::call_later(Duration::from_micros(400), || {}) });
    let start = Instant::now();
    let mut iterations = 0;
    while start.elapsed() < Duration::from_millis(100) {
        let ms = rt.next_timeout_ms().map_or(100, |ms| ms.min(100));
        level_readable(&rt, Duration::from_millis(ms));
        rt.turn(NOW);
        iterations += 1;
    }
    assert!(iterations < 50, "the host spun: {iterations} iterations in 100 ms");
}

#[test]
fn next_timeout_is_zero_whenever_the_fd_is_readable() {
    let rt = Runtime::new().unwrap();
    assert_eq!(rt.next_timeout(), None);
    assert_eq!(rt.next_timeout_ms(), None);
    let handle = rt.handle();
    std::thread::spawn(move || handle.call_soon(|| {}).unwrap()).join().unwrap();
    assert!(level_readable(&rt, Duration::ZERO));
    assert_eq!(rt.next_timeout(), Some(Duration::ZERO), "remote work waits");
    assert_eq!(rt.next_timeout_ms(), Some(0));
    rt.turn(NOW);
    assert_eq!(rt.next_timeout(), None, "taken: nothing left");
    // A timer armed on the fd: once due, fd and timeout agree.
    let _timer = rt.block_on(async { kettle::call_later(Duration::from_millis(5), || {}) });
    rt.turn(NOW);
    assert!(rt.next_timeout().unwrap() > Duration::ZERO);
    assert!(level_readable(&rt, STALL), "the timerfd fires");
    assert_eq!(rt.next_timeout(), Some(Duration::ZERO));
    assert_eq!(rt.turn(NOW).callbacks_run, 1);
}

#[test]
fn the_fd_goes_quiet_again_after_the_turn_that_runs_a_due_timer() {
    // The timerfd's expiry count is never read: the fd must still go quiet
    // for a level-triggered host once a turn has collected the firing,
    // whether another timer is left to arm or none is.
    for other_timer in [false, true] {
        let rt = Runtime::new().unwrap();
        let _timers = rt.block_on(async move {
            let soon = kettle::call_later(Duration::from_millis(2), || {});
            let later = other_timer.then(|| kettle::call_later(Duration::from_secs(3600), || {}));
            (soon, later)
        });
        rt.turn(NOW);
        assert!(level_readable(&rt, STALL), "the timerfd fires");
        assert_eq!(rt.turn(NOW).callbacks_run, 1);
        assert!(!level_readable(&rt, Duration::ZERO), "other timer: {other_timer}: the fd is quiet again");
        assert_ne!(rt.next_timeout(), Some(Duration::ZERO));
    }
}

#[test]
fn next_timeout_ms_rounds_a_sub_millisecond_remainder_up() {
    let rt = Runtime::new().unwrap();
    let _timer = rt.block_on(async { kettle::call_later(Duration::from_micros(1_500), || {}) });
    let exact = rt.next_timeout().unwrap();
    let ms = rt.next_timeout_ms().unwrap();
    assert!(exact > Duration::ZERO && exact <= Duration::from_micros(1_500), "{exact:?}");
    assert!(Duration::from_millis(ms) >= exact, "rounded up: {ms} ms for {exact:?}");
    assert!((1..=2).contains(&ms), "{ms}");
}

#[test]
fn a_nested_turn_is_refused_without_a_panic_and_the_outer_turn_goes_on() {
    let rt = Rc::new(Runtime::new().unwrap());
    let inner = rt.clone();
    let nested = rt.spawn(async move {
        // A task running a nested host loop, whose callback turns kettle.
        let refused = inner.try_turn(NOW).unwrap_err();
        assert!(refused.to_string().contains("already running"), "{refused}");
        kettle::yield_now().await;
        "outer went on"
    });
    assert!(rt.try_turn(NOW).is_ok());
    assert_eq!(rt.block_on(nested).unwrap(), "outer went on");
    // Outside any turn it is an ordinary turn.
    let task = rt.spawn(async { 3 });
    assert_eq!(rt.try_turn(NOW).unwrap().tasks_run, 1);
    assert!(task.is_finished());
}

#[test]
fn a_nested_turn_through_turn_panics_with_what_to_do_instead() {
    let rt = Rc::new(Runtime::new().unwrap());
    let inner = rt.clone();
    let nested = rt.spawn(async move {
        let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| inner.turn(NOW))).unwrap_err();
        panic.downcast_ref::<String>().cloned().unwrap_or_default()
    });
    rt.turn(NOW);
    let message = rt.block_on(nested).unwrap();
    assert!(message.contains("already running"), "{message}");
}

/// A condition-variable host: counts the wake callbacks, and sleeps until one.
#[derive(Default)]
struct Signal {
    calls: AtomicUsize,
    flag: Mutex<bool>,
    condvar: Condvar,
}

impl Signal {
    fn hook(self: &Arc<Self>) -> impl Fn() + Send + Sync + 'static {
        let signal = self.clone();
        move || {
            signal.calls.fetch_add(1, Ordering::SeqCst);
            *signal.flag.lock().unwrap() = true;
            signal.condvar.notify_all();
        }
    }

    /// Sleeps until the hook fires (at most `STALL`); consumes the signal.
    fn wait(&self) -> bool {
        let flag = self.flag.lock().unwrap();
        let (mut flag, timeout) = self.condvar.wait_timeout_while(flag, STALL, |set| !*set).unwrap();
        *flag = false;
        !timeout.timed_out()
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

#[test]
fn the_wake_callback_fires_once_per_idle_to_work_transition_from_any_thread() {
    let signal = Arc::new(Signal::default());
    let rt = kettle::Builder::new().on_wake(signal.hook()).build().unwrap();
    let handle = rt.handle();
    rt.turn(NOW);
    assert_eq!(signal.calls(), 0, "no work, no call");

    // Three pushes from another thread before the host turns: one call.
    let pusher = handle.clone();
    let tasks =
        std::thread::spawn(move || (0..3).map(|i| pusher.spawn(async move { i })).collect::<Vec<_>>())
            .join()
            .unwrap();
    assert!(signal.wait(), "the condition-variable host was woken");
    assert_eq!(signal.calls(), 1, "once for the transition, not per push");
    assert_eq!(rt.turn(NOW).injected, 3);
    for (i, mut task) in tasks.into_iter().enumerate() {
        assert_eq!(task.wait_timeout(Duration::ZERO).unwrap().unwrap(), i);
    }

    // Idle again: the next push is a new transition.
    let pusher = handle.clone();
    std::thread::spawn(move || pusher.call_soon(|| {}).unwrap()).join().unwrap();
    assert!(signal.wait());
    assert_eq!(signal.calls(), 2);
    rt.turn(NOW);

    // Host code spawning between turns is one too.
    let local = rt.spawn(async {});
    assert_eq!(signal.calls(), 3);
    rt.turn(NOW);
    assert!(local.is_finished());
    assert_eq!(signal.calls(), 3, "a turn that leaves nothing behind calls nothing");
}

#[test]
fn a_condition_variable_host_runs_remote_work_as_it_arrives() {
    // The producer waits for each task before pushing the next: every push
    // finds the loop idle, so each is a transition the host must hear of.
    let signal = Arc::new(Signal::default());
    let rt = kettle::Builder::new().on_wake(signal.hook()).build().unwrap();
    let handle = rt.handle();
    let producer = std::thread::spawn(move || {
        (1..=20u64).map(|i| handle.spawn(async move { i }).wait().unwrap()).sum::<u64>()
    });
    let mut injected = 0;
    let mut turns = 0;
    while injected < 20 {
        if rt.next_timeout() != Some(Duration::ZERO) {
            assert!(signal.wait(), "the host was never woken ({injected} tasks so far)");
        }
        injected += rt.turn(NOW).injected;
        turns += 1;
        assert!(turns < 1_000, "the host spun");
    }
    assert_eq!(producer.join().unwrap(), 210);
    assert_eq!(signal.calls(), 20, "one call per push: each found the loop idle");
}

#[test]
fn a_wake_callback_that_pushes_again_or_panics_breaks_nothing() {
    let calls = Arc::new(AtomicUsize::new(0));
    let slot: Arc<Mutex<Option<kettle::Handle>>> = Arc::default();
    let (counted, handle_slot) = (calls.clone(), slot.clone());
    let rt = kettle::Builder::new()
        .on_wake(move || {
            let n = counted.fetch_add(1, Ordering::SeqCst);
            // Re-entry: push from inside the hook (no deadlock, no recursion).
            if let Some(handle) = handle_slot.lock().unwrap().as_ref() {
                handle.call_soon(|| {}).unwrap();
            }
            if n == 0 {
                panic!("a wake callback that panics");
            }
        })
        .build()
        .unwrap();
    *slot.lock().unwrap() = Some(rt.handle());
    let handle = rt.handle();
    let mut task = std::thread::spawn(move || handle.spawn(async { 9 })).join().unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1, "called once; its own push found the loop awake");
    let turn = rt.turn(NOW);
    assert_eq!(turn.injected, 2, "the spawn and the hook's own callback");
    assert_eq!(task.wait_timeout(Duration::ZERO).unwrap().unwrap(), 9);
    *slot.lock().unwrap() = None;
}

#[test]
fn the_runtime_is_as_fd_and_its_fd_is_the_raw_one() {
    let rt = Runtime::new().unwrap();
    assert_eq!(rt.as_fd().as_raw_fd(), rt.as_raw_fd());
    // A host can duplicate it safely (a glib source owning its own copy).
    let copy = rt.as_fd().try_clone_to_owned().unwrap();
    assert_ne!(copy.as_raw_fd(), rt.as_raw_fd());
}

#[test]
fn block_on_after_host_turns_still_blocks_and_wakes_normally() {
    // The host's nudges leave the wake protocol whole: a later block_on
    // sleeps in epoll_wait and is woken by another thread.
    let rt = Runtime::new().unwrap();
    let mut host = EdgeHost::new(&rt);
    let spinner = rt.spawn(busy(3));
    host.run_until(&rt, || spinner.is_finished());
    let handle = rt.handle();
    let (tx, rx) = kettle::sync::oneshot::channel();
    let remote = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        handle.call_soon(move || tx.send(7).unwrap()).unwrap();
    });
    let start = Instant::now();
    assert_eq!(rt.block_on(rx).unwrap(), 7);
    assert!(start.elapsed() < STALL);
    remote.join().unwrap();
}

/// A host that owns its runtime, for the shutdown tests.
struct Host {
    rt: std::cell::RefCell<Option<Runtime>>,
}

#[test]
fn a_task_that_shuts_its_own_runtime_down_is_refused_by_the_borrow() {
    // A task cannot take the runtime out from under the turn running it:
    // the host's `RefCell` is borrowed for the turn, so the attempt fails
    // cleanly (here: `try_borrow_mut` reports it) instead of freeing the
    // loop mid-turn.
    let host = Rc::new(Host { rt: std::cell::RefCell::new(Some(Runtime::new().unwrap())) });
    let inner = host.clone();
    let attempt = host.rt.borrow().as_ref().unwrap().spawn(async move { inner.rt.try_borrow_mut().is_err() });
    let rt = host.rt.borrow();
    rt.as_ref().unwrap().turn(Some(Duration::ZERO));
    assert!(rt.as_ref().unwrap().block_on(attempt).unwrap(), "refused while the turn ran");
    drop(rt);
    host.rt.borrow_mut().take().unwrap().shutdown();
    assert_eq!(Rc::strong_count(&host), 1);
}

#[test]
fn a_timer_at_the_end_of_time_neither_fires_the_fd_nor_spins_the_host() {
    let rt = Runtime::new().unwrap();
    let _forever = rt.block_on(async { kettle::call_later(Duration::MAX, || {}) });
    let _far = rt.block_on(async { kettle::call_later(Duration::from_secs(u64::MAX / 2), || {}) });
    rt.turn(NOW);
    // Deadlines past what `Instant` holds never come: no timeout at all.
    if let Some(left) = rt.next_timeout() {
        assert!(left > Duration::from_secs(3600 * 24 * 365), "{left:?}");
        assert!(rt.next_timeout_ms().unwrap() > 1_000_000, "saturating, not wrapped");
    }
    assert!(!level_readable(&rt, Duration::from_millis(30)), "the fd stays quiet");
    assert_eq!(rt.turn(NOW), kettle::Turn::default());
}

#[test]
fn work_and_timers_a_setup_block_on_left_are_announced_when_the_fd_is_first_asked_for() {
    // The natural order: set up with block_on, then register the fd. (Found
    // by the host-loop package: the first request for the fd must hand over
    // what the earlier run left, or the host never hears of it.)
    let rt = Runtime::new().unwrap();
    let fired = Rc::new(std::cell::Cell::new(false));
    let at = fired.clone();
    let queued = rt.block_on(async move {
        kettle::call_later(Duration::from_millis(10), move || at.set(true));
        kettle::spawn(async { 1 })
    });
    let mut host = EdgeHost::new(&rt); // asks for the fd: the hand-over
    assert!(level_readable(&rt, Duration::ZERO), "the queued task makes it readable");
    host.run_until(&rt, || queued.is_finished() && fired.get());
}

#[test]
fn a_runtime_with_a_wake_callback_is_hosted_from_the_start() {
    let signal = Arc::new(Signal::default());
    let rt = kettle::Builder::new().on_wake(signal.hook()).build().unwrap();
    let queued = rt.block_on(async { kettle::spawn(async { 2 }) });
    assert!(signal.wait(), "the task block_on left queued was announced");
    rt.turn(NOW);
    assert!(queued.is_finished());
}
