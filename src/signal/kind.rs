//! Which signal: [`SignalKind`], a signal number with names for the usual
//! ones, and the check that decides whether kettle may listen for it.
//!
//! Building a `SignalKind` never fails — [`SignalKind::from_raw`] takes any
//! number — so that a number read from a configuration file or a command
//! line can be carried around and printed. The check happens in
//! [`signal`](super::signal), which returns an `InvalidInput` error naming
//! the signal and the reason for the numbers no handler can serve:
//!
//! - **not a signal**: 0, negative numbers, and numbers above SIGRTMAX (64
//!   on Linux);
//! - **kept by the C library**: the numbers between the 31 standard signals
//!   and SIGRTMIN (32 and 33 with glibc), which the threads implementation
//!   uses for itself;
//! - **cannot be caught**: SIGKILL and SIGSTOP, which the kernel carries out
//!   without asking the process;
//! - **reports a fault**: SIGSEGV, SIGBUS, SIGFPE and SIGILL, sent to the
//!   thread whose instruction failed. A handler that only notes the fault
//!   and returns sends that thread back to the same instruction, which fails
//!   again, for ever.

use std::fmt;
use std::io;

use super::handler::MAX_SIGNAL;

/// A signal to listen for with [`signal`](super::signal): one of the named
/// constructors, or any number with [`from_raw`](Self::from_raw).
///
/// Its `Debug` form names the signal: `SignalKind(SIGTERM)`,
/// `SignalKind(SIGRTMIN+2)`, or the bare number when it has no name.
///
/// ```
/// use kettle::signal::SignalKind;
///
/// assert_eq!(SignalKind::terminate().as_raw(), libc::SIGTERM);
/// assert_eq!(SignalKind::from_raw(libc::SIGHUP), SignalKind::hangup());
/// assert_eq!(format!("{:?}", SignalKind::user_defined1()), "SignalKind(SIGUSR1)");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SignalKind(i32);

impl SignalKind {
    /// Any signal number; [`signal`](super::signal) decides whether it may
    /// be listened for (see the module docs for the numbers it refuses).
    ///
    /// ```
    /// use kettle::signal::{signal, SignalKind};
    ///
    /// let winch = SignalKind::from_raw(libc::SIGWINCH); // the terminal was resized
    /// assert_eq!(winch.as_raw(), libc::SIGWINCH);
    /// let err = signal(SignalKind::from_raw(0)).unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    /// ```
    pub const fn from_raw(signum: i32) -> SignalKind {
        SignalKind(signum)
    }

    /// The signal number.
    ///
    /// ```
    /// assert_eq!(kettle::signal::SignalKind::interrupt().as_raw(), libc::SIGINT);
    /// ```
    pub const fn as_raw(&self) -> i32 {
        self.0
    }

    /// SIGINT: Ctrl+C in a terminal. By default it ends the process.
    ///
    /// ```
    /// assert_eq!(kettle::signal::SignalKind::interrupt().as_raw(), libc::SIGINT);
    /// ```
    pub const fn interrupt() -> SignalKind {
        SignalKind(libc::SIGINT)
    }

    /// SIGTERM: the polite request to stop, sent by `kill PID`, systemd and
    /// container runtimes. By default it ends the process.
    ///
    /// ```
    /// assert_eq!(kettle::signal::SignalKind::terminate().as_raw(), libc::SIGTERM);
    /// ```
    pub const fn terminate() -> SignalKind {
        SignalKind(libc::SIGTERM)
    }

    /// SIGHUP: the terminal went away; daemons take it as "reload your
    /// configuration". By default it ends the process.
    ///
    /// ```
    /// assert_eq!(kettle::signal::SignalKind::hangup().as_raw(), libc::SIGHUP);
    /// ```
    pub const fn hangup() -> SignalKind {
        SignalKind(libc::SIGHUP)
    }

    /// SIGUSR1: no meaning but the one a program gives it. By default it
    /// ends the process.
    ///
    /// ```
    /// assert_eq!(kettle::signal::SignalKind::user_defined1().as_raw(), libc::SIGUSR1);
    /// ```
    pub const fn user_defined1() -> SignalKind {
        SignalKind(libc::SIGUSR1)
    }

    /// SIGUSR2: like SIGUSR1, a second one. By default it ends the process.
    ///
    /// ```
    /// assert_eq!(kettle::signal::SignalKind::user_defined2().as_raw(), libc::SIGUSR2);
    /// ```
    pub const fn user_defined2() -> SignalKind {
        SignalKind(libc::SIGUSR2)
    }

    /// The signal's number as an index into the handler's counters, or
    /// the `InvalidInput` error that says why it cannot be listened for.
    pub(super) fn check(self) -> io::Result<usize> {
        let n = self.0;
        let reason = if n == libc::SIGKILL || n == libc::SIGSTOP {
            "the kernel carries it out itself, so it can be neither caught nor ignored".to_owned()
        } else if [libc::SIGSEGV, libc::SIGBUS, libc::SIGFPE, libc::SIGILL].contains(&n) {
            "it reports a fault of the thread that caused it, and a handler that only notes it returns \
             to the failing instruction, which fails again"
                .to_owned()
        } else if n < 1 || n > sigrtmax() {
            format!("it is not a signal number (they go from 1 to SIGRTMAX, {})", sigrtmax())
        } else if n >= FIRST_NON_STANDARD && n < libc::SIGRTMIN() {
            format!(
                "it lies between the standard signals and SIGRTMIN ({}), kept by the C library for its \
                 threads",
                libc::SIGRTMIN()
            )
        } else {
            return Ok(n as usize); // 1 ..= 64: a valid index
        };
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("kettle::signal::signal cannot listen for {}: {reason}", self.describe()),
        ))
    }

    /// "SIGTERM (15)", "SIGRTMIN+2 (36)", or "signal 10000".
    fn describe(self) -> String {
        match self.name() {
            Some(name) => format!("{name} ({})", self.0),
            None => format!("signal {}", self.0),
        }
    }

    /// The signal's name, if it has one.
    fn name(self) -> Option<String> {
        let n = self.0;
        if let Some((_, name)) = NAMES.iter().find(|(number, _)| *number == n) {
            return Some((*name).to_owned());
        }
        let (min, max) = (libc::SIGRTMIN(), sigrtmax());
        match n {
            _ if n == min => Some("SIGRTMIN".to_owned()),
            _ if n == max => Some("SIGRTMAX".to_owned()),
            _ if n > min && n < max => Some(format!("SIGRTMIN+{}", n - min)),
            _ => None,
        }
    }
}

impl fmt::Debug for SignalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "SignalKind({name})"),
            None => write!(f, "SignalKind({})", self.0),
        }
    }
}

/// The first number after the standard signals (1 to 31 on every Linux
/// architecture); the real-time ones start at SIGRTMIN, a little above.
const FIRST_NON_STANDARD: i32 = 32;

/// SIGRTMAX, capped at the size of the handler's table of counters (Linux's
/// SIGRTMAX is 64, the same).
fn sigrtmax() -> i32 {
    libc::SIGRTMAX().min(MAX_SIGNAL as i32)
}

/// The standard signals' names (their numbers differ between architectures,
/// so the table is built from libc's constants).
const NAMES: [(i32, &str); 30] = [
    (libc::SIGHUP, "SIGHUP"),
    (libc::SIGINT, "SIGINT"),
    (libc::SIGQUIT, "SIGQUIT"),
    (libc::SIGILL, "SIGILL"),
    (libc::SIGTRAP, "SIGTRAP"),
    (libc::SIGABRT, "SIGABRT"),
    (libc::SIGBUS, "SIGBUS"),
    (libc::SIGFPE, "SIGFPE"),
    (libc::SIGKILL, "SIGKILL"),
    (libc::SIGUSR1, "SIGUSR1"),
    (libc::SIGSEGV, "SIGSEGV"),
    (libc::SIGUSR2, "SIGUSR2"),
    (libc::SIGPIPE, "SIGPIPE"),
    (libc::SIGALRM, "SIGALRM"),
    (libc::SIGTERM, "SIGTERM"),
    (libc::SIGCHLD, "SIGCHLD"),
    (libc::SIGCONT, "SIGCONT"),
    (libc::SIGSTOP, "SIGSTOP"),
    (libc::SIGTSTP, "SIGTSTP"),
    (libc::SIGTTIN, "SIGTTIN"),
    (libc::SIGTTOU, "SIGTTOU"),
    (libc::SIGURG, "SIGURG"),
    (libc::SIGXCPU, "SIGXCPU"),
    (libc::SIGXFSZ, "SIGXFSZ"),
    (libc::SIGVTALRM, "SIGVTALRM"),
    (libc::SIGPROF, "SIGPROF"),
    (libc::SIGWINCH, "SIGWINCH"),
    (libc::SIGIO, "SIGIO"),
    (libc::SIGPWR, "SIGPWR"),
    (libc::SIGSYS, "SIGSYS"),
];
