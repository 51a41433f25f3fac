//! Combinators: several futures at once.
//!
//! Two families, by where the futures run:
//!
//! - **Inside the calling task**, nothing spawned: [`gather`], [`try_gather`]
//!   and [`race`] over any number of futures of one type, and
//!   [`join!`](crate::join!) over a handful of futures of different types.
//!   The futures may borrow local data, and they are dropped when the
//!   combinator is. `gather`, `try_gather` and `race` share one engine
//!   (`poll_set.rs`) that gives each future its own waker, so only woken
//!   futures are polled and the cost is linear in the number of futures.
//! - **As separate tasks**: [`TaskGroup`] spawns real tasks that fail
//!   together and are awaited together (structured concurrency).
//!
//! | asyncio                                        | kettle                     |
//! |------------------------------------------------|----------------------------|
//! | `gather(*aws)`                                 | [`gather`], [`join!`](crate::join!) |
//! | `gather(*aws, return_exceptions=True)`         | [`gather`] over `Result`s  |
//! | `gather(*aws)` stopping at the first exception | [`try_gather`]             |
//! | `wait(aws, return_when=FIRST_COMPLETED)`       | [`race`]                   |
//! | `async with TaskGroup() as tg`                 | [`TaskGroup`]              |
//!
//! [`gather`]: fn@gather
//! [`race`]: fn@race

mod gather;
mod join;
mod poll_set;
mod race;
mod task_group;
mod wake_list;

pub use gather::{gather, try_gather};
pub use race::race;
pub use task_group::TaskGroup;

/// Helpers that [`join!`](crate::join!) expands to. Not part of the API:
/// their names and signatures may change at any time.
#[doc(hidden)]
pub mod __private {
    pub use super::join::{output_slot, poll_slot};
}
