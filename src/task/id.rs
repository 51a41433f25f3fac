//! Task ids: a number per task, unique within its runtime.
//!
//! Every task gets an [`Id`] when it is created, from a counter its runtime
//! shares with the threads that spawn into it (`Shared::next_task_ids`). The
//! loop takes ids in blocks, so a local spawn costs no atomic operation; a
//! spawn from another thread takes one id with one `fetch_add`. Ids are
//! therefore unique per runtime and increase within each thread's spawns,
//! but are not a global spawn order.

use std::fmt;
use std::num::NonZeroU64;

/// A task's id, unique within its runtime for the runtime's whole life
/// (ids are never reused). Printed as a plain number.
///
/// From [`JoinHandle::id`](crate::JoinHandle::id),
/// [`task::current`](crate::task::current) or a task dump
/// ([`Runtime::tasks`](crate::Runtime::tasks)).
///
/// ```
/// kettle::run(async {
///     let a = kettle::spawn(async {});
///     let b = kettle::spawn(async {});
///     assert_ne!(a.id(), b.id());
///     println!("spawned task {}", a.id());
/// });
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Id(NonZeroU64);

impl Id {
    /// The id numbered `n` (at least 1). Without a branch: it is on the
    /// spawn path.
    #[inline]
    pub(crate) fn from_u64(n: u64) -> Id {
        debug_assert!(n > 0, "task ids start at 1");
        Id(NonZeroU64::MIN.saturating_add(n.wrapping_sub(1)))
    }

    /// The id as a number.
    pub fn as_u64(self) -> u64 {
        self.0.get()
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id({})", self.0)
    }
}
