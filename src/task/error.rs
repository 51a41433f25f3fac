//! Why a task produced no value: [`JoinError`].
//!
//! A task ends without a value in two ways, and both are caught on the loop:
//! it is cancelled (its future dropped unpolled or mid-way), or its poll
//! panics (caught with `catch_unwind`, so the loop goes on). The panic payload
//! is kept, so the awaiting side can inspect it or resume the unwind.
//!
//! A `JoinError` is `Send + Sync`, like any error that travels through `?`
//! into `Box<dyn Error + Send + Sync>`, `anyhow::Error` or an `io::Error`.
//! A panic payload is only promised `Send` (`Box<dyn Any + Send>`), but
//! nearly every payload is the `&'static str` or the `String` of a
//! `panic!`, which are `Sync`: those are kept as they are, re-typed as
//! `Box<dyn Any + Send + Sync>` (no copy, no allocation). Any other payload
//! (`panic_any` of something else) goes behind a `Mutex`, which is `Sync`
//! for any `Send` contents, in a private wrapper that
//! [`into_panic`](JoinError::into_panic) unwraps: the caller gets back the
//! very payload the task panicked with, whichever it was.

use std::any::Any;
use std::fmt;
use std::io;
use std::sync::Mutex;

/// What a panic leaves behind.
type Payload = Box<dyn Any + Send + 'static>;

/// A payload that is not `Sync` by itself, made so.
struct Locked(Mutex<Payload>);

/// The error a [`JoinHandle`](crate::JoinHandle) yields when its task did not
/// return a value: it was cancelled (asyncio's `CancelledError`), or it panicked.
pub struct JoinError {
    repr: Repr,
}

enum Repr {
    Cancelled,
    /// The payload, `Sync` as it is, or as a [`Locked`].
    Panic(Box<dyn Any + Send + Sync + 'static>),
}

impl JoinError {
    pub(crate) fn cancelled() -> JoinError {
        JoinError { repr: Repr::Cancelled }
    }

    pub(crate) fn panic(payload: Payload) -> JoinError {
        let payload: Box<dyn Any + Send + Sync> = match payload.downcast::<&'static str>() {
            Ok(message) => message,
            Err(payload) => match payload.downcast::<String>() {
                Ok(message) => message,
                Err(other) => Box::new(Locked(Mutex::new(other))),
            },
        };
        JoinError { repr: Repr::Panic(payload) }
    }

    /// The task was cancelled before it finished (its future was dropped).
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// The task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic(_))
    }

    /// The panic payload, to inspect or to resume with
    /// [`std::panic::resume_unwind`].
    ///
    /// # Panics
    /// If the task was cancelled rather than panicking; see
    /// [`JoinError::try_into_panic`].
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        self.try_into_panic()
            .expect("JoinError::into_panic called on a cancelled task's error; check is_panic() first")
    }

    /// The panic payload, or the error itself if the task was cancelled.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.repr {
            Repr::Panic(payload) => Ok(match payload.downcast::<Locked>() {
                // Nothing panics while holding the lock: a poisoned one
                // still holds the payload as it was.
                Ok(locked) => locked.0.into_inner().unwrap_or_else(|e| e.into_inner()),
                Err(sync) => sync,
            }),
            Repr::Cancelled => Err(self),
        }
    }

    /// The panic's message, if the payload is a string (as `panic!`'s are).
    /// A string payload is never [`Locked`]: no lock is needed to read it.
    fn panic_message(&self) -> Option<&str> {
        match &self.repr {
            Repr::Panic(p) => {
                p.downcast_ref::<&str>().copied().or_else(|| p.downcast_ref::<String>().map(String::as_str))
            }
            Repr::Cancelled => None,
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.repr, self.panic_message()) {
            (Repr::Cancelled, _) => f.write_str("task was cancelled"),
            (Repr::Panic(_), Some(msg)) => write!(f, "task panicked: {msg}"),
            (Repr::Panic(_), None) => f.write_str("task panicked"),
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.repr, self.panic_message()) {
            (Repr::Cancelled, _) => f.write_str("JoinError::Cancelled"),
            (Repr::Panic(_), Some(msg)) => write!(f, "JoinError::Panic({msg:?})"),
            (Repr::Panic(_), None) => f.write_str("JoinError::Panic(..)"),
        }
    }
}

impl std::error::Error for JoinError {}

impl From<JoinError> for io::Error {
    /// An [`io::ErrorKind::Other`] error carrying the `JoinError`, so that
    /// `spawn(..).await?` works in a function returning `io::Result` (as
    /// tokio's `JoinError` converts). The message is the `JoinError`'s; the
    /// `JoinError` itself, panic payload and all, comes back with
    /// [`io::Error::into_inner`] and a downcast:
    ///
    /// ```
    /// kettle::run(async {
    ///     async fn work() -> std::io::Result<u32> {
    ///         let n = kettle::spawn(async { 7 }).await?;
    ///         Ok(n)
    ///     }
    ///     assert_eq!(work().await.unwrap(), 7);
    ///
    ///     let task = kettle::spawn(async { panic!("oops") });
    ///     let err: std::io::Error = task.await.unwrap_err().into();
    ///     assert_eq!(err.to_string(), "task panicked: oops");
    ///     let join = err.into_inner().unwrap().downcast::<kettle::JoinError>().unwrap();
    ///     assert!(join.is_panic());
    /// });
    /// ```
    fn from(error: JoinError) -> io::Error {
        io::Error::other(error)
    }
}
