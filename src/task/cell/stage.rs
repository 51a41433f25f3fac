//! The typed half of the task cell: [`TaskCell<F>`], the heap block itself,
//! and the six functions of its [`Vtable`], the only code in kettle that
//! knows the future's type `F`.
//!
//! A cell is a [`Header`] followed by the future's [`Stage`]: the future while
//! it runs, then its output, then nothing. One allocation holds both, so
//! spawning allocates exactly once. `TaskCell<F>` is `repr(C)` with the header
//! first, so a pointer to the header is also a pointer to the cell: that is
//! how the vtable's functions, handed only a `NonNull<Header>`, find the
//! stage. Each function is instantiated per future type at spawn, and every
//! caller reaches it through the header's `vtable` (see `cell.rs`, whose
//! rules R1–R5 the `unsafe` blocks here name).

use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::ptr::{self, NonNull};
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::contain::{self, Payload};
use crate::loom::cell::UnsafeCell;
use crate::runtime::shared::Shared;
use crate::task::error::JoinError;
use crate::task::header::{Header, Vtable};
use crate::task::id::Id;

/// What a cell holds after its header.
enum Stage<F: Future> {
    Running(F),
    Finished(Result<F::Output, JoinError>),
    Consumed,
}

#[repr(C)]
pub(super) struct TaskCell<F: Future> {
    header: Header,
    stage: UnsafeCell<Stage<F>>,
}

impl<F: Future + 'static> TaskCell<F> {
    const VTABLE: Vtable = Vtable {
        poll: poll::<F>,
        cancel: cancel::<F>,
        take_output: take_output::<F>,
        drop_output: drop_output::<F>,
        with_output: with_output::<F>,
        dealloc: dealloc::<F>,
    };

    /// Allocates a cell holding two references (the caller makes them the
    /// runtime's and the join handle's). Not yet adopted by any loop.
    ///
    /// # Safety
    /// Moving `future` to the owner's thread must be sound (R1): either we are
    /// on that thread, or `F: Send`, or the value is in a state that is `Send`.
    pub(super) unsafe fn allocate(
        future: F,
        owner: Arc<Shared>,
        id: Id,
        location: &'static Location<'static>,
    ) -> NonNull<Header> {
        let cell = Box::new(TaskCell {
            header: Header::new(&Self::VTABLE, owner, id, location),
            stage: UnsafeCell::new(Stage::Running(future)),
        });
        NonNull::from(Box::leak(cell)).cast::<Header>()
    }

    /// # Safety
    /// `ptr` points at a live `TaskCell<F>` (guaranteed by the vtable, which is
    /// only ever paired with cells of its own `F`).
    unsafe fn stage<'a>(ptr: NonNull<Header>) -> &'a UnsafeCell<Stage<F>> {
        // SAFETY: `TaskCell` is `repr(C)` with the header first, so the header
        // pointer is also the cell pointer; the caller guarantees it is live.
        unsafe { &ptr.cast::<TaskCell<F>>().as_ref().stage }
    }
}

/// Drops whatever `stage` holds, in place (a running future is pinned), and
/// returns the payload of a panic from its destructor, if any.
///
/// # Safety
/// The caller has exclusive access to the stage (R1 or R2).
unsafe fn drop_stage<F: Future>(stage: *mut Stage<F>) -> Option<Payload> {
    // SAFETY: exclusive access (caller); the value is dropped exactly once and
    // immediately overwritten, so it is never observed half-dropped.
    let panicked = contain::catch(|| unsafe { ptr::drop_in_place(stage) });
    // SAFETY: the old value was dropped above (even if its destructor panicked,
    // unwinding finished dropping its fields), so writing does not leak.
    unsafe { ptr::write(stage, Stage::Consumed) };
    panicked.err()
}

unsafe fn poll<F: Future + 'static>(ptr: NonNull<Header>, cx: &mut Context<'_>) -> bool {
    // SAFETY: the vtable pairs `ptr` with `F`.
    let stage = unsafe { TaskCell::<F>::stage(ptr) };
    stage.with_mut(|stage| {
        // SAFETY: R1 — we are on the owner thread, the only one that touches
        // a running future, so the stage is ours while it is `Running`.
        let Stage::Running(future) = (unsafe { &mut *stage }) else {
            debug_assert!(false, "only a running task is polled");
            return true;
        };
        // SAFETY: the future lives in a heap cell that is never moved; it is
        // dropped in place by `drop_stage`, so the pinning guarantee holds.
        let future = unsafe { Pin::new_unchecked(future) };
        let output = match contain::catch(|| future.poll(cx)) {
            Ok(Poll::Pending) => return false,
            Ok(Poll::Ready(value)) => Ok(value),
            Err(payload) => Err(JoinError::panic(payload)),
        };
        // SAFETY: still exclusive (R1); the future is done and is dropped in place.
        let drop_panic = unsafe { drop_stage(stage) };
        // A panic while dropping the finished future replaces a value (which
        // is then dropped, contained) but not an earlier panic (whose payload
        // wins).
        let output = match (output, drop_panic) {
            (Ok(value), Some(payload)) => {
                contain::drop_value(value);
                Err(JoinError::panic(payload))
            }
            (output, Some(payload)) => {
                contain::drop_payload(payload);
                output
            }
            (output, None) => output,
        };
        // SAFETY: exclusive (R1); `COMPLETE` is set only after this write (R2).
        unsafe { ptr::write(stage, Stage::Finished(output)) };
        true
    })
}

unsafe fn cancel<F: Future + 'static>(ptr: NonNull<Header>) {
    // SAFETY: the vtable pairs `ptr` with `F`.
    let stage = unsafe { TaskCell::<F>::stage(ptr) };
    stage.with_mut(|stage| {
        // SAFETY: exclusive (R1).
        let error = unsafe { drop_stage(stage) }.map_or_else(JoinError::cancelled, JoinError::panic);
        // SAFETY: exclusive (R1); `COMPLETE` is set only after this write (R2).
        unsafe { ptr::write(stage, Stage::Finished(Err(error))) };
    });
}

unsafe fn take_output<F: Future + 'static>(ptr: NonNull<Header>, dst: *mut ()) {
    // SAFETY: the vtable pairs `ptr` with `F`.
    let stage = unsafe { TaskCell::<F>::stage(ptr) };
    // SAFETY: R2 — `COMPLETE` was observed with acquire ordering by the single
    // party entitled to the output.
    let taken = stage.with_mut(|stage| std::mem::replace(unsafe { &mut *stage }, Stage::Consumed));
    match taken {
        Stage::Finished(output) => {
            // SAFETY: the caller passes a `*mut Poll<Result<F::Output, JoinError>>`
            // (the join handle is typed by the same `F::Output`).
            unsafe { *dst.cast::<Poll<Result<F::Output, JoinError>>>() = Poll::Ready(output) };
        }
        _ => panic!("JoinHandle polled after it already returned the task's output"),
    }
}

unsafe fn drop_output<F: Future + 'static>(ptr: NonNull<Header>) {
    // SAFETY: the vtable pairs `ptr` with `F`.
    let stage = unsafe { TaskCell::<F>::stage(ptr) };
    // SAFETY: exclusive per R2: the caller is the one party entitled to the
    // output.
    if unsafe { output_already_taken(stage) } {
        return;
    }
    // SAFETY: as above. A panicking output destructor is contained: it runs
    // where nobody awaits the result.
    if let Some(payload) = stage.with_mut(|stage| unsafe { drop_stage(stage) }) {
        contain::drop_payload(payload);
    }
}

/// Whether the stage is already empty: the join handle took the output, and
/// its drop has nothing left to drop — the common end of an awaited task.
///
/// The simple version drops the stage anyway, writing `Consumed` over
/// `Consumed` inside `catch_unwind` (about 20 instructions a task).
///
/// # Safety
/// As for `drop_output`: the caller is the one party entitled to the output.
#[inline]
unsafe fn output_already_taken<F: Future>(stage: &UnsafeCell<Stage<F>>) -> bool {
    // SAFETY: forwarded from the caller; a read only.
    stage.with(|stage| matches!(unsafe { &*stage }, Stage::Consumed))
}

unsafe fn with_output<F: Future + 'static>(ptr: NonNull<Header>, f: &mut dyn FnMut(*const ())) {
    // SAFETY: the vtable pairs `ptr` with `F`.
    let stage = unsafe { TaskCell::<F>::stage(ptr) };
    stage.with(|stage| {
        // SAFETY: the caller holds the output back from the join handle
        // (`DONE_CALLBACKS`), so nobody writes the stage during this read.
        let output = match unsafe { &*stage } {
            Stage::Finished(output) => (output as *const Result<F::Output, JoinError>).cast(),
            _ => std::ptr::null(),
        };
        f(output)
    });
}

unsafe fn dealloc<F: Future + 'static>(ptr: NonNull<Header>) {
    // SAFETY: called once, when the last reference is gone (R5); the cell was
    // allocated by `Box` in `allocate` with this very type.
    let cell = unsafe { Box::from_raw(ptr.cast::<TaskCell<F>>().as_ptr()) };
    debug_assert!(
        // SAFETY: the last reference: nobody else can reach the stage.
        !cell.stage.with(|stage| matches!(unsafe { &*stage }, Stage::Running(_))),
        "the last reference to a task never drops a running future (R5)"
    );
    // What is left may be user values (a foreign join waker, an untaken
    // output); whoever drops the last reference, anywhere, must not unwind.
    contain::drop_value(cell);
}
