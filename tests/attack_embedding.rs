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
//! the work asks for is a spin. Tests that found a defect are kept, marked
//! `#[ignore = "defect: ..."]`.

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

// ----- every way of adding work, from host code, idle runtime --------------

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
        assert_eq!(rt.next_timeout(), Some(Duration::ZERO), "{what}: {kind:?}: fd readable, next_timeout not zero");
        rt.turn(NOW);
        host.run_until(&rt, &*done);
        host.assert_quiet(&rt, Duration::from_millis(30), 1);
    }
}

#[test]
fn a_cancel_from_host_code_makes_the_fd_readable() {
    host_code_adds_work("cancel", |rt| {
        let task = rt.spawn(std::future::pending::<()>());
        rt.turn(NOW);
        assert!(!readable_now(rt));
        task.cancel();
        Box::new(move || task.is_finished())
    });
}

#[test]
fn a_wake_from_host_code_through_a_stored_waker_makes_the_fd_readable() {
    host_code_adds_work("waker", |rt| {
        let slot = Rc::new(RefCell::new(None));
        let flag = Rc::new(Cell::new(false));
        let task = rt.spawn(waiting_on(slot.clone(), flag.clone()));
        rt.turn(NOW);
        assert!(!readable_now(rt));
        flag.set(true);
        slot.borrow_mut().take().unwrap().wake();
        Box::new(move || task.is_finished())
    });
}

#[test]
fn a_wake_by_ref_from_host_code_makes_the_fd_readable() {
    host_code_adds_work("wake_by_ref", |rt| {
        let slot = Rc::new(RefCell::new(None));
        let flag = Rc::new(Cell::new(false));
        let task = rt.spawn(waiting_on(slot.clone(), flag.clone()));
        rt.turn(NOW);
        flag.set(true);
        slot.borrow().as_ref().unwrap().wake_by_ref();
        Box::new(move || task.is_finished())
    });
}

#[test]
fn an_event_set_from_host_code_makes_the_fd_readable() {
    host_code_adds_work("event", |rt| {
        let event = Rc::new(kettle::sync::Event::new());
        let waiter = event.clone();
        let task = rt.spawn(async move { waiter.wait().await });
        rt.turn(NOW);
        event.set();
        Box::new(move || task.is_finished())
    });
}

#[test]
fn a_oneshot_sent_from_host_code_makes_the_fd_readable() {
    host_code_adds_work("oneshot", |rt| {
        let (tx, rx) = kettle::sync::oneshot::channel::<u32>();
        let task = rt.spawn(async move { rx.await.unwrap() });
        rt.turn(NOW);
        tx.send(4).unwrap();
        Box::new(move || task.is_finished())
    });
}

#[test]
fn a_oneshot_sender_dropped_by_host_code_makes_the_fd_readable() {
    host_code_adds_work("oneshot drop", |rt| {
        let (tx, rx) = kettle::sync::oneshot::channel::<u32>();
        let task = rt.spawn(async move { rx.await.is_err() });
        rt.turn(NOW);
        drop(tx);
        Box::new(move || task.is_finished())
    });
}

#[test]
fn a_queue_put_from_host_code_makes_the_fd_readable() {
    host_code_adds_work("queue", |rt| {
        let queue = Rc::new(kettle::sync::Queue::<u32>::new());
        let consumer = queue.clone();
        let task = rt.spawn(async move { consumer.get().await });
        rt.turn(NOW);
        queue.try_put(1).unwrap();
        Box::new(move || task.is_finished())
    });
}

#[test]
fn a_queue_closed_from_host_code_makes_the_fd_readable() {
    host_code_adds_work("queue close", |rt| {
        let queue = Rc::new(kettle::sync::Queue::<u32>::new());
        let consumer = queue.clone();
        let task = rt.spawn(async move {
            let _ = consumer.get().await;
        });
        rt.turn(NOW);
        queue.close();
        Box::new(move || task.is_finished())
    });
}

#[test]
fn a_handle_spawn_from_host_code_on_the_loop_thread_makes_the_fd_readable() {
    host_code_adds_work("handle spawn", |rt| {
        let task = rt.handle().spawn(async { 3 });
        Box::new(move || task.is_finished())
    });
}

#[test]
fn a_handle_call_soon_from_host_code_makes_the_fd_readable() {
    host_code_adds_work("handle call_soon", |rt| {
        let ran = Arc::new(AtomicBool::new(false));
        let set = ran.clone();
        rt.handle().call_soon(move || set.store(true, Ordering::SeqCst)).unwrap();
        Box::new(move || ran.load(Ordering::SeqCst))
    });
}

#[test]
fn a_handle_stop_from_host_code_neither_stalls_nor_spins_the_host() {
    for kind in KINDS {
        let rt = Runtime::new().unwrap();
        let mut host = Host::new(&rt, kind);
        rt.turn(NOW);
        rt.handle().stop();
        // A stop is no work for a host's turn: at most one turn for it.
        host.assert_quiet(&rt, Duration::from_millis(30), 1);
        // ...and the next run_forever returns after one turn.
        let start = Instant::now();
        rt.run_forever();
        assert!(start.elapsed() < STALL);
        host.assert_quiet(&rt, Duration::from_millis(30), 1);
    }
}

#[test]
fn host_spawned_tasks_run_on_both_kinds_of_host_busy_or_idle() {
    for kind in KINDS {
        for busy in [false, true] {
            let rt = Runtime::new().unwrap();
            let mut host = Host::new(&rt, kind);
            let spinner = busy.then(|| rt.spawn(async {
                for _ in 0..50 {
                    kettle::yield_now().await;
                }
            }));
            rt.turn(NOW);
            let tasks: Vec<_> = (0..5).map(|i| rt.spawn(async move { i })).collect();
            host.run_until(&rt, || tasks.iter().all(|t| t.is_finished()));
            if let Some(spinner) = spinner {
                host.run_until(&rt, || spinner.is_finished());
            }
            host.assert_quiet(&rt, Duration::from_millis(30), 1);
        }
    }
}

#[test]
fn a_dropped_join_handle_gives_no_spurious_work() {
    for kind in KINDS {
        let rt = Runtime::new().unwrap();
        let mut host = Host::new(&rt, kind);
        let task = rt.spawn(async { 1 });
        host.run_until(&rt, || task.is_finished());
        drop(task);
        host.assert_quiet(&rt, Duration::from_millis(30), 1);
        // And a handle dropped while its task waits.
        let woke = Rc::new(Cell::new(false));
        let set = woke.clone();
        let task = rt.spawn(async move {
            kettle::sleep(Duration::from_millis(10)).await;
            set.set(true);
        });
        rt.turn(NOW);
        drop(task);
        host.run_until(&rt, || woke.get());
        host.assert_quiet(&rt, Duration::from_millis(30), 1);
    }
}

#[test]
fn a_spawn_blocking_completion_wakes_an_idle_host() {
    for kind in KINDS {
        let rt = Runtime::new().unwrap();
        let mut host = Host::new(&rt, kind);
        let task = rt.spawn(async {
            kettle::spawn_blocking(|| {
                std::thread::sleep(Duration::from_millis(20));
                6
            })
            .await
            .unwrap()
        });
        host.run_until(&rt, || task.is_finished());
        assert_eq!(rt.block_on(task).unwrap(), 6);
        host.assert_quiet(&rt, Duration::from_millis(30), 1);
    }
}

#[test]
fn a_signal_wakes_an_idle_host() {
    for kind in KINDS {
        let rt = Runtime::new().unwrap();
        let mut host = Host::new(&rt, kind);
        let task = rt.spawn(async {
            let mut signal = kettle::signal::signal(kettle::signal::SignalKind::user_defined2()).unwrap();
            std::future::poll_fn(|cx| signal.poll_recv(cx)).await
        });
        rt.turn(NOW);
        host.assert_quiet(&rt, Duration::from_millis(10), 1);
        // SAFETY: raising a signal kettle handles.
        unsafe { libc::raise(libc::SIGUSR2) };
        host.run_until(&rt, || task.is_finished());
        assert_eq!(rt.block_on(task).unwrap(), Some(()));
        host.assert_quiet(&rt, Duration::from_millis(30), 1);
    }
}

#[test]
fn io_while_idle_and_while_busy_reaches_both_hosts() {
    for kind in KINDS {
        for busy in [false, true] {
            let rt = Runtime::new().unwrap();
            let mut host = Host::new(&rt, kind);
            let (ours, mut theirs) = StdUnixStream::pair().unwrap();
            let reader = rt.spawn(async move {
                let mut ours = kettle::net::UnixStream::from_std(ours).unwrap();
                let mut buf = [0u8; 3];
                ours.read_exact(&mut buf).await.unwrap();
                buf
            });
            let spinner = rt.spawn(async move {
                for _ in 0..if busy { 20 } else { 0 } {
                    kettle::yield_now().await;
                }
            });
            rt.turn(NOW);
            theirs.write_all(b"abc").unwrap();
            host.run_until(&rt, || reader.is_finished() && spinner.is_finished());
            host.assert_quiet(&rt, Duration::from_millis(30), 1);
        }
    }
}
