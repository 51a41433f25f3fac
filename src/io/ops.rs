//! The futures of [`Async`](super::Async)'s operations: [`Ready`]
//! (`readable`, `writable`), [`IoWith`] (`read_with`, `write_with`) and
//! [`IoWithMut`] (their `&mut T` forms).
//!
//! Each poll is one call to the reactor's `poll_io`: ready → one attempt →
//! a result, or (after `WouldBlock`, which clears the readiness observed) a
//! wait. While it waits, the future owns its own entry in the direction's
//! waiter list; `poll_io` gives the entry back when the operation completes,
//! and `Drop` when it is cancelled — the shape of the sockets' `Io` future
//! in `src/net/evented.rs`.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::runtime::reactor::registration::Registration;
use crate::runtime::reactor::{Direction, WaitSlot};

/// Never clears readiness on success: for an arbitrary descriptor, a short
/// read proves nothing (see the module docs), so only `WouldBlock` does.
fn never_drained<R>(_: &R) -> bool {
    false
}

/// The future of [`Async::readable`](super::Async::readable) and
/// [`Async::writable`](super::Async::writable): done once readiness in its
/// direction is recorded, which it leaves set.
#[must_use = "futures do nothing unless awaited"]
pub struct Ready<'a> {
    registration: &'a Registration,
    direction: Direction,
    /// This future's entry in the direction's waiter list, while it waits.
    entry: Option<u64>,
}

impl<'a> Ready<'a> {
    pub(super) fn new(registration: &'a Registration, direction: Direction) -> Ready<'a> {
        Ready { registration, direction, entry: None }
    }
}

impl Future for Ready<'_> {
    type Output = io::Result<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        // An attempt that cannot return `WouldBlock`: ready as soon as the
        // bit is set, and the bit stays set for the operation that follows.
        let attempt = || Ok(());
        this.registration.poll_io(
            cx,
            this.direction,
            WaitSlot::Entry(&mut this.entry),
            attempt,
            never_drained,
        )
    }
}

impl Drop for Ready<'_> {
    fn drop(&mut self) {
        self.registration.forget(self.direction, &mut self.entry);
    }
}

impl fmt::Debug for Ready<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ready").field("direction", &self.direction).finish_non_exhaustive()
    }
}

/// The future of [`Async::read_with`](super::Async::read_with) and
/// [`Async::write_with`](super::Async::write_with).
#[must_use = "futures do nothing unless awaited"]
pub struct IoWith<'a, T, F> {
    io: &'a T,
    registration: &'a Registration,
    direction: Direction,
    op: F,
    /// This future's entry in the direction's waiter list, while it waits.
    entry: Option<u64>,
}

impl<'a, T, F> IoWith<'a, T, F> {
    pub(super) fn new(io: &'a T, registration: &'a Registration, direction: Direction, op: F) -> Self {
        IoWith { io, registration, direction, op, entry: None }
    }
}

// Nothing is ever pinned through this future: `op` is called by `&mut`.
impl<T, F> Unpin for IoWith<'_, T, F> {}

impl<T, R, F> Future for IoWith<'_, T, F>
where
    F: FnMut(&T) -> io::Result<R>,
{
    type Output = io::Result<R>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<R>> {
        let this = self.get_mut();
        let (io, op) = (this.io, &mut this.op);
        this.registration.poll_io(
            cx,
            this.direction,
            WaitSlot::Entry(&mut this.entry),
            || op(io),
            never_drained,
        )
    }
}

impl<T, F> Drop for IoWith<'_, T, F> {
    fn drop(&mut self) {
        self.registration.forget(self.direction, &mut self.entry);
    }
}

impl<T, F> fmt::Debug for IoWith<'_, T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IoWith").field("direction", &self.direction).finish_non_exhaustive()
    }
}

/// The future of [`Async::read_with_mut`](super::Async::read_with_mut) and
/// [`Async::write_with_mut`](super::Async::write_with_mut).
#[must_use = "futures do nothing unless awaited"]
pub struct IoWithMut<'a, T, F> {
    io: &'a mut T,
    registration: &'a Registration,
    direction: Direction,
    op: F,
    /// This future's entry in the direction's waiter list, while it waits.
    entry: Option<u64>,
}

impl<'a, T, F> IoWithMut<'a, T, F> {
    pub(super) fn new(io: &'a mut T, registration: &'a Registration, direction: Direction, op: F) -> Self {
        IoWithMut { io, registration, direction, op, entry: None }
    }
}

// Nothing is ever pinned through this future: `op` is called by `&mut`.
impl<T, F> Unpin for IoWithMut<'_, T, F> {}

impl<T, R, F> Future for IoWithMut<'_, T, F>
where
    F: FnMut(&mut T) -> io::Result<R>,
{
    type Output = io::Result<R>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<R>> {
        let this = self.get_mut();
        let (io, op) = (&mut *this.io, &mut this.op);
        this.registration.poll_io(
            cx,
            this.direction,
            WaitSlot::Entry(&mut this.entry),
            || op(io),
            never_drained,
        )
    }
}

impl<T, F> Drop for IoWithMut<'_, T, F> {
    fn drop(&mut self) {
        self.registration.forget(self.direction, &mut self.entry);
    }
}

impl<T, F> fmt::Debug for IoWithMut<'_, T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IoWithMut").field("direction", &self.direction).finish_non_exhaustive()
    }
}
