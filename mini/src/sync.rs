//! A FIFO queue between tasks (asyncio's `Queue`). Items always live in the
//! buffer. A `put` pushes its item and *notifies* the first waiting getter: a
//! token meaning "a buffered item is reserved for you", so nobody takes it
//! between the wake and the getter's poll. A `get` that frees a slot of a
//! bounded queue notifies the first waiting putter the same way. A waiter
//! cancelled after it was notified passes its token on to the next in line: a
//! cancelled getter never swallows an item, nor a putter a free slot.

use std::collections::VecDeque;
use std::task::{Poll, Waker};
use std::{cell::RefCell, fmt, future::poll_fn, rc::Rc};

/// Waiters in line, first in first out: `(id, waker, notified)`. A notified
/// one keeps its entry, and its token, until its owner looks (or leaves).
// kettle: a doubly linked list by slab keys, O(1) throughout — WaitList, src/sync/waiters.rs.
#[derive(Default)]
struct Line {
    next_id: usize,
    entries: VecDeque<(usize, Waker, bool)>,
}

impl Line {
    fn tokens(&self) -> usize {
        self.entries.iter().filter(|entry| entry.2).count()
    }
    /// Wakers of the waiters not notified yet; with `notify`, just the first, given a token.
    fn wake(&mut self, notify: bool, wake: &mut Vec<Waker>) {
        for entry in self.entries.iter_mut().filter(|entry| !entry.2) {
            wake.push(entry.1.clone());
            if notify {
                entry.2 = true;
                return;
            }
        }
    }
    /// Leaves the line; `true` if `id` held a token.
    fn remove(&mut self, id: usize) -> bool {
        let at = self.entries.iter().position(|entry| entry.0 == id).expect("in line");
        self.entries.remove(at).is_some_and(|entry| entry.2)
    }
    /// One poll of a waiter: `true` if it may go ahead — it holds a token (used
    /// now), or it is not in line and `free` — else it waits in line.
    fn take_turn(&mut self, id: &mut Option<usize>, free: bool, waker: &Waker) -> bool {
        match self.entries.iter_mut().find(|entry| Some(entry.0) == *id) {
            Some(entry) if entry.2 => self.remove(id.take().expect("in line")),
            Some(entry) => {
                entry.1.clone_from(waker); // the latest poll's waker
                false
            }
            None if free => true,
            None => {
                self.next_id += 1;
                self.entries.push_back((self.next_id, waker.clone(), false));
                *id = Some(self.next_id);
                false
            }
        }
    }
}

const GET: usize = 0;
const PUT: usize = 1;

/// A first-in first-out queue between the tasks of one loop; a cheap `Clone` handle.
pub struct Queue<T> {
    state: Rc<RefCell<State<T>>>,
}

struct State<T> {
    items: VecDeque<T>,
    capacity: Option<usize>,
    closed: bool,
    /// The getters' line and the putters' line.
    lines: [Line; 2],
}

/// A waiter's place in line. Dropped — its get or put returned, or was
/// cancelled — it leaves, and passes a token it did not use on.
struct Turn<'a, T>(&'a Queue<T>, usize, Option<usize>);

impl<T> Drop for Turn<'_, T> {
    fn drop(&mut self) {
        let (line, Some(id)) = (self.1, self.2) else { return };
        self.0.with_state(|state, wake| {
            if state.lines[line].remove(id) && !(line == PUT && state.closed) {
                state.lines[line].wake(true, wake);
            }
        })
    }
}

impl<T> Queue<T> {
    pub fn new() -> Queue<T> {
        Queue::with_capacity(None)
    }
    /// A queue of at most `capacity` items: `put` waits while it is full. Panics if 0.
    #[track_caller]
    pub fn bounded(capacity: usize) -> Queue<T> {
        assert!(
            capacity > 0,
            "Queue::bounded(0): a queue needs room for at least one item (unbounded: Queue::new())"
        );
        Queue::with_capacity(Some(capacity))
    }
    fn with_capacity(capacity: Option<usize>) -> Queue<T> {
        let state = State { items: VecDeque::new(), capacity, closed: false, lines: Default::default() };
        Queue { state: Rc::new(RefCell::new(state)) }
    }
    /// Runs `f` on the state, releases the borrow, then wakes whom `f` collected.
    // kettle: a put or get that wakes nobody skips the wake list — Queue::with_state_quietly,
    // src/sync/queue/mod.rs.
    fn with_state<R>(&self, f: impl FnOnce(&mut State<T>, &mut Vec<Waker>) -> R) -> R {
        let mut wake = Vec::new();
        let result = f(&mut self.state.borrow_mut(), &mut wake);
        wake.into_iter().for_each(Waker::wake);
        result
    }
    /// Puts `item` at the back, waiting while the queue is full; hands it back if closed first.
    pub async fn put(&self, item: T) -> Result<(), Closed<T>> {
        let (mut turn, mut item) = (Turn(self, PUT, None), Some(item));
        poll_fn(|cx| {
            self.with_state(|state, wake| {
                let mut item = || item.take().expect("put once");
                if state.closed {
                    return Poll::Ready(Err(Closed(item()))); // even with a slot granted before
                }
                let free =
                    state.capacity.is_none_or(|cap| state.items.len() + state.lines[PUT].tokens() < cap);
                if !state.lines[PUT].take_turn(&mut turn.2, free, cx.waker()) {
                    return Poll::Pending;
                }
                state.items.push_back(item());
                state.lines[GET].wake(true, wake); // the item, reserved for the first getter
                Poll::Ready(Ok(()))
            })
        })
        .await
    }
    /// Takes the front item, waiting while there is none; `None` once closed and drained.
    pub async fn get(&self) -> Option<T> {
        let mut turn = Turn(self, GET, None);
        poll_fn(|cx| {
            self.with_state(|state, wake| {
                let free = state.items.len() > state.lines[GET].tokens();
                if state.lines[GET].take_turn(&mut turn.2, free, cx.waker()) {
                    let item = state.items.pop_front();
                    if !state.closed {
                        state.lines[PUT].wake(true, wake); // the freed slot, reserved
                    } else if state.items.is_empty() {
                        state.lines[GET].wake(false, wake); // closed and drained: `None` for all
                    }
                    Poll::Ready(item)
                } else if state.closed && state.items.is_empty() {
                    Poll::Ready(None)
                } else {
                    Poll::Pending
                }
            })
        })
        .await
    }
    /// Closes the queue (asyncio's `shutdown()`): puts fail from now on, waiting
    /// ones too; getters drain what is left, then get `None`.
    pub fn close(&self) {
        self.with_state(|state, wake| {
            if !std::mem::replace(&mut state.closed, true) {
                state.lines[PUT].wake(false, wake);
                if state.items.is_empty() {
                    state.lines[GET].wake(false, wake);
                }
            }
        })
    }
}

impl<T> Clone for Queue<T> {
    fn clone(&self) -> Queue<T> {
        Queue { state: self.state.clone() }
    }
}

impl<T> Default for Queue<T> {
    fn default() -> Queue<T> {
        Queue::new()
    }
}

/// The error of a `put` on a closed queue, with the item handed back.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Closed<T>(pub T);

impl<T> fmt::Debug for Closed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Closed(..)")
    }
}

crate::error_text!(Closed<T>, self => "the queue is closed");
