//! Model-checked: the oneshot channel's state word and the two slots it
//! guards, with the sender on another thread.
//!
//! Each model runs one side on a loom thread and the other on the model's
//! main thread, under every interleaving loom can build (`--cfg loom`, see
//! `src/loom.rs`). Loom checks every access to the value and waker slots
//! against the happens-before edges the state word creates (the module
//! docs of `oneshot.rs`), and each model checks a ledger:
//!
//! - the value is dropped exactly once, by whoever holds it last;
//! - a receiver that saw `Pending` was woken — through the waker of its
//!   latest poll — and then gets its result;
//! - every waker clone is released once both halves are gone.
//!
//! Run with `scripts/loom oneshot` (or `RUSTFLAGS="--cfg loom" cargo test
//! --lib --release oneshot::loom_model`).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize as StdUsize;
use std::task::{Context, Poll, Wake, Waker};

use super::{Receiver, RecvError, channel};
use crate::loom::sync::atomic::{AtomicBool, Ordering::SeqCst};

/// Counts its drops.
struct Counted(Arc<StdUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// A waker that records that it was woken (a loom atomic, so that the
/// wake's ordering is part of the model).
struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, SeqCst);
    }
}

fn flag_waker() -> (Arc<Flag>, Waker) {
    let flag = Arc::new(Flag(AtomicBool::new(false)));
    (flag.clone(), Waker::from(flag))
}

fn poll<T>(rx: &mut Receiver<T>, waker: &Waker) -> Poll<Result<T, RecvError>> {
    Pin::new(rx).poll(&mut Context::from_waker(waker))
}

#[test]
fn a_send_from_another_thread_wakes_the_receiver_or_is_seen_by_its_poll() {
    loom::model(|| {
        let drops = Arc::new(StdUsize::new(0));
        let (tx, mut rx) = channel();
        let sender = loom::thread::spawn({
            let drops = drops.clone();
            move || tx.send(Counted(drops)).is_ok()
        });
        let (flag, waker) = flag_waker();
        let first = poll(&mut rx, &waker);
        assert!(sender.join().unwrap(), "the receiver is alive: the send succeeds");
        let value = match first {
            Poll::Ready(result) => result,
            Poll::Pending => {
                assert!(flag.0.load(SeqCst), "a receiver that waited was woken");
                match poll(&mut rx, &waker) {
                    Poll::Ready(result) => result,
                    Poll::Pending => panic!("woken, and still pending"),
                }
            }
        };
        drop(value.ok().expect("the value"));
        drop(rx);
        assert_eq!(drops.load(SeqCst), 1, "the value dropped once");
        drop(waker);
        assert_eq!(Arc::strong_count(&flag), 1, "no clone of the waker is left");
    });
}

#[test]
fn a_sender_dropped_on_another_thread_wakes_the_receiver_with_recv_error() {
    loom::model(|| {
        let (tx, mut rx) = channel::<u8>();
        let sender = loom::thread::spawn(move || drop(tx));
        let (flag, waker) = flag_waker();
        let first = poll(&mut rx, &waker);
        sender.join().unwrap();
        let result = match first {
            Poll::Ready(result) => result,
            Poll::Pending => {
                assert!(flag.0.load(SeqCst), "a receiver that waited was woken");
                match poll(&mut rx, &waker) {
                    Poll::Ready(result) => result,
                    Poll::Pending => panic!("woken, and still pending"),
                }
            }
        };
        assert_eq!(result, Err(RecvError));
        drop(rx);
        drop(waker);
        assert_eq!(Arc::strong_count(&flag), 1, "no clone of the waker is left");
    });
}

#[test]
fn a_receiver_dropped_while_a_send_races_leaves_the_value_dropped_exactly_once() {
    loom::model(|| {
        let drops = Arc::new(StdUsize::new(0));
        let (tx, mut rx) = channel();
        let sender = loom::thread::spawn({
            let drops = drops.clone();
            move || drop(tx.send(Counted(drops))) // handed back, or kept
        });
        let (flag, waker) = flag_waker();
        let _ = poll(&mut rx, &waker).map(|result| drop(result));
        drop(rx);
        sender.join().unwrap();
        assert_eq!(drops.load(SeqCst), 1, "the value dropped once, by one side");
        drop(waker);
        assert_eq!(Arc::strong_count(&flag), 1, "no clone of the waker is left");
    });
}

#[test]
fn a_receiver_moved_to_another_task_mid_send_is_woken_through_its_latest_waker() {
    loom::model(|| {
        let (tx, mut rx) = channel();
        let sender = loom::thread::spawn(move || tx.send(7_u8).is_ok());
        let (first_flag, first_waker) = flag_waker();
        let (flag, waker) = flag_waker();
        let result = match poll(&mut rx, &first_waker) {
            Poll::Ready(result) => Some(result),
            Poll::Pending => match poll(&mut rx, &waker) {
                Poll::Ready(result) => Some(result),
                Poll::Pending => None,
            },
        };
        assert!(sender.join().unwrap());
        let result = result.unwrap_or_else(|| {
            assert!(flag.0.load(SeqCst), "the latest poll's waker was woken");
            match poll(&mut rx, &waker) {
                Poll::Ready(result) => result,
                Poll::Pending => panic!("woken, and still pending"),
            }
        });
        assert_eq!(result, Ok(7));
        drop(rx);
        drop((first_waker, waker));
        assert_eq!(Arc::strong_count(&first_flag), 1, "the replaced waker was released");
        assert_eq!(Arc::strong_count(&flag), 1, "no clone of the waker is left");
    });
}

// Round three's attack (tests/attack_round3.rs names the rest): the two
// races the models above leave out.

#[test]
fn a_sender_dropped_while_a_waiting_receiver_is_dropped_releases_the_waker_once() {
    loom::model(|| {
        let (tx, mut rx) = channel::<u8>();
        let (flag, waker) = flag_waker();
        assert!(poll(&mut rx, &waker).is_pending(), "the sender is still here");
        let sender = loom::thread::spawn(move || drop(tx)); // may read the waker slot
        drop(rx); // may take the waker out of it
        sender.join().unwrap();
        drop(waker);
        assert_eq!(Arc::strong_count(&flag), 1, "no clone of the waker is left");
    });
}

#[test]
fn try_recv_racing_a_send_finds_nothing_or_the_whole_value_and_a_later_poll_the_rest() {
    loom::model(|| {
        let drops = Arc::new(StdUsize::new(0));
        let (tx, mut rx) = channel();
        let sender = loom::thread::spawn({
            let drops = drops.clone();
            move || tx.send(Counted(drops)).is_ok()
        });
        let early = rx.try_recv();
        assert!(sender.join().unwrap());
        let value = match early {
            Ok(value) => value,
            Err(super::TryRecvError::Empty) => rx.try_recv().ok().expect("sent by now"),
            Err(super::TryRecvError::Closed) => panic!("the sender sent: never closed"),
        };
        assert_eq!(drops.load(SeqCst), 0);
        drop(value);
        drop(rx);
        assert_eq!(drops.load(SeqCst), 1, "the value dropped once");
    });
}
