//! Tasks: spawned futures, their handles, and how they are woken.
//!
//! # Vocabulary
//!
//! A **task** is a future handed to the runtime with [`spawn`] (asyncio's
//! `create_task`). The runtime owns it and polls it whenever it is woken; the
//! caller keeps a [`JoinHandle`] to await its output or cancel it.
//!
//! # Where a task lives
//!
//! Each task is a single heap block, the *task cell*: a header followed by
//! the future, whose slot later holds the output. One allocation per spawn.
//!
//! ```text
//! ┌─────────────────────── Header (72 bytes) ────────────┬──── Stage<F> ─────┐
//! │ state: State — the flags and the reference count,    │ Running(F)        │
//! │   one atomic word                  vtable    owner   │ Finished(Result)  │
//! │ flags: LoopFlags — the loop-only Cells, 4 × 32 bits: │ Consumed          │
//! │   key, the key of its notes (name, timings) if any,  │                   │
//! │   polls, and queued | done | done callbacks          │                   │
//! │ join_waker (guarded by a state bit)                  │                   │
//! │ id, spawn location (fixed)                           │                   │
//! └──────────────────────────────────────────────────────┴───────────────────┘
//! ```
//!
//! The files, each importing only those listed before it (and the runtime):
//!
//! | file            | holds                                                        |
//! |-----------------|--------------------------------------------------------------|
//! | `id.rs`, `notes.rs` | a task's id; its name and timings, kept out of line       |
//! | `state.rs`      | the state word; every transition                             |
//! | `loop_flags.rs` | the loop-only flags: key, queued, done, counts               |
//! | `header.rs`     | the header and its vtable: what any holder may do            |
//! | `cell/stage.rs` | `TaskCell<F>`: the typed half, the vtable's six functions    |
//! | `lazy.rs`       | `spawn_with`'s future, built on the loop from a `Send` recipe |
//! | `cell.rs`       | `TaskRef`, the owning pointer: run, complete, join, free; R1–R5 |
//! | `waker.rs`      | a `Waker` is a `TaskRef` in disguise; `schedule`, `cancel`   |
//! | `join.rs`, `done.rs`, `remote.rs` | the handles and done callbacks, on `TaskRef` |
//! | `builder.rs`, `info.rs` | spawning with a name; what a task dump says (`TaskInfo`) |
//!
//! `task/` and `runtime/` depend on each other, on purpose: a task needs
//! `&Core` to prove it is on its loop's thread, and the loop polls tasks
//! (DESIGN.md, "Choices").
//!
//! The header's `vtable` is instantiated per future type and does the typed
//! work (poll, cancel, read the output, free); the rest of kettle only ever
//! sees a type-erased `TaskRef`. The runtime's slab owns one reference for
//! as long as the future exists; the join handle owns one; every `Waker`
//! owns one. The cell is freed when the last reference goes. Who may touch
//! which field from which thread is `cell.rs`'s rules R1–R5; the state
//! word's bits and protocols are in `state.rs`.
//!
//! # Life cycle
//!
//! ```text
//!   spawn ──(1)──▶ QUEUED ──(2)──▶ RUNNING ──(3)──▶ IDLE
//!                    ▲                │  │            │
//!                    └──────(4)───────┼──┼────────────┘
//!                                     │  └──(5)──▶ FINISHED ──(7)──▶ freed
//!   cancel ──(6)──▶ QUEUED ──(2')─────┴───────────▶ CANCELLED ─(7)─┘
//! ```
//!
//! 1. `Core::spawn` → `TaskRef::new_local` allocates the cell, born queued;
//!    `Core::adopt` puts it in the slab and pushes its key on the run queue.
//! 2. `Core::run_task` pops the key and calls `TaskRef::run` with a waker
//!    that points back at the task, which polls.
//!    (2') If `CANCELLED` is set, `run` drops the future instead of polling.
//! 3. The poll returned `Pending`; the task waits for a waker.
//! 4. `schedule` (from a waker or `cancel`) queues it again — at most once:
//!    the loop-only `queued` flag makes repeated wakes free.
//! 5. The poll returned `Ready` (or panicked, caught): `TaskRef::complete`
//!    stores the result and wakes the join handle.
//! 6. `JoinHandle::cancel` sets `CANCELLED` and schedules the task. A task
//!    cancelled before its first poll is dropped unpolled; a task that
//!    cancels itself finishes its current poll and is dropped at its next run.
//! 7. The slab lets go once the task is done *and* not queued (so a queued
//!    key never names a recycled slot); the cell is freed when the join
//!    handle and the last waker are gone.
//!
//! # Waking
//!
//! A wake on the runtime's own thread pushes the task's slab key onto the run
//! queue: no lock, no atomic, no syscall. A wake from any other thread goes
//! through the runtime's injector (see `runtime/shared.rs`), which wakes the
//! loop out of `epoll_wait` only if it is blocked there. A task never runs
//! inside `wake()`: it runs when the loop pops it, so a million self-wakes use
//! constant stack and cannot starve anyone (each turn polls only the tasks
//! that were queued when the turn began). Remote wakes are coalesced: while
//! one of a task's remote wakes waits in the injector, further ones push
//! nothing (the `REMOTE_QUEUED` state bit).
//!
//! The run queue holds slab keys, not pointers: the loop polls a task
//! through a copy of its slab entry's pointer (`TaskSlab::lend`), holding
//! no borrow of the slab, which stays free for a task that spawns while
//! being polled. A waker, by contrast, points at
//! the cell, not at a slab slot (`waker.rs`), so slab keys are reused
//! freely: a stale waker can only reach its own finished cell.

mod builder;
pub(crate) mod cell;
pub(crate) mod done;
mod error;
pub(crate) mod header;
pub(crate) mod id;
pub(crate) mod info;
pub(crate) mod join;
mod lazy;
pub(crate) mod loop_flags;
pub(crate) mod notes;
mod remote;
pub(crate) mod state;
pub(crate) mod waker;
mod yield_now;

pub use builder::Builder;
pub use error::JoinError;
pub use id::Id;
pub use info::{TaskInfo, TaskState};
pub use join::JoinHandle;
pub use remote::RemoteJoinHandle;
pub use yield_now::{YieldNow, yield_now};

use std::future::Future;

use crate::runtime::context;

/// Spawns `future` as a new task on the current runtime (asyncio's
/// `create_task`). The future need not be `Send`: it never leaves this thread.
///
/// The task is queued at once and first runs on the loop's next turn; tasks
/// spawned in a row run in spawn order.
///
/// # Panics
/// Outside a runtime. From another thread use
/// [`Handle::spawn`](crate::Handle::spawn); before the loop runs, use
/// [`Runtime::spawn`](crate::Runtime::spawn).
///
/// ```
/// let out = kettle::run(async {
///     let task = kettle::spawn(async { 6 * 7 });
///     task.await.unwrap()
/// });
/// assert_eq!(out, 42);
/// ```
#[doc(alias = "create_task")]
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
{
    let location = std::panic::Location::caller();
    context::expect_current("kettle::spawn", |core| JoinHandle::new(core.spawn(future, location)))
}

/// A snapshot of the task being polled right now (asyncio's
/// `current_task()`), or `None` outside a task: in `block_on`'s own future,
/// in a callback, or outside a runtime.
///
/// ```
/// kettle::run(async {
///     assert!(kettle::task::current().is_none()); // block_on's future is not a task
///     let task = kettle::spawn(async { kettle::task::current().unwrap() });
///     let id = task.id();
///     let me = task.await.unwrap();
///     assert_eq!(me.id, id);
///     assert_eq!(me.state, kettle::task::TaskState::Running);
///     assert_eq!(me.polls, 1);
/// });
/// ```
#[doc(alias = "current_task")]
pub fn current() -> Option<TaskInfo> {
    context::with_current(|core| core.and_then(|core| core.current_task()))
}
