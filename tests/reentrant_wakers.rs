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
use std::rc::Rc;
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

/// A case on `primitive` (a handle that clones cheaply): `waiter` makes a
/// future that waits on it, `touch` calls into it.
fn case<P: Clone + 'static, F: Future + 'static, R: 'static>(
    name: &'static str,
    primitive: &P,
    waiter: fn(P) -> F,
    touch: fn(&P) -> R,
) -> Case {
    let (for_waiter, for_touch) = (primitive.clone(), primitive.clone());
    Case {
        name,
        waiter: Box::new(move || {
            let wait = waiter(for_waiter.clone());
            Box::pin(async move {
                wait.await;
            })
        }),
        touch: Box::new(move || {
            let _ = touch(&for_touch);
        }),
    }
}

fn cases() -> Vec<Case> {
    let queue: Queue<u32> = Queue::new();
    let full = Queue::bounded(1);
    full.try_put(0).unwrap();
    let unfinished: Queue<u32> = Queue::new();
    unfinished.try_put(1).unwrap();
    let mutex = Rc::new(Mutex::new(()));
    // Held for good (the guard forgotten), so that the lock case waits.
    std::mem::forget(mutex.try_lock().expect("free at first"));
    // The oneshot case makes a channel per waiter; its sender waits here.
    let sender: Rc<RefCell<Option<oneshot::Sender<u32>>>> = Rc::default();
    vec![
        case("Queue::get", &queue, |q| async move { q.get().await }, |q| q.len()),
        case("QueueStream::next", &queue, |q| async move { q.stream().next().await }, |q| q.try_get()),
        case(
            "QueueStream::poll_next",
            &queue,
            |q| async move {
                let mut items = q.stream();
                std::future::poll_fn(|cx| items.poll_next(cx)).await
            },
            |q| q.is_empty(),
        ),
        case("Queue::put", &full, |q| async move { q.put(1).await }, |q| q.is_full()),
        case("Queue::join", &unfinished, |q| async move { q.join().await }, |q| q.len()),
        case(
            "Semaphore::acquire",
            &Semaphore::new(0),
            |s| async move { drop(s.acquire().await) },
            |s| s.available_permits(),
        ),
        case("Mutex::lock", &mutex, |m| async move { drop(m.lock().await) }, |m| m.try_lock().is_some()),
        case("Event::wait", &Event::new(), |e| async move { e.wait().await }, |e| e.is_set()),
        case(
            "oneshot::Receiver",
            &sender,
            |sender| {
                let (tx, rx) = oneshot::channel();
                *sender.borrow_mut() = Some(tx);
                rx
            },
            // The channel's lock, taken again.
            |sender| sender.borrow_mut().take().map(|tx| tx.send(1)),
        ),
    ]
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
