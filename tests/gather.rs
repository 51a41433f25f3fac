//! Specifies `kettle::gather` and `kettle::try_gather`: every future runs
//! concurrently inside the calling task, outputs come back in input order, only
//! futures that were woken are polled again (so the work is linear in the number
//! of futures), and `try_gather` drops every other future at the first error.

mod common;

use std::cell::{Cell, RefCell};
use std::future::{Future, poll_fn};
use std::marker::PhantomPinned;
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::sync::mpsc;
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

use common::{CountPolls, DropCounter, StopOnDrop};
use kettle::{Handle, Runtime, gather, sleep, try_gather, yield_now};

fn count_polls<F: Future>(inner: F, polls: &Rc<Cell<usize>>) -> CountPolls<F> {
    CountPolls { inner: Box::pin(inner), polls: polls.clone() }
}

/// A gate that futures wait on until it is opened; wakes every waiter once.
#[derive(Default)]
struct Gate {
    open: Cell<bool>,
    waiters: RefCell<Vec<Waker>>,
}

impl Gate {
    async fn wait(&self) {
        poll_fn(|cx| {
            if self.open.get() {
                return Poll::Ready(());
            }
            self.waiters.borrow_mut().push(cx.waker().clone());
            Poll::Pending
        })
        .await
    }

    fn open(&self) {
        self.open.set(true);
        let waiters = std::mem::take(&mut *self.waiters.borrow_mut());
        for waiter in waiters {
            waiter.wake();
        }
    }
}

#[test]
fn gather_returns_results_in_input_order() {
    let finished = Rc::new(RefCell::new(Vec::new()));
    // A paused clock: the sleeps end in deadline order however slowly the
    // machine polls them (real time let a 10 ms stall reorder them).
    let rt = kettle::Builder::new().start_paused(true).build().unwrap();
    let out = rt.block_on(gather([40, 10, 30, 20].map(|ms| {
        let finished = finished.clone();
        async move {
            sleep(Duration::from_millis(ms)).await;
            finished.borrow_mut().push(ms);
            ms * 2
        }
    })));
    assert_eq!(*finished.borrow(), [10, 20, 30, 40], "they finished in completion order");
    assert_eq!(out, [80, 20, 60, 40], "but the outputs are in input order");
}

#[test]
fn gather_runs_its_futures_concurrently_and_leaves_nothing_behind() {
    let rt = Runtime::new().unwrap();
    let start = Instant::now();
    let out = rt.block_on(gather([60, 20, 40].map(|ms| async move {
        sleep(Duration::from_millis(ms)).await;
        ms
    })));
    let elapsed = start.elapsed();
    assert_eq!(out, [60, 20, 40]);
    assert!(elapsed >= Duration::from_millis(60), "never early: {elapsed:?}");
    assert!(
        elapsed < Duration::from_millis(100),
        "about the longest (60 ms), not the sum (120 ms): {elapsed:?}"
    );
    let metrics = rt.metrics();
    assert_eq!(metrics.tasks_alive, 0, "nothing was spawned");
    assert_eq!(metrics.timers_pending, 0);
}

#[test]
fn gather_polls_only_woken_futures_so_100_000_futures_cost_linear_work() {
    const N: usize = 100_000;
    let polls = Rc::new(Cell::new(0));
    let start = Instant::now();
    let out = kettle::run(gather((0..N).map(|i| {
        count_polls(
            async move {
                yield_now().await;
                i
            },
            &polls,
        )
    })));
    let elapsed = start.elapsed();
    assert_eq!(out.len(), N);
    assert!(out.iter().enumerate().all(|(i, &v)| i == v), "input order");
    // Each future is polled twice: once to yield, once to finish. Polling all
    // on every wake would be N polls per wake, about N² in total.
    assert!(polls.get() <= 3 * N, "{} polls for {N} futures", polls.get());
    assert!(elapsed < Duration::from_secs(5), "{N} futures took {elapsed:?}");
}

#[test]
fn waking_one_future_does_not_poll_its_siblings() {
    const WAITERS: usize = 1_000;
    const YIELDS: usize = 500;
    let gate = Gate::default();
    let waiter_polls = Rc::new(Cell::new(0));
    let busy_polls = Rc::new(Cell::new(0));
    kettle::run(async {
        let busy = count_polls(
            async {
                for _ in 0..YIELDS {
                    yield_now().await;
                }
                gate.open();
            },
            &busy_polls,
        );
        let waiters = gather((0..WAITERS).map(|_| count_polls(gate.wait(), &waiter_polls)));
        let ((), waited) = kettle::join!(busy, waiters);
        assert_eq!(waited.len(), WAITERS);
    });
    assert_eq!(busy_polls.get(), YIELDS + 1);
    assert_eq!(waiter_polls.get(), 2 * WAITERS, "each waiter: one poll to wait, one when the gate opened");
}

#[test]
fn repeated_wakes_of_one_future_before_its_next_poll_count_once() {
    let polls = Rc::new(Cell::new(0));
    let out = kettle::run(gather([count_polls(
        {
            let mut woken = false;
            poll_fn(move |cx| {
                if woken {
                    return Poll::Ready("done");
                }
                woken = true;
                for _ in 0..10 {
                    cx.waker().wake_by_ref();
                }
                Poll::Pending
            })
        },
        &polls,
    )]));
    assert_eq!(out, ["done"]);
    assert_eq!(polls.get(), 2, "ten wakes, one more poll");
}

#[test]
fn gather_of_results_keeps_every_error_in_its_place_like_return_exceptions() {
    let out: Vec<Result<u32, String>> = kettle::run(gather((1..=5).map(|n| async move {
        sleep(Duration::from_millis(u64::from(10 - n))).await;
        if n % 2 == 0 { Err(format!("{n} is even")) } else { Ok(n * 10) }
    })));
    assert_eq!(out, [Ok(10), Err("2 is even".to_string()), Ok(30), Err("4 is even".to_string()), Ok(50)]);
}

#[test]
fn gather_of_nothing_resolves_at_once_to_an_empty_vec() {
    let mut empty = pin!(gather(Vec::<std::future::Ready<u8>>::new()));
    let poll = empty.as_mut().poll(&mut Context::from_waker(Waker::noop()));
    assert_eq!(poll, Poll::Ready(Vec::new()), "ready on the first poll, no runtime needed");
}

#[test]
fn gather_drops_each_future_as_soon_as_it_finishes() {
    let drops = Rc::new(Cell::new(0));
    let drops_when_slow_finished = kettle::run(gather([5, 50].map(|ms| {
        let guard = DropCounter(drops.clone());
        let drops = drops.clone();
        async move {
            let _guard = guard;
            sleep(Duration::from_millis(ms)).await;
            drops.get()
        }
    })));
    assert_eq!(drops_when_slow_finished[1], 1, "the fast future was dropped while the slow one still ran");
    assert_eq!(drops.get(), 2);
}

#[test]
fn gather_futures_may_borrow_local_data() {
    let log = RefCell::new(Vec::new());
    kettle::run(gather(["a", "b", "c"].map(|name| {
        let log = &log;
        async move {
            log.borrow_mut().push(name);
            yield_now().await;
            log.borrow_mut().push(name);
        }
    })));
    assert_eq!(
        *log.borrow(),
        ["a", "b", "c", "a", "b", "c"],
        "interleaved, in input order within each round"
    );
}

/// Starts a runtime on another thread; returns its handle.
fn runtime_on_another_thread() -> (Handle, thread::JoinHandle<()>) {
    let (send, receive) = mpsc::channel();
    let thread = thread::spawn(move || {
        let rt = Runtime::new().unwrap();
        send.send(rt.handle()).unwrap();
        rt.run_forever();
    });
    (receive.recv().unwrap(), thread)
}

#[test]
fn gather_is_woken_by_futures_completing_on_another_thread() {
    let (remote, thread) = runtime_on_another_thread();
    let stop = StopOnDrop(remote.clone());
    let start = Instant::now();
    let out = kettle::run(gather((0..8u64).map(|i| {
        remote.spawn(async move {
            sleep(Duration::from_millis(40 - 4 * i)).await;
            (i, thread::current().id())
        })
    })));
    assert!(start.elapsed() < Duration::from_millis(150), "{:?}", start.elapsed());
    for (i, result) in out.into_iter().enumerate() {
        let (n, ran_on) = result.expect("the remote task finished");
        assert_eq!(n, i as u64, "input order");
        assert_ne!(ran_on, thread::current().id(), "it ran, and woke us, from the other thread");
    }
    drop(stop);
    thread.join().unwrap();
}

#[test]
fn try_gather_returns_the_ok_values_in_input_order() {
    let out: Result<Vec<u64>, String> = kettle::run(try_gather([30, 10, 20].map(|ms| async move {
        sleep(Duration::from_millis(ms)).await;
        Ok(ms)
    })));
    assert_eq!(out, Ok(vec![30, 10, 20]));
}

#[test]
fn try_gather_of_nothing_resolves_at_once_to_an_empty_vec() {
    let mut empty = pin!(try_gather(Vec::<std::future::Ready<Result<u8, ()>>>::new()));
    let poll = empty.as_mut().poll(&mut Context::from_waker(Waker::noop()));
    assert_eq!(poll, Poll::Ready(Ok(Vec::new())));
}

#[test]
fn try_gather_first_error_wins_and_every_other_future_is_dropped_before_it_returns() {
    let rt = Runtime::new().unwrap();
    let drops = Rc::new(Cell::new(0));
    // (delay, fails): index 3 fails first in time, though index 1 fails too.
    let plan = [(5, false), (40, true), (150, false), (20, true), (u64::MAX, false)];
    let start = Instant::now();
    let (out, drops_at_return) = rt.block_on(async {
        let out = try_gather(plan.map(|(ms, fails)| {
            let guard = DropCounter(drops.clone());
            async move {
                let _guard = guard;
                if ms == u64::MAX {
                    std::future::pending::<()>().await;
                }
                sleep(Duration::from_millis(ms)).await;
                if fails { Err(format!("failed after {ms} ms")) } else { Ok(ms) }
            }
        }))
        .await;
        (out, drops.get())
    });
    assert_eq!(out, Err("failed after 20 ms".to_string()), "the first error in time, not in index");
    assert_eq!(drops_at_return, plan.len(), "finished, failed and still-pending futures were all dropped");
    assert!(
        start.elapsed() < Duration::from_millis(100),
        "it did not wait for the others: {:?}",
        start.elapsed()
    );
    assert_eq!(rt.metrics().timers_pending, 0, "the pending sleeps' timers went with them");
}

#[test]
fn try_gather_error_after_some_completed_drops_their_values() {
    let value_drops = Rc::new(Cell::new(0));
    let out = kettle::run(try_gather((0..4u64).map(|i| {
        let value_drops = value_drops.clone();
        async move {
            sleep(Duration::from_millis(5 * i)).await;
            if i == 3 { Err("the last one failed") } else { Ok(DropCounter(value_drops)) }
        }
    })));
    assert!(matches!(out, Err("the last one failed")));
    assert_eq!(value_drops.get(), 3, "the three values already gathered were dropped, not leaked");
}

/// A future that must not move once polled: it records its own address at
/// every poll and finishes on the third.
struct StaysPut {
    addresses: Rc<RefCell<Vec<usize>>>,
    polls: Cell<u8>,
    _pinned: PhantomPinned,
}

impl Future for StaysPut {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.as_ref().get_ref();
        this.addresses.borrow_mut().push(std::ptr::from_ref(this) as usize);
        this.polls.set(this.polls.get() + 1);
        if this.polls.get() == 3 {
            return Poll::Ready(());
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

#[test]
fn children_stay_at_one_address_while_the_gather_itself_is_moved_between_polls() {
    let addresses: Vec<_> = (0..4).map(|_| Rc::new(RefCell::new(Vec::new()))).collect();
    let mut gathered = gather(addresses.iter().map(|a| StaysPut {
        addresses: a.clone(),
        polls: Cell::new(0),
        _pinned: PhantomPinned,
    }));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(Pin::new(&mut gathered).poll(&mut cx).is_pending());
    // Move the gather (an `Unpin` future: its children live on the heap).
    let mut moved = Box::new(gathered);
    assert!(Pin::new(&mut *moved).poll(&mut cx).is_pending());
    let mut moved_again = *moved;
    assert_eq!(Pin::new(&mut moved_again).poll(&mut cx), Poll::Ready(vec![(); 4]));
    for (child, seen) in addresses.iter().enumerate() {
        let seen = seen.borrow();
        assert_eq!(seen.len(), 3, "child {child} was polled three times");
        assert!(seen.iter().all(|&a| a == seen[0]), "child {child} moved: {seen:x?}");
    }
}

#[test]
fn a_child_waker_kept_past_the_gather_wakes_harmlessly_from_any_thread() {
    let kept: Rc<RefCell<Vec<Waker>>> = Rc::default();
    let out = kettle::run(gather((0..3).map(|i| {
        let kept = kept.clone();
        async move {
            poll_fn(|cx| {
                kept.borrow_mut().push(cx.waker().clone());
                Poll::Ready(())
            })
            .await;
            i
        }
    })));
    assert_eq!(out, [0, 1, 2]);
    let mut kept = std::mem::take(&mut *kept.borrow_mut());
    assert_eq!(kept.len(), 3, "each child kept a clone of its waker");
    assert!(kept[0].will_wake(&kept[0].clone()), "a clone is the same waker");
    assert!(!kept[0].will_wake(&kept[1]), "each child has its own waker");
    // The gather and its runtime are gone; the wakers still hold the list.
    kept[0].wake_by_ref();
    let last = kept.pop().unwrap();
    thread::spawn(move || {
        let twin = last.clone();
        last.wake_by_ref();
        twin.wake();
        last.wake();
    })
    .join()
    .expect("waking on another thread, by reference and by value, after the gather finished");
    drop(kept);
}
