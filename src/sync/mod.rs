//! Coordination between tasks: queues, events, locks, semaphores, and a
//! one-value channel that crosses threads.
//!
//! | asyncio                 | kettle                          |
//! |-------------------------|---------------------------------|
//! | `asyncio.Queue`         | [`Queue`]                       |
//! | `asyncio.Event`         | [`Event`]                       |
//! | `asyncio.Lock`          | [`Mutex`] (holds its data)      |
//! | `asyncio.Semaphore`     | [`Semaphore`]                   |
//! | a `Future` set by another thread | [`oneshot::channel`]   |
//!
//! # One loop, one thread
//!
//! Like asyncio's, these primitives are not thread-safe: their state is an
//! `Rc<RefCell<_>>` (or, for [`Mutex`], two `RefCell`s you share through an
//! `Rc`), touched only by tasks of the loop that owns them. No atomics, no
//! locks: a task runs until it awaits, so a `RefCell` borrow can never be
//! contended — as long as no borrow is held across a call that may re-enter.
//! The one exception is [`oneshot`], whose purpose is to cross threads: its
//! two halves share a word of atomic flags that hands each of its two slots
//! from one side to the other (its module docs).
//!
//! The compiler holds us to it: a queue cannot be sent to another thread,
//!
//! ```compile_fail
//! fn assert_send<T: Send>(_: T) {}
//! assert_send(kettle::sync::Queue::<u32>::new());
//! ```
//!
//! while both halves of a oneshot channel can:
//!
//! ```
//! fn assert_send<T: Send>(_: T) {}
//! let (tx, rx) = kettle::sync::oneshot::channel::<u32>();
//! assert_send(tx);
//! assert_send(rx);
//! ```
//!
//! # How waiting works
//!
//! Every primitive keeps its waiting tasks in a `WaitList` (`waiters.rs`): a
//! slab of entries linked into a FIFO by keys, so that enqueueing, waking the
//! first waiter and leaving from the middle (a dropped future) all cost O(1).
//!
//! A waiter is woken by being **notified**, and a notification is a token
//! with a meaning: "the lock is yours", "this permit is yours", "an item in
//! the buffer is reserved for you". The token is handed over at the moment
//! the resource frees up, not when the waiter finally runs. Two properties
//! follow:
//!
//! - **Fairness.** Between the hand-over and the waiter running, nobody else
//!   — not a `try_lock`, not a new `get` — can take what was handed over.
//!   Waiters are served strictly first-in, first-out.
//! - **Cancel safety.** A future can be dropped at any `.await`. If it is
//!   dropped while holding a token it never used, its `Drop` passes the token
//!   on to the next waiter (or back to the pool). Nothing is lost, nothing is
//!   counted twice.
//!
//! # Collect, release, then fire
//!
//! Every operation borrows the state, decides, collects the wakers to wake,
//! *releases the borrow*, and only then wakes them. Values handed back (a
//! failed put's item) or dropped also leave the borrow first. A waker or a
//! destructor that calls back into the same primitive then finds it free
//! instead of panicking with `BorrowMutError`.
//!
//! # Limits
//!
//! Strict FIFO hand-over has asyncio's cost: a task that releases a lock and
//! asks for it again goes to the back of the line, which costs a turn per
//! hand-over. Nothing here is `Send` except [`oneshot`]; there are no
//! multi-producer channels across threads.

mod event;
mod mutex;
pub mod oneshot;
mod queue;
mod semaphore;
mod waiters;

pub use event::{Event, Wait};
pub use mutex::{Lock, Mutex, MutexGuard};
pub use queue::{Closed, Get, Join, Next, Put, Queue, QueueStream, TryGetError, TryPutError};
pub use semaphore::{Acquire, Semaphore, SemaphorePermit};
