//! Listening for signals: [`signal`] returns a [`Signal`] whose
//! [`recv`](Signal::recv) resolves for each delivery of any signal a
//! program may handle, and [`ctrl_c`] waits for one Ctrl+C — asyncio's
//! `loop.add_signal_handler(sig, callback)`, with a loop of your own in
//! place of the callback.
//!
//! ```no_run
//! use kettle::signal::{SignalKind, signal};
//!
//! kettle::run(async {
//!     let mut hangups = signal(SignalKind::hangup())?;
//!     let mut terminate = signal(SignalKind::terminate())?;
//!     loop {
//!         // Whichever comes first (a two-way select, written out).
//!         let stop = std::future::poll_fn(|cx| {
//!             if hangups.poll_recv(cx).is_ready() {
//!                 return std::task::Poll::Ready(false);
//!             }
//!             terminate.poll_recv(cx).map(|_| true)
//!         });
//!         if stop.await {
//!             break;
//!         }
//!         println!("SIGHUP: reloading the configuration");
//!     }
//!     println!("SIGTERM: goodbye");
//!     Ok::<(), std::io::Error>(())
//! })
//! .expect("could not listen for signals");
//! ```
//!
//! # How a signal becomes an event
//!
//! A signal handler may do almost nothing: no locks, no allocation, no
//! waking of wakers — the thread it interrupts may be in the middle of any
//! of those. The classic way out is the *self-pipe*: the handler writes one
//! byte into a pipe, and the pipe's read end is an ordinary file descriptor
//! the event loop can watch. kettle's version has four parts:
//!
//! - **One pipe per process**, for all signals, created by the first
//!   listener and never closed. The handler writes to a descriptor number
//!   that therefore can never be recycled into some unrelated file between
//!   the handler loading it and writing to it.
//! - **A delivery counter per signal number** (an array of `AtomicU64`
//!   indexed by the number, up to SIGRTMAX), bumped by the handler before
//!   it writes. The counter is the truth; a byte in the pipe only says "look
//!   at the counters". A listener remembers the count it has seen, and is
//!   ready once the count has moved on — it then takes the new count up. So
//!   several deliveries between two `recv`s resolve one `recv` (they
//!   *coalesce*, as a signal pending in the kernel does), and a delivery
//!   after a `recv` has completed is never lost: the next one resolves at
//!   once. Stale bytes, bytes of another signal, or a byte another listener
//!   drained first never resolve or stall the wrong listener.
//! - **One `dup` of the read end per listener**, registered with the
//!   listener's own runtime. Every epoll watching the pipe sees each write's
//!   edge, so any number of listeners on any number of runtimes all wake.
//! - **A process-wide list of waiting listeners' wakers**, for the one case
//!   the edges miss: a listener that drains the pipe before another
//!   runtime's epoll has handed out its event makes that event vanish. The
//!   drainer wakes everyone on the list, and each looks at its own counter
//!   (`signal/waiting.rs` tells the race and why the fix is airtight).
//!
//! The files: [`SignalKind`] and the check of which signals may be listened
//! for in `signal/kind.rs`; the pipe, the counters, the handler and the
//! dispositions — every `unsafe` block — in `signal/handler.rs`; one
//! listener's poll in `signal/listener.rs`; the waiting list in
//! `signal/waiting.rs`; [`ctrl_c`] in `signal/ctrl_c.rs`.
//!
//! # Who installs what, and when
//!
//! A *listener* is a [`Signal`] or a [`CtrlC`] future. The handler is
//! installed for a signal when its first listener is created (with
//! `SA_RESTART`, so that blocking system calls the signal interrupts
//! elsewhere in the program resume rather than fail with `EINTR`), and the
//! signal's previous disposition — for most signals, "terminate the
//! process" — comes back when its last listener is dropped. Creating a
//! listener needs no runtime: deliveries from then on count for it, even if
//! no runtime exists yet. Its descriptor registers with the runtime that
//! first polls it, and moves to another runtime if a later poll comes from
//! there; polling outside any runtime panics, as for every kettle future that
//! has to wait. A `Signal` is `!Send`, like the sockets of
//! [`net`](crate::net): create it on the thread that awaits it (each thread
//! its own, for several runtimes).
//!
//! # Limits
//!
//! - The pipe's two descriptors stay open for the life of the process once
//!   a listener has been created.
//! - A resolution says "delivered at least once since last time": not how
//!   often, and not who sent it (the handler takes no `siginfo`).
//! - One pipe serves every signal, so a delivery of one signal also wakes
//!   the listeners of the others, which look at their counters and wait on.
//!   Signals are rare; this costs a poll per listener.
//! - The handler is installed even if the signal was ignored when the
//!   process started (as SIGINT is for background jobs of a
//!   non-interactive shell, and SIGHUP under `nohup`), against the usual
//!   convention of leaving an ignored signal alone; the ignore disposition
//!   comes back with the last listener.
//! - Another library's handler for the same signal is replaced, not
//!   chained, while kettle listens; one installed while a kettle listener
//!   exists is overridden when the last listener restores the disposition it
//!   found.
//! - Between the last listener's drop and the next listener's creation the
//!   signal has its default effect again — for SIGINT, SIGTERM, SIGHUP and
//!   the user-defined signals, the end of the process. Keep a listener alive
//!   for as long as the signal should be an event.
//! - SIGKILL, SIGSTOP, the fault signals (SIGSEGV, SIGBUS, SIGFPE, SIGILL)
//!   and the numbers the C library keeps for itself are refused with an
//!   error ([`SignalKind`] says why).
//!
//! [`ctrl_c`]: fn@ctrl_c

use std::future::poll_fn;
use std::io;
use std::task::{Context, Poll};

mod ctrl_c;
mod handler;
mod kind;
mod listener;
mod waiting;

pub use ctrl_c::{CtrlC, ctrl_c};
pub use kind::SignalKind;
use listener::Listener;

/// Starts listening for `kind`: from now on, every delivery of that signal
/// to the process is an event for the returned [`Signal`] rather than the
/// signal's previous disposition (for most signals, the end of the process),
/// until the last listener of that signal is dropped.
///
/// Any number of listeners — for one signal, on one runtime or several —
/// all wake on each delivery. No runtime is needed to create one; it binds
/// to the runtime that first polls it (see the module docs).
///
/// # Errors
/// `InvalidInput`, with a message naming the signal and the reason, for a
/// number that is not a signal (0, negative, above SIGRTMAX), one the C
/// library keeps for itself, SIGKILL and SIGSTOP (which cannot be caught),
/// and the fault signals SIGSEGV, SIGBUS, SIGFPE and SIGILL. An I/O error if
/// the pipe cannot be created or duplicated, or the handler installed.
///
/// ```
/// use kettle::signal::{SignalKind, signal};
///
/// kettle::run(async {
///     let mut usr1 = signal(SignalKind::user_defined1())?;
///     // SAFETY: SIGUSR1 is handled now: `usr1` listens for it.
///     unsafe { libc::raise(libc::SIGUSR1) };
///     usr1.recv().await;
///     println!("got SIGUSR1");
///
///     let refused = signal(SignalKind::from_raw(libc::SIGKILL)).unwrap_err();
///     assert_eq!(refused.kind(), std::io::ErrorKind::InvalidInput);
///     assert!(refused.to_string().contains("SIGKILL"), "{refused}");
///     Ok::<(), std::io::Error>(())
/// })
/// .unwrap();
/// ```
#[doc(alias = "add_signal_handler")]
pub fn signal(kind: SignalKind) -> io::Result<Signal> {
    Ok(Signal { listener: Listener::new(kind)?, kind })
}

/// A listener for one signal, from [`signal`]: [`recv`](Self::recv)
/// resolves once for each batch of deliveries since the last one.
///
/// Dropping it stops listening; when it was the signal's last listener, the
/// signal's previous disposition comes back.
///
/// `!Send`, like the sockets of [`net`](crate::net): it holds its
/// registration with a runtime of this thread. Create it on the thread that
/// awaits it.
///
/// ```compile_fail
/// fn assert_send<T: Send>() {}
/// assert_send::<kettle::signal::Signal>();
/// ```
pub struct Signal {
    listener: Listener,
    kind: SignalKind,
}

impl Signal {
    /// Waits for the next delivery: resolves with `Some(())` once the signal
    /// has been delivered since this `Signal` was created or since the last
    /// `recv` that resolved. Several deliveries before a `recv` resolve it
    /// once; a delivery while no `recv` runs is kept for the next one.
    ///
    /// `None` only if this listener cannot wait at all: registering its
    /// descriptor with the runtime failed (the kernel refused, out of
    /// memory or over the epoll watch limit); a later `recv` tries again.
    /// The `Option` is tokio's shape, ready for a `Stream` on top of
    /// [`poll_recv`](Self::poll_recv).
    ///
    /// Cancel-safe: dropping the future before it resolves loses nothing —
    /// the delivery is there for the next `recv`.
    ///
    /// # Panics
    /// When polled outside a runtime.
    ///
    /// ```
    /// use kettle::signal::{SignalKind, signal};
    ///
    /// kettle::run(async {
    ///     let mut hangups = signal(SignalKind::hangup()).unwrap();
    ///     for _ in 0..3 {
    ///         // SAFETY: SIGHUP is handled: `hangups` listens for it.
    ///         unsafe { libc::raise(libc::SIGHUP) };
    ///     }
    ///     assert_eq!(hangups.recv().await, Some(())); // all three at once
    /// });
    /// ```
    pub async fn recv(&mut self) -> Option<()> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// [`recv`](Self::recv) as a poll function: `Ready(Some(()))` when the
    /// signal has been delivered since the last `Ready`, else `Pending` with
    /// `cx`'s waker kept for the next delivery.
    ///
    /// # Panics
    /// Outside a runtime.
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use kettle::signal::{SignalKind, signal};
    ///
    /// kettle::run(async {
    ///     let mut usr2 = signal(SignalKind::user_defined2()).unwrap();
    ///     // SAFETY: SIGUSR2 is handled: `usr2` listens for it.
    ///     unsafe { libc::raise(libc::SIGUSR2) };
    ///     let got = poll_fn(|cx| usr2.poll_recv(cx)).await;
    ///     assert_eq!(got, Some(()));
    /// });
    /// ```
    #[track_caller]
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        self.listener.poll(cx, "polling kettle::signal::Signal::recv").map(Result::ok)
    }

    /// The signal this listens for.
    ///
    /// ```
    /// use kettle::signal::{SignalKind, signal};
    ///
    /// let term = signal(SignalKind::terminate()).unwrap();
    /// assert_eq!(term.kind(), SignalKind::terminate());
    /// ```
    pub fn kind(&self) -> SignalKind {
        self.kind
    }
}

impl std::fmt::Debug for Signal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signal").field("kind", &self.kind).finish_non_exhaustive()
    }
}
