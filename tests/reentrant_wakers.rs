//! Specifies that a waker's drop may call back into the `kettle::sync`
//! primitive it waited on. A waker is another executor's code: the last one
//! of a task may own the task and drop its future, and that future may hold
//! a `Get` of the same queue. Found attacking issue 17's fixes: an old waker
//! replaced by a re-poll, or left in the entry of a waiter dropped while it
//! waited, was dropped while the primitive's state was borrowed — a
//! `BorrowMutError` panic, and an abort when it came during an unwind.
//!
//! Every primitive × both ways a stored waker is let go of: replaced when the
//! waiter is polled with another waker, and dropped with a waiter cancelled
//! while it waits. The waker's drop touches the primitive (a call that
//! borrows its state) and records that it ran.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use kettle::sync::{Event, Mutex, Queue, Semaphore, oneshot};

mod common;
use common::finishes_within;

/// A bound no correct run comes near: a waker dropped under `oneshot`'s
/// lock, calling back into the channel, deadlocks instead of panicking.
const LIMIT: std::time::Duration = std::time::Duration::from_secs(10);

thread_local! {
    /// What a dropped `Reentrant` waker does: touch the primitive.
    static ON_DROP: RefCell<Option<Box<dyn Fn()>>> = RefCell::new(None);
    /// How many `Reentrant` wakers ran their touch.
    static TOUCHED: Cell<usize> = const { Cell::new(0) };
}

/// A waker whose drop calls back into the primitive under test.
struct Reentrant;

impl Wake for Reentrant {
    fn wake(self: Arc<Self>) {}
}

impl Drop for Reentrant {
    fn drop(&mut self) {
        ON_DROP.with(|f| {
            if let Some(touch) = f.borrow().as_ref() {
                touch();
                TOUCHED.with(|n| n.set(n.get() + 1));
            }
        });
    }
}

/// Polls `future` once with a fresh `Reentrant` waker (the only one: the
/// primitive's clone is the last to go).
fn poll_with_reentrant<F: Future + ?Sized>(future: Pin<&mut F>) -> Poll<F::Output> {
    let waker = Waker::from(Arc::new(Reentrant));
    future.poll(&mut Context::from_waker(&waker))
}

/// A waiter of some primitive, and how to touch that primitive.
struct Case {
    name: &'static str,
    /// Makes a future that waits (pending at its first poll).
    waiter: Box<dyn Fn() -> Pin<Box<dyn Future<Output = ()>>>>,
    touch: Box<dyn Fn()>,
}

fn cases() -> Vec<Case> {
    let queue: Queue<u32> = Queue::new();
    let full = Queue::bounded(1);
    full.try_put(0).unwrap();
    let unfinished: Queue<u32> = Queue::new();
    unfinished.try_put(1).unwrap();
    let semaphore = Semaphore::new(0);
    let mutex = Rc2::new(Mutex::new(()));
    // Held for good (the guard forgotten), so that the lock case waits.
    std::mem::forget(mutex.0.try_lock().expect("free at first"));
    let event = Event::new();
    let sender: Rc2<RefCell<Option<oneshot::Sender<u32>>>> = Rc2::new(RefCell::new(None));
    vec![
        Case {
            name: "Queue::get",
            waiter: Box::new({
                let q = queue.clone();
                move || {
                    let q = q.clone();
                    Box::pin(async move {
                        q.get().await;
                    })
                }
            }),
            touch: Box::new({
                let q = queue.clone();
                move || {
                    let _ = q.len();
                }
            }),
        },
        Case {
            name: "QueueStream::next",
            waiter: Box::new({
                let q = queue.clone();
                move || {
                    let mut items = q.stream();
                    Box::pin(async move {
                        items.next().await;
                    })
                }
            }),
            touch: Box::new({
                let q = queue.clone();
                move || {
                    let _ = q.try_get();
                }
            }),
        },
        Case {
            name: "QueueStream::poll_next",
            waiter: Box::new({
                let q = queue.clone();
                move || {
                    let mut items = q.stream();
                    Box::pin(async move {
                        std::future::poll_fn(|cx| items.poll_next(cx)).await;
                    })
                }
            }),
            touch: Box::new({
                let q = queue.clone();
                move || {
                    let _ = q.is_empty();
                }
            }),
        },
        Case {
            name: "Queue::put",
            waiter: Box::new({
                let q = full.clone();
                move || {
                    let q = q.clone();
                    Box::pin(async move {
                        let _ = q.put(1).await;
                    })
                }
            }),
            touch: Box::new({
                let q = full.clone();
                move || {
                    let _ = q.is_full();
                }
            }),
        },
        Case {
            name: "Queue::join",
            waiter: Box::new({
                let q = unfinished.clone();
                move || {
                    let q = q.clone();
                    Box::pin(async move { q.join().await })
                }
            }),
            touch: Box::new({
                let q = unfinished.clone();
                move || {
                    let _ = q.len();
                }
            }),
        },
        Case {
            name: "Semaphore::acquire",
            waiter: Box::new({
                let s = semaphore.clone();
                move || {
                    let s = s.clone();
                    Box::pin(async move {
                        drop(s.acquire().await);
                    })
                }
            }),
            touch: Box::new({
                let s = semaphore.clone();
                move || {
                    let _ = s.available_permits();
                }
            }),
        },
        Case {
            name: "Mutex::lock",
            waiter: Box::new({
                let m = mutex.clone();
                move || {
                    let m = m.clone();
                    Box::pin(async move {
                        drop(m.0.lock().await);
                    })
                }
            }),
            touch: Box::new({
                let m = mutex.clone();
                move || drop(m.0.try_lock())
            }),
        },
        Case {
            name: "Event::wait",
            waiter: Box::new({
                let e = event.clone();
                move || {
                    let e = e.clone();
                    Box::pin(async move { e.wait().await })
                }
            }),
            touch: Box::new({
                let e = event.clone();
                move || {
                    let _ = e.is_set();
                }
            }),
        },
        Case {
            name: "oneshot::Receiver",
            waiter: Box::new({
                let sender = sender.clone();
                move || {
                    let (tx, rx) = oneshot::channel();
                    *sender.0.borrow_mut() = Some(tx);
                    Box::pin(async move {
                        let _ = rx.await;
                    })
                }
            }),
            touch: Box::new({
                let sender = sender.clone();
                move || {
                    if let Some(tx) = sender.0.borrow_mut().take() {
                        let _ = tx.send(1); // the channel's lock, taken again
                    }
                }
            }),
        },
    ]
}

/// An `Rc` that is `Clone` for a non-`Clone` `Mutex`.
struct Rc2<T>(std::rc::Rc<T>);

impl<T> Rc2<T> {
    fn new(value: T) -> Rc2<T> {
        Rc2(std::rc::Rc::new(value))
    }
}

impl<T> Clone for Rc2<T> {
    fn clone(&self) -> Rc2<T> {
        Rc2(self.0.clone())
    }
}

#[test]
fn a_waker_replaced_by_a_re_poll_may_call_back_into_the_primitive_when_dropped() {
    finishes_within(LIMIT, replaced_wakers_call_back);
}

fn replaced_wakers_call_back() {
    for case in cases() {
        let mut waiter = (case.waiter)();
        assert!(poll_with_reentrant(waiter.as_mut()).is_pending(), "{}: waits", case.name);
        ON_DROP.with(|f| *f.borrow_mut() = Some(Box::new(move || (case.touch)())));
        TOUCHED.with(|n| n.set(0));
        // Another waker: the stored one is replaced, and dropped.
        let other = Waker::noop();
        assert!(waiter.as_mut().poll(&mut Context::from_waker(other)).is_pending(), "{}", case.name);
        assert_eq!(TOUCHED.with(Cell::get), 1, "{}: the replaced waker was dropped, and touched", case.name);
        ON_DROP.with(|f| *f.borrow_mut() = None);
    }
}

#[test]
fn a_waker_left_by_a_waiter_cancelled_while_waiting_may_call_back_into_the_primitive_when_dropped() {
    finishes_within(LIMIT, left_wakers_call_back);
}

fn left_wakers_call_back() {
    for case in cases() {
        let mut waiter = (case.waiter)();
        assert!(poll_with_reentrant(waiter.as_mut()).is_pending(), "{}: waits", case.name);
        ON_DROP.with(|f| *f.borrow_mut() = Some(Box::new(move || (case.touch)())));
        TOUCHED.with(|n| n.set(0));
        drop(waiter);
        assert_eq!(TOUCHED.with(Cell::get), 1, "{}: the waiter's waker was dropped, and touched", case.name);
        ON_DROP.with(|f| *f.borrow_mut() = None);
    }
}
