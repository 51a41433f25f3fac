//! Round three of attacks on kettle's newest mechanisms: the oneshot
//! channel's flags, the reference count in the task state word and the
//! loop's task slab, the bounded queue's quiet path, the reactor's waiter
//! hand-over, and `block_on`'s lent waker with a timeout's first `Pending`.
//!
//! Each test states the behaviour it expects. The ones marked
//! `#[ignore = "defect: ..."]` fail today; the reason names the line.
//! The others are attacks that held, kept as specifications.
//!
//! How each target was attacked:
//!
//! - re-entry: user code that kettle runs — a waker's `wake` or `drop`, a
//!   value's destructor, a future's destructor — calls back into the very
//!   object that is running it;
//! - threads: senders, wakers and join handles used from other threads
//!   while the loop runs, or after it is gone (run these under
//!   `scripts/memcheck` too: they end with every count checked);
//! - cancellation at every await point: a cancelled waiter never swallows
//!   an item, a value or a wake-up;
//! - range: `Duration::MAX` and zero deadlines, many wakers of one task.

use std::cell::{Cell, RefCell};
use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, mpsc};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use kettle::Runtime;
use kettle::net::UdpSocket;
use kettle::sync::{Queue, oneshot};

// ----- wakers that call back -----------------------------------------------

thread_local! {
    /// What a dropped `OnDrop` waker does.
    static ON_DROP: RefCell<Option<Box<dyn FnOnce()>>> = RefCell::new(None);
    /// Whether an `OnDrop` waker ran its action to the end.
    static DROP_ACTION_RAN: Cell<bool> = const { Cell::new(false) };
}

/// A waker whose last drop runs the action left in `ON_DROP` (once).
struct OnDrop;

impl Wake for OnDrop {
    fn wake(self: Arc<Self>) {}
}

impl Drop for OnDrop {
    fn drop(&mut self) {
        if let Some(action) = ON_DROP.with(|slot| slot.borrow_mut().take()) {
            action();
            DROP_ACTION_RAN.with(|ran| ran.set(true));
        }
    }
}

/// An `OnDrop` waker, the only handle to it, that will run `action` when
/// the last clone goes.
fn waker_dropping(action: impl FnOnce() + 'static) -> Waker {
    ON_DROP.with(|slot| *slot.borrow_mut() = Some(Box::new(action)));
    DROP_ACTION_RAN.with(|ran| ran.set(false));
    Waker::from(Arc::new(OnDrop))
}

fn drop_action_ran() -> bool {
    DROP_ACTION_RAN.with(Cell::get)
}

/// Polls `future` once with `waker`.
fn poll_once<F: Future + ?Sized>(future: Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(waker))
}

/// A future boxed for ever, so that a waker's drop can own it.
type Parked = Pin<Box<dyn Future<Output = std::io::Result<(usize, std::net::SocketAddr)>>>>;

/// A UDP socket and a receive buffer that live for ever (a waker's drop
/// may hold an operation on them, and wakers are `'static`).
fn leaked_socket() -> &'static UdpSocket {
    Box::leak(Box::new(UdpSocket::bind("127.0.0.1:0").expect("a loopback socket")))
}

fn leaked_buf() -> &'static mut [u8] {
    Box::leak(vec![0u8; 64].into_boxed_slice())
}

/// A receive on `socket` that is waiting (it has its own entry in the
/// socket's list of readers), boxed so that a waker's drop can own it.
fn waiting_recv(socket: &'static UdpSocket) -> Parked {
    let mut recv: Parked = Box::pin(socket.recv_from(leaked_buf()));
    assert!(poll_once(recv.as_mut(), Waker::noop()).is_pending(), "nothing was sent yet");
    recv
}

// ----- 4. the reactor's waiters ----------------------------------------------

/// The reactor's list of waiting operations holds wakers, which are user
/// code when dropped (the last waker of a foreign executor's task owns
/// the task, whose future may own another operation on the same socket).
/// A waker replaced when the operation is polled again by another task
/// must be dropped once the list is no longer borrowed.
#[test]
fn a_waker_replaced_by_a_repoll_may_drop_another_operation_on_the_same_socket() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let socket = leaked_socket();
        let other = waiting_recv(socket);
        let mut victim: Parked = Box::pin(socket.recv_from(leaked_buf()));
        let waker = waker_dropping(move || drop(other));
        assert!(poll_once(victim.as_mut(), &waker).is_pending());
        drop(waker); // the socket's list holds the last clone
        assert!(poll_once(victim.as_mut(), Waker::noop()).is_pending(), "polled by another task");
        assert!(drop_action_ran(), "the replaced waker was dropped, and its drop ran to the end");
        drop(victim);
    });
}

/// As above, for the waker an operation leaves behind when it is dropped
/// while it waits (a cancelled task, a timeout that expired).
#[test]
fn a_waker_left_by_a_cancelled_operation_may_drop_another_operation_on_the_same_socket() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let socket = leaked_socket();
        let other = waiting_recv(socket);
        let mut victim: Parked = Box::pin(socket.recv_from(leaked_buf()));
        let waker = waker_dropping(move || drop(other));
        assert!(poll_once(victim.as_mut(), &waker).is_pending());
        drop(waker);
        drop(victim); // cancelled while it waits: its entry and waker go
        assert!(drop_action_ran(), "the waker was dropped, and its drop ran to the end");
    });
}

/// As above, for the poll-level API's single slot (`poll_read_ready`).
#[test]
fn a_poll_level_waker_replaced_by_a_repoll_may_drop_an_operation_on_the_same_socket() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let socket = leaked_socket();
        let other = waiting_recv(socket);
        let waker = waker_dropping(move || drop(other));
        assert!(socket.poll_read_ready(&mut Context::from_waker(&waker)).is_pending());
        drop(waker);
        assert!(socket.poll_read_ready(&mut Context::from_waker(Waker::noop())).is_pending());
        assert!(drop_action_ran(), "the replaced waker was dropped, and its drop ran to the end");
    });
}

/// An event hands every waiter's waker over to the loop, which wakes (and
/// so drops) them with nothing borrowed: a waker whose wake-and-drop
/// cancels another waiting operation on the same socket is fine, and the
/// operations still waiting are all woken.
#[test]
fn an_event_wakes_every_reader_even_when_one_readers_waker_cancels_another_operation() {
    let rt = Runtime::new().unwrap();
    let socket = rt.block_on(async { leaked_socket() });
    let woken = Rc::new(Cell::new(0));
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let woken = woken.clone();
            rt.spawn(async move {
                let mut buf = [0u8; 8];
                let got = socket.recv_from(&mut buf).await;
                woken.set(woken.get() + 1);
                got.map(|(n, _)| n)
            })
        })
        .collect();
    rt.block_on(async {
        kettle::task::yield_now().await; // the readers wait now
        let other = waiting_recv(socket);
        let mut victim: Parked = Box::pin(socket.recv_from(leaked_buf()));
        let waker = waker_dropping(move || drop(other));
        assert!(poll_once(victim.as_mut(), &waker).is_pending());
        drop(waker);
        // Three datagrams: one each for the three readers.
        let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        for _ in 0..3 {
            sender.send_to(b"hi", socket.local_addr().unwrap()).unwrap();
        }
        // The event wakes (and drops) the victim's waker too.
        for reader in readers {
            assert_eq!(reader.await.unwrap().unwrap(), 2);
        }
        assert!(drop_action_ran());
        std::mem::forget(victim); // its buffer is leaked anyway
    });
    assert_eq!(woken.get(), 3);
}
