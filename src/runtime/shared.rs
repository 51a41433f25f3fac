//! The part of a runtime other threads can touch: the injector.
//!
//! Everything else in a runtime belongs to its thread. `Shared` is the one
//! `Send + Sync` piece, reached through [`Handle`](crate::Handle)s and through
//! the wakers of its tasks. It holds a queue of [`Remote`] requests (spawn this
//! task, wake that one, call this closure, cancel that timer), the flags a
//! push or a stop request sets beside it, and the `mio::Waker` that
//! interrupts the loop's `epoll_wait`.
//!
//! # The remote wake protocol
//!
//! The loop is *idle* whenever it may be about to block, or is not running
//! at all: then a push must write the eventfd, which ends `epoll_wait` (or
//! makes the poll fd readable, for an embedder watching it between turns).
//! While it works, a push need not: the loop looks at the injector before it
//! next blocks. The `idle` flag lives under the injector's lock with the
//! queue, so the two are always seen together.
//!
//! ```text
//!  other thread: push(item)        loop thread (steps of `core.rs`)
//!  ───────────────────────        ─────────────────────────────────
//!  lock                            1. idle, before a wait that may block,
//!  queue.push(item)                   unless already announced:
//!  pending = true                     lock; idle = queue empty and no nudge;
//!  if idle { idle = false;            unlock; if not idle: peek, don't wait
//!            eventfd write }       2. poll: epoll_wait(timeout)
//!  unlock                          3. inject, if items are pending:
//!   └ "the push's write"              lock; idle = false; pending = false;
//!                                     take the queue; unlock
//!                                  ... 4. timers, 5. run what was taken ...
//!                                  leave: returning or unwinding out of the
//!                                  loop, unless it already announced idle:
//!                                     lock; idle = true; if queue non-empty
//!                                     or nudged: the eventfd write; unlock
//! ```
//!
//! `pending` is an atomic copy of "the queue is non-empty", written under the
//! lock; the loop reads it without the lock, so a busy turn with nothing
//! pushed takes no lock at all, and a non-empty injector always keeps the next
//! turn from blocking.
//!
//! The loop also remembers whether it has announced idle and not marked
//! itself busy since (`Core`'s `idle_announced`), so that step 1 (idle) and leave take
//! the lock only when the flag must change. Its invariant: while it is set,
//! `idle` is set *or an eventfd write is pending* — the only other way
//! `idle` is cleared is the push's write, which writes the eventfd, and the loop forgets
//! the flag when it consumes that event. So a wait that skips step 1 still
//! ends at once if anything came in. And step 3 (inject) takes no lock when
//! nothing is pending — on busy turns, on the first turn of a run (a
//! `block_on` of a ready future takes no lock at all), and on a turn woken
//! from its wait by I/O, which leaves the announcement standing, so that
//! the next wait needs no step 1 either: a loop that lives on I/O takes no
//! lock. A push that finds the loop still marked idle while it works pays
//! one eventfd write (once per idle period: the write clears `idle`), which
//! costs a syscall but is never wrong.
//!
//! The races, and why no wake is lost:
//!
//! - A push that lands while the loop works (after step 3 took the lock,
//!   before step 1 or leave) finds `idle == false` and makes no syscall;
//!   `pending` then keeps the next turn from blocking, and step 3 takes the
//!   item. So a busy loop gets remote work for the price of a lock. If the
//!   loop works without having taken the lock since its last wait (it woke
//!   for I/O), the push finds `idle == true`: it is the push's write below.
//! - A push that lands after step 1 finds `idle == true` and writes the eventfd
//!   (the push's write), so the next `epoll_wait` returns at once — however long its timeout.
//!   Clearing `idle` at the push's write makes every further push free until the loop has
//!   drained the queue: one syscall per idle period, not per item. No wait
//!   ever starts with `idle == false` unless an eventfd write is pending.
//! - Flags set without an item (a remote wake of `block_on`'s own future, or
//!   `stop`) use [`Shared::notify`]: set the flag first, then notify. If the
//!   loop is idle, that is the push's write. If it is at work, notify leaves a *nudge*
//!   under the lock, and the next step 1 counts it like a queued item: it does
//!   not mark the loop idle, so the turn about to block polls without
//!   waiting, and its caller (`block_on`, `run_forever`) reads its flags
//!   again right after. Without the nudge, a flag set after the caller's
//!   last look but before the step 1 that precedes a blocking wait would be
//!   missed until some unrelated event (`tests/cross_thread_stress.rs`
//!   races exactly that). `block_on` looks at its flag with a plain load,
//!   which may miss a wake that a swap would see; so step 1, after the
//!   lock that the wake's notify took after setting the flag, reads it
//!   once more and turns the wait into a poll if it is set
//!   (`Core::announce_idle`, `MainWaker::take_wake`).
//! - Leaving the loop (`Core::leave`): between runs nobody drains the queue, so the
//!   loop must be idle then, and items (or a nudge) that arrived while it
//!   worked, and so wrote nothing, get their eventfd write now — else an
//!   embedder waiting on the poll fd between runs would never hear of them
//!   (`tests/leaving_the_loop.rs` leaves the loop every way there is).
//!
//! - The eventfd is never read. mio registers it edge-triggered, so each
//!   write is a new edge whatever the count already is, and `epoll_wait`
//!   reports it once; the loop takes that event as "look at the injector"
//!   and needs nothing from the counter (mio reads it only to reset it, in
//!   the rare case a write would overflow it).
//!
//! Two more writes serve a host loop that drives kettle one turn at a time
//! (`core/host.rs`): host code that spawns between runs makes the push's
//! write itself ([`Shared::wake_from_host`]), and a turn that leaves work
//! behind writes whatever `idle` says ([`Shared::signal_host`]), because an
//! edge-triggered host needs a new edge, not a pending one. Either is the
//! push's write as far as the protocol goes. After each write, a host's
//! wake callback (`Builder::on_wake`) is called, outside the lock: one call
//! per write, so one per idle period.
//!
//! `core/loom_model.rs` checks these races under every interleaving loom
//! builds: a push, a notified flag, a stop and both at once, each racing the
//! loop going idle, and a push racing the loop being left.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64};
use std::thread::{self, ThreadId};

use crate::loom::sync::atomic::{AtomicBool, Ordering};
use crate::loom::sync::{Mutex, MutexGuard};
use crate::task::header::TaskRef;
use crate::time::queue::TimerKey;

/// A request from outside the loop's thread (or from code not running inside
/// the loop), carried out by the loop on its next turn.
pub(crate) enum Remote {
    /// Adopt this task, built elsewhere, and run it.
    Spawn(TaskRef),
    /// Schedule this task (a wake from another thread).
    Wake(TaskRef),
    /// Run this closure as a callback (`call_soon_threadsafe`).
    Call(Box<dyn FnOnce() + Send>, &'static std::panic::Location<'static>),
    /// Remove this timer, if it is still pending: its `Sleep` was dropped,
    /// or registered again elsewhere, on another thread (see `registry.rs`).
    CancelTimer(TimerKey),
}

/// A host's wake callback ([`Builder::on_wake`](crate::Builder::on_wake)).
pub(crate) type WakeHook = Arc<dyn Fn() + Send + Sync>;

/// The thread-safe part of a runtime.
pub(crate) struct Shared {
    /// Unique per runtime in this process (never reused, unlike addresses).
    id: u32,
    /// The thread the runtime lives on (`Runtime` is `!Send`).
    owner_thread: ThreadId,
    inject: Mutex<Inject>,
    /// A hint, kept equal to "the queue is non-empty" under the lock, that
    /// lets the loop skip the lock on turns when nothing was pushed.
    pending: AtomicBool,
    stop: AtomicBool,
    /// The next unused task id (`task/id.rs`): the loop takes them in
    /// blocks, other threads one at a time.
    next_task_id: AtomicU64,
    /// Called after each eventfd write, outside the lock: a host with no
    /// fd to watch learns that kettle has work (`runtime/embed.rs`).
    on_wake: Option<WakeHook>,
}

struct Inject {
    queue: Vec<Remote>,
    /// The loop is not inside a turn's working phase; see the module docs.
    idle: bool,
    /// A flag-only notify arrived while the loop was at work: the next step 1 (idle)
    /// must not mark it idle (see the module docs).
    nudged: bool,
    /// The runtime is gone: refuse new items.
    closed: bool,
    /// Interrupts `epoll_wait`. Dropped (closing its fd) with the runtime.
    waker: Option<mio::Waker>,
}

impl Shared {
    pub(crate) fn new(waker: mio::Waker, on_wake: Option<WakeHook>) -> Shared {
        // 32 bits, so that a timer key can carry its runtime's id for free
        // (see `time/queue.rs`); never reused, so never wrapped.
        static NEXT_ID: AtomicU32 = AtomicU32::new(1);
        let id = NEXT_ID
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |id| id.checked_add(1))
            .expect("kettle: 2^32 runtimes created in this process; runtime ids would repeat");
        Shared {
            id,
            owner_thread: thread::current().id(),
            inject: Mutex::new(Inject {
                queue: Vec::new(),
                idle: true,
                nudged: false,
                closed: false,
                waker: Some(waker),
            }),
            pending: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            next_task_id: AtomicU64::new(1),
            on_wake,
        }
    }

    /// Reserves `count` task ids; returns the first. Unique: ids are never
    /// handed out twice (2^64 of them do not run out).
    pub(crate) fn take_task_ids(&self, count: u64) -> u64 {
        self.next_task_id.fetch_add(count, Ordering::Relaxed)
    }

    pub(crate) fn id(&self) -> u32 {
        self.id
    }

    /// Whether the calling thread is the one the runtime lives on.
    pub(crate) fn is_owner_thread(&self) -> bool {
        thread::current().id() == self.owner_thread
    }

    fn lock(&self) -> MutexGuard<'_, Inject> {
        // Nothing panics while holding this lock except an allocation failure;
        // the data stays consistent, so a poisoned lock is still usable.
        self.inject.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Queues `item` for the loop, waking it if idle. Hands the item back if
    /// the runtime is gone.
    pub(crate) fn push(&self, item: Remote) -> Result<(), Remote> {
        let mut inject = self.lock();
        if inject.closed {
            return Err(item);
        }
        inject.queue.push(item);
        self.pending.store(true, Ordering::Release);
        let wrote = inject.wake_if_idle();
        drop(inject);
        self.after_write(wrote);
        Ok(())
    }

    /// Makes the loop re-read flags set before this call: wakes it if it is
    /// idle, else nudges it so that it does not block before it has.
    pub(crate) fn notify(&self) {
        let mut inject = self.lock();
        let wrote = inject.wake_if_idle();
        if !wrote {
            inject.nudged = true;
        }
        drop(inject);
        self.after_write(wrote);
    }

    /// Work was added on the loop's thread while the loop is not running
    /// (`Runtime::spawn` from host code, between turns): make the poll fd
    /// readable, as a push would. If the loop is not idle, a write is
    /// already pending that the host has not yet turned for.
    pub(crate) fn wake_from_host(&self) {
        let wrote = self.lock().wake_if_idle();
        self.after_write(wrote);
    }

    /// After an embedder's turn that leaves work behind: write the eventfd
    /// whatever `idle` says, so that the poll fd gets a *new* edge and an
    /// edge-triggered host comes back (`runtime/embed.rs`). The write is
    /// the push's write as far as the protocol goes: `idle` is cleared, and
    /// the loop forgets its announcement when it consumes the event.
    pub(crate) fn signal_host(&self) {
        let mut inject = self.lock();
        inject.idle = true;
        let wrote = inject.wake_if_idle();
        drop(inject);
        self.after_write(wrote);
    }

    /// Calls the host's wake callback after an eventfd write, with the lock
    /// released (the callback may push again). A panic in it is contained:
    /// it runs on whichever thread pushed.
    #[inline]
    fn after_write(&self, wrote: bool) {
        if wrote && let Some(hook) = &self.on_wake {
            crate::contain::call(|| hook());
        }
    }

    pub(crate) fn request_stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.notify();
    }

    /// Whether a stop request is pending.
    pub(crate) fn stop_requested(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Consumes a pending stop request.
    pub(crate) fn take_stop(&self) -> bool {
        self.stop.swap(false, Ordering::SeqCst)
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Whether items are waiting in the injector (the loop must not block).
    pub(crate) fn has_pending(&self) -> bool {
        self.pending.load(Ordering::Acquire)
    }

    /// Loop side, step 3 (inject): the loop is at work; take everything queued.
    /// `into` must be empty; it is swapped with the queue so that both
    /// vectors keep their capacity and steady state allocates nothing.
    ///
    /// The loop skips this step (and the lock) when nothing was pushed,
    /// unless it has just woken from a wait it announced (see the module
    /// docs).
    pub(crate) fn begin_work(&self, into: &mut Vec<Remote>) {
        debug_assert!(into.is_empty(), "the drain buffer is empty between turns");
        let mut inject = self.lock();
        inject.idle = false;
        self.pending.store(false, Ordering::Release);
        std::mem::swap(&mut inject.queue, into);
    }

    /// Loop side, step 1 (idle): the loop is about to block. Marks it idle,
    /// so that pushes from now on wake it — unless items arrived meanwhile
    /// (`has_pending` then keeps the next turn from blocking) or a notify
    /// nudged it. Returns whether it marked the loop idle.
    pub(crate) fn end_work(&self) -> bool {
        let mut inject = self.lock();
        let nudged = std::mem::take(&mut inject.nudged);
        inject.idle = inject.queue.is_empty() && !nudged;
        inject.idle
    }

    /// Loop side, leaving the loop (see `Core::leave`): marks it idle, and if
    /// items or a nudge are already waiting — their pushes found the loop at
    /// work and wrote nothing — writes the eventfd now, so that an embedder
    /// watching the poll fd sees them. Returns whether it wrote.
    pub(crate) fn leave(&self) -> bool {
        let mut inject = self.lock();
        let waiting = !inject.queue.is_empty() | std::mem::take(&mut inject.nudged);
        inject.idle = true;
        let wrote = waiting && inject.wake_if_idle();
        drop(inject);
        self.after_write(wrote);
        wrote
    }

    /// The runtime is being dropped: refuse further items, close the eventfd,
    /// and return whatever was still queued.
    pub(crate) fn close(&self) -> Vec<Remote> {
        let mut inject = self.lock();
        inject.closed = true;
        inject.waker = None;
        std::mem::take(&mut inject.queue)
    }
}

impl Inject {
    /// The push's write: if the loop is idle, marks it busy and writes the
    /// eventfd. Returns whether it wrote (never once the runtime is gone).
    fn wake_if_idle(&mut self) -> bool {
        if !self.idle {
            return false;
        }
        self.idle = false;
        match &self.waker {
            // Fails only if the eventfd's counter is full; the loop then
            // already has a wake-up pending.
            Some(waker) => {
                let _ = waker.wake();
                true
            }
            None => false,
        }
    }
}
