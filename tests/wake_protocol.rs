//! The cost side of the wake protocol, observed through `Turn` reports: the
//! loop's eventfd is written (and so shows up as an I/O event on the next
//! poll) only when a remote request reaches an idle loop, or when the loop is
//! left with requests waiting — once for all of them, never per request that
//! arrives while it works, and never for wakes on its own thread.

use std::cell::RefCell;
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::thread;
use std::time::Duration;

use kettle::{Handle, Runtime};

const NOW: Option<Duration> = Some(Duration::ZERO);

#[test]
fn remote_requests_that_arrive_while_the_loop_works_cost_one_eventfd_write_in_all() {
    let rt = Runtime::new().unwrap();
    rt.turn(NOW);
    // The task runs inside a turn; while it blocks the loop thread, another
    // thread queues 100 callbacks, which find the loop busy.
    let _busy = rt.spawn(async {
        let handle = Handle::current();
        thread::spawn(move || {
            for _ in 0..100 {
                handle.call_soon(|| {}).unwrap();
            }
        })
        .join()
        .unwrap();
    });
    let working = rt.turn(NOW);
    assert_eq!(working.tasks_run, 1);
    assert_eq!(rt.next_timeout(), Some(Duration::ZERO), "the loop knows work is waiting");
    let next = rt.turn(NOW);
    assert_eq!(next.injected, 100, "every request arrived");
    // While the loop worked, the 100 pushes wrote nothing; leaving the loop
    // with them waiting wrote the eventfd once, so that a host watching the
    // poll fd between turns would have seen them.
    assert_eq!(next.io_events, 1, "one eventfd write for all of them");
    assert_eq!(next.callbacks_run, 100);
}

#[test]
fn a_remote_request_to_an_idle_loop_wakes_it_through_the_eventfd() {
    let rt = Runtime::new().unwrap();
    rt.turn(NOW); // now idle between turns
    let handle = rt.handle();
    thread::spawn(move || {
        for _ in 0..100 {
            handle.call_soon(|| {}).unwrap();
        }
    })
    .join()
    .unwrap();
    let turn = rt.turn(Some(Duration::from_secs(5)));
    assert_eq!(turn.io_events, 1, "one readiness event for the loop's eventfd");
    assert_eq!(turn.injected, 100);
    let quiet = rt.turn(NOW);
    assert_eq!(quiet.io_events, 0, "the eventfd event does not repeat once handled");
}

#[test]
fn a_wake_on_the_loop_thread_makes_no_syscall() {
    let rt = Runtime::new().unwrap();
    let stored: Rc<RefCell<Option<Waker>>> = Rc::default();
    let sleeper_slot = stored.clone();
    let sleeper = rt.spawn(std::future::poll_fn(move |cx| {
        if sleeper_slot.borrow().is_some() {
            return Poll::Ready(());
        }
        *sleeper_slot.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    }));
    rt.turn(NOW);
    let waker_slot = stored.clone();
    let _waker_task = rt.spawn(async move {
        waker_slot.borrow().as_ref().unwrap().wake_by_ref();
    });
    let waking = rt.turn(NOW);
    assert_eq!(waking.tasks_run, 1, "the waking task ran");
    let woken = rt.turn(NOW);
    // One event, and it is not the wake's: the turn before left a task
    // queued, so it wrote the eventfd once for a host loop watching the fd
    // (`src/runtime/core/host.rs`). The wake itself went straight to the
    // run queue: nothing came through the injector.
    assert_eq!(woken.io_events, 1, "only the hand-over's write");
    assert_eq!(woken.injected, 0, "the local wake went straight to the run queue");
    assert_eq!(woken.tasks_run, 1, "the woken task ran");
    assert!(sleeper.is_finished());
}

#[test]
fn a_wake_from_the_loop_thread_between_runs_goes_through_the_injector() {
    // Outside a run nobody is draining the run queue, so a wake from the
    // loop's own thread must make the poll fd readable, like a remote one:
    // an embedder watching the fd learns that a turn is due.
    let rt = Runtime::new().unwrap();
    let stored: Rc<RefCell<Option<Waker>>> = Rc::default();
    let slot = stored.clone();
    let _task = rt.spawn(std::future::poll_fn(move |cx| {
        *slot.borrow_mut() = Some(cx.waker().clone());
        Poll::<()>::Pending
    }));
    rt.turn(NOW);
    stored.borrow().as_ref().unwrap().wake_by_ref(); // between turns
    let turn = rt.turn(Some(Duration::from_secs(5)));
    assert_eq!(turn.io_events, 1);
    assert_eq!(turn.injected, 1);
    assert_eq!(turn.tasks_run, 1);
}

#[test]
fn a_loop_that_was_just_busy_still_wakes_for_remote_work_when_it_blocks() {
    // block_on's own future wakes itself (a busy turn that skips telling
    // other threads the loop may sleep), then waits for another thread.
    // Before blocking, the loop must mark itself idle, or that thread's wake
    // would be lost. No timer is armed: nothing else could end the wait.
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        let rt = Runtime::new().unwrap();
        let (tx, rx) = kettle::sync::oneshot::channel();
        let sender = thread::spawn(move || {
            thread::sleep(Duration::from_millis(20));
            tx.send(7).unwrap();
        });
        let value = rt.block_on(async {
            kettle::yield_now().await;
            rx.await.unwrap()
        });
        sender.join().unwrap();
        done_tx.send(value).unwrap();
    });
    let value = done_rx.recv_timeout(Duration::from_secs(5));
    assert_eq!(value, Ok(7), "the remote wake reached the blocked loop");
}

#[test]
fn a_push_while_the_loop_works_after_waking_for_io_writes_the_eventfd_once_and_is_taken() {
    // The loop wakes from a blocking wait for a socket's readiness: it takes
    // no lock for that, so it is still marked idle in the injector while the
    // woken task runs. Requests another thread pushes meanwhile must not be
    // lost: the first pays one eventfd write, the others none, and the next
    // turn takes them all.
    let rt = Runtime::new().unwrap();
    let (ours, mut theirs) = std::os::unix::net::UnixStream::pair().unwrap();
    let mut ours = rt.block_on(async { kettle::net::UnixStream::from_std(ours) }).unwrap();
    let _reader = rt.spawn(async move {
        let mut buf = [0; 8];
        assert_eq!(ours.read(&mut buf).await.unwrap(), 1);
        let handle = Handle::current();
        thread::spawn(move || {
            for _ in 0..100 {
                handle.call_soon(|| {}).unwrap();
            }
        })
        .join()
        .unwrap();
    });
    let parked = rt.turn(NOW);
    assert_eq!(parked.tasks_run, 1, "the reader polled once, and waits for the socket");
    std::io::Write::write_all(&mut theirs, b"x").unwrap();
    let woken = rt.turn(Some(Duration::from_secs(5)));
    assert_eq!((woken.io_events, woken.injected, woken.tasks_run), (1, 0, 1), "woken by the socket alone");
    assert_eq!(rt.next_timeout(), Some(Duration::ZERO), "the loop knows work is waiting");
    let next = rt.turn(NOW);
    assert_eq!(next.io_events, 1, "one eventfd write for all of them");
    assert_eq!(next.injected, 100, "every request arrived");
    assert_eq!(next.callbacks_run, 100);
    let quiet = rt.turn(NOW);
    assert_eq!((quiet.io_events, quiet.injected), (0, 0), "nothing left behind");
}
