//! Specifies the `futures-core` bridge: `Stream` (and `FusedStream`) for
//! `Interval` and for a queue's `QueueStream`, driven through `Stream::poll_next`
//! with `std::future::poll_fn` (no futures-util: kettle has no dev-dependencies;
//! `benches/tests/streams.rs` runs the same streams through `StreamExt`). The
//! normal path, the end of the stream, and cancellation: a queue's stream
//! waiting through the trait reserves nothing, and one dropped takes nothing.
//! Compiled only with `--features futures-core`.
#![cfg(feature = "futures-core")]

use std::cell::RefCell;
use std::future::poll_fn;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use futures_core::Stream;
use futures_core::stream::FusedStream;
use kettle::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use kettle::signal::{SignalKind, signal};
use kettle::sync::{Queue, TryGetError};
use kettle::{Runtime, interval, interval_at};

const NOW: Option<Duration> = Some(Duration::ZERO);

/// `StreamExt::next`, by hand.
async fn next<S: Stream + Unpin>(stream: &mut S) -> Option<S::Item> {
    poll_fn(|cx| Pin::new(&mut *stream).poll_next(cx)).await
}

/// One `Stream::poll_next` with a waker that does nothing, outside any task.
fn poll_next_once<S: Stream + Unpin>(stream: &mut S) -> Poll<Option<S::Item>> {
    Pin::new(stream).poll_next(&mut Context::from_waker(Waker::noop()))
}

/// Turns the loop until a turn runs no task.
fn settle(rt: &Runtime) {
    while rt.turn(NOW).tasks_run > 0 {}
}

#[test]
fn an_interval_streams_the_scheduled_time_of_each_tick() {
    kettle::run(async {
        let period = Duration::from_millis(5);
        let start = Instant::now();
        let mut ticks = interval_at(start, period);
        let mut previous = None;
        for k in 0..4u32 {
            let tick = next(&mut ticks).await.expect("an interval never ends");
            assert!(Instant::now() >= start + period * k, "tick {k} came early");
            if let Some(previous) = previous {
                assert!(tick >= previous + period, "ticks are at least a period apart");
            } else {
                assert_eq!(tick, start, "the first item is the start");
            }
            previous = Some(tick);
        }
        assert!(!ticks.is_terminated(), "an interval is never terminated");
    });
}

#[test]
fn an_interval_stream_and_poll_tick_are_one_sequence_of_ticks() {
    kettle::run(async {
        let period = Duration::from_millis(3);
        let start = Instant::now();
        let mut ticks = interval_at(start, period);
        let first = next(&mut ticks).await.unwrap();
        let second = ticks.tick().await;
        let third = next(&mut ticks).await.unwrap();
        assert_eq!(first, start);
        assert!(
            second >= first + period && third >= second + period,
            "no tick given twice, none skipped early"
        );
    });
}

#[test]
fn a_pending_interval_stream_dropped_removes_its_timer() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let mut ticks = interval(Duration::from_secs(60));
        next(&mut ticks).await; // the first tick is at once
        assert!(poll_fn(|cx| Poll::Ready(Pin::new(&mut ticks).poll_next(cx))).await.is_pending());
        assert_eq!(kettle::metrics().timers_pending, 1);
    });
    assert_eq!(rt.metrics().timers_pending, 0, "the stream's timer left with it");
}

#[test]
fn a_queue_stream_yields_every_item_in_order_then_ends_when_closed_and_drained() {
    kettle::run(async {
        let queue = Queue::bounded(2);
        let mut items = queue.stream();
        let producer = kettle::spawn({
            let queue = queue.clone();
            async move {
                for i in 0..10 {
                    queue.put(i).await.unwrap(); // waits while two are buffered
                }
                queue.close();
            }
        });
        let mut seen = Vec::new();
        while let Some(item) = next(&mut items).await {
            seen.push(item);
        }
        assert_eq!(seen, (0..10).collect::<Vec<_>>());
        producer.await.unwrap();
        assert!(items.is_terminated());
        assert_eq!(next(&mut items).await, None, "polled again after the end: None again, no panic");
    });
}

#[test]
fn a_queue_stream_is_not_terminated_while_items_remain_after_close() {
    let queue = Queue::new();
    queue.try_put(1).unwrap();
    queue.close();
    let mut items = queue.stream();
    assert!(!items.is_terminated(), "closed, but an item is still buffered");
    assert_eq!(poll_next_once(&mut items), Poll::Ready(Some(1)));
    assert!(items.is_terminated());
    assert_eq!(poll_next_once(&mut items), Poll::Ready(None));
}

#[test]
fn a_waiting_queue_stream_is_woken_by_a_put_and_by_close() {
    let rt = Runtime::new().unwrap();
    let queue = Queue::new();
    let seen = Rc::new(RefCell::new(Vec::new()));
    let consumer = rt.spawn({
        let (mut items, seen) = (queue.stream(), seen.clone());
        async move {
            while let Some(item) = next(&mut items).await {
                seen.borrow_mut().push(item);
            }
        }
    });
    settle(&rt);
    assert!(seen.borrow().is_empty(), "it waits on an empty queue");
    queue.try_put("a").unwrap();
    settle(&rt);
    assert_eq!(*seen.borrow(), ["a"]);
    queue.close();
    settle(&rt);
    assert!(consumer.is_finished(), "close ends a stream waiting on an empty queue");
    assert_eq!(rt.metrics().tasks_alive, 0);
}

#[test]
fn a_get_waiting_in_line_is_served_before_a_stream_that_waits_through_the_trait() {
    let rt = Runtime::new().unwrap();
    let queue = Queue::new();
    let mut items = queue.stream();
    assert!(poll_next_once(&mut items).is_pending(), "waiting first, but watching: no place in line");
    let got = Rc::new(RefCell::new(None));
    let _getter = rt.spawn({
        let (queue, got) = (queue.clone(), got.clone());
        async move { *got.borrow_mut() = queue.get().await }
    });
    settle(&rt); // the get waits in line
    queue.try_put(42).unwrap(); // reserved for the get
    drop(items);
    settle(&rt);
    assert_eq!(*got.borrow(), Some(42), "the get in line was served");
    assert!(queue.is_empty());
}

#[test]
fn a_queue_stream_waiting_through_the_trait_reserves_nothing_so_a_newcomer_takes_a_free_item() {
    // Issue 17: a stream left waiting held the next item back from others.
    let queue = Queue::new();
    let mut items = queue.stream();
    assert!(poll_next_once(&mut items).is_pending());
    queue.try_put(7).unwrap();
    assert_eq!(queue.try_get(), Ok(7), "free: the stream reserved nothing");
    assert!(poll_next_once(&mut items).is_pending(), "gone, so the stream waits again");
    drop(items);
    queue.try_put(8).unwrap();
    assert_eq!(queue.try_get(), Ok(8));
}

#[test]
fn a_queue_stream_woken_by_an_item_takes_it_when_polled_if_it_is_still_free() {
    let queue = Queue::new();
    let mut items = queue.stream();
    assert!(poll_next_once(&mut items).is_pending());
    queue.try_put(7).unwrap();
    assert_eq!(poll_next_once(&mut items), Poll::Ready(Some(7)));
    assert_eq!(queue.try_get(), Err(TryGetError::Empty));
}

#[test]
fn a_task_holding_a_queue_stream_cancelled_after_it_was_woken_loses_no_item() {
    let rt = Runtime::new().unwrap();
    let queue = Queue::new();
    let consumer = rt.spawn({
        let mut items = queue.stream();
        async move { next(&mut items).await }
    });
    settle(&rt);
    queue.try_put(1).unwrap(); // wakes the consumer, reserving 1 for it
    consumer.cancel(); // dropped before it runs, stream and all
    settle(&rt);
    assert_eq!(queue.try_get(), Ok(1));
}

#[test]
fn a_tcp_listeners_incoming_streams_each_accepted_connection_and_never_ends() {
    kettle::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let clients = [TcpStream::connect(addr).await.unwrap(), TcpStream::connect(addr).await.unwrap()];
        let mut incoming = listener.incoming();
        let mut peers = Vec::new();
        for _ in 0..2 {
            let conn = next(&mut incoming).await.expect("a listener's stream never ends").unwrap();
            peers.push(conn.peer_addr().unwrap());
        }
        let mut locals: Vec<_> = clients.iter().map(|c| c.local_addr().unwrap()).collect();
        locals.sort();
        peers.sort();
        assert_eq!(peers, locals, "one item per connection, each client's");
        assert!(!incoming.is_terminated());
    });
}

#[test]
fn a_unix_listeners_incoming_streams_each_accepted_connection() {
    let dir = std::env::temp_dir().join(format!("kettle-streams-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("incoming.sock");
    let _ = std::fs::remove_file(&path);
    kettle::run(async {
        let listener = UnixListener::bind(&path).unwrap();
        let _client = UnixStream::connect(&path).await.unwrap();
        let mut incoming = listener.incoming();
        let conn = next(&mut incoming).await.expect("a listener's stream never ends");
        assert!(conn.is_ok(), "the connection was accepted: {:?}", conn.err());
        assert!(!incoming.is_terminated());
    });
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_signals_stream_yields_once_per_batch_of_deliveries() {
    kettle::run(async {
        // The listener exists before the signal is raised: SIGUSR2's default
        // action would end the test process.
        let mut usr2 = signal(SignalKind::user_defined2()).unwrap();
        assert!(poll_next_once(&mut usr2).is_pending(), "nothing delivered yet");
        for _ in 0..3 {
            // SAFETY: SIGUSR2 is handled: `usr2` listens for it.
            unsafe { libc::raise(libc::SIGUSR2) };
        }
        assert_eq!(next(&mut usr2).await, Some(()), "three deliveries, one item");
        assert!(poll_next_once(&mut usr2).is_pending(), "and nothing more until the next one");
        assert!(!usr2.is_terminated());
    });
}
