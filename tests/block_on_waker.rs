//! `block_on`'s own waker: reused from one `block_on` to the next as a
//! shortcut (`Runtime::main_waker`), but never when a clone of it is still
//! held — a stale waker must not wake a later `block_on`'s future. And it is
//! lent to the future without a reference of its own (`lend_main_waker`): only
//! the future's clones count, and each stays valid however long it is kept.

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::time::Duration;

#[test]
fn a_waker_kept_from_one_block_on_does_not_wake_the_next() {
    let rt = kettle::Runtime::new().unwrap();
    let kept: RefCell<Option<Waker>> = RefCell::new(None);
    rt.block_on(poll_fn(|cx| {
        *kept.borrow_mut() = Some(cx.waker().clone());
        Poll::Ready(())
    }));
    let (polls, woken_for_real) = (Cell::new(0), Rc::new(Cell::new(false)));
    rt.block_on(poll_fn(|cx| {
        polls.set(polls.get() + 1);
        if polls.get() == 1 {
            kept.borrow_mut().take().expect("kept").wake(); // the stale one
            let (waker, woken) = (cx.waker().clone(), woken_for_real.clone());
            kettle::call_later(Duration::from_millis(50), move || {
                woken.set(true);
                waker.wake();
            });
            return Poll::Pending;
        }
        assert!(woken_for_real.get(), "polled again before its own waker was woken: the stale one woke it");
        Poll::Ready(())
    }));
    assert_eq!(polls.get(), 2);
}

#[test]
fn a_block_on_whose_future_panicked_leaves_the_next_one_working() {
    let rt = kettle::Runtime::new().unwrap();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(async { panic!("the future panics on purpose") })
    }));
    assert!(caught.is_err());
    let task = rt.spawn(async {
        kettle::sleep(Duration::from_millis(1)).await;
        7
    });
    assert_eq!(rt.block_on(task).unwrap(), 7);
}

#[test]
fn a_waker_woken_from_another_thread_after_its_block_on_returned_is_harmless() {
    let rt = kettle::Runtime::new().unwrap();
    let waker = rt.block_on(poll_fn(|cx| Poll::Ready(cx.waker().clone())));
    std::thread::spawn(move || waker.wake()).join().unwrap();
    // The next block_on has a fresh waker (the old one was kept), and
    // completes normally whatever the old one did to the loop's fd.
    assert_eq!(
        rt.block_on(async {
            kettle::yield_now().await;
            3
        }),
        3
    );
}

#[test]
fn clones_of_the_lent_waker_stay_valid_after_block_on_and_count_only_themselves() {
    let rt = kettle::Runtime::new().unwrap();
    for round in 0..3 {
        // Clones made, dropped, woken and kept: every way a future uses its waker.
        let kept = rt.block_on(poll_fn(|cx| {
            let clones: Vec<Waker> = (0..4).map(|_| cx.waker().clone()).collect();
            clones[0].wake_by_ref();
            let mut clones = clones.into_iter();
            clones.next().unwrap().wake(); // consumes its own reference
            drop(clones.next());
            Poll::Ready(clones.collect::<Vec<_>>())
        }));
        assert_eq!(kept.len(), 2, "round {round}");
        for waker in &kept {
            waker.wake_by_ref(); // after its block_on: harmless, and not freed
        }
        let (sent, recv) = std::sync::mpsc::channel();
        let moved = kept.into_iter().next().unwrap();
        std::thread::spawn(move || {
            moved.wake();
            sent.send(()).unwrap();
        });
        recv.recv().unwrap();
        // The next block_on runs whatever the old clones did.
        assert_eq!(
            rt.block_on(async {
                kettle::yield_now().await;
                round
            }),
            round
        );
    }
}

#[test]
fn a_block_on_whose_future_keeps_no_clone_lends_the_same_waker_again() {
    let rt = kettle::Runtime::new().unwrap();
    let first = rt.block_on(poll_fn(|cx| Poll::Ready(cx.waker().data())));
    let second = rt.block_on(poll_fn(|cx| Poll::Ready(cx.waker().data())));
    assert_eq!(first, second, "no clone was kept: the waker is reused, not allocated again");
    let _kept = rt.block_on(poll_fn(|cx| Poll::Ready(cx.waker().clone())));
    let third = rt.block_on(poll_fn(|cx| Poll::Ready(cx.waker().data())));
    assert_ne!(third, second, "a clone was kept: the next block_on has a waker of its own");
}

/// A reused waker starts each `block_on` cleared, whatever the last one
/// left: a future that woke itself in its final poll leaves the flag set,
/// and the next `block_on` must not take that for a wake of its own (a
/// spurious second poll before its timer fires).
#[test]
fn a_wake_left_by_the_last_block_on_is_not_a_wake_of_the_next() {
    let rt = kettle::Runtime::builder().start_paused(true).build().unwrap();
    rt.block_on(poll_fn(|cx| {
        cx.waker().wake_by_ref(); // woken, then done: the flag stays set
        Poll::Ready(())
    }));
    let polls = Cell::new(0);
    let mut sleep = Box::pin(kettle::sleep(Duration::from_millis(10)));
    rt.block_on(poll_fn(|cx| {
        polls.set(polls.get() + 1);
        sleep.as_mut().poll(cx)
    }));
    assert_eq!(polls.get(), 2, "polled first, then once its timer fired: no stale wake between");
}
