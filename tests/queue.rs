//! Specifies `sync::Queue`: FIFO order for items and for waiting getters and putters,
//! backpressure, closing, `task_done`/`join`, and cancel safety — no item lost or duplicated
//! whichever future is dropped at whichever point.

use std::cell::RefCell;
use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use kettle::sync::{Closed, Queue, TryGetError, TryPutError};
use kettle::{JoinHandle, Runtime, yield_now};

const NOW: Option<Duration> = Some(Duration::ZERO);

type Log<T> = Rc<RefCell<Vec<T>>>;

fn log<T>() -> Log<T> {
    Rc::new(RefCell::new(Vec::new()))
}

/// Spawns a task that gets one item and logs `(id, item)`.
fn getter(rt: &Runtime, queue: &Queue<u32>, log: &Log<(usize, Option<u32>)>, id: usize) -> JoinHandle<()> {
    let (queue, log) = (queue.clone(), log.clone());
    rt.spawn(async move {
        let item = queue.get().await;
        log.borrow_mut().push((id, item));
    })
}

/// Spawns a task that puts `item` and logs `(item, result)`.
fn putter<T: 'static>(
    rt: &Runtime,
    queue: &Queue<T>,
    log: &Log<(usize, bool)>,
    id: usize,
    item: T,
) -> JoinHandle<()> {
    let (queue, log) = (queue.clone(), log.clone());
    rt.spawn(async move {
        let ok = queue.put(item).await.is_ok();
        log.borrow_mut().push((id, ok));
    })
}

/// Turns the loop until a turn runs no task.
fn settle(rt: &Runtime) {
    while rt.turn(NOW).tasks_run > 0 {}
}

#[test]
fn items_come_out_in_the_order_they_were_put() {
    let queue = Queue::new();
    for i in 0..5 {
        queue.try_put(i).unwrap();
    }
    assert_eq!(queue.len(), 5);
    let out: Vec<_> = (0..5).map(|_| queue.try_get().unwrap()).collect();
    assert_eq!(out, [0, 1, 2, 3, 4]);
    assert_eq!(queue.try_get(), Err(TryGetError::Empty));
}

#[test]
fn waiting_getters_are_served_in_the_order_they_started_waiting() {
    let rt = Runtime::new().unwrap();
    let queue = Queue::new();
    let got = log();
    for id in 0..3 {
        let _task = getter(&rt, &queue, &got, id);
    }
    rt.turn(NOW);
    assert!(got.borrow().is_empty(), "all three wait");
    for item in [10, 11, 12] {
        queue.try_put(item).unwrap();
    }
    settle(&rt);
    assert_eq!(*got.borrow(), [(0, Some(10)), (1, Some(11)), (2, Some(12))]);
    assert_eq!(rt.metrics().tasks_alive, 0);
}

#[test]
fn an_item_reserved_for_a_woken_getter_cannot_be_taken_by_a_newcomer() {
    let rt = Runtime::new().unwrap();
    let queue = Queue::new();
    let got = log();
    let _task = getter(&rt, &queue, &got, 0);
    rt.turn(NOW);
    queue.try_put(7).unwrap();
    assert_eq!(queue.len(), 1, "the item is buffered until the getter runs");
    assert_eq!(queue.try_get(), Err(TryGetError::Empty), "but it is promised to the waiting getter");
    let _task = getter(&rt, &queue, &got, 1); // a new get, queued behind
    settle(&rt);
    assert_eq!(*got.borrow(), [(0, Some(7))]);
    queue.try_put(8).unwrap();
    settle(&rt);
    assert_eq!(*got.borrow(), [(0, Some(7)), (1, Some(8))]);
}

#[test]
fn a_bounded_put_waits_until_a_get_makes_room() {
    let rt = Runtime::new().unwrap();
    let queue = Queue::bounded(1);
    assert_eq!(queue.capacity(), Some(1));
    queue.try_put(1).unwrap();
    assert!(queue.is_full());
    assert_eq!(queue.try_put(2), Err(TryPutError::Full(2)));
    let put = log();
    let _task = putter(&rt, &queue, &put, 0, 2);
    settle(&rt);
    assert!(put.borrow().is_empty(), "the putter waits while the queue is full");
    assert_eq!(queue.len(), 1);

    assert_eq!(queue.try_get(), Ok(1));
    settle(&rt);
    assert_eq!(*put.borrow(), [(0, true)]);
    assert_eq!(queue.try_get(), Ok(2));
    assert_eq!(rt.metrics().tasks_alive, 0);
}

#[test]
fn waiting_putters_are_served_in_order_and_try_put_cannot_jump_ahead() {
    let rt = Runtime::new().unwrap();
    let queue = Queue::bounded(1);
    queue.try_put(0).unwrap();
    let put = log();
    for id in 1..=3 {
        let _task = putter(&rt, &queue, &put, id, id as u32);
    }
    settle(&rt);
    let mut out = Vec::new();
    for _ in 0..3 {
        out.push(queue.try_get().unwrap());
        assert_eq!(queue.try_put(99), Err(TryPutError::Full(99)), "the free slot is promised to a putter");
        settle(&rt);
    }
    out.push(queue.try_get().unwrap());
    assert_eq!(out, [0, 1, 2, 3]);
    assert_eq!(*put.borrow(), [(1, true), (2, true), (3, true)]);
}

#[test]
fn puts_after_close_fail_and_hand_the_item_back() {
    let rt = Runtime::new().unwrap();
    let queue = Queue::new();
    queue.close();
    assert!(queue.is_closed());
    assert_eq!(queue.try_put("late"), Err(TryPutError::Closed("late")));
    let result = rt.block_on(queue.put("later"));
    assert_eq!(result, Err(Closed("later")));
    assert_eq!(result.unwrap_err().to_string(), "the queue is closed");
}

#[test]
fn close_hands_waiting_putters_their_items_back() {
    let rt = Runtime::new().unwrap();
    let queue = Queue::bounded(1);
    queue.try_put(0).unwrap();
    let returned = log();
    for id in 1..=2 {
        let (queue, returned) = (queue.clone(), returned.clone());
        let _task = rt.spawn(async move {
            let Err(Closed(item)) = queue.put(id).await else { panic!("the put should fail") };
            returned.borrow_mut().push(item);
        });
    }
    settle(&rt);
    // The first putter is granted the slot this frees, but has not run yet
    // when the queue closes: its put fails too.
    assert_eq!(queue.try_get(), Ok(0));
    queue.close();
    settle(&rt);
    assert_eq!(*returned.borrow(), [1, 2]);
    assert_eq!(queue.try_get(), Err(TryGetError::Closed), "nothing went in");
    assert_eq!(rt.metrics().tasks_alive, 0);
}

#[test]
fn getters_drain_the_remaining_items_after_close_then_get_none() {
    let rt = Runtime::new().unwrap();
    let queue = Queue::new();
    for i in 0..3 {
        queue.try_put(i).unwrap();
    }
    queue.close();
    let drained = rt.block_on(async {
        let mut drained = Vec::new();
        while let Some(item) = queue.get().await {
            drained.push(item);
        }
        drained
    });
    assert_eq!(drained, [0, 1, 2]);
    assert_eq!(queue.try_get(), Err(TryGetError::Closed));
}

#[test]
fn getters_waiting_at_close_drain_then_get_none_in_order() {
    let rt = Runtime::new().unwrap();
    let queue = Queue::new();
    let got = log();
    for id in 0..3 {
        let _task = getter(&rt, &queue, &got, id);
    }
    settle(&rt);
    queue.try_put(5).unwrap(); // reserved for getter 0
    queue.close();
    assert_eq!(queue.try_get(), Err(TryGetError::Empty), "closed, but not drained: 5 is promised");
    settle(&rt);
    assert_eq!(*got.borrow(), [(0, Some(5)), (1, None), (2, None)]);
    assert_eq!(rt.metrics().tasks_alive, 0);
}

#[test]
fn join_waits_until_every_item_is_marked_done() {
    let rt = Runtime::new().unwrap();
    let queue = Queue::new();
    rt.block_on(queue.join()); // nothing put: completes at once
    queue.try_put(1).unwrap();
    queue.try_put(2).unwrap();
    let joined = Rc::new(RefCell::new(false));
    let _task = rt.spawn({
        let (queue, joined) = (queue.clone(), joined.clone());
        async move {
            queue.join().await;
            *joined.borrow_mut() = true;
        }
    });
    settle(&rt);
    queue.try_get().unwrap();
    queue.try_get().unwrap();
    queue.task_done();
    settle(&rt);
    assert!(!*joined.borrow(), "one item is not done yet");
    queue.task_done();
    // Joiners notified at zero complete even if an item is put before they run.
    queue.try_put(3).unwrap();
    settle(&rt);
    assert!(*joined.borrow());
    assert_eq!(rt.metrics().tasks_alive, 0);
}

#[test]
#[should_panic(expected = "Queue::task_done called more times than items were put")]
fn task_done_called_more_times_than_items_put_panics() {
    let queue = Queue::new();
    queue.try_put(()).unwrap();
    queue.task_done();
    queue.task_done();
}

#[test]
#[should_panic(expected = "Queue::bounded(0): a queue needs room for at least one item")]
fn a_queue_bounded_to_zero_panics_and_says_what_to_do_instead() {
    let _ = Queue::<u32>::bounded(0);
}

#[test]
fn a_woken_getter_dropped_before_running_passes_the_item_on() {
    let rt = Runtime::new().unwrap();
    let queue = Queue::new();
    let got = log();
    let first = getter(&rt, &queue, &got, 0);
    let _task = getter(&rt, &queue, &got, 1);
    settle(&rt);
    queue.try_put(42).unwrap(); // wakes getter 0, reserving 42 for it
    first.cancel(); // ... which is dropped before it runs
    settle(&rt);
    assert_eq!(*got.borrow(), [(1, Some(42))], "the item went to the next getter");
    assert!(queue.is_empty());
    assert_eq!(rt.metrics().tasks_alive, 0);
}

#[test]
fn a_woken_getter_dropped_with_nobody_behind_frees_the_item_for_anyone() {
    let rt = Runtime::new().unwrap();
    let queue = Queue::new();
    let got = log();
    let only = getter(&rt, &queue, &got, 0);
    settle(&rt);
    queue.try_put(42).unwrap();
    only.cancel();
    settle(&rt);
    assert!(got.borrow().is_empty());
    assert_eq!(queue.try_get(), Ok(42), "the item stayed in the buffer");
}

#[test]
fn a_put_dropped_before_space_appeared_inserts_nothing() {
    let rt = Runtime::new().unwrap();
    let queue: Queue<Rc<()>> = Queue::bounded(1);
    let kept = Rc::new(());
    queue.try_put(kept.clone()).unwrap();
    let item = Rc::new(());
    let put = log();
    let waiting = putter(&rt, &queue, &put, 0, item.clone());
    settle(&rt);
    waiting.cancel();
    settle(&rt);
    assert_eq!(Rc::strong_count(&item), 1, "the item was dropped with the future");
    assert!(put.borrow().is_empty());
    assert!(Rc::ptr_eq(&queue.try_get().unwrap(), &kept));
    assert_eq!(queue.try_get(), Err(TryGetError::Empty), "nothing else went in");
}

#[test]
fn a_put_granted_space_but_dropped_passes_the_space_on() {
    let rt = Runtime::new().unwrap();
    let queue = Queue::bounded(1);
    queue.try_put(0).unwrap();
    let put = log();
    let first = putter(&rt, &queue, &put, 1, 1);
    let _task = putter(&rt, &queue, &put, 2, 2);
    settle(&rt);
    assert_eq!(queue.try_get(), Ok(0)); // the slot goes to putter 1 ...
    first.cancel(); // ... which is dropped before it runs
    settle(&rt);
    assert_eq!(*put.borrow(), [(2, true)]);
    assert_eq!(queue.try_get(), Ok(2));
    assert_eq!(queue.try_get(), Err(TryGetError::Empty));
}

#[test]
fn producers_and_consumers_pass_every_item_exactly_once() {
    const PRODUCERS: u32 = 4;
    const ITEMS: u32 = 250;
    let rt = Runtime::new().unwrap();
    let queue = Queue::bounded(8);
    let consumed = log();
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let queue = queue.clone();
            rt.spawn(async move {
                for i in 0..ITEMS {
                    queue.put(p * ITEMS + i).await.unwrap();
                    if i % 7 == 0 {
                        yield_now().await;
                    }
                }
            })
        })
        .collect();
    for c in 0..3 {
        let (queue, consumed) = (queue.clone(), consumed.clone());
        let _task = rt.spawn(async move {
            while let Some(item) = queue.get().await {
                consumed.borrow_mut().push(item);
                queue.task_done();
                if item % (c + 2) == 0 {
                    yield_now().await;
                }
            }
        });
    }
    rt.block_on(async {
        for producer in producers {
            producer.await.unwrap();
        }
        queue.join().await;
        queue.close();
    });
    settle(&rt);
    let mut all = consumed.borrow().clone();
    all.sort_unstable();
    assert_eq!(all, (0..PRODUCERS * ITEMS).collect::<Vec<_>>(), "none lost, none duplicated");
    assert_eq!(rt.metrics().tasks_alive, 0);
}

#[test]
fn an_item_dropped_by_a_cancelled_put_may_use_the_queue() {
    /// Looks at its queue while being dropped.
    struct Reenters(Queue<Reenters>, Rc<RefCell<Option<usize>>>);
    impl Drop for Reenters {
        fn drop(&mut self) {
            *self.1.borrow_mut() = Some(self.0.len());
        }
    }
    let rt = Runtime::new().unwrap();
    let queue = Queue::bounded(1);
    let seen = Rc::new(RefCell::new(None));
    queue.try_put(Reenters(queue.clone(), Rc::new(RefCell::new(None)))).ok().unwrap();
    let task = rt.spawn({
        let (queue, seen) = (queue.clone(), seen.clone());
        async move { queue.put(Reenters(queue.clone(), seen)).await.ok().unwrap() }
    });
    settle(&rt);
    task.cancel();
    settle(&rt);
    assert_eq!(*seen.borrow(), Some(1), "dropped outside the queue's borrow");
    // Break the cycle the buffered item forms with its own queue.
    drop(queue.try_get().ok().unwrap());
}

thread_local! {
    static REENTERED: RefCell<Option<(Queue<u32>, usize)>> = const { RefCell::new(None) };
}

/// A waker that calls back into the queue when woken.
struct LooksAtTheQueue;

impl Wake for LooksAtTheQueue {
    fn wake(self: Arc<Self>) {
        REENTERED.with(|slot| {
            if let Some((queue, seen)) = slot.borrow_mut().as_mut() {
                *seen = queue.len();
            }
        });
    }
}

#[test]
fn a_waker_woken_by_a_put_may_call_back_into_the_queue() {
    let queue = Queue::new();
    REENTERED.with(|slot| *slot.borrow_mut() = Some((queue.clone(), 0)));
    let waker = Waker::from(Arc::new(LooksAtTheQueue));
    let mut cx = Context::from_waker(&waker);
    let mut get = pin!(queue.get());
    assert_eq!(get.as_mut().poll(&mut cx), Poll::Pending);
    queue.try_put(9).unwrap(); // wakes inside try_put, after the borrow ends
    assert_eq!(REENTERED.with(|slot| slot.borrow().as_ref().unwrap().1), 1);
    assert_eq!(get.as_mut().poll(&mut cx), Poll::Ready(Some(9)));
    REENTERED.with(|slot| *slot.borrow_mut() = None);
}

#[test]
fn a_put_polled_again_after_it_completed_panics_and_leaves_the_queue_usable() {
    let queue = Queue::bounded(2);
    let mut cx = Context::from_waker(Waker::noop());
    let mut put = pin!(queue.put(1));
    assert_eq!(put.as_mut().poll(&mut cx), Poll::Ready(Ok(())));
    let again = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| put.as_mut().poll(&mut cx)));
    let message = again.expect_err("a second poll panics");
    let message =
        message.downcast_ref::<String>().map(String::as_str).or(message.downcast_ref::<&str>().copied());
    assert_eq!(message, Some("Queue::put's future polled after it completed"));
    assert_eq!(queue.try_put(2), Ok(()), "the queue is not left borrowed");
    assert_eq!(queue.try_get(), Ok(1));
    assert_eq!(queue.try_get(), Ok(2));
}
