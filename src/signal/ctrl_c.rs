//! [`ctrl_c`]: one SIGINT, as a future — a [`Signal`](super::Signal) for
//! SIGINT that resolves once and lets go of its listener as soon as it has.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::kind::SignalKind;
use super::listener::Listener;

/// Completes when the process receives SIGINT (Ctrl+C in a terminal).
///
/// While at least one such future (or a [`Signal`](super::Signal) for
/// SIGINT) exists, SIGINT no longer terminates the process; when the last
/// one completes or is dropped, the previous disposition is restored. Every
/// waiter — on any runtime — resolves on the same signal. A SIGINT from
/// before the future was created does not count.
///
/// The handler is installed when the future is created, so a SIGINT from
/// then on is caught; the future binds to a runtime only when first polled
/// (so it may be built anywhere, like [`sleep`](crate::sleep)). For more
/// than one SIGINT, or another signal, use [`signal`](super::signal).
///
/// # Errors
/// If the pipe or the handler cannot be set up, or the pipe cannot be
/// registered with the runtime.
///
/// # Panics
/// When polled outside a runtime, or again after it completed.
///
/// ```no_run
/// kettle::run(async {
///     println!("press Ctrl+C");
///     kettle::signal::ctrl_c().await.expect("could not wait for Ctrl+C");
///     println!("bye");
/// });
/// ```
#[doc(alias = "add_signal_handler")]
pub fn ctrl_c() -> CtrlC {
    match Listener::new(SignalKind::interrupt()) {
        Ok(listener) => CtrlC { state: State::Waiting(listener) },
        Err(error) => CtrlC { state: State::Failed(error) },
    }
}

/// The future returned by [`ctrl_c`].
#[must_use = "futures do nothing unless awaited"]
pub struct CtrlC {
    state: State,
}

enum State {
    Waiting(Listener),
    /// Setting up failed; the error is returned by the first poll.
    Failed(io::Error),
    /// Returned its result; the listener is gone (and the handler, if it
    /// was the last).
    Done,
}

impl std::fmt::Debug for CtrlC {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match self.state {
            State::Waiting(_) => "waiting",
            State::Failed(_) => "failed",
            State::Done => "done",
        };
        f.debug_struct("CtrlC").field("state", &state).finish()
    }
}

impl Future for CtrlC {
    type Output = io::Result<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let result = match &mut self.state {
            State::Waiting(listener) => match listener.poll(cx, "polling kettle::signal::ctrl_c") {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(result) => result,
            },
            State::Failed(_) => Ok(()), // replaced by the error below
            State::Done => panic!("CtrlC polled after it completed"),
        };
        // Done (or failed): drop the listener now, so that the previous
        // SIGINT disposition comes back as soon as no one waits any more.
        match std::mem::replace(&mut self.state, State::Done) {
            State::Failed(error) => Poll::Ready(Err(error)),
            _ => Poll::Ready(result),
        }
    }
}
