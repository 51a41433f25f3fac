//! Spawning with options: [`Builder`], for a task with a name.

use std::future::Future;
use std::panic::Location;

use super::join::JoinHandle;
use crate::runtime::context;

/// Spawns a task with options — today, a name (asyncio's
/// `create_task(coro, name=…)`).
///
/// The name shows in task dumps ([`Runtime::tasks`](crate::Runtime::tasks)),
/// in [`task::current`](super::current), in debug mode's slow-poll reports
/// and on a trace's timeline. Naming a task costs one allocation for the
/// name; the task itself is the same.
///
/// ```
/// kettle::run(async {
///     let task = kettle::task::Builder::new().name("fetch a.txt").spawn(async {
///         kettle::task::current().unwrap().name
///     });
///     assert_eq!(task.await.unwrap().as_deref(), Some("fetch a.txt"));
/// });
/// ```
#[derive(Clone, Debug, Default)]
#[must_use = "a task::Builder does nothing until spawn is called"]
pub struct Builder {
    name: Option<String>,
}

impl Builder {
    /// A builder for an unnamed task.
    pub fn new() -> Builder {
        Builder { name: None }
    }

    /// Names the task. Any text; it need not be unique.
    pub fn name(mut self, name: impl Into<String>) -> Builder {
        self.name = Some(name.into());
        self
    }

    /// Spawns `future` on the current runtime, exactly as
    /// [`kettle::spawn`](crate::spawn) does (same bounds, same order), with
    /// this builder's options. Records the caller's location.
    ///
    /// # Panics
    /// Outside a runtime, like `kettle::spawn`.
    #[doc(alias = "create_task")]
    #[track_caller]
    pub fn spawn<F>(self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
    {
        let location = Location::caller();
        context::expect_current("kettle::task::Builder::spawn", |core| {
            let task = core.spawn(future, location);
            if let Some(name) = self.name {
                core.with_notes(task.header(), true, |notes| {
                    notes.expect("created on request").name = Some(name);
                });
            }
            JoinHandle::new(task)
        })
    }
}
