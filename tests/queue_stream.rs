//! Specifies `Queue::stream` without any cargo feature: a `QueueStream` yields
//! the items in order and ends exactly when `while let Some(_) = queue.get()`
//! would, shares the getters' first-in first-out line through its `next`
//! future, never swallows an item it was promised, and — polled through
//! `poll_next`, as every generic stream combinator polls it — holds no item
//! back from anyone while its caller is not waiting. (`tests/streams.rs`
//! drives the same type through `futures_core::Stream`.)

use std::cell::RefCell;
use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use kettle::Runtime;
use kettle::sync::{Queue, TryGetError};

const NOW: Option<Duration> = Some(Duration::ZERO);

/// Turns the loop until a turn runs no task.
fn settle(rt: &Runtime) {
    while rt.turn(NOW).tasks_run > 0 {}
}

fn noop_cx() -> Context<'static> {
    Context::from_waker(Waker::noop())
}

#[test]
fn a_stream_yields_the_items_in_order_then_none_once_closed_and_drained() {
    let items = kettle::run(async {
        let queue = Queue::new();
        for i in 0..5 {
            queue.try_put(i).unwrap();
        }
        queue.close();
        let mut stream = queue.stream();
        let mut items = Vec::new();
        while let Some(item) = stream.next().await {
            items.push(item);
        }
        assert_eq!(stream.next().await, None, "and None again after the end");
        items
    });
    assert_eq!(items, [0, 1, 2, 3, 4]);
}

#[test]
fn a_stream_on_an_open_empty_queue_waits_rather_than_ending() {
    let queue = Queue::<u32>::new();
    let mut stream = queue.stream();
    assert_eq!(stream.poll_next(&mut noop_cx()), Poll::Pending);
    queue.try_put(1).unwrap();
    assert_eq!(stream.poll_next(&mut noop_cx()), Poll::Ready(Some(1)));
    assert_eq!(stream.poll_next(&mut noop_cx()), Poll::Pending, "empty but open: more may come");
    queue.close();
    assert_eq!(stream.poll_next(&mut noop_cx()), Poll::Ready(None));
}

#[test]
fn a_stream_outlives_the_queue_handle_it_came_from() {
    let rt = Runtime::new().unwrap();
    let (stream, producer) = {
        let queue = Queue::new();
        (queue.stream(), queue.clone())
    };
    let consumer = rt.spawn(async move {
        let mut stream = stream;
        let mut total = 0;
        while let Some(i) = stream.next().await {
            total += i;
        }
        total
    });
    for i in 1..=4 {
        producer.try_put(i).unwrap();
    }
    producer.close();
    assert_eq!(rt.block_on(consumer).unwrap(), 10);
}

#[test]
fn streams_and_gets_share_one_first_in_first_out_line() {
    let rt = Runtime::new().unwrap();
    let queue = Queue::new();
    let log = Rc::new(RefCell::new(Vec::new()));
    for (id, use_stream) in [(0, true), (1, false), (2, true)] {
        let (queue, log) = (queue.clone(), log.clone());
        let _task = rt.spawn(async move {
            let item = if use_stream { queue.stream().next().await } else { queue.get().await };
            log.borrow_mut().push((id, item));
        });
        settle(&rt); // each starts waiting in turn
    }
    for item in [10, 11, 12] {
        queue.try_put(item).unwrap();
    }
    settle(&rt);
    assert_eq!(*log.borrow(), [(0, Some(10)), (1, Some(11)), (2, Some(12))]);
}

#[test]
fn a_next_dropped_mid_wait_leaves_the_line_and_takes_nothing_and_the_stream_stays_usable() {
    let rt = Runtime::new().unwrap();
    let queue = Queue::new();
    let mut stream = queue.stream();
    {
        let next = pin!(stream.next());
        assert_eq!(next.poll(&mut noop_cx()), Poll::Pending, "first in line");
    } // dropped while waiting: the stream leaves the line
    let got = Rc::new(RefCell::new(None));
    let _getter = rt.spawn({
        let (queue, got) = (queue.clone(), got.clone());
        async move { *got.borrow_mut() = queue.get().await }
    });
    settle(&rt);
    queue.try_put(1).unwrap();
    settle(&rt);
    assert_eq!(*got.borrow(), Some(1), "the getter that came later was first in line");
    {
        let next = pin!(stream.next());
        assert_eq!(next.poll(&mut noop_cx()), Poll::Pending);
        queue.try_put(2).unwrap(); // reserved for this next ...
    } // ... which is dropped before it polls again
    assert_eq!(queue.try_get(), Ok(2), "the cancelled next took nothing");
    queue.try_put(3).unwrap();
    assert_eq!(rt.block_on(stream.next()), Some(3), "the stream still works after a cancelled next");
}

#[test]
fn a_stream_dropped_after_it_was_promised_an_item_passes_it_to_the_next_getter() {
    let rt = Runtime::new().unwrap();
    let queue = Queue::new();
    let consumer = rt.spawn({
        let mut stream = queue.stream();
        async move { stream.next().await }
    });
    let got = Rc::new(RefCell::new(None));
    let _getter = rt.spawn({
        let (queue, got) = (queue.clone(), got.clone());
        async move { *got.borrow_mut() = queue.get().await }
    });
    settle(&rt);
    queue.try_put(42).unwrap(); // wakes the consumer, reserving 42 for it
    consumer.cancel(); // dropped before it runs, stream and all
    settle(&rt);
    assert_eq!(*got.borrow(), Some(42));
    assert_eq!(queue.try_get(), Err(TryGetError::Empty));
    assert_eq!(rt.metrics().tasks_alive, 0);
}

#[test]
fn every_item_reaches_exactly_one_of_several_streams() {
    const ITEMS: u32 = 300;
    let rt = Runtime::new().unwrap();
    let queue = Queue::bounded(4);
    let consumers: Vec<_> = (0..3)
        .map(|_| {
            let mut stream = queue.stream();
            rt.spawn(async move {
                let mut got = Vec::new();
                while let Some(item) = stream.next().await {
                    got.push(item);
                    if item % 7 == 0 {
                        kettle::yield_now().await;
                    }
                }
                got
            })
        })
        .collect();
    let producer = rt.spawn({
        let queue = queue.clone();
        async move {
            for i in 0..ITEMS {
                queue.put(i).await.unwrap();
            }
            queue.close();
        }
    });
    rt.block_on(producer).unwrap();
    let mut all: Vec<u32> = consumers.into_iter().flat_map(|c| rt.block_on(c).unwrap()).collect();
    all.sort_unstable();
    assert_eq!(all, (0..ITEMS).collect::<Vec<_>>(), "each item once, none lost");
}

// ----- poll_next: waiting without a place in line ---------------------------

/// Polls the stream once through `poll_next`, as `StreamExt::next` does,
/// with a waker that records whether it was woken.
fn poll_next_once(stream: &mut kettle::sync::QueueStream<u32>) -> (Poll<Option<u32>>, std::sync::Arc<Flag>) {
    let flag = std::sync::Arc::new(Flag::default());
    let waker = Waker::from(flag.clone());
    (stream.poll_next(&mut Context::from_waker(&waker)), flag)
}

#[derive(Default)]
struct Flag(std::sync::atomic::AtomicBool);

impl std::task::Wake for Flag {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Flag {
    fn woken(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[test]
fn a_stream_left_waiting_in_poll_next_keeps_no_item_from_a_get_that_waits() {
    // Issue 17: after `timeout(d, StreamExt::next(&mut stream))` expired,
    // the next item was reserved for the stream, and a waiting `get` waited
    // for ever.
    let rt = Runtime::new().unwrap();
    let queue = Queue::new();
    let mut stream = queue.stream();
    rt.block_on(async {
        let abandoned =
            kettle::timeout(Duration::from_millis(5), std::future::poll_fn(|cx| stream.poll_next(cx)));
        assert!(abandoned.await.is_err(), "nothing came: the timeout gave up on the stream");
    });
    let got = Rc::new(RefCell::new(None));
    let _getter = rt.spawn({
        let (queue, got) = (queue.clone(), got.clone());
        async move { *got.borrow_mut() = queue.get().await }
    });
    settle(&rt); // the get waits in line
    queue.try_put(1).unwrap();
    settle(&rt);
    assert_eq!(*got.borrow(), Some(1), "the waiting get got the item");
    // With nobody in line, a newcomer takes a free item at once, although
    // the stream was woken for it.
    queue.try_put(2).unwrap();
    assert_eq!(queue.try_get(), Ok(2));
    // The stream still works when it is polled again.
    queue.try_put(3).unwrap();
    assert_eq!(rt.block_on(std::future::poll_fn(|cx| stream.poll_next(cx))), Some(3));
}

#[test]
fn every_stream_waiting_in_poll_next_is_woken_by_a_free_item_and_one_takes_it() {
    let queue = Queue::new();
    let (mut a, mut b) = (queue.stream(), queue.stream());
    let (first, a_woken) = poll_next_once(&mut a);
    let (second, b_woken) = poll_next_once(&mut b);
    assert_eq!((first, second), (Poll::Pending, Poll::Pending));
    queue.try_put(7).unwrap();
    assert!(a_woken.woken() && b_woken.woken(), "each watcher is told to look");
    let (b_got, _) = poll_next_once(&mut b);
    assert_eq!(b_got, Poll::Ready(Some(7)), "whoever looks first takes it");
    let (a_got, a_woken) = poll_next_once(&mut a);
    assert_eq!(a_got, Poll::Pending, "nothing left: a waits again");
    queue.try_put(8).unwrap();
    assert!(a_woken.woken());
    assert_eq!(poll_next_once(&mut a).0, Poll::Ready(Some(8)));
}

#[test]
fn a_get_waiting_in_line_is_served_before_a_stream_waiting_in_poll_next() {
    let rt = Runtime::new().unwrap();
    let queue = Queue::new();
    let mut stream = queue.stream();
    let (polled, woken) = poll_next_once(&mut stream);
    assert_eq!(polled, Poll::Pending, "the stream waits first");
    let got = Rc::new(RefCell::new(None));
    let _getter = rt.spawn({
        let (queue, got) = (queue.clone(), got.clone());
        async move { *got.borrow_mut() = queue.get().await }
    });
    settle(&rt);
    queue.try_put(1).unwrap();
    assert!(!woken.woken(), "the item was claimed in line: the watcher is not disturbed");
    settle(&rt);
    assert_eq!(*got.borrow(), Some(1));
    queue.try_put(2).unwrap();
    assert!(woken.woken(), "nobody in line: the watcher is woken");
    assert_eq!(poll_next_once(&mut stream).0, Poll::Ready(Some(2)));
}

#[test]
fn a_reservation_given_up_with_nobody_else_in_line_wakes_the_watching_streams() {
    let queue = Queue::new();
    let mut watching = queue.stream();
    let (_, woken) = poll_next_once(&mut watching);
    let mut in_line = queue.stream();
    {
        let next = pin!(in_line.next());
        assert_eq!(next.poll(&mut noop_cx()), Poll::Pending, "in line");
        queue.try_put(5).unwrap(); // reserved for the next in line ...
        assert!(!woken.woken());
    } // ... which is dropped: the item is free again
    assert!(woken.woken(), "the freed item wakes the watcher");
    assert_eq!(poll_next_once(&mut watching).0, Poll::Ready(Some(5)));
}

#[test]
fn closing_an_empty_queue_ends_a_stream_waiting_in_poll_next() {
    let queue: Queue<u32> = Queue::new();
    let mut stream = queue.stream();
    let (polled, woken) = poll_next_once(&mut stream);
    assert_eq!(polled, Poll::Pending);
    queue.close();
    assert!(woken.woken());
    assert_eq!(poll_next_once(&mut stream).0, Poll::Ready(None));
    // A queue drained after its close ends a watcher too.
    let queue = Queue::new();
    queue.try_put(1).unwrap();
    let mut in_line = queue.stream();
    let mut watching = queue.stream();
    {
        let next = pin!(in_line.next());
        assert_eq!(next.poll(&mut noop_cx()), Poll::Ready(Some(1)));
    }
    let (polled, woken) = poll_next_once(&mut watching);
    assert_eq!(polled, Poll::Pending);
    queue.close();
    assert!(woken.woken());
    assert_eq!(poll_next_once(&mut watching).0, Poll::Ready(None));
}
