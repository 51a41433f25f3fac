//! Specifies that cross-thread traffic loses nothing under load: thousands of remote spawns
//! and wakes from several threads, each result and each wake accounted for.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

use kettle::Runtime;

mod common;
use common::StopOnDrop;

const LIMIT: Duration = Duration::from_secs(5);

#[test]
fn four_threads_spawning_2500_tasks_each_get_every_result_back() {
    const THREADS: u64 = 4;
    const PER_THREAD: u64 = 2_500;
    let rt = Runtime::new().unwrap();
    let handle = rt.handle();
    let coordinator = thread::spawn(move || {
        let _stop = StopOnDrop(handle.clone());
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let handle = handle.clone();
                thread::spawn(move || {
                    let tasks: Vec<_> = (0..PER_THREAD)
                        .map(|i| {
                            let value = t * PER_THREAD + i;
                            handle.spawn(async move {
                                if value.is_multiple_of(3) {
                                    kettle::yield_now().await;
                                }
                                value
                            })
                        })
                        .collect();
                    let mut sum = 0;
                    for (i, task) in tasks.into_iter().enumerate() {
                        let value = task.wait().expect("no task is lost or cancelled");
                        assert_eq!(value, t * PER_THREAD + i as u64, "each handle gets its own task's value");
                        sum += value;
                    }
                    sum
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).sum::<u64>()
    });
    rt.run_forever();
    let sum = coordinator.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    let n = THREADS * PER_THREAD;
    assert_eq!(sum, n * (n - 1) / 2);
    let m = rt.metrics();
    assert_eq!(m.remote_spawns, n);
    assert_eq!(m.tasks_alive, 0);
}

/// A one-shot-per-round signal set by another thread.
#[derive(Default)]
struct Signal {
    flag: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl Signal {
    fn raise(&self) {
        self.flag.store(true, Ordering::SeqCst);
        let waker = self.waker.lock().unwrap().take();
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// Completes once the signal is raised, consuming it.
struct Lowered<'a>(&'a Signal);

impl Future for Lowered<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let signal = self.0;
        if signal.flag.swap(false, Ordering::SeqCst) {
            return Poll::Ready(());
        }
        *signal.waker.lock().unwrap() = Some(cx.waker().clone());
        // Re-check after publishing the waker: a raise in between found no waker to wake.
        if signal.flag.swap(false, Ordering::SeqCst) {
            return Poll::Ready(());
        }
        Poll::Pending
    }
}

/// On another thread, raises `signal` `rounds` times, each time waiting until
/// the loop side has counted that round in `done`; a round not counted within
/// `LIMIT` means a lost wake (`what` names it in the failure).
fn raise_rounds(
    signal: &Arc<Signal>,
    done: &Arc<AtomicUsize>,
    rounds: usize,
    what: &'static str,
) -> thread::JoinHandle<()> {
    let (signal, done) = (signal.clone(), done.clone());
    thread::spawn(move || {
        let deadline = Instant::now() + LIMIT;
        for round in 0..rounds {
            signal.raise();
            while done.load(Ordering::SeqCst) <= round {
                assert!(Instant::now() < deadline, "{what} {round} was lost");
                thread::yield_now();
            }
        }
    })
}

#[test]
fn two_thousand_wakes_from_another_thread_are_none_lost() {
    const ROUNDS: usize = 2_000;
    let signal = Arc::new(Signal::default());
    let done = Arc::new(AtomicUsize::new(0));
    let rt = Runtime::new().unwrap();

    let waker_thread = raise_rounds(&signal, &done, ROUNDS, "wake");

    let (s, d) = (signal.clone(), done.clone());
    let finished = rt.block_on(async move {
        let task = kettle::spawn(async move {
            for _ in 0..ROUNDS {
                Lowered(&s).await;
                d.fetch_add(1, Ordering::SeqCst);
            }
        });
        kettle::timeout(LIMIT, task).await
    });
    waker_thread.join().unwrap();
    assert!(finished.is_ok(), "the task stalled: a wake was lost");
    assert_eq!(done.load(Ordering::SeqCst), ROUNDS);
    assert_eq!(rt.metrics().tasks_alive, 0);
}

/// A task waiting until `counter` reaches `target`, counting its polls.
fn counting_waiter(
    counter: Arc<AtomicUsize>,
    slot: Arc<Mutex<Option<Waker>>>,
    target: usize,
    polls: Rc<Cell<usize>>,
) -> impl Future<Output = ()> {
    std::future::poll_fn(move |cx| {
        polls.set(polls.get() + 1);
        if counter.load(Ordering::SeqCst) >= target {
            return Poll::Ready(());
        }
        *slot.lock().unwrap() = Some(cx.waker().clone());
        if counter.load(Ordering::SeqCst) >= target { Poll::Ready(()) } else { Poll::Pending }
    })
}

/// `threads` threads each bump `counter` and wake the stored waker `per_thread` times.
fn wake_storm(
    counter: &Arc<AtomicUsize>,
    slot: &Arc<Mutex<Option<Waker>>>,
    threads: usize,
    per_thread: usize,
) {
    let storm: Vec<_> = (0..threads)
        .map(|_| {
            let (counter, slot) = (counter.clone(), slot.clone());
            thread::spawn(move || {
                for _ in 0..per_thread {
                    counter.fetch_add(1, Ordering::SeqCst);
                    let waker = slot.lock().unwrap().clone();
                    waker.expect("the task stored its waker on its first poll").wake();
                }
            })
        })
        .collect();
    for t in storm {
        t.join().unwrap();
    }
}

#[test]
fn concurrent_wakes_of_one_task_coalesce_into_a_single_run() {
    let counter = Arc::new(AtomicUsize::new(0));
    let slot = Arc::new(Mutex::new(None));
    let polls = Rc::new(Cell::new(0));
    let rt = Runtime::new().unwrap();
    let task = rt.spawn(counting_waiter(counter.clone(), slot.clone(), 2_000, polls.clone()));
    rt.turn(Some(Duration::ZERO));
    assert_eq!(polls.get(), 1);

    // The loop is not running: all 2,000 wakes from 4 threads pile up in the injector.
    wake_storm(&counter, &slot, 4, 500);

    let turn = rt.turn(Some(Duration::ZERO));
    assert_eq!(turn.injected, 1, "2,000 remote wakes of one task are one injector entry");
    assert_eq!(turn.tasks_run, 1);
    assert_eq!(polls.get(), 2, "the task ran once for all of them");
    assert!(task.is_finished());
    assert_eq!(rt.metrics().tasks_alive, 0);
}

#[test]
fn concurrent_wakes_of_one_task_while_the_loop_runs_are_never_lost() {
    const THREADS: usize = 4;
    const PER_THREAD: usize = 500;
    let counter = Arc::new(AtomicUsize::new(0));
    let slot = Arc::new(Mutex::new(None));
    let polls = Rc::new(Cell::new(0));
    let rt = Runtime::new().unwrap();
    let out = rt.block_on(async {
        let waiter = counting_waiter(counter.clone(), slot.clone(), THREADS * PER_THREAD, polls.clone());
        let task = kettle::spawn(waiter);
        kettle::yield_now().await; // the task has stored its waker
        let (c, s) = (counter.clone(), slot.clone());
        let storm = thread::spawn(move || wake_storm(&c, &s, THREADS, PER_THREAD));
        let out = kettle::timeout(LIMIT, task).await;
        (out, storm)
    });
    let (finished, storm) = out;
    storm.join().unwrap();
    assert!(finished.is_ok(), "the last wake was lost: the task never saw the final count");
    assert_eq!(counter.load(Ordering::SeqCst), THREADS * PER_THREAD);
    let polls = polls.get();
    assert!(polls <= THREADS * PER_THREAD + 1, "never more runs than wakes: {polls}");
}

#[test]
fn block_on_itself_is_woken_from_another_thread_500_times_none_lost() {
    const ROUNDS: usize = 500;
    let signal = Arc::new(Signal::default());
    let done = Arc::new(AtomicUsize::new(0));
    let waker_thread = raise_rounds(&signal, &done, ROUNDS, "wake of block_on");
    let rt = Runtime::new().unwrap();
    // Not a task: block_on's own future, woken through its own waker. A watchdog timer turns a
    // lost wake into a failure instead of a hang.
    let rounds = async {
        for _ in 0..ROUNDS {
            Lowered(&signal).await;
            done.fetch_add(1, Ordering::SeqCst);
        }
    };
    let out = rt.block_on(async { kettle::timeout(LIMIT, rounds).await });
    waker_thread.join().unwrap();
    assert!(out.is_ok());
    assert_eq!(done.load(Ordering::SeqCst), ROUNDS);
}

#[test]
fn gather_children_woken_concurrently_from_four_threads_lose_no_wake() {
    const CHILDREN: usize = 64;
    const ROUNDS: usize = 200;
    const THREADS: usize = 4;
    // Every poll of a child that is not done hands its waker to one of the
    // waking threads; a lost wake would leave that child, and the gather,
    // pending for good, which the timeout turns into a failure.
    let senders_and_threads: Vec<_> = (0..THREADS)
        .map(|_| {
            let (send, receive) = std::sync::mpsc::channel::<Waker>();
            let thread = thread::spawn(move || {
                for waker in receive {
                    waker.wake();
                }
            });
            (send, thread)
        })
        .collect();
    let senders: Vec<_> = senders_and_threads.iter().map(|(send, _)| send.clone()).collect();
    let polls = kettle::run(async move {
        let children = (0..CHILDREN).map(|child| {
            let senders = senders.clone();
            let mut round = 0;
            std::future::poll_fn(move |cx| {
                round += 1;
                if round > ROUNDS {
                    return Poll::Ready(round - 1);
                }
                senders[(child + round) % THREADS].send(cx.waker().clone()).unwrap();
                Poll::Pending
            })
        });
        kettle::timeout(LIMIT, kettle::gather(children)).await.expect("every wake arrived")
    });
    assert_eq!(polls, vec![ROUNDS; CHILDREN], "each child saw each of its rounds once");
    for (send, thread) in senders_and_threads {
        drop(send);
        thread.join().unwrap();
    }
}
