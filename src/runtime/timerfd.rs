//! Waking on time, to the microsecond: a `timerfd` beside `epoll_wait`.
//!
//! `epoll_wait` takes its timeout in whole milliseconds, and mio rounds up so
//! that a timer never fires early. A loop that only used that timeout would
//! wake up to a millisecond late for every sleep. So before blocking on a
//! timer, the loop also arms a Linux `timerfd` — a file descriptor that
//! becomes readable at a given time, with nanosecond resolution — registered
//! with the same epoll. Whichever comes first ends the wait: normally the
//! timerfd, within tens of microseconds of the deadline; the rounded-up
//! millisecond timeout stays as a safety net.
//!
//! The timer is armed relative to now (`deadline - Instant::now()`), which
//! avoids converting `Instant` to a raw clock value, and re-armed only when
//! the next deadline changes. A deadline that was cancelled meanwhile makes
//! the fd fire for nothing: the loop wakes, finds no due timer, and goes on.
//!
//! This file and `signal.rs` are kettle's only direct system calls; every
//! `unsafe` block is a libc call on a descriptor this type owns.

use std::cell::Cell;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Instant;

use mio::unix::SourceFd;

/// A `CLOCK_MONOTONIC` timerfd registered with the loop's epoll.
pub(crate) struct TimerFd {
    fd: OwnedFd,
    /// The deadline the fd is armed for, if any.
    armed: Cell<Option<Instant>>,
}

impl TimerFd {
    pub(crate) fn new(registry: &mio::Registry, token: mio::Token) -> io::Result<TimerFd> {
        // SAFETY: plain system call; the result is checked before use.
        let raw =
            unsafe { libc::timerfd_create(libc::CLOCK_MONOTONIC, libc::TFD_NONBLOCK | libc::TFD_CLOEXEC) };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        registry.register(&mut SourceFd(&fd.as_raw_fd()), token, mio::Interest::READABLE)?;
        Ok(TimerFd { fd, armed: Cell::new(None) })
    }

    /// Makes the fd readable at `deadline` (at once if it has passed).
    pub(crate) fn arm(&self, deadline: Instant) {
        if self.armed.get() == Some(deadline) {
            return;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        // An all-zero value would disarm the timer: one nanosecond instead.
        let (secs, nanos) = if left.is_zero() { (0, 1) } else { (left.as_secs(), left.subsec_nanos()) };
        let spec = libc::itimerspec {
            it_interval: libc::timespec { tv_sec: 0, tv_nsec: 0 },
            it_value: libc::timespec {
                tv_sec: libc::time_t::try_from(secs).unwrap_or(libc::time_t::MAX),
                tv_nsec: libc::c_long::from(nanos as i32),
            },
        };
        let fd = self.fd.as_raw_fd();
        // Failure (impossible for valid arguments) only costs precision: the
        // epoll timeout still ends the wait.
        // SAFETY: `fd` is our timerfd; `spec` is a valid itimerspec; no old
        // value is requested.
        let result = unsafe { libc::timerfd_settime(fd, 0, &spec, std::ptr::null_mut()) };
        self.armed.set((result == 0).then_some(deadline));
    }

    /// The fd fired: consume its expiration count so it stops being
    /// readable.
    pub(crate) fn fired(&self) {
        let mut expirations = 0u64;
        // SAFETY: reads 8 bytes into a local u64 from our non-blocking fd;
        // an error (EAGAIN after a re-arm) just means nothing to consume.
        unsafe { libc::read(self.fd.as_raw_fd(), (&mut expirations as *mut u64).cast(), 8) };
        self.armed.set(None);
    }
}
