//! How a `Waker` finds its task.
//!
//! A task's waker is a [`TaskRef`] in disguise: its data pointer is the task
//! cell's header, and the vtable below translates the four waker operations
//! into reference counting and [`schedule`]:
//!
//! | waker op      | task op                                           |
//! |---------------|---------------------------------------------------|
//! | `clone`       | one more reference                                |
//! | `wake`        | schedule, then drop the waker's reference         |
//! | `wake_by_ref` | schedule                                          |
//! | `drop`        | drop the waker's reference                        |
//!
//! Because the waker points at the cell (not at a slab slot), a stale waker of
//! a finished task can only ever reach that finished task, which ignores it:
//! slab keys are reused freely without a generation counter.
//!
//! While the loop polls a task it lends the task a [`WakerRef`]: a waker built
//! on the loop's own reference, without touching the count. Only a clone (a
//! future that stores its waker) costs an atomic increment; a wake on the loop
//! thread costs none. The simple version would clone a waker for every poll
//! and drop it afterwards: two atomic operations per poll, whether or not
//! the future keeps it.

use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops::Deref;
use std::ptr::NonNull;
use std::task::{RawWaker, RawWakerVTable, Waker};

use super::header::{Header, TaskRef};
use super::state::{CancelRequested, RemoteWake};
use crate::runtime::run_queue;
use crate::runtime::shared::Remote;

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_waker);

fn raw(ptr: NonNull<Header>) -> RawWaker {
    RawWaker::new(ptr.as_ptr().cast_const().cast(), &VTABLE)
}

/// # Safety (all four)
/// `data` is the header pointer of a live task cell, and the waker owns one
/// reference to it, as established by [`waker_ref`] and `clone`.
unsafe fn clone(data: *const ()) -> RawWaker {
    // SAFETY: the waker being cloned holds a reference, so the cell is live.
    let header = unsafe { &*data.cast::<Header>() };
    header.ref_inc();
    raw(NonNull::from(header))
}

unsafe fn wake(data: *const ()) {
    // SAFETY: a consumed waker hands its reference over to this `TaskRef`,
    // which releases it when dropped at the end of this function.
    let task = unsafe { TaskRef::from_raw(NonNull::new_unchecked(data.cast_mut().cast())) };
    schedule(task.header());
}

unsafe fn wake_by_ref(data: *const ()) {
    // SAFETY: the waker holds a reference, so the cell is live.
    schedule(unsafe { &*data.cast::<Header>() });
}

unsafe fn drop_waker(data: *const ()) {
    // SAFETY: the waker's reference is transferred to this `TaskRef` and dropped.
    drop(unsafe { TaskRef::from_raw(NonNull::new_unchecked(data.cast_mut().cast())) });
}

/// A waker borrowed from a `TaskRef` for the length of one poll.
pub(crate) struct WakerRef<'a> {
    waker: ManuallyDrop<Waker>,
    _task: PhantomData<&'a TaskRef>,
}

impl Deref for WakerRef<'_> {
    type Target = Waker;

    fn deref(&self) -> &Waker {
        &self.waker
    }
}

/// Lends `task`'s reference to a waker without changing the count.
pub(crate) fn waker_ref(task: &TaskRef) -> WakerRef<'_> {
    // SAFETY: the vtable's contract holds: `task` keeps the cell alive for the
    // borrow, and `ManuallyDrop` ensures this waker never releases the
    // reference it borrows (clones made from it take their own).
    let waker = unsafe { Waker::from_raw(raw(task.as_ptr())) };
    WakerRef { waker: ManuallyDrop::new(waker), _task: PhantomData }
}

/// Schedules the task behind `header` to run: on its own loop's thread this is
/// a push onto the run queue (no lock, no syscall, no atomic); anywhere else —
/// another thread, or this thread while its runtime is not running — the wake
/// goes through the owner's injector.
pub(crate) fn schedule(header: &Header) {
    if !run_queue::enqueue_here(header)
        && let RemoteWake::Push = header.state.claim_remote_wake()
    {
        header.ref_inc();
        // SAFETY: `ref_inc` just created the reference this `TaskRef` owns.
        let task = unsafe { TaskRef::from_raw(NonNull::from(header)) };
        // If the runtime is gone the wake is moot: `push` hands the entry back
        // and it is dropped here, releasing the reference.
        let _ = header.owner().push(Remote::Wake(task));
    }
}

impl TaskRef {
    /// Requests cancellation (see `JoinHandle::cancel`): sets `CANCELLED` and
    /// schedules the task, so the loop drops its future on its next turn. A
    /// wake with a reason, hence here beside [`schedule`].
    pub(crate) fn cancel(&self) {
        let header = self.header();
        match header.state.request_cancel() {
            CancelRequested::Schedule => schedule(header),
            CancelRequested::Nothing => {}
        }
    }
}
