//! Specifies `sync::oneshot`: one value from a sender on any thread to a receiver awaited on
//! the loop, waking the loop even while it blocks in poll; `RecvError` when the sender is
//! dropped, the value handed back when the receiver is.

use std::cell::RefCell;
use std::future::poll_fn;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use kettle::Runtime;
use kettle::sync::oneshot::{self, RecvError, TryRecvError};

const NOW: Option<Duration> = Some(Duration::ZERO);

/// Counts its own drops, across threads.
struct DropGuard(Arc<AtomicUsize>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn a_value_sent_on_the_loop_reaches_the_receiver() {
    let rt = Runtime::new().unwrap();
    let (tx, rx) = oneshot::channel();
    let task = rt.spawn(rx);
    rt.turn(NOW);
    assert!(!task.is_finished(), "the receiver waits");
    tx.send("hello").unwrap();
    assert_eq!(rt.block_on(task).unwrap(), Ok("hello"));
    assert_eq!(rt.metrics().tasks_alive, 0);
}

#[test]
fn a_send_from_another_thread_wakes_the_loop_blocked_in_poll() {
    let rt = Runtime::new().unwrap();
    let (tx, rx) = oneshot::channel();
    let got = Rc::new(RefCell::new(None));
    let _task = rt.spawn({
        let got = got.clone();
        async move { *got.borrow_mut() = Some(rx.await) }
    });
    rt.turn(NOW); // the task now waits on the receiver
    let sender = thread::spawn(move || {
        thread::sleep(Duration::from_millis(20)); // the loop is in epoll_wait by now
        tx.send(7u32).unwrap();
    });
    let start = Instant::now();
    // Nothing else could end this wait early: no timers, no I/O.
    let turn = rt.turn(Some(Duration::from_secs(5)));
    assert!(start.elapsed() < Duration::from_secs(2), "woken by the send, not the time limit");
    assert_eq!(turn.injected, 1, "the wake came through the injector");
    assert_eq!(turn.tasks_run, 1);
    assert_eq!(*got.borrow(), Some(Ok(7)));
    sender.join().unwrap();
    assert_eq!(rt.metrics().tasks_alive, 0);
}

#[test]
fn a_value_sent_before_the_receiver_is_awaited_is_kept() {
    let rt = Runtime::new().unwrap();
    let (tx, rx) = oneshot::channel();
    thread::spawn(move || tx.send(vec![1, 2, 3]).unwrap()).join().unwrap();
    assert_eq!(rt.block_on(rx), Ok(vec![1, 2, 3]));
}

#[test]
fn a_sender_dropped_without_sending_gives_recv_error() {
    let rt = Runtime::new().unwrap();
    let (tx, rx) = oneshot::channel::<u32>();
    let task = rt.spawn(rx);
    rt.turn(NOW);
    thread::spawn(move || drop(tx)).join().unwrap();
    let result = rt.block_on(task).unwrap();
    assert_eq!(result, Err(RecvError));
    assert_eq!(result.unwrap_err().to_string(), "the oneshot sender was dropped without sending a value");
}

#[test]
fn a_send_to_a_dropped_receiver_hands_the_value_back() {
    let (tx, rx) = oneshot::channel();
    assert!(!tx.is_closed());
    drop(rx);
    assert!(tx.is_closed());
    assert_eq!(tx.send("unread"), Err("unread"));
}

#[test]
fn a_receiver_dropped_after_a_send_drops_the_value_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = oneshot::channel();
    tx.send(DropGuard(drops.clone())).ok().unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    drop(rx);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn try_recv_reports_empty_then_the_value_then_closed() {
    let (tx, mut rx) = oneshot::channel();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    tx.send(5).unwrap();
    assert_eq!(rx.try_recv(), Ok(5));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));

    let (tx, mut rx) = oneshot::channel::<()>();
    drop(tx);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
#[should_panic(expected = "oneshot::Receiver polled after it returned its result")]
fn polling_the_receiver_after_it_returned_panics() {
    let rt = Runtime::new().unwrap();
    let (tx, mut rx) = oneshot::channel();
    tx.send(1).unwrap();
    rt.block_on(poll_fn(|cx| {
        assert!(Pin::new(&mut rx).poll(cx).is_ready());
        Pin::new(&mut rx).poll(cx)
    }))
    .ok();
}

#[test]
fn threads_complete_many_tasks_on_one_loop() {
    const THREADS: usize = 8;
    let rt = Runtime::new().unwrap();
    let mut senders = Vec::new();
    let tasks: Vec<_> = (0..THREADS)
        .map(|_| {
            let (tx, rx) = oneshot::channel();
            senders.push(tx);
            rt.spawn(rx)
        })
        .collect();
    rt.turn(NOW);
    let threads: Vec<_> =
        senders.into_iter().enumerate().map(|(i, tx)| thread::spawn(move || tx.send(i).unwrap())).collect();
    let results = rt.block_on(async {
        let mut results = Vec::new();
        for task in tasks {
            results.push(task.await.unwrap().unwrap());
        }
        results
    });
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(results, (0..THREADS).collect::<Vec<_>>());
    assert_eq!(rt.metrics().tasks_alive, 0);
}

#[test]
fn both_halves_are_send_and_sync_when_the_value_is_send() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<oneshot::Sender<Vec<u8>>>();
    assert_send_sync::<oneshot::Receiver<Vec<u8>>>();
}

/// A waker that counts its wakes; `Arc::strong_count` tells how many clones
/// of it are still held somewhere.
#[derive(Default)]
struct CountingWaker(AtomicUsize);

impl std::task::Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn every_way_a_channel_ends_drops_the_value_once_and_releases_the_receivers_waker() {
    // {sender sends, sender dropped} × {receiver polled before the sender
    // finishes, or not} × {receiver polled to its result then dropped,
    // receiver dropped without its result}.
    for sends in [true, false] {
        for polled_first in [true, false] {
            for reads in [true, false] {
                let case = format!("sends: {sends}, polled first: {polled_first}, reads: {reads}");
                let drops = Arc::new(AtomicUsize::new(0));
                let counting = Arc::new(CountingWaker::default());
                let waker = std::task::Waker::from(counting.clone());
                let mut cx = std::task::Context::from_waker(&waker);
                let (tx, mut rx) = oneshot::channel();
                if polled_first {
                    assert!(Pin::new(&mut rx).poll(&mut cx).is_pending(), "{case}");
                }
                if sends {
                    tx.send(DropGuard(drops.clone())).ok().unwrap();
                } else {
                    drop(tx);
                }
                let woken = counting.0.load(Ordering::SeqCst);
                assert_eq!(woken, usize::from(polled_first), "{case}: woken once if it waited");
                if reads {
                    match Pin::new(&mut rx).poll(&mut cx) {
                        std::task::Poll::Ready(Ok(value)) => {
                            assert!(sends, "{case}");
                            drop(value);
                        }
                        std::task::Poll::Ready(Err(RecvError)) => assert!(!sends, "{case}"),
                        std::task::Poll::Pending => {
                            panic!("{case}: the sender is done, the receiver must be ready")
                        }
                    }
                }
                drop(rx);
                assert_eq!(
                    drops.load(Ordering::SeqCst),
                    usize::from(sends),
                    "{case}: the value dropped once"
                );
                drop(waker);
                assert_eq!(Arc::strong_count(&counting), 1, "{case}: no clone of the waker is left behind");
            }
        }
    }
}

#[test]
fn a_sender_dropped_before_the_receiver_polls_wakes_nobody_and_gives_recv_error() {
    let (tx, mut rx) = oneshot::channel::<u8>();
    drop(tx);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    let rt = Runtime::new().unwrap();
    assert_eq!(rt.block_on(rx), Err(RecvError));
}
