//! Round four of attacks on kettle's hottest paths: a task's life on the
//! loop (its slab entry lent for the poll, the run queue's unchecked keys,
//! the destructor-less thread-local that finds the run queue), `block_on`'s
//! wake flag read with a plain load, and the I/O wake-ups of one turn.
//!
//! Each test states the behaviour it expects. Five failed when written,
//! each fixed in its own commit: a task's last reference let go of after
//! the shutdown's last round (section 5), the tasks kept for dumps left to
//! `Core`'s drop, debug mode's leftover list made before the runtime was
//! entered, and a runtime dropped by user code that kettle ran inside the
//! context's borrow (a sleep's replaced waker, a refused blocking job),
//! whose drop then could not enter it — mended for every caller in
//! `context::with_current`, which hands out a copy instead of a borrow.
//! The others are attacks that held,
//! kept as specifications.
//!
//! How each target was attacked:
//!
//! - re-entry: user code the loop runs — a task's poll, the destructors of
//!   its future and its output, a waker's `wake` — spawns thousands,
//!   cancels, drops join handles, takes task dumps, creates and drops
//!   another runtime, wakes tasks of another runtime;
//! - threads: wakes of `block_on`'s future from another thread at every
//!   moment of the loop, with `turn`, `try_turn` and `run_forever` in
//!   between, each bounded by a watchdog instead of a sleep;
//! - teardown: runtimes and wakers left in thread-locals at thread exit.
//!
//! The tests that touch memory run under valgrind memcheck too
//! (`scripts/memcheck`).

use std::cell::{Cell, RefCell};
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use kettle::net::UdpSocket;
use kettle::task::TaskState;
use kettle::{Builder, Handle, JoinHandle, Runtime};

// ----- helpers ----------------------------------------------------------------

/// Runs `f` on this thread; if it has not returned after `secs` seconds, a
/// watchdog thread reports `what` and ends the process (a lost wake-up
/// hangs, and a hang must fail the test rather than stall the suite).
fn within<R>(secs: u64, what: &'static str, f: impl FnOnce() -> R) -> R {
    let (done, wait) = mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) = wait.recv_timeout(Duration::from_secs(secs)) {
            eprintln!("watchdog: {what} did not finish within {secs} s: a lost wake-up");
            std::process::exit(97);
        }
    });
    let result = f();
    drop(done);
    watchdog.join().unwrap();
    result
}

/// The runtime running this code, asked for its task dump (the owner
/// thread's path: `Core::tasks` at once).
fn dump() -> Vec<kettle::task::TaskInfo> {
    Handle::current().tasks().expect("the runtime is running")
}

/// Asserts that `dump` lists each task once, and exactly `running` of them
/// as running.
fn assert_listed_once(dump: &[kettle::task::TaskInfo], running: usize, what: &str) {
    let mut ids: Vec<_> = dump.iter().map(|info| info.id).collect();
    ids.dedup();
    assert_eq!(ids.len(), dump.len(), "{what}: a task is listed twice: {dump:?}");
    let n = dump.iter().filter(|info| info.state == TaskState::Running).count();
    assert_eq!(n, running, "{what}: running tasks in {dump:?}");
}

/// Counts drops.
struct Counted(Rc<Cell<usize>>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

/// The three ways the loop runs a task: plain, timed for debug mode, and
/// timed for a trace (`core/watch.rs`, `core/record.rs`).
fn every_kind_of_runtime() -> Vec<(&'static str, Runtime)> {
    let traced = Runtime::new().unwrap();
    traced.start_trace();
    vec![
        ("plain", Runtime::new().unwrap()),
        ("debug", Builder::new().slow_poll_threshold(Duration::from_secs(3600)).build().unwrap()),
        ("traced", traced),
    ]
}

// ----- 1. a task's life on the loop ------------------------------------------

/// A task polled while it stays in its slab entry may spawn thousands of
/// tasks (the slab's buffer moves several times under it), dump the tasks
/// — where it appears once, as running — and then wait for them all.
#[test]
fn a_task_spawning_thousands_in_its_poll_is_dumped_once_as_running_and_joins_them_all() {
    for (kind, rt) in every_kind_of_runtime() {
        let total = rt.block_on(async {
            let parent = kettle::spawn(async move {
                let me = kettle::task::current().unwrap();
                let children: Vec<JoinHandle<u64>> = (0..5000u64)
                    .map(|i| {
                        kettle::spawn(async move {
                            kettle::yield_now().await;
                            i
                        })
                    })
                    .collect();
                let listed = dump();
                assert_listed_once(&listed, 1, kind);
                assert_eq!(listed.len(), 5001, "{kind}: the parent and its children");
                let mine = listed.iter().find(|info| info.id == me.id).expect("the parent is listed");
                assert_eq!(mine.state, TaskState::Running);
                assert_eq!(kettle::metrics().tasks_alive, 5001, "{kind}");
                let mut sum = 0;
                for child in children {
                    sum += child.await.unwrap();
                }
                sum
            });
            parent.await.unwrap()
        });
        assert_eq!(total, 4999 * 5000 / 2, "{kind}");
        assert_eq!(rt.metrics().tasks_alive, 0, "{kind}");
        if kind == "traced" {
            let _ = rt.stop_trace();
        }
    }
}

/// A task that cancels itself and drops its own join handle in the middle
/// of its poll finishes that poll, is never polled again, drops its future
/// once and leaves the slab; a dump taken between lists it as running.
#[test]
fn a_task_cancelling_itself_and_dropping_its_own_handle_mid_poll_is_dropped_once_and_leaves_the_slab() {
    for (kind, rt) in every_kind_of_runtime() {
        let drops = Rc::new(Cell::new(0));
        let polls = Rc::new(Cell::new(0));
        let own: Rc<RefCell<Option<JoinHandle<()>>>> = Rc::new(RefCell::new(None));
        let (counted, own_in, polls_in) = (Counted(drops.clone()), own.clone(), polls.clone());
        let handle = rt.spawn(async move {
            let _counted = counted;
            polls_in.set(polls_in.get() + 1);
            let me = own_in.borrow_mut().take().expect("the handle was left for the task");
            me.cancel();
            assert_listed_once(&dump(), 1, kind);
            drop(me);
            assert_listed_once(&dump(), 1, kind);
            kettle::yield_now().await; // would be polled again, were it not cancelled
            polls_in.set(polls_in.get() + 100);
        });
        *own.borrow_mut() = Some(handle);
        rt.block_on(async {
            for _ in 0..3 {
                kettle::yield_now().await;
            }
        });
        assert_eq!((polls.get(), drops.get()), (1, 1), "{kind}");
        assert_eq!(rt.metrics().tasks_alive, 0, "{kind}");
        assert!(rt.tasks().is_empty(), "{kind}: {:?}", rt.tasks());
        if kind == "traced" {
            let _ = rt.stop_trace();
        }
    }
}

/// What a dying task's destructors do on the loop: spawn, wake a task,
/// cancel another, dump the tasks, wake the dying task itself.
struct Mischief {
    waiting: Rc<RefCell<Option<Waker>>>,
    victim: Rc<RefCell<Option<JoinHandle<()>>>>,
    spawned: Rc<Cell<usize>>,
    dumps: Rc<Cell<usize>>,
}

impl Mischief {
    fn make(&self, own: Option<&Waker>) {
        if let Some(waker) = own {
            waker.wake_by_ref();
        }
        if let Some(waker) = self.waiting.borrow_mut().take() {
            waker.wake();
        }
        if let Some(victim) = self.victim.borrow_mut().take() {
            victim.cancel();
        }
        let spawned = self.spawned.clone();
        kettle::spawn(async move { spawned.set(spawned.get() + 1) }).detach();
        let listed = dump();
        let mut ids: Vec<_> = listed.iter().map(|info| info.id).collect();
        ids.dedup();
        assert_eq!(ids.len(), listed.len(), "a task is listed twice: {listed:?}");
        assert!(listed.iter().filter(|i| i.state == TaskState::Running).count() <= 1, "{listed:?}");
        assert_eq!(
            listed.iter().filter(|i| i.state != TaskState::FinishedUnread).count(),
            kettle::metrics().tasks_alive,
            "a dump lists every live task: {listed:?}"
        );
        self.dumps.set(self.dumps.get() + 1);
    }
}

/// A future that makes mischief when dropped, and returns an output that
/// makes mischief when dropped.
struct Dying {
    mischief: Option<Mischief>,
    output: Option<Mischief>,
    waker: Option<Waker>,
    finish: bool,
}

struct Output(Option<Mischief>);

impl Drop for Output {
    fn drop(&mut self) {
        if let Some(mischief) = self.0.take() {
            mischief.make(None);
        }
    }
}

impl Future for Dying {
    type Output = Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Output> {
        self.waker = Some(cx.waker().clone());
        if self.finish { Poll::Ready(Output(self.output.take())) } else { Poll::Pending }
    }
}

impl Drop for Dying {
    fn drop(&mut self) {
        if let Some(mischief) = self.mischief.take() {
            mischief.make(self.waker.as_ref());
        }
    }
}

/// A task's future and output are dropped on the loop — as it finishes, is
/// cancelled, or is detached — and their destructors may spawn, wake,
/// cancel, dump and wake the dying task: every task they touch runs, the
/// dumps stay consistent, and the slab empties.
#[test]
fn destructors_of_a_dying_tasks_future_and_output_may_spawn_wake_cancel_and_dump() {
    for (kind, rt) in every_kind_of_runtime() {
        for how in ["finishes detached", "finishes joined", "is cancelled"] {
            let waiting: Rc<RefCell<Option<Waker>>> = Rc::default();
            let victim: Rc<RefCell<Option<JoinHandle<()>>>> = Rc::default();
            let (spawned, dumps) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(0)));
            let mischief = || Mischief {
                waiting: waiting.clone(),
                victim: victim.clone(),
                spawned: spawned.clone(),
                dumps: dumps.clone(),
            };
            let woke = Rc::new(Cell::new(false));
            let (woke_in, waiting_in) = (woke.clone(), waiting.clone());
            let sleeper = rt.spawn(poll_fn(move |cx| {
                if woke_in.get() {
                    return Poll::Ready(());
                }
                woke_in.set(true);
                *waiting_in.borrow_mut() = Some(cx.waker().clone());
                Poll::Pending
            }));
            let victim_drops = Rc::new(Cell::new(0));
            let counted = Counted(victim_drops.clone());
            *victim.borrow_mut() = Some(rt.spawn(async move {
                let _counted = counted;
                std::future::pending::<()>().await
            }));
            let dying = rt.spawn(Dying {
                mischief: Some(mischief()),
                output: Some(mischief()),
                waker: None,
                finish: how != "is cancelled",
            });
            rt.block_on(kettle::yield_now()); // the sleeper waits; the dying task has run
            match how {
                // Inside the loop: the output's destructor asks for it.
                "finishes detached" => rt.block_on(async move { dying.detach() }),
                "finishes joined" => rt.block_on(async move { assert!(dying.await.is_ok()) }),
                _ => {
                    dying.cancel();
                    assert!(rt.block_on(dying).err().expect("cancelled").is_cancelled());
                }
            }
            rt.block_on(async {
                for _ in 0..4 {
                    kettle::yield_now().await;
                }
            });
            rt.block_on(sleeper).unwrap();
            let expected = if how == "is cancelled" { 1 } else { 2 };
            assert_eq!(dumps.get(), expected, "{kind}, {how}: each destructor ran once");
            assert_eq!(spawned.get(), expected, "{kind}, {how}: the tasks they spawned ran");
            assert_eq!(victim_drops.get(), 1, "{kind}, {how}: the cancelled victim was dropped");
            assert_eq!(rt.metrics().tasks_alive, 0, "{kind}, {how}");
        }
        if kind == "traced" {
            let _ = rt.stop_trace();
        }
    }
}

/// A future whose `Drop` panics — when its task finishes, is cancelled, or
/// is shut down with the runtime — has its panic contained: the other
/// tasks run, and the runtime drops cleanly.
#[test]
fn futures_whose_drop_panics_leave_the_loop_and_the_shutdown_whole() {
    struct Bomb(bool);
    impl Future for Bomb {
        type Output = u8;
        fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<u8> {
            if self.0 { Poll::Ready(1) } else { Poll::Pending }
        }
    }
    impl Drop for Bomb {
        fn drop(&mut self) {
            panic!("a future's destructor panics");
        }
    }
    for (kind, rt) in every_kind_of_runtime() {
        let finished = rt.spawn(Bomb(true));
        let cancelled = rt.spawn(Bomb(false));
        let _left = rt.spawn(Bomb(false));
        let bystander = rt.spawn(async { 7 });
        rt.block_on(kettle::yield_now());
        cancelled.cancel();
        assert_eq!(rt.block_on(bystander).unwrap(), 7, "{kind}");
        assert!(rt.block_on(cancelled).is_err(), "{kind}");
        let _ = rt.block_on(finished);
        assert_eq!(rt.metrics().tasks_alive, 1, "{kind}: the one left pending");
        if kind == "traced" {
            let _ = rt.stop_trace();
        }
        drop(rt);
    }
}

// ----- 2. several runtimes on one thread ---------------------------------------

/// A waker that tells a task of the runtime that owns `flag` to run.
fn flag_task(rt: &Runtime) -> (JoinHandle<u32>, Rc<RefCell<Option<Waker>>>) {
    let slot: Rc<RefCell<Option<Waker>>> = Rc::default();
    let slot_in = slot.clone();
    let polls = Cell::new(0);
    let task = rt.spawn(poll_fn(move |cx| {
        polls.set(polls.get() + 1);
        if polls.get() > 1 {
            return Poll::Ready(polls.get());
        }
        *slot_in.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    }));
    (task, slot)
}

/// Inside a task of runtime A, a second runtime B is created, given tasks,
/// and dropped. B's tasks' destructors — run inside A's poll, with B
/// entered for its shutdown — wake a task of A, wake a task of B, and
/// spawn: A's task runs, and A's loop goes on with A's run queue (not B's,
/// which is gone) current.
#[test]
fn a_runtime_dropped_inside_another_runtimes_task_may_wake_tasks_of_both_from_its_destructors() {
    let a = Runtime::new().unwrap();
    let (a_task, a_waker) = flag_task(&a);
    let ran_in_b = Rc::new(Cell::new(0));
    let (a_waker_in, ran_in_b_in) = (a_waker.clone(), ran_in_b.clone());
    let dropper = a.spawn(async move {
        kettle::yield_now().await;
        let b = Runtime::new().unwrap();
        let (b_task, b_waker) = flag_task(&b);
        struct WakesOnDrop(Rc<RefCell<Option<Waker>>>, Rc<RefCell<Option<Waker>>>, Rc<Cell<u32>>);
        impl Drop for WakesOnDrop {
            fn drop(&mut self) {
                self.0.borrow_mut().take().expect("A's task waits").wake();
                if let Some(waker) = self.1.borrow_mut().take() {
                    waker.wake(); // B's own task, B being shut down
                }
                let ran = self.2.clone();
                kettle::spawn(async move { ran.set(ran.get() + 1) }).detach(); // into B
            }
        }
        let bomb = WakesOnDrop(a_waker_in.clone(), b_waker.clone(), ran_in_b_in.clone());
        b.spawn(async move {
            let _bomb = bomb;
            std::future::pending::<()>().await
        })
        .detach();
        drop(b_task);
        drop(b);
        // A is current again: a spawn and a wake here are A's.
        let (tx, rx) = kettle::sync::oneshot::channel::<u8>();
        kettle::spawn(async move { tx.send(5).unwrap() }).detach();
        rx.await.unwrap()
    });
    let got = within(30, "A's tasks woken by B's destructors", || {
        a.block_on(async {
            let n = dropper.await.unwrap();
            (n, a_task.await.unwrap())
        })
    });
    assert_eq!(got, (5, 2));
    assert_eq!(ran_in_b.get(), 0, "a task spawned into B's shutdown never runs");
    assert_eq!(a.metrics().tasks_alive, 0);
}

/// Wakers crossing runtimes on one thread: a task of A wakes a task of B
/// while B is idle, and B's `block_on` then runs it; and the other way.
#[test]
fn wakers_of_an_idle_runtime_woken_inside_another_runtimes_task_run_its_task_on_its_next_run() {
    let a = Runtime::new().unwrap();
    let b = Runtime::new().unwrap();
    let (a_task, a_waker) = flag_task(&a);
    let (b_task, b_waker) = flag_task(&b);
    a.block_on(kettle::yield_now());
    b.block_on(kettle::yield_now());
    let b_waker_in = b_waker.clone();
    a.block_on(async move { b_waker_in.borrow_mut().take().unwrap().wake() });
    let a_waker_in = a_waker.clone();
    assert_eq!(
        within(30, "B's task", || b.block_on(async move {
            a_waker_in.borrow_mut().take().unwrap().wake_by_ref();
            b_task.await.unwrap()
        })),
        2
    );
    assert_eq!(within(30, "A's task", || a.block_on(a_task)).unwrap(), 2);
}

/// Runtimes and wakers of their tasks left in thread-locals are torn down
/// at thread exit in whatever order the thread's destructors run — a
/// waker woken and dropped after its runtime, or during its runtime's
/// drop — without a crash, and every task's future is dropped once.
#[test]
fn runtimes_and_wakers_left_in_thread_locals_are_torn_down_at_thread_exit_in_either_order() {
    struct WakeOnDrop(Option<Waker>);
    impl Drop for WakeOnDrop {
        fn drop(&mut self) {
            if let Some(waker) = self.0.take() {
                waker.wake_by_ref();
                waker.wake();
            }
        }
    }
    thread_local! {
        static EARLY_WAKERS: RefCell<Vec<WakeOnDrop>> = const { RefCell::new(Vec::new()) };
        static RUNTIMES: RefCell<Vec<Runtime>> = const { RefCell::new(Vec::new()) };
        static LATE_WAKERS: RefCell<Vec<WakeOnDrop>> = const { RefCell::new(Vec::new()) };
    }
    let drops = Arc::new(AtomicUsize::new(0));
    let drops_in = drops.clone();
    std::thread::spawn(move || {
        struct CountedSend(Arc<AtomicUsize>);
        impl Drop for CountedSend {
            fn drop(&mut self) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        for _ in 0..2 {
            let rt = Runtime::new().unwrap();
            for _ in 0..3 {
                let counted = CountedSend(drops_in.clone());
                let (task, waker) = flag_task(&rt);
                let keep = rt.spawn(async move {
                    let _counted = counted;
                    // A task whose own destructor wakes a task of its runtime.
                    let _wakes = WakeOnDrop(Some(poll_fn(|cx| Poll::Ready(cx.waker().clone())).await));
                    std::future::pending::<()>().await
                });
                rt.block_on(kettle::yield_now());
                let waker = waker.borrow_mut().take().unwrap();
                EARLY_WAKERS.with(|w| w.borrow_mut().push(WakeOnDrop(Some(waker.clone()))));
                LATE_WAKERS.with(|w| w.borrow_mut().push(WakeOnDrop(Some(waker))));
                keep.detach();
                task.detach();
            }
            RUNTIMES.with(|r| r.borrow_mut().push(rt));
        }
    })
    .join()
    .expect("the thread exits cleanly");
    assert_eq!(drops.load(Ordering::SeqCst), 6);
}

// ----- 3. block_on's wake flag -------------------------------------------------

/// A helper thread that wakes what it is sent, after spinning for a
/// while that varies from one wake to the next, so that wakes land at
/// every moment of the loop: during the poll, before the turn looks,
/// between the turn's look and its wait, during the wait.
struct Waker2 {
    send: Option<mpsc::Sender<(Waker, u32)>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Waker2 {
    fn new() -> Waker2 {
        let (send, recv) = mpsc::channel::<(Waker, u32)>();
        let thread = std::thread::spawn(move || {
            for (waker, spin) in recv {
                for _ in 0..spin {
                    std::hint::spin_loop();
                }
                if spin % 7 == 0 {
                    std::thread::yield_now();
                }
                waker.wake();
            }
        });
        Waker2 { send: Some(send), thread: Some(thread) }
    }

    fn wake_later(&self, waker: Waker, spin: u32) {
        self.send.as_ref().unwrap().send((waker, spin)).unwrap();
    }
}

impl Drop for Waker2 {
    fn drop(&mut self) {
        drop(self.send.take());
        self.thread.take().unwrap().join().unwrap();
    }
}

/// A future ready once another thread has woken it: it hands its waker to
/// the helper at its first poll and sets nothing itself, so only the
/// remote wake can get it polled again.
fn woken_from_afar(helper: &Waker2, spin: u32) -> impl Future<Output = u32> + '_ {
    let done = Arc::new(AtomicBool::new(false));
    let mut sent = false;
    let mut polls = 0;
    poll_fn(move |cx| {
        polls += 1;
        if done.load(Ordering::Acquire) {
            return Poll::Ready(polls);
        }
        if !sent {
            sent = true;
            let done = done.clone();
            let waker = cx.waker().clone();
            helper.wake_later(Waker::from(Arc::new(SetThenWake(done, waker))), spin);
        }
        Poll::Pending
    })
}

/// Sets the flag, then wakes the inner waker.
struct SetThenWake(Arc<AtomicBool>, Waker);

impl Wake for SetThenWake {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::Release);
        self.1.wake_by_ref();
    }
}

/// Thousands of `block_on`s, each woken once from another thread at a
/// different moment of the loop, all complete: no wake of `block_on`'s
/// future is lost, whatever the loop was doing when it came (a lost wake
/// hangs, and the watchdog fails the test).
#[test]
fn remote_wakes_of_block_ons_future_landing_at_every_moment_are_never_lost() {
    let rt = Runtime::new().unwrap();
    let helper = Waker2::new();
    within(120, "a block_on woken from another thread", || {
        for i in 0..4000u32 {
            let polls = rt.block_on(woken_from_afar(&helper, (i * 37) % 3000));
            assert_eq!(polls, 2, "polled again only after the wake, once");
        }
    });
}

/// The same, with the loop run every other way in between — an
/// embedder's `turn` and `try_turn`, `run_forever` stopped from a task —
/// and with tasks keeping the loop busy, or waiting on a timer, while the
/// remote wake comes in.
#[test]
fn remote_wakes_of_block_on_interleaved_with_turn_try_turn_run_forever_and_busy_tasks_are_never_lost() {
    let rt = Runtime::new().unwrap();
    let helper = Waker2::new();
    let handle = rt.handle();
    within(120, "a block_on woken from another thread between other runs", || {
        for i in 0..1500u32 {
            match i % 5 {
                0 => {
                    rt.turn(Some(Duration::ZERO));
                }
                1 => {
                    rt.try_turn(Some(Duration::ZERO)).unwrap();
                }
                2 => {
                    let handle = handle.clone();
                    rt.spawn(async move { handle.stop() }).detach();
                    rt.run_forever();
                }
                3 => {
                    // Busy: a task that yields a few times while the wake lands.
                    rt.spawn(async {
                        for _ in 0..5 {
                            kettle::yield_now().await;
                        }
                    })
                    .detach();
                }
                _ => {
                    rt.spawn(kettle::sleep(Duration::from_micros(200))).detach();
                }
            }
            let polls = rt.block_on(woken_from_afar(&helper, (i * 53) % 4000));
            assert_eq!(polls, 2, "no spurious poll");
        }
    });
}

/// `block_on`'s waker kept by another thread across `block_on`s (so the
/// next one makes a new one) and woken at random moments never polls a
/// later future spuriously *and* never keeps a later remote wake from
/// landing.
#[test]
fn block_ons_wakers_kept_across_block_ons_and_woken_late_do_not_disturb_later_remote_wakes() {
    let rt = Runtime::new().unwrap();
    let helper = Waker2::new();
    let stale_helper = Waker2::new();
    within(120, "block_on with stale wakers around", || {
        for i in 0..1500u32 {
            let stale = rt.block_on(poll_fn(|cx| Poll::Ready(cx.waker().clone())));
            stale_helper.wake_later(stale, (i * 91) % 3000);
            let polls = rt.block_on(woken_from_afar(&helper, (i * 29) % 3000));
            assert_eq!(polls, 2, "no spurious poll from a stale waker");
        }
    });
}

/// A `block_on` whose future panics leaves the runtime usable: the next
/// `block_on`, woken from another thread, completes.
#[test]
fn after_a_block_on_whose_future_panics_the_next_one_is_woken_from_another_thread() {
    let rt = Runtime::new().unwrap();
    let helper = Waker2::new();
    within(60, "block_on after a panic", || {
        for i in 0..200u32 {
            let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                rt.block_on(async {
                    if i % 2 == 0 {
                        kettle::yield_now().await;
                    }
                    panic!("block_on's future panics");
                })
            }));
            assert!(panicked.is_err());
            assert_eq!(rt.block_on(woken_from_afar(&helper, i * 13)), 2);
        }
    });
}

// ----- 4. I/O readiness wake-ups ----------------------------------------------

/// A receive on a socket, boxed.
type Recv = Pin<Box<dyn Future<Output = std::io::Result<(usize, std::net::SocketAddr)>>>>;

/// A foreign waker on a kettle socket, whose `wake` does an action once.
struct ActingWaker(std::sync::Mutex<Option<SendBox>>, Arc<AtomicUsize>);

/// A closure made `Send` for a waker that never leaves this thread.
struct SendBox(Box<dyn FnOnce()>);
// SAFETY: the tests below wake and drop these wakers on the thread that
// made them (the loop's).
unsafe impl Send for SendBox {}

impl Wake for ActingWaker {
    fn wake(self: Arc<Self>) {
        self.1.fetch_add(1, Ordering::SeqCst);
        let action = self.0.lock().unwrap().take();
        if let Some(SendBox(action)) = action {
            action();
        }
    }
}

fn acting_waker(woken: &Arc<AtomicUsize>, action: impl FnOnce() + 'static) -> Waker {
    Waker::from(Arc::new(ActingWaker(std::sync::Mutex::new(Some(SendBox(Box::new(action)))), woken.clone())))
}

/// One datagram makes a socket readable for several waiters at once —
/// async readers (each with its own entry) and a foreign executor's
/// poll-level waiter — and the woken wakers panic, spawn, register new
/// interest on the same socket, and drop the socket: every waiter is
/// woken once, the spawned task runs, the new interest is woken by the
/// next datagram, and the loop goes on.
#[test]
fn one_event_wakes_every_waiter_while_their_wakers_panic_spawn_register_again_and_drop_the_socket() {
    let rt = Runtime::new().unwrap();
    let woken = Arc::new(AtomicUsize::new(0));
    let socket = Rc::new(rt.block_on(async { UdpSocket::bind("127.0.0.1:0") }).unwrap());
    let addr = socket.local_addr().unwrap();
    let spawned_ran = Rc::new(Cell::new(false));
    let again: Rc<RefCell<Option<Waker>>> = Rc::default();
    let again_woken = Arc::new(AtomicUsize::new(0));
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let socket = socket.clone();
            rt.spawn(async move {
                let mut buf = [0u8; 8];
                socket.recv_from(&mut buf).await.map(|(n, _)| n)
            })
        })
        .collect();
    rt.block_on(kettle::yield_now()); // the readers wait
    // Foreign executors' operations, each with its own waker: a waker per
    // behaviour, so each is its own waiter.
    let mut foreign: Vec<Recv> = Vec::new();
    let behaviours: Vec<Box<dyn FnOnce() -> Waker>> = vec![
        Box::new({
            let woken = woken.clone();
            move || acting_waker(&woken, || panic!("a foreign waker panics"))
        }),
        Box::new({
            let (woken, ran) = (woken.clone(), spawned_ran.clone());
            move || acting_waker(&woken, move || kettle::spawn(async move { ran.set(true) }).detach())
        }),
        Box::new({
            let (woken, socket, again, again_woken) =
                (woken.clone(), socket.clone(), again.clone(), again_woken.clone());
            move || {
                acting_waker(&woken, move || {
                    let waker = Waker::from(Arc::new(Counter(again_woken)));
                    let mut cx = Context::from_waker(&waker);
                    // Already readable: ready at once, or registered anew.
                    let _ = socket.poll_read_ready(&mut cx);
                    *again.borrow_mut() = Some(waker);
                })
            }
        }),
    ];
    for make in behaviours {
        let socket = socket.clone();
        let mut op: Pin<Box<dyn Future<Output = _>>> = Box::pin(async move {
            let mut buf = [0u8; 8];
            socket.recv_from(&mut buf).await
        });
        let waker = make();
        assert!(op.as_mut().poll(&mut Context::from_waker(&waker)).is_pending());
        foreign.push(op);
    }
    let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    for _ in 0..6 {
        sender.send_to(b"hey", addr).unwrap();
    }
    let got = within(30, "the readers woken by one event", || {
        rt.block_on(async {
            let mut got = Vec::new();
            for reader in readers {
                got.push(reader.await.unwrap().unwrap());
            }
            kettle::yield_now().await;
            got
        })
    });
    assert_eq!(got, vec![3, 3, 3]);
    assert_eq!(woken.load(Ordering::SeqCst), 3, "each foreign waker woken once");
    assert!(spawned_ran.get(), "the task a waker spawned ran");
    drop(foreign);
    drop(socket); // the last kettle-side handle: `again`'s interest goes with the socket
    assert_eq!(rt.block_on(async { 9 }), 9, "the loop goes on");
}

/// Counts wakes.
struct Counter(Arc<AtomicUsize>);

impl Wake for Counter {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

// ----- 5. the last reference, during the runtime's drop -----------------------

/// A foreign waker whose drop runs an action (once), on the thread that
/// made it.
struct DropActing(std::sync::Mutex<Option<SendBox>>);

impl Wake for DropActing {
    fn wake(self: Arc<Self>) {}
}

/// A [`DropActing`] waker that runs `action` when its last clone is dropped.
fn drop_acting(action: impl FnOnce() + 'static) -> Waker {
    Waker::from(Arc::new(DropActing(std::sync::Mutex::new(Some(SendBox(Box::new(action)))))))
}

/// An action that makes a runtime with a task holding a [`Counted`] of
/// `dropped`, and drops it: the runtime's drop must enter it to drop the task.
fn drop_a_runtime_with_a_task(dropped: &Rc<Cell<usize>>) -> impl FnOnce() + 'static {
    let dropped = dropped.clone();
    move || {
        let other = Runtime::new().unwrap();
        let counted = Counted(dropped);
        other
            .spawn(async move {
                let _counted = counted;
                std::future::pending::<()>().await
            })
            .detach();
        drop(other);
    }
}

impl Drop for DropActing {
    fn drop(&mut self) {
        let action = self.0.lock().unwrap().take();
        if let Some(SendBox(action)) = action {
            action();
        }
    }
}

/// A task that finished while queued (it woke itself in its last poll)
/// waits in the slab for its stale queue entry to be popped. If the
/// runtime is dropped first, the slab's reference is the task's last, and
/// letting go of it drops the join waker its handle left — user code, run
/// by the runtime's drop. What that code spawns, queues or wakes there is
/// dropped with the rest, unrun, exactly once, before `drop(runtime)`
/// returns, and `drop(runtime)` does not panic.
#[test]
fn what_a_join_wakers_drop_spawns_when_the_runtime_drop_frees_its_task_is_dropped_with_the_runtime() {
    for kind in ["plain", "debug"] {
        let rt = match kind {
            "plain" => Runtime::new().unwrap(),
            _ => Builder::new().slow_poll_threshold(Duration::from_secs(3600)).build().unwrap(),
        };
        let dropped = Rc::new(Cell::new(0));
        let ran = Rc::new(Cell::new(false));
        let (dropped_in, ran_in) = (dropped.clone(), ran.clone());
        let spawn_on_drop = move || {
            let (counted, ran) = (Counted(dropped_in.clone()), ran_in.clone());
            kettle::spawn(async move {
                let _counted = counted;
                ran.set(true);
            })
            .detach();
            let counted = Counted(dropped_in.clone());
            kettle::call_soon(move || drop(counted));
        };
        let join_waker = drop_acting(spawn_on_drop);
        let mut task = rt.spawn(poll_fn(|cx| {
            cx.waker().wake_by_ref(); // finishes while queued: a stale entry
            Poll::Ready(1u8)
        }));
        assert!(Pin::new(&mut task).poll(&mut Context::from_waker(&join_waker)).is_pending());
        drop(join_waker); // the handle keeps its clone
        rt.turn(Some(Duration::ZERO)); // the task finishes; its stale entry waits
        assert!(task.is_finished(), "{kind}");
        drop(task); // the output goes; the join waker stays in the cell
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(rt)));
        assert!(outcome.is_ok(), "{kind}: drop(runtime) panicked");
        assert!(!ran.get(), "{kind}: nothing runs after the runtime's drop began");
        assert_eq!(
            dropped.get(),
            2,
            "{kind}: the spawned task and the queued callback were dropped by drop(runtime)"
        );
    }
}

/// The same last reference let go of by the loop: a task that finished
/// while queued, whose handle was dropped meanwhile, is freed when its
/// stale entry is popped — and its join waker's drop, run there, may
/// spawn, wake, dump the tasks and drop another runtime; all of it lands.
#[test]
fn a_join_wakers_drop_run_as_the_loop_frees_a_task_may_spawn_wake_dump_and_drop_a_runtime() {
    for (kind, rt) in every_kind_of_runtime() {
        let (waiter, waiter_waker) = flag_task(&rt);
        let spawned_ran = Rc::new(Cell::new(false));
        let dumped = Rc::new(Cell::new(0));
        let other = Runtime::new().unwrap();
        let other_drops = Rc::new(Cell::new(0));
        let counted = Counted(other_drops.clone());
        other
            .spawn(async move {
                let _counted = counted;
                std::future::pending::<()>().await
            })
            .detach();
        let (ran, dumped_in, waiter_waker_in) = (spawned_ran.clone(), dumped.clone(), waiter_waker.clone());
        let mut other = Some(other);
        let action = move || {
            let ran = ran.clone();
            kettle::spawn(async move { ran.set(true) }).detach();
            waiter_waker_in.borrow_mut().take().expect("the waiter waits").wake();
            let listed = dump();
            assert_eq!(
                listed.iter().filter(|i| i.state != TaskState::FinishedUnread).count(),
                kettle::metrics().tasks_alive,
                "{listed:?}"
            );
            dumped_in.set(dumped_in.get() + 1);
            drop(other.take());
        };
        let join_waker = drop_acting(action);
        let mut task = rt.spawn(poll_fn(|cx| {
            cx.waker().wake_by_ref(); // finishes while queued: a stale entry
            Poll::Ready(1u8)
        }));
        assert!(Pin::new(&mut task).poll(&mut Context::from_waker(&join_waker)).is_pending());
        drop(join_waker);
        rt.turn(Some(Duration::ZERO)); // the waiter waits; the task finishes, queued
        assert!(task.is_finished(), "{kind}");
        drop(task); // the join waker stays in the cell, which the slab holds
        assert_eq!(dumped.get(), 0, "{kind}: not yet freed");
        let polls = within(30, "the waiter woken by a join waker's drop", || {
            rt.block_on(async {
                let polls = waiter.await.unwrap();
                kettle::yield_now().await;
                polls
            })
        });
        assert_eq!((polls, dumped.get()), (2, 1), "{kind}");
        assert!(spawned_ran.get(), "{kind}");
        assert_eq!(other_drops.get(), 1, "{kind}: the other runtime dropped its task");
        assert_eq!(rt.metrics().tasks_alive, 0, "{kind}");
        if kind == "traced" {
            let _ = rt.stop_trace();
        }
    }
}

// ----- 6. a soup of tasks doing everything to each other ------------------------

/// What the soup's tasks share: their handles and wakers, by slot, and
/// counts of what happened.
#[derive(Default)]
struct Soup {
    handles: RefCell<Vec<Option<JoinHandle<u32>>>>,
    wakers: RefCell<Vec<Option<Waker>>>,
    rng: Cell<u64>,
    started: Cell<usize>,
    dropped: Cell<usize>,
    dumps: Cell<usize>,
}

impl Soup {
    fn next(&self, below: u64) -> u64 {
        let x = self.rng.get().wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.rng.set(x);
        (x >> 33) % below
    }
}

/// Drops counted into the soup.
struct InSoup(Rc<Soup>);

impl Drop for InSoup {
    fn drop(&mut self) {
        self.0.dropped.set(self.0.dropped.get() + 1);
        if self.0.next(4) == 0 {
            // A destructor that wakes somebody.
            let waker = self.0.wakers.borrow_mut().iter_mut().filter_map(Option::take).next();
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }
}

/// One task of the soup: a few steps, each a random act on the others.
async fn soup_task(soup: Rc<Soup>, budget: u32) -> u32 {
    let _counted = InSoup(soup.clone());
    soup.started.set(soup.started.get() + 1);
    let children = if budget == 6 { 3 } else { soup.next(3) };
    for _ in 0..children {
        if budget > 0 && soup.started.get() < 3000 {
            let handle = kettle::spawn(soup_task(soup.clone(), budget - 1));
            soup.handles.borrow_mut().push(Some(handle));
        }
    }
    for step in 0..(1 + soup.next(6)) {
        match soup.next(9) {
            0 | 1 if budget > 0 && soup.started.get() < 3000 => {
                let handle = kettle::spawn(soup_task(soup.clone(), budget - 1));
                soup.handles.borrow_mut().push(Some(handle));
            }
            2 => {
                let n = soup.handles.borrow().len() as u64;
                if n > 0 {
                    let i = soup.next(n) as usize;
                    if let Some(handle) = soup.handles.borrow().get(i).and_then(Option::as_ref) {
                        handle.cancel(); // perhaps this very task
                    }
                }
            }
            3 => {
                let n = soup.handles.borrow().len() as u64;
                if n > 0 {
                    let i = soup.next(n) as usize;
                    let handle = soup.handles.borrow_mut()[i].take();
                    drop(handle); // perhaps this task's own
                }
            }
            4 => {
                let waker = soup.wakers.borrow_mut().iter_mut().rev().filter_map(Option::take).next();
                if let Some(waker) = waker {
                    waker.wake();
                }
            }
            5 => {
                let listed = dump();
                let mut ids: Vec<_> = listed.iter().map(|info| info.id).collect();
                ids.dedup();
                assert_eq!(ids.len(), listed.len(), "a task listed twice");
                assert_eq!(listed.iter().filter(|i| i.state == TaskState::Running).count(), 1);
                assert_eq!(
                    listed.iter().filter(|i| i.state != TaskState::FinishedUnread).count(),
                    kettle::metrics().tasks_alive
                );
                soup.dumps.set(soup.dumps.get() + 1);
            }
            6 => {
                // Wait until somebody wakes us (or the soup's end does).
                let mut parked = false;
                poll_fn(|cx| {
                    if parked {
                        return Poll::Ready(());
                    }
                    parked = true;
                    soup.wakers.borrow_mut().push(Some(cx.waker().clone()));
                    Poll::Pending
                })
                .await;
            }
            _ => kettle::yield_now().await,
        }
        let _ = step;
    }
    budget
}

/// Thousands of tasks that spawn, cancel one another (or themselves),
/// drop one another's handles (or their own), wake one another from
/// their polls and destructors, park, and dump the tasks — under every
/// kind of loop, a seeded one too: every future is dropped exactly once,
/// every dump lists each live task once, and when the soup is drained
/// (the parked woken at the end) the slab is empty.
#[test]
fn a_soup_of_tasks_spawning_cancelling_dropping_waking_and_dumping_each_other_ends_clean() {
    let mut runtimes = every_kind_of_runtime();
    runtimes.push(("seeded", Builder::new().seed(7).build().unwrap()));
    for (kind, rt) in runtimes {
        let mut total = 0;
        for seed in 1..=30u64 {
            let soup = Rc::new(Soup::default());
            soup.rng.set(seed);
            let root = rt.spawn(soup_task(soup.clone(), 6));
            soup.handles.borrow_mut().push(Some(root));
            within(60, "the soup", || {
                rt.block_on(async {
                    loop {
                        for _ in 0..3 {
                            kettle::yield_now().await;
                        }
                        let parked: Vec<Waker> = soup.wakers.borrow_mut().drain(..).flatten().collect();
                        let alive = kettle::metrics().tasks_alive;
                        if parked.is_empty() && alive == 0 {
                            break;
                        }
                        parked.into_iter().for_each(Waker::wake);
                    }
                })
            });
            let handles: Vec<_> = soup.handles.borrow_mut().drain(..).flatten().collect();
            for handle in handles {
                assert!(handle.is_finished(), "{kind}");
                drop(handle);
            }
            assert_eq!(
                soup.dropped.get(),
                soup.started.get(),
                "{kind}, seed {seed}: each future dropped once"
            );
            total += soup.started.get();
            assert_eq!(rt.metrics().tasks_alive, 0, "{kind}, seed {seed}");
        }
        assert!(total > 1000, "{kind}: a soup, not a cup ({total} tasks)");
        if kind == "traced" {
            let _ = rt.stop_trace();
        }
    }
}

/// A task that owns a clone of its own runtime (an `Rc<Runtime>`) starts
/// and stops the trace, asks for dumps and spawns through it in the
/// middle of its polls — switching the loop between its timed and
/// untimed ways of running a task while tasks are lent: every task runs
/// to the end and is listed once in every dump.
#[test]
fn a_task_switching_its_own_runtimes_trace_on_and_off_mid_poll_leaves_every_task_whole() {
    let rt = Rc::new(Runtime::new().unwrap());
    let inner = rt.clone();
    let finished = Rc::new(Cell::new(0));
    let finished_in = finished.clone();
    let switcher = rt.spawn(async move {
        let mut handles = Vec::new();
        for round in 0..40u32 {
            if round % 2 == 0 {
                inner.start_trace();
            } else {
                let _ = inner.stop_trace();
            }
            let finished = finished_in.clone();
            handles.push(inner.spawn(async move {
                kettle::yield_now().await;
                finished.set(finished.get() + 1);
                round
            }));
            let listed = inner.tasks();
            let mut ids: Vec<_> = listed.iter().map(|info| info.id).collect();
            ids.dedup();
            assert_eq!(ids.len(), listed.len(), "round {round}: {listed:?}");
            assert_eq!(listed.iter().filter(|i| i.state == TaskState::Running).count(), 1, "round {round}");
            kettle::yield_now().await;
        }
        let mut sum = 0;
        for handle in handles {
            sum += handle.await.unwrap();
        }
        drop(inner); // the task's clone: the caller's keeps the runtime
        sum
    });
    let sum = rt.block_on(switcher).unwrap();
    assert_eq!((sum, finished.get()), ((0..40).sum(), 40));
    assert_eq!(rt.metrics().tasks_alive, 0);
    assert_eq!(Rc::strong_count(&rt), 1);
}

/// While the loop times its tasks (debug mode, a trace), a finished task
/// whose output its handle may still read is kept for dumps. If that
/// handle is dropped by the runtime's drop (another task's future owned
/// it), the kept reference is the task's last: letting go of it runs the
/// join waker's drop, which — like every destructor the runtime's drop
/// runs — finds the runtime entered: what it spawns and queues is dropped
/// with the runtime, and nothing panics.
#[test]
fn a_task_kept_for_dumps_whose_handle_the_runtimes_drop_drops_is_let_go_of_with_the_runtime_entered() {
    for kind in ["debug", "traced"] {
        let rt = match kind {
            "debug" => Builder::new().slow_poll_threshold(Duration::from_secs(3600)).build().unwrap(),
            _ => {
                let rt = Runtime::new().unwrap();
                rt.start_trace();
                rt
            }
        };
        let dropped = Rc::new(Cell::new(0));
        let spawned = Rc::new(Cell::new(false));
        let (dropped_in, spawned_in) = (dropped.clone(), spawned.clone());
        let action = move || {
            let spawned_in = spawned_in.clone();
            let counted = Counted(dropped_in.clone());
            let made = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
                kettle::spawn(async move {
                    let _counted = counted;
                })
                .detach();
            }));
            spawned_in.set(made.is_ok());
            let counted = Counted(dropped_in.clone());
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
                kettle::call_soon(move || drop(counted));
            }));
        };
        let join_waker = drop_acting(action);
        let mut task = rt.spawn(async { 1u8 });
        assert!(Pin::new(&mut task).poll(&mut Context::from_waker(&join_waker)).is_pending());
        drop(join_waker);
        rt.turn(Some(Duration::ZERO)); // finished, unread: kept for dumps
        assert!(task.is_finished(), "{kind}");
        assert_eq!(rt.tasks().len(), 1, "{kind}: listed as finished and unread");
        rt.spawn(async move {
            let _owned = task; // dropped by the runtime's drop
            std::future::pending::<()>().await
        })
        .detach();
        rt.turn(Some(Duration::ZERO));
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(rt)));
        assert!(outcome.is_ok(), "{kind}: drop(runtime) panicked");
        assert!(spawned.get(), "{kind}: the join waker's drop found the runtime entered");
        assert_eq!(dropped.get(), 2, "{kind}: what it spawned and queued was dropped with the runtime");
    }
}

/// Debug mode lists, as the runtime is dropped, the tasks it drops
/// unfinished; making that list first lets go of the finished tasks kept
/// for dumps whose output has been read since — perhaps their last
/// reference, whose join waker's drop is user code. That runs with the
/// runtime entered, as every destructor the runtime's drop runs does.
#[test]
fn the_tasks_debug_modes_leftover_list_lets_go_of_are_let_go_of_with_the_runtime_entered() {
    let rt = Builder::new().slow_poll_threshold(Duration::from_secs(3600)).build().unwrap();
    let dropped = Rc::new(Cell::new(0));
    let spawned = Rc::new(Cell::new(false));
    let (dropped_in, spawned_in) = (dropped.clone(), spawned.clone());
    let action = move || {
        let counted = Counted(dropped_in.clone());
        let made = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
            kettle::spawn(async move {
                let _counted = counted;
            })
            .detach();
        }));
        spawned_in.set(made.is_ok());
    };
    let join_waker = drop_acting(action);
    let mut task = rt.spawn(async { 1u8 });
    assert!(Pin::new(&mut task).poll(&mut Context::from_waker(&join_waker)).is_pending());
    drop(join_waker);
    rt.turn(Some(Duration::ZERO)); // finished, unread: kept for dumps
    // Read, and the handle gone: the kept reference is the last one.
    assert!(matches!(Pin::new(&mut task).poll(&mut Context::from_waker(Waker::noop())), Poll::Ready(Ok(1))));
    drop(task);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(rt)));
    assert!(outcome.is_ok(), "drop(runtime) panicked");
    assert!(spawned.get(), "the join waker's drop found the runtime entered");
    assert_eq!(dropped.get(), 1, "what it spawned was dropped with the runtime");
}

/// A foreign waker whose drop creates another runtime, gives it a task,
/// and drops it: the loop drops such a waker when a sleep polled by it
/// is polled again with another waker (the timer keeps the latest). The
/// other runtime's drop enters it for its shutdown, drops its task, and
/// nothing panics; the sleep still fires.
#[test]
fn a_sleeps_replaced_waker_whose_drop_creates_and_drops_a_runtime_drops_it_whole() {
    let rt = Runtime::new().unwrap();
    let dropped = Rc::new(Cell::new(0));
    let action = drop_a_runtime_with_a_task(&dropped);
    let first = Waker::from(Arc::new(DropActing(std::sync::Mutex::new(Some(SendBox(Box::new(action)))))));
    let done = within(30, "the sleep", || {
        rt.block_on(async {
            let mut sleep = std::pin::pin!(kettle::sleep(Duration::from_millis(20)));
            assert!(sleep.as_mut().poll(&mut Context::from_waker(&first)).is_pending());
            drop(first); // the timer holds the only clone now
            // Polled again by this future: the timer's waker is replaced,
            // and the foreign one dropped.
            sleep.await;
            true
        })
    });
    assert!(done);
    assert_eq!(dropped.get(), 1, "the other runtime dropped its task as it was dropped");
}

/// The same waker's drop, when the sleep it waited on moves to another
/// runtime: its timer in the first runtime is removed, and the waker
/// dropped, as the sleep registers in the second one.
#[test]
fn a_sleep_moved_to_another_runtime_drops_its_old_waker_which_may_create_and_drop_a_runtime() {
    let first_rt = Runtime::new().unwrap();
    let second_rt = Runtime::new().unwrap();
    let dropped = Rc::new(Cell::new(0));
    let action = drop_a_runtime_with_a_task(&dropped);
    let first = Waker::from(Arc::new(DropActing(std::sync::Mutex::new(Some(SendBox(Box::new(action)))))));
    let mut sleep = Box::pin(kettle::sleep(Duration::from_millis(20)));
    first_rt.block_on(async {
        assert!(sleep.as_mut().poll(&mut Context::from_waker(&first)).is_pending());
    });
    drop(first); // the first runtime's timer holds the only clone
    within(30, "the moved sleep", || second_rt.block_on(sleep));
    assert_eq!(dropped.get(), 1, "the other runtime dropped its task as it was dropped");
    assert_eq!(first_rt.metrics().timers_pending, 0, "the old timer is gone");
}

thread_local! {
    /// A runtime a `DropsSpare` lets go of.
    static SPARE: RefCell<Option<Runtime>> = const { RefCell::new(None) };
}

/// Drops the thread's spare runtime when dropped (a `Send` value, so that a
/// blocking job may own it).
struct DropsSpare;

impl Drop for DropsSpare {
    fn drop(&mut self) {
        drop(SPARE.with(|spare| spare.borrow_mut().take()));
    }
}

/// A blocking job submitted by a destructor the runtime's drop runs is
/// refused (the pool has shut down) and dropped at once; what it owns may
/// drop another runtime, which enters itself for its drop, drops its own
/// task, and nothing panics.
#[test]
fn a_blocking_job_refused_during_the_runtimes_drop_may_drop_another_runtime_whole() {
    let spare = Runtime::new().unwrap();
    let dropped = Rc::new(Cell::new(0));
    let counted = Counted(dropped.clone());
    spare
        .spawn(async move {
            let _counted = counted;
            std::future::pending::<()>().await
        })
        .detach();
    SPARE.with(|slot| *slot.borrow_mut() = Some(spare));
    let rt = Runtime::new().unwrap();
    struct SubmitsOnDrop;
    impl Drop for SubmitsOnDrop {
        fn drop(&mut self) {
            let owned = DropsSpare;
            kettle::spawn_blocking(move || drop(owned)).detach();
        }
    }
    rt.spawn(async {
        let _submits = SubmitsOnDrop;
        std::future::pending::<()>().await
    })
    .detach();
    rt.block_on(kettle::yield_now());
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(rt)));
    assert!(outcome.is_ok(), "drop(runtime) panicked");
    assert!(SPARE.with(|slot| slot.borrow().is_none()), "the spare runtime was dropped");
    assert_eq!(dropped.get(), 1, "the spare runtime dropped its task");
}

/// Dumps asked from another thread while the loop runs a soup of tasks —
/// answered on the loop between polls — list each task once, none of them
/// running, and never hang.
#[test]
fn dumps_asked_from_another_thread_while_a_soup_runs_list_each_task_once() {
    let rt = Runtime::new().unwrap();
    let handle = rt.handle();
    let stop = Arc::new(AtomicBool::new(false));
    let stop_in = stop.clone();
    let asker = std::thread::spawn(move || {
        let mut answered = 0;
        while !stop_in.load(Ordering::Acquire) {
            match handle.tasks_timeout(Duration::from_secs(30)) {
                Some(Ok(dump)) => {
                    let mut ids: Vec<_> = dump.iter().map(|info| info.id).collect();
                    ids.dedup();
                    assert_eq!(ids.len(), dump.len(), "a task listed twice");
                    assert!(dump.iter().all(|info| info.state != TaskState::Running), "{dump:?}");
                    answered += 1;
                }
                Some(Err(_)) => break, // the runtime is gone
                None => panic!("a dump asked from another thread was never answered"),
            }
        }
        answered
    });
    within(120, "the soup with remote dumps", || {
        for seed in 1..=20u64 {
            let soup = Rc::new(Soup::default());
            soup.rng.set(seed);
            let root = rt.spawn(soup_task(soup.clone(), 6));
            soup.handles.borrow_mut().push(Some(root));
            rt.block_on(async {
                loop {
                    kettle::yield_now().await;
                    let parked: Vec<Waker> = soup.wakers.borrow_mut().drain(..).flatten().collect();
                    if parked.is_empty() && kettle::metrics().tasks_alive == 0 {
                        break;
                    }
                    parked.into_iter().for_each(Waker::wake);
                }
            });
            assert_eq!(soup.dropped.get(), soup.started.get(), "seed {seed}");
        }
    });
    stop.store(true, Ordering::Release);
    // The asker's last question may wait for a loop that no longer runs:
    // one more run answers it.
    let finished = std::thread::spawn(move || asker.join());
    let answered = within(30, "the asker's last question", || {
        loop {
            rt.turn(Some(Duration::from_millis(10)));
            if finished.is_finished() {
                break finished.join().unwrap().unwrap();
            }
        }
    });
    assert!(answered > 0);
}
