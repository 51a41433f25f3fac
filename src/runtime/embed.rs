//! Driving kettle from another program's main loop, one turn at a time.
//!
//! A GUI toolkit, a game or another event loop owns the thread's main loop;
//! kettle runs inside it. The host needs three things from kettle, and
//! this file is where it gets them:
//!
//! - **When to turn: the poll fd.** [`Runtime`] is [`AsFd`]: its epoll
//!   descriptor. The contract: *the fd is readable whenever kettle has work
//!   it could do now* — I/O, remote work, a queued task or callback, a due
//!   timer — *and every time such work appears it gets a new edge*, so a
//!   host may register it level- or edge-triggered. That includes work a
//!   turn leaves behind (a task that woke itself) and readiness a busy turn
//!   did not collect (`core/host.rs` says how), work that host code adds
//!   between turns ([`Runtime::spawn`]), and timers: kettle's timerfd sits
//!   in its epoll set, armed after each turn for the next deadline, so a
//!   host that only watches the fd is woken for kettle's timers with
//!   kettle's own precision (tens of microseconds). (A paused test clock's
//!   timers are not the kernel's: for those, `next_timeout` says zero.)
//! - **How long it may sleep: [`Runtime::next_timeout`].** For hosts that
//!   prefer a timeout to (or add one beside) the fd: zero when the fd is
//!   readable or work is queued, the time to the next timer, or `None`.
//!   [`Runtime::next_timeout_ms`] rounds it *up* to whole milliseconds for
//!   hosts that take milliseconds (`poll(2)`, glib): rounding down would
//!   turn 0.4 ms into 0 and make the host spin until the timer is due.
//! - **A turn that cannot abort it: [`Runtime::try_turn`].** A host calls
//!   kettle from its own callbacks, often `extern "C"` ones, where a panic
//!   aborts the process. A task that runs a nested host loop (a modal
//!   dialog) makes the host call kettle again while a turn runs: `turn`
//!   panics then, as a nested `block_on` does; `try_turn` returns
//!   [`TurnError`], and the nested loop goes on without kettle until the
//!   outer turn is over.
//!
//! A host with no fd to watch (a condition variable, winit's
//! `EventLoopProxy`) gets a callback instead:
//! [`Builder::on_wake`](crate::Builder::on_wake).
//!
//! And one thing to know: [`Runtime::block_on`] inside a host callback runs
//! kettle's loop *instead of* the host's until the future completes — the
//! host's windows freeze meanwhile, and a future that needs the host (a
//! dialog's answer) never completes. From host code, spawn the future and
//! let the host's loop turn kettle.
//!
//! # Ending
//!
//! [`Runtime::shutdown`] (asyncio's `loop.close()`) is dropping the runtime,
//! said out loud: every task cancelled (its future dropped), callbacks and
//! timers dropped, descriptors closed. Tasks often hold the host (an `Rc`
//! of its state, a handle to its window) while the host holds the
//! runtime; dropping the host's last handle then frees neither, and the
//! tasks and descriptors leak. Taking the runtime out of the host (an
//! `Option`) and shutting it down breaks that cycle at a moment the host
//! chooses. Remove the fd from the host's loop *first*: after `shutdown`
//! the descriptor is closed, a `poll(2)`-style host sees `POLLNVAL` on it
//! for ever (glib calls its source in a loop), and its number may be
//! reused by the next file the program opens.

use std::fmt;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::time::Duration;

use super::{Running, Runtime, Turn, context};

impl Runtime {
    /// Runs exactly one loop iteration, blocking at most `max_wait` for I/O or
    /// timers (`None`: until something happens; `Some(Duration::ZERO)`: not at
    /// all), and reports what it did.
    ///
    /// This is the embedder's entry point: a host program with its own main
    /// loop watches the poll fd ([`AsFd`]) for readability and calls
    /// `turn(Some(Duration::ZERO))` when it is. The module docs of
    /// `runtime/embed.rs` give the fd's contract: readable whenever kettle
    /// has work, with a new edge each time, timers included.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = kettle::Runtime::new().unwrap();
    /// let task = rt.spawn(async { 7 });
    /// // A host loop: wait for the fd (here: `next_timeout` says there is
    /// // work), then turn.
    /// assert_eq!(rt.next_timeout(), Some(Duration::ZERO));
    /// let turn = rt.turn(Some(Duration::ZERO));
    /// assert_eq!(turn.tasks_run, 1);
    /// assert!(task.is_finished());
    /// ```
    ///
    /// # Panics
    /// If a runtime is already running on this thread — this one, when a
    /// task runs a nested host loop that turns kettle again. From a host's
    /// callback, where a panic may abort the process, use
    /// [`try_turn`](Runtime::try_turn).
    #[track_caller]
    pub fn turn(&self, max_wait: Option<Duration>) -> Turn {
        let turn = {
            let _running = Running::enter(&self.core, "Runtime::turn");
            self.core.before_host_turn();
            self.core.turn(max_wait, None)
        }; // leaving hands over to the host: `core/host.rs`
        turn
    }

    /// [`turn`](Runtime::turn), refusing instead of panicking when a
    /// runtime is already running on this thread: a nested host loop (a
    /// modal dialog run by a task) whose callbacks turn kettle again. The
    /// nested loop then runs without kettle; kettle's turns resume when the
    /// outer one has returned.
    ///
    /// A nested loop that watches kettle's fd *level-triggered* should take
    /// it out of its sources until it returns (glib does: it never
    /// dispatches a source that is already dispatching): the fd stays
    /// readable while kettle has work, every `try_turn` is refused, and the
    /// nested loop would spin. Edge-triggered, it is woken once.
    ///
    /// ```
    /// use std::rc::Rc;
    /// use std::time::Duration;
    ///
    /// let rt = Rc::new(kettle::Runtime::new().unwrap());
    /// let inner = rt.clone();
    /// // A task that runs a "nested host loop", which turns kettle again.
    /// let nested = rt.spawn(async move { inner.try_turn(Some(Duration::ZERO)).is_err() });
    /// rt.turn(Some(Duration::ZERO));
    /// assert!(nested.is_finished());
    /// assert!(rt.block_on(nested).unwrap(), "the nested turn was refused");
    /// ```
    ///
    /// # Errors
    /// [`TurnError`] if a runtime is already running on this thread; the
    /// call did nothing.
    pub fn try_turn(&self, max_wait: Option<Duration>) -> Result<Turn, TurnError> {
        let turn = {
            let entered = context::try_enter(&self.core).ok_or(TurnError { _private: () })?;
            let _running = Running { _entered: entered, core: &self.core };
            self.core.before_host_turn();
            self.core.turn(max_wait, None)
        }; // leaving hands over to the host: `core/host.rs`
        Ok(turn)
    }

    /// How long the host may sleep before the next [`turn`](Runtime::turn):
    /// zero if the poll fd is readable or tasks or callbacks are queued,
    /// else the time to the next timer, else `None` (only I/O, another
    /// thread or host code can create work then, and each makes the fd
    /// readable).
    ///
    /// A host that watches the fd needs it only as a safety net: the fd
    /// fires for timers too. For a host that takes milliseconds, use
    /// [`next_timeout_ms`](Runtime::next_timeout_ms).
    pub fn next_timeout(&self) -> Option<Duration> {
        self.core.mark_hosted();
        match self.core.poll_timeout(None) {
            Some(Duration::ZERO) => Some(Duration::ZERO),
            _ if self.core.poll_fd_is_readable() => Some(Duration::ZERO),
            timeout => timeout,
        }
    }

    /// [`next_timeout`](Runtime::next_timeout) in whole milliseconds,
    /// rounded *up* (saturating at `u64::MAX`), for hosts whose waits take
    /// milliseconds (`poll(2)`, glib's timeout sources): a remainder of
    /// 0.4 ms becomes 1, not 0, so the host sleeps instead of spinning until
    /// the timer is due. `Some(0)` only when there is work now.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = kettle::Runtime::new().unwrap();
    /// assert_eq!(rt.next_timeout_ms(), None);
    /// let _timer = rt.block_on(async { kettle::call_later(Duration::from_micros(10_400), || {}) });
    /// let ms = rt.next_timeout_ms().unwrap();
    /// assert!((1..=11).contains(&ms), "{ms}");
    /// ```
    pub fn next_timeout_ms(&self) -> Option<u64> {
        self.next_timeout().map(millis_rounded_up)
    }

    /// Shuts the runtime down (asyncio's `loop.close()`): cancels every
    /// task — its future is dropped, its [`JoinHandle`](crate::JoinHandle)
    /// reports it cancelled — drops the queued callbacks and the timers,
    /// stops the blocking pool from taking work, and closes the poll fd, the
    /// eventfd and the timerfd. [`Handle`](crate::Handle)s see the runtime
    /// closed from then on. It is what dropping the runtime does, at a
    /// moment the host chooses.
    ///
    /// That matters when tasks hold the host (an `Rc` of its state) and the
    /// host holds the runtime: neither is ever dropped by itself. Keep the
    /// runtime in an `Option` in the host, and `take()` it to shut it down;
    /// the tasks' futures, and the host handles they hold, are dropped
    /// right here.
    ///
    /// **Remove the fd from the host's loop first.** Once closed, the fd
    /// reports `POLLNVAL` (glib calls its source for ever), and its number
    /// may be reused by the next descriptor the program opens.
    ///
    /// ```
    /// use std::cell::RefCell;
    /// use std::rc::Rc;
    ///
    /// struct Host {
    ///     rt: RefCell<Option<kettle::Runtime>>,
    /// }
    /// let host = Rc::new(Host { rt: RefCell::new(Some(kettle::Runtime::new().unwrap())) });
    /// let held = host.clone(); // a task holds the host...
    /// let rt = host.rt.borrow();
    /// rt.as_ref().unwrap().spawn(async move {
    ///     let _host = held;
    ///     std::future::pending::<()>().await
    /// });
    /// drop(rt);
    /// assert_eq!(Rc::strong_count(&host), 2);
    /// // ...so the host ends it: the task's future, and its `Rc`, go now.
    /// let rt = host.rt.borrow_mut().take().unwrap();
    /// rt.shutdown();
    /// assert_eq!(Rc::strong_count(&host), 1);
    /// ```
    #[doc(alias = "close")]
    pub fn shutdown(self) {
        drop(self);
    }
}

/// `duration` in whole milliseconds, rounded up, saturating.
fn millis_rounded_up(duration: Duration) -> u64 {
    let whole = duration.as_millis() + u128::from(!duration.subsec_nanos().is_multiple_of(1_000_000));
    u64::try_from(whole).unwrap_or(u64::MAX)
}

impl AsFd for Runtime {
    /// The poll fd: kettle's epoll descriptor, readable whenever kettle has
    /// work (the module docs of `runtime/embed.rs` give the contract).
    /// Register it with the host's loop for reading, level- or
    /// edge-triggered; never read from it, write to it or close it.
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.core.mark_hosted();
        // SAFETY: the epoll descriptor is owned by the runtime's core, which
        // this `Runtime` keeps alive: it stays open for the borrow's lifetime.
        unsafe { BorrowedFd::borrow_raw(self.core.poll_fd()) }
    }
}

impl AsRawFd for Runtime {
    /// The poll fd, as [`AsFd::as_fd`] (prefer that: it is borrowed).
    fn as_raw_fd(&self) -> RawFd {
        self.core.mark_hosted();
        self.core.poll_fd()
    }
}

/// [`Runtime::try_turn`] was called while a runtime was already running on
/// this thread — a nested host loop turning kettle from inside one of
/// kettle's own tasks or callbacks. The turn did nothing; the outer turn
/// goes on when the nested loop returns.
#[derive(Clone, PartialEq, Eq)]
pub struct TurnError {
    _private: (),
}

impl fmt::Debug for TurnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TurnError(a kettle runtime is already running on this thread)")
    }
}

impl fmt::Display for TurnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "a kettle runtime is already running on this thread (a nested loop called \
             try_turn from inside a turn); the turn was skipped — turn again once the outer \
             turn has returned",
        )
    }
}

impl std::error::Error for TurnError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milliseconds_round_up_and_saturate() {
        assert_eq!(millis_rounded_up(Duration::ZERO), 0);
        assert_eq!(millis_rounded_up(Duration::from_nanos(1)), 1);
        assert_eq!(millis_rounded_up(Duration::from_micros(400)), 1);
        assert_eq!(millis_rounded_up(Duration::from_millis(3)), 3);
        assert_eq!(millis_rounded_up(Duration::from_micros(3_001)), 4);
        assert_eq!(millis_rounded_up(Duration::MAX), u64::MAX);
    }
}
