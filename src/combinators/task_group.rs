//! Structured concurrency: [`TaskGroup`].
//!
//! A group is a set of spawned tasks — its **members** — that live and fail
//! together: the first member to fail cancels the others, and
//! [`join`](TaskGroup::join) waits until every member is gone and reports
//! that first failure. Unlike [`gather`](crate::gather), members are real
//! tasks (`kettle::spawn`), so each has a [`JoinHandle`] and runs even while
//! nobody awaits the group.
//!
//! # Who owns what
//!
//! ```text
//!   TaskGroup ──Rc──▶ RefCell<GroupState> ◀──Weak── each member's wrapper task
//!   (cheap clones)     members: Slab<Member>          (reports its outcome, and
//!                      failure, joiners               removes itself on drop)
//! ```
//!
//! - The `TaskGroup` handles own the state. When the last handle goes — the
//!   user dropped the group without joining, or `join` finished — the state's
//!   destructor cancels the members still listed (structured concurrency: no
//!   member outlives its group unnoticed, like tokio's `JoinSet`).
//! - Each member is spawned as a *wrapper* task around the user's future. The
//!   wrapper holds only a `Weak` reference, so members do not keep the group
//!   alive — unless the user's future holds a `TaskGroup` clone (to spawn
//!   siblings), which then counts as a handle like any other.
//! - The slab lists the live members: a cancellation reference to each
//!   task. A wrapper removes its own entry when it is dropped
//!   — after finishing, or when cancelled — so the slab never grows beyond
//!   the members alive at once, and "the slab is empty" means "every member's
//!   future has been dropped": that is what `join` waits for.
//!
//! # Failure
//!
//! A member fails by returning `Err` or by panicking (the wrapper polls the
//! user's future under `catch_unwind`). The failure is recorded, every other
//! member is cancelled, and any member spawned later is cancelled at once.
//! Cancelled members are never polled again, so the first failure is the
//! only one: there is no asyncio `ExceptionGroup` to build. The failed
//! member's own handle yields `Ok(None)`: its error or panic payload went to
//! the group, which `join` returns or resumes.
//!
//! # Cancelling a member
//!
//! The user holds the member's only `JoinHandle`, so the group keeps a
//! cancellation reference instead: another reference to the task cell
//! (`TaskRef`), whose `cancel` is exactly `JoinHandle::cancel`: it sets the
//! task's `CANCELLED` bit and schedules it, and the loop then drops the future
//! instead of polling it.
//!
//! As everywhere in kettle, the `RefCell` is never borrowed across a call
//! that could reach user code: wakers are collected under the borrow and
//! woken after it is released.

use std::any::Any;
use std::cell::RefCell;
use std::fmt;
use std::future::{Future, poll_fn};
use std::panic::{self, AssertUnwindSafe};
use std::pin::pin;
use std::rc::{Rc, Weak};
use std::task::{Poll, Waker};

use slab::Slab;

use crate::task::JoinHandle;
use crate::task::header::TaskRef;

/// A group of tasks that succeed or fail together (asyncio's `TaskGroup`).
///
/// [`spawn`](TaskGroup::spawn) starts a member: a real task running a future
/// that returns `Result<T, E>`. [`join`](TaskGroup::join) waits for every
/// member — including members spawned while it waits — and returns `Ok(())`
/// if none failed. The **first failure cancels every other member**: an `Err`
/// is returned by `join`, a panic is resumed by `join`.
///
/// ```
/// use std::time::Duration;
/// use kettle::TaskGroup;
///
/// let outcome = kettle::run(async {
///     let group = TaskGroup::new();
///     let fast = group.spawn(async { Ok(1) });
///     let failing = group.spawn(async {
///         kettle::sleep(Duration::from_millis(10)).await;
///         let free_bytes = 0;
///         if free_bytes == 0 {
///             return Err("disk full");
///         }
///         Ok(free_bytes)
///     });
///     let slow = group.spawn(async {
///         kettle::sleep(Duration::from_secs(60)).await; // cancelled long before
///         Ok(3)
///     });
///     let outcome = group.join().await;
///     assert_eq!(fast.await.unwrap(), Some(1), "finished before the failure");
///     assert_eq!(failing.await.unwrap(), None, "its error went to the group");
///     assert!(slow.await.unwrap_err().is_cancelled());
///     outcome
/// });
/// assert_eq!(outcome, Err("disk full"));
/// ```
///
/// # Sharing and dropping
///
/// `TaskGroup` is a cheap `Clone` handle (an `Rc`), so members can spawn
/// siblings into their own group; it is not `Send`, and neither need members
/// be. **Dropping every handle without joining cancels the members still
/// running** (structured concurrency, like tokio's `JoinSet`). A member that
/// holds a clone keeps the group alive while it runs.
///
/// Cancelling a member yourself with [`JoinHandle::cancel`] is not a failure:
/// the group just stops waiting for it.
///
/// A group stays on the thread that made it:
///
/// ```compile_fail
/// fn assert_send<T: Send>() {}
/// assert_send::<kettle::TaskGroup<std::io::Error>>();
/// ```
#[doc(alias = "asyncio.TaskGroup")]
#[doc(alias = "JoinSet")]
#[doc(alias = "nursery")]
pub struct TaskGroup<E> {
    state: Rc<RefCell<GroupState<E>>>,
}

struct GroupState<E> {
    /// The members whose future has not been dropped yet.
    members: Slab<Member>,
    /// The first failure; `join` takes it.
    failure: Option<Failure<E>>,
    /// A member failed: new members are cancelled at once. Stays set after
    /// `join` has taken the failure.
    failed: bool,
    /// The wakers of `join` futures waiting for the slab to empty.
    joiners: Vec<Waker>,
}

/// How to cancel one member (see "Cancelling a member").
struct Member {
    task: TaskRef,
}

enum Failure<E> {
    Error(E),
    Panic(Box<dyn Any + Send + 'static>),
}

impl<E> GroupState<E> {
    /// Records `failure`. Returns every member but the failing one,
    /// `failed_key`, for the caller to cancel once the state is released.
    fn fail(&mut self, failure: Failure<E>, failed_key: usize) -> Vec<TaskRef> {
        debug_assert!(!self.failed, "after the first failure no member is polled again, so none can fail");
        self.failure = Some(failure);
        self.failed = true;
        self.members
            .iter()
            .filter(|&(key, _)| key != failed_key)
            .map(|(_, member)| member.task.clone())
            .collect()
    }
}

impl<E> Drop for GroupState<E> {
    /// The last handle is gone: cancel whoever is left.
    fn drop(&mut self) {
        for (_, member) in self.members.iter() {
            member.task.cancel();
        }
    }
}

impl<E> TaskGroup<E> {
    /// An empty group.
    pub fn new() -> TaskGroup<E> {
        let state = GroupState { members: Slab::new(), failure: None, failed: false, joiners: Vec::new() };
        TaskGroup { state: Rc::new(RefCell::new(state)) }
    }

    /// How many members are still running: spawned, and their future not yet
    /// dropped. Finished and cancelled members leave the group at once.
    pub fn len(&self) -> usize {
        self.state.borrow().members.len()
    }

    /// Whether no member is running: [`join`](TaskGroup::join) would return at
    /// once.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Spawns `future` as a member of the group (asyncio's
    /// `TaskGroup.create_task`) and returns its handle, which yields:
    ///
    /// - `Ok(Some(value))` if the future returned `Ok(value)`;
    /// - `Ok(None)` if it returned `Err` or panicked — the failure went to
    ///   the group, and the group cancelled every other member;
    /// - a cancelled [`JoinError`](crate::JoinError) if the group cancelled
    ///   it (another member failed, or the group was dropped) or you did.
    ///
    /// Spawning into a group that has already failed still returns a handle,
    /// but the member is cancelled at once and never runs.
    ///
    /// # Panics
    /// Outside a runtime, like [`kettle::spawn`](crate::spawn).
    #[doc(alias = "create_task")]
    #[track_caller]
    pub fn spawn<F, T>(&self, future: F) -> JoinHandle<Option<T>>
    where
        F: Future<Output = Result<T, E>> + 'static,
        T: 'static,
        E: 'static,
    {
        let (failed, key) = {
            let state = self.state.borrow();
            (state.failed, state.members.vacant_key())
        };
        if failed {
            // A member of no group: it reports nowhere, and never runs.
            let handle = crate::spawn(member(Seat { future, leave: Leave { group: Weak::new(), key } }));
            handle.cancel();
            return handle;
        }
        // `spawn` only queues the task, so nothing touches the slab between
        // reserving `key` and filling it.
        let handle =
            crate::spawn(member(Seat { future, leave: Leave { group: Rc::downgrade(&self.state), key } }));
        let entry = Member { task: handle.task().clone() };
        let inserted = self.state.borrow_mut().members.insert(entry);
        debug_assert_eq!(inserted, key, "a member's slab key is reserved before it is spawned");
        handle
    }

    /// Waits until every member has finished or been cancelled — including
    /// members spawned while waiting — then returns the first member's `Err`,
    /// or `Ok(())` if none failed (asyncio's `async with TaskGroup()` exit).
    ///
    /// When `join` returns, every member's future has been dropped. Dropping
    /// the `join` future before then drops this handle: if it was the last,
    /// the members are cancelled, as if the group had been dropped.
    ///
    /// # Panics
    /// If a member panicked, `join` resumes that panic, with its original
    /// payload, in the awaiting task (after the other members were cancelled
    /// and dropped).
    pub async fn join(self) -> Result<(), E> {
        let failure = poll_fn(|cx| {
            let mut state = self.state.borrow_mut();
            if state.members.is_empty() {
                return Poll::Ready(state.failure.take());
            }
            if !state.joiners.iter().any(|joiner| joiner.will_wake(cx.waker())) {
                state.joiners.push(cx.waker().clone());
            }
            Poll::Pending
        })
        .await;
        match failure {
            None => Ok(()),
            Some(Failure::Error(error)) => Err(error),
            Some(Failure::Panic(payload)) => panic::resume_unwind(payload),
        }
    }
}

/// The wrapper task around a member's future (see "Who owns what").
async fn member<F, T, E>(seat: Seat<F, E>) -> Option<T>
where
    F: Future<Output = Result<T, E>>,
{
    // The pinned future is declared after `leave`, so it is dropped first —
    // also when its destructor panics: unwinding still drops `leave`.
    let Seat { future, leave } = seat;
    let mut future = pin!(future);
    let outcome = poll_fn(|cx| match panic::catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
        Ok(Poll::Pending) => Poll::Pending,
        Ok(Poll::Ready(Ok(value))) => Poll::Ready(Ok(value)),
        Ok(Poll::Ready(Err(error))) => Poll::Ready(Err(Failure::Error(error))),
        Err(payload) => Poll::Ready(Err(Failure::Panic(payload))),
    })
    .await;
    let failure = match outcome {
        Ok(value) => return Some(value),
        Err(failure) => failure,
    };
    if let Some(state) = leave.group.upgrade() {
        // The failing member stays listed until `leave` is dropped, just
        // after this: `join` must not return before its future is gone too.
        let others = state.borrow_mut().fail(failure, leave.key);
        for task in others {
            task.cancel();
        }
    }
    None
}

/// What the wrapper task starts with. A member cancelled before its first
/// poll never runs the wrapper's body, so the wrapper's captured `Seat` is
/// all that gets dropped — and its field order still drops the user's
/// future before leaving the group.
struct Seat<F, E> {
    future: F,
    leave: Leave<E>,
}

/// A member's place in its group's slab. Dropping it removes the member and
/// wakes the joiners if it was the last.
struct Leave<E> {
    group: Weak<RefCell<GroupState<E>>>,
    key: usize,
}

impl<E> Drop for Leave<E> {
    fn drop(&mut self) {
        let Some(state) = self.group.upgrade() else { return };
        let (removed, joiners) = {
            let mut state = state.borrow_mut();
            let removed = state.members.try_remove(self.key);
            let joiners =
                if state.members.is_empty() { std::mem::take(&mut state.joiners) } else { Vec::new() };
            (removed, joiners)
        };
        // Drop the member's task reference, and fire, after the borrow.
        drop(removed);
        for joiner in joiners {
            joiner.wake();
        }
    }
}

impl<E> Clone for TaskGroup<E> {
    /// Another handle to the same group.
    fn clone(&self) -> TaskGroup<E> {
        TaskGroup { state: self.state.clone() }
    }
}

impl<E> Default for TaskGroup<E> {
    fn default() -> TaskGroup<E> {
        TaskGroup::new()
    }
}

impl<E> fmt::Debug for TaskGroup<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.borrow();
        f.debug_struct("TaskGroup")
            .field("members", &state.members.len())
            .field("failed", &state.failed)
            .finish()
    }
}
