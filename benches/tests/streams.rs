//! kettle's `futures-core` streams under the ecosystem's `StreamExt`
//! (futures-util): `next`, `map`, `take`, `zip`, `collect` on an interval,
//! on a queue's stream, on a listener's connections and on a signal. Kept here, with kettle's feature turned on, because
//! kettle itself has no dev-dependencies; `tests/streams.rs` at the root
//! specifies the same impls through `poll_fn`.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::stream::FusedStream;
use kettle::net::{TcpListener, TcpStream};
use kettle::signal::{SignalKind, signal};
use kettle::sync::Queue;
use kettle::{Runtime, interval, interval_at};

#[test]
fn an_interval_taken_three_times_collects_three_ticks_a_period_apart() {
    let period = Duration::from_millis(3);
    let start = Instant::now();
    let ticks: Vec<Instant> = kettle::run(interval_at(start, period).take(3).collect());
    assert_eq!(ticks.len(), 3);
    assert_eq!(ticks[0], start);
    assert!(ticks.windows(2).all(|w| w[1] >= w[0] + period), "{ticks:?}");
}

#[test]
fn a_queue_stream_maps_and_collects_until_the_queue_is_closed_and_drained() {
    let doubled: Vec<u32> = kettle::run(async {
        let queue = Queue::bounded(2);
        let producer = kettle::spawn({
            let queue = queue.clone();
            async move {
                for i in 1..=5 {
                    queue.put(i).await.unwrap();
                }
                queue.close();
            }
        });
        let doubled = queue.stream().map(|i| i * 2).collect().await;
        producer.await.unwrap();
        doubled
    });
    assert_eq!(doubled, [2, 4, 6, 8, 10]);
}

#[test]
fn stream_ext_next_ends_with_none_and_the_stream_reports_itself_terminated() {
    kettle::run(async {
        let queue = Queue::new();
        queue.try_put("tea").unwrap();
        queue.close();
        let mut items = queue.stream();
        // Spelled out: `items.next()` would call QueueStream's inherent
        // `next`, which wins over the trait's.
        assert_eq!(StreamExt::next(&mut items).await, Some("tea"));
        assert_eq!(StreamExt::next(&mut items).await, None);
        assert!(items.is_terminated());
        assert_eq!(StreamExt::next(&mut items).await, None, "fused: None again");
    });
}

#[test]
fn a_queue_stream_paced_by_an_interval_yields_one_item_per_tick() {
    let period = Duration::from_millis(4);
    let (items, elapsed) = kettle::run(async {
        let queue = Queue::new();
        for i in 0..4 {
            queue.try_put(i).unwrap();
        }
        queue.close();
        let start = Instant::now();
        let items: Vec<u32> = queue.stream().zip(interval(period)).map(|(item, _tick)| item).collect().await;
        (items, start.elapsed())
    });
    assert_eq!(items, [0, 1, 2, 3]);
    assert!(elapsed >= period * 3, "four ticks span three periods: {elapsed:?}");
}

#[test]
fn after_a_timed_out_stream_ext_next_the_next_item_goes_to_a_waiting_get_not_the_idle_stream() {
    // Issue 17: the item was reserved for the stream, nobody polled it
    // again, and the `get` waited for ever.
    let rt = Runtime::new().unwrap();
    let queue = Queue::new();
    let (got_by_get, got_by_stream) = rt.block_on(async {
        let mut items = queue.stream();
        let waited = kettle::timeout(Duration::from_millis(2), StreamExt::next(&mut items)).await;
        assert!(waited.is_err());
        let getter = kettle::spawn({
            let queue = queue.clone();
            async move { queue.get().await }
        });
        kettle::yield_now().await; // the get waits in line
        queue.try_put(7).unwrap();
        let got_by_get = kettle::timeout(Duration::from_secs(5), getter).await.expect("the get was served");
        // With nobody in line, the stream takes the next item when it asks.
        queue.try_put(8).unwrap();
        (got_by_get.unwrap(), StreamExt::next(&mut items).await)
    });
    assert_eq!((got_by_get, got_by_stream), (Some(7), Some(8)));
    assert!(queue.is_empty());
}

#[test]
fn with_stream_ext_in_scope_next_is_still_the_inherent_one_that_leaves_the_line_when_dropped() {
    let rt = Runtime::new().unwrap();
    let queue = Queue::new();
    rt.block_on(async {
        let mut items = queue.stream();
        let waited = kettle::timeout(Duration::from_millis(2), items.next()).await;
        assert!(waited.is_err());
        queue.try_put(7).unwrap();
        assert_eq!(queue.try_get(), Ok(7), "the cancelled next gave up the stream's place");
    });
}

#[test]
fn a_listeners_incoming_taken_twice_collects_two_connections() {
    kettle::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let _clients = [TcpStream::connect(addr).await.unwrap(), TcpStream::connect(addr).await.unwrap()];
        let accepted: Vec<_> = listener.incoming().take(2).collect().await;
        assert_eq!(accepted.len(), 2);
        assert!(accepted.iter().all(Result::is_ok));
    });
}

#[test]
fn a_signal_stream_answers_next_after_a_delivery() {
    kettle::run(async {
        // Listening first: SIGHUP's default action would end the process.
        let mut hangups = signal(SignalKind::hangup()).unwrap();
        // SAFETY: SIGHUP is handled: `hangups` listens for it.
        unsafe { libc::raise(libc::SIGHUP) };
        assert_eq!(StreamExt::next(&mut hangups).await, Some(()));
        assert!(!hangups.is_terminated());
    });
}
