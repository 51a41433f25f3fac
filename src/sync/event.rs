//! A flag tasks can wait on: [`Event`] (asyncio's `Event`).
//!
//! # How it works
//!
//! The state is a flag, a **generation** counter and a [`WaitList`] of
//! wakers. `set` on a clear event raises the flag, moves the generation on and
//! notifies every waiter; `clear` only lowers the flag. A waiter remembers the
//! generation it registered in, and completes once the flag is up *or* the
//! generation has moved on:
//!
//! ```text
//!   wait() registers in generation g ──▶ set(): generation g+1, wake all
//!                                        clear(): flag down   ──▶ waiter runs:
//!                                                                  g ≠ g+1 → done
//! ```
//!
//! That is asyncio's promise: `set()` releases every task waiting at that
//! moment, even if `clear()` runs before they do. Testing the flag alone would
//! strand them — they would wake, see the flag down and wait again.
//!
//! The wait list serves only to reach the wakers and to let a dropped waiter
//! leave in O(1); whether a waiter is done is decided by the generation.
//!
//! # Cancel safety
//!
//! Waiting takes nothing from anyone, so dropping a [`Wait`] at any point
//! only removes its entry: other waiters are unaffected.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::waiters::{WaitList, Wakeups};

/// A flag that tasks can wait for (asyncio's `Event`): [`wait`](Event::wait)
/// completes once [`set`](Event::set) has been called, and at once while the
/// event is set.
///
/// `Event` is a cheap [`Clone`] handle: every clone names the same event. It
/// is not thread-safe (`!Send`), like asyncio's.
///
/// ```
/// use kettle::sync::Event;
///
/// kettle::run(async {
///     let ready = Event::new();
///     let waiter = kettle::spawn({
///         let ready = ready.clone();
///         async move {
///             ready.wait().await;
///             "released"
///         }
///     });
///     kettle::yield_now().await; // the waiter is now waiting
///     ready.set();
///     assert_eq!(waiter.await.unwrap(), "released");
/// });
/// ```
#[doc(alias = "asyncio.Event")]
#[derive(Clone)]
pub struct Event {
    state: Rc<RefCell<State>>,
}

struct State {
    is_set: bool,
    /// Moved on by every `set` that raises the flag.
    generation: u64,
    /// Wakers of waiters; notified (and emptied) by `set`.
    waiters: WaitList,
}

impl Event {
    /// A new event, not set.
    pub fn new() -> Event {
        let state = State { is_set: false, generation: 0, waiters: WaitList::new() };
        Event { state: Rc::new(RefCell::new(state)) }
    }

    /// Sets the event, releasing every task waiting for it — even if the
    /// event is cleared again before they run. Later [`wait`](Event::wait)s
    /// complete at once until [`clear`](Event::clear). Setting a set event
    /// does nothing.
    pub fn set(&self) {
        let mut wakeups = Wakeups::new();
        {
            let mut state = self.state.borrow_mut();
            if state.is_set {
                // Nobody waits on a set event.
                debug_assert!(state.waiters.is_empty(), "nobody waits while the event is set");
                return;
            }
            state.is_set = true;
            state.generation += 1;
            state.waiters.notify_all(&mut wakeups);
        }
        wakeups.fire();
    }

    /// Clears the event: later [`wait`](Event::wait)s wait for the next
    /// [`set`](Event::set). Waiters released by an earlier `set` stay released.
    pub fn clear(&self) {
        self.state.borrow_mut().is_set = false;
    }

    /// Whether the event is set.
    pub fn is_set(&self) -> bool {
        self.state.borrow().is_set
    }

    /// Waits until the event is set; completes at once if it is.
    ///
    /// # Cancel safety
    /// Dropping the future only gives up its place; nothing is lost.
    pub fn wait(&self) -> Wait<'_> {
        Wait { event: self, registered: None }
    }
}

impl Default for Event {
    /// A new event, not set.
    fn default() -> Event {
        Event::new()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.borrow();
        f.debug_struct("Event")
            .field("is_set", &state.is_set)
            .field("waiters", &state.waiters.waiting())
            .finish()
    }
}

/// The future returned by [`Event::wait`].
#[must_use = "futures do nothing unless awaited"]
pub struct Wait<'a> {
    event: &'a Event,
    /// Our entry in the wait list and the generation we registered in.
    registered: Option<(usize, u64)>,
}

impl Future for Wait<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        // Old wakers are retired into `wakeups` and dropped once the state
        // is no longer borrowed (`waiters.rs`).
        let mut wakeups = Wakeups::new();
        let poll = {
            let mut state = this.event.state.borrow_mut();
            let released = match this.registered {
                Some((key, generation)) => {
                    // Keep the latest waker in case we wait on.
                    state.waiters.poll_notified(key, cx.waker(), &mut wakeups);
                    state.is_set || state.generation != generation
                }
                None => state.is_set,
            };
            if released {
                if let Some((key, _)) = this.registered.take() {
                    state.waiters.remove(key, &mut wakeups);
                }
                Poll::Ready(())
            } else {
                if this.registered.is_none() {
                    let key = state.waiters.push(cx.waker());
                    this.registered = Some((key, state.generation));
                }
                Poll::Pending
            }
        };
        wakeups.fire();
        poll
    }
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        if let Some((key, _)) = self.registered {
            let mut wakeups = Wakeups::new();
            self.event.state.borrow_mut().waiters.remove(key, &mut wakeups);
            wakeups.fire(); // the borrow ended with the statement above
        }
    }
}

impl fmt::Debug for Wait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait").field("registered", &self.registered.is_some()).finish()
    }
}
