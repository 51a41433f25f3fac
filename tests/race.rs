//! Specifies `kettle::race`: the first future to finish wins with its input
//! index, every loser is dropped before `race` returns, ties go to the lowest
//! index, only woken futures are polled, and a race without runners panics.

use std::cell::{Cell, RefCell};
use std::future::{pending, poll_fn};
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use kettle::{Runtime, race, sleep, yield_now};

mod common;
use common::{CountPolls, DropCounter};

#[test]
fn race_returns_the_first_future_to_complete_with_its_index() {
    let out = kettle::run(race([50, 10, 30].map(|ms| async move {
        sleep(Duration::from_millis(ms)).await;
        format!("{ms} ms")
    })));
    assert_eq!(out, (1, "10 ms".to_string()));
}

#[test]
fn race_drops_every_loser_before_it_returns() {
    let rt = Runtime::new().unwrap();
    let drops = Rc::new(Cell::new(0));
    let start = Instant::now();
    let (winner, drops_at_return) = rt.block_on(async {
        let winner = race([Some(150), Some(15), None, Some(100)].map(|ms| {
            let guard = DropCounter(drops.clone());
            async move {
                let _guard = guard;
                match ms {
                    Some(ms) => sleep(Duration::from_millis(ms)).await,
                    None => pending().await,
                }
                ms
            }
        }))
        .await;
        (winner, drops.get())
    });
    assert_eq!(winner, (1, Some(15)));
    assert_eq!(drops_at_return, 4, "the winner and all three losers, even the one pending forever");
    assert!(
        start.elapsed() < Duration::from_millis(100),
        "the losers were not awaited: {:?}",
        start.elapsed()
    );
    let metrics = rt.metrics();
    assert_eq!(metrics.timers_pending, 0, "the losers' sleeps took their timers with them");
    assert_eq!(metrics.tasks_alive, 0, "nothing was spawned");
}

#[test]
fn race_of_futures_ready_at_once_is_won_by_index_zero() {
    let out = kettle::run(race(["first", "second", "third"].map(|name| async move { name })));
    assert_eq!(out, (0, "first"));
}

#[test]
fn race_tie_within_one_poll_goes_to_the_lowest_index_whatever_the_wake_order() {
    let waiters: RefCell<Vec<Waker>> = RefCell::new(Vec::new());
    let open = Cell::new(false);
    let woken_order = RefCell::new(Vec::new());
    let (winner, ()) = kettle::run(async {
        let runners = race((0..5).map(|i| {
            let (waiters, open) = (&waiters, &open);
            poll_fn(move |cx| {
                if open.get() {
                    return Poll::Ready(i);
                }
                waiters.borrow_mut().push(cx.waker().clone());
                Poll::Pending
            })
        }));
        let opener = async {
            yield_now().await;
            open.set(true);
            // Wake the runners last to first: all are ready in the same poll.
            for (i, waker) in std::mem::take(&mut *waiters.borrow_mut()).into_iter().enumerate().rev() {
                woken_order.borrow_mut().push(i);
                waker.wake();
            }
        };
        kettle::join!(runners, opener)
    });
    assert_eq!(*woken_order.borrow(), [4, 3, 2, 1, 0]);
    assert_eq!(winner, (0, 0), "woken last, but the lowest index");
}

#[test]
fn race_polls_only_woken_futures() {
    const N: usize = 100_000;
    let polls = Rc::new(Cell::new(0));
    let start = Instant::now();
    let (index, ()) = kettle::run(race((0..N).map(|i| CountPolls {
        inner: Box::pin(async move {
            yield_now().await;
            if i == N - 1 {
                // The winner takes one more turn than the rest.
                yield_now().await;
            } else {
                pending::<()>().await;
            }
        }),
        polls: polls.clone(),
    })));
    assert_eq!(index, N - 1, "the only one that finishes");
    assert!(polls.get() <= 3 * N, "{} polls for {N} futures", polls.get());
    assert!(start.elapsed() < Duration::from_secs(5), "{N} futures took {:?}", start.elapsed());
}

#[test]
#[should_panic(expected = "kettle::race needs at least one future")]
fn race_with_no_futures_panics() {
    let _never = race(Vec::<std::future::Ready<()>>::new());
}
