//! What a queue operation can fail with: [`Closed`], [`TryPutError`],
//! [`TryGetError`].
//!
//! The errors of `put` hand the item back, so a failed put never loses data.
//! Their `Debug` does not print the item (it needs no `T: Debug`), which lets
//! them be `std::error::Error` for every `T`.

use std::error::Error;
use std::fmt;

/// A [`put`](super::Queue::put) on a closed queue: the item, handed back
/// (asyncio's `QueueShutDown`).
#[doc(alias = "QueueShutDown")]
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Closed<T>(pub T);

impl<T> Closed<T> {
    /// The item that could not be put.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for Closed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Closed(..)")
    }
}

impl<T> fmt::Display for Closed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the queue is closed")
    }
}

impl<T> Error for Closed<T> {}

/// Why [`try_put`](super::Queue::try_put) failed; either way the item is
/// handed back.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum TryPutError<T> {
    /// The queue is at capacity (or its free slots are promised to putters
    /// that were waiting first): asyncio's `QueueFull`.
    #[doc(alias = "QueueFull")]
    Full(T),
    /// The queue is closed: asyncio's `QueueShutDown`.
    #[doc(alias = "QueueShutDown")]
    Closed(T),
}

impl<T> TryPutError<T> {
    /// The item that could not be put.
    pub fn into_inner(self) -> T {
        match self {
            TryPutError::Full(item) | TryPutError::Closed(item) => item,
        }
    }
}

impl<T> fmt::Debug for TryPutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryPutError::Full(_) => f.write_str("Full(..)"),
            TryPutError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<T> fmt::Display for TryPutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryPutError::Full(_) => f.write_str("the queue is full"),
            TryPutError::Closed(_) => f.write_str("the queue is closed"),
        }
    }
}

impl<T> Error for TryPutError<T> {}

/// Why [`try_get`](super::Queue::try_get) returned no item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TryGetError {
    /// No item is available now (or the ones buffered are promised to getters
    /// that were waiting first): asyncio's `QueueEmpty`.
    #[doc(alias = "QueueEmpty")]
    Empty,
    /// The queue is closed and drained: no item will ever come.
    #[doc(alias = "QueueShutDown")]
    Closed,
}

impl fmt::Display for TryGetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryGetError::Empty => f.write_str("the queue is empty"),
            TryGetError::Closed => f.write_str("the queue is closed and drained"),
        }
    }
}

impl Error for TryGetError {}
