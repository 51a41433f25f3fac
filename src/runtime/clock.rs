//! The runtime's clock: real, or paused for tests.
//!
//! Every time a kettle timer reads — a sleep deciding whether it is due, the
//! loop firing timers (`Core::fire_timers`), the poll's timeout
//! (`Core::poll_timeout`), an interval placing its next tick — is
//! `Core::now()`, and that is this clock. A runtime's clock is one of two:
//!
//! - **Real** (the default): `Instant::now()`, behind one branch.
//! - **Paused** ([`Builder::start_paused`](super::Builder::start_paused)):
//!   a `Cell<Instant>` that starts at the real `Instant::now()` when the
//!   runtime is built and moves only when told to. Nothing moves it while
//!   a task or callback is runnable, so code between two awaits sees one
//!   instant, however slow the machine.
//!
//! # Who moves a paused clock
//!
//! Two things, and never backwards:
//!
//! - [`kettle::time::advance`](crate::time::advance), by a given duration
//!   (tokio's `time::advance`).
//! - The loop, when it has nothing left to do but wait for a timer. A turn
//!   that would block with timers pending peeks at I/O instead
//!   (`poll_timeout` answers zero); if that peek and the injector brought
//!   nothing, nothing is queued, and no `spawn_blocking` job is in flight,
//!   the clock jumps to the next timer's deadline and step 4 fires it in
//!   that same turn (`Core::jump_to_next_timer_if_idle`). So an hour-long
//!   sleep ends at once, and timers fire in their queue's order: deadline,
//!   then insertion.
//!
//! The loop never arms the timerfd for a paused clock: its deadlines are not
//! the kernel's. With no timer pending it waits for real, as it always
//! does, for I/O and for other threads.
//!
//! # Why a blocking job holds the clock
//!
//! A `spawn_blocking` job runs on another thread in real time; its result
//! comes back through the injector. Were the clock free to jump while one
//! runs, a test's hour-long timeout would beat a 20 ms job to the finish,
//! which no real run would ever do. So a paused clock counts the jobs in
//! flight (tokio likewise inhibits auto-advance meanwhile): the count rises
//! when a job is submitted, and falls when the loop runs a callback that the
//! job's thread sends *after* the job's result. While it is above zero the
//! loop does not jump but waits for real (timers aside) until the injector
//! wakes it. The count is loop-thread state, so reading it needs no atomic
//! and cannot race: the job's result is queued before its release, so by
//! the time the loop sees the count fall it has taken the result.
//!
//! # What it does not do
//!
//! A paused clock is the loop's. `std::time::Instant::now()` and the real
//! world go on: a blocking `std::thread::sleep` in a task takes its real
//! time, and so does I/O. And a `Sleep` built *outside* the runtime (say,
//! `rt.block_on(kettle::sleep(d))`, whose `sleep` runs before the loop is
//! entered) counts from the real clock, which is ahead of a paused one by
//! however long the runtime has existed: its virtual wait is that much
//! longer.

use std::cell::Cell;
use std::time::Instant;

/// A runtime's source of "now" (see the module docs).
pub(crate) enum Clock {
    /// `Instant::now()`.
    Real,
    /// Virtual time, moved only by `advance` and by the idle loop's jumps.
    Paused(Paused),
}

/// The state of a paused clock.
pub(crate) struct Paused {
    now: Cell<Instant>,
    /// `spawn_blocking` jobs submitted and not yet released (see "Why a
    /// blocking job holds the clock").
    blocking_in_flight: Cell<usize>,
}

impl Clock {
    /// A real clock, or one paused at the real now.
    pub(crate) fn new(paused: bool) -> Clock {
        if paused {
            Clock::Paused(Paused { now: Cell::new(Instant::now()), blocking_in_flight: Cell::new(0) })
        } else {
            Clock::Real
        }
    }

    /// The current time: exactly `Instant::now()` for a real clock.
    #[inline]
    pub(crate) fn now(&self) -> Instant {
        match self {
            Clock::Real => Instant::now(),
            Clock::Paused(paused) => paused.now.get(),
        }
    }

    /// The paused clock's state, or `None` for a real clock.
    #[inline]
    pub(crate) fn paused(&self) -> Option<&Paused> {
        match self {
            Clock::Real => None,
            Clock::Paused(paused) => Some(paused),
        }
    }

    /// Whether this clock is paused.
    #[inline]
    pub(crate) fn is_paused(&self) -> bool {
        matches!(self, Clock::Paused(_))
    }
}

impl Paused {
    /// Moves the clock to `at`, if that is later; a paused clock never goes
    /// back.
    pub(crate) fn advance_to(&self, at: Instant) {
        if at > self.now.get() {
            self.now.set(at);
        }
    }

    /// Whether a `spawn_blocking` job is in flight: the loop must not jump.
    pub(crate) fn blocking_in_flight(&self) -> bool {
        self.blocking_in_flight.get() > 0
    }

    /// Counts one more job in flight, until its
    /// [`release_blocking`](Paused::release_blocking). `spawn_blocking`
    /// (`src/blocking.rs`) holds the clock this way for each job it submits,
    /// and has the job's thread send the release to the loop once the job
    /// has run (or been dropped unrun).
    pub(crate) fn hold_for_blocking(&self) {
        self.blocking_in_flight.set(self.blocking_in_flight.get() + 1);
    }

    /// A job's release, on the loop thread.
    pub(crate) fn release_blocking(&self) {
        let in_flight = self.blocking_in_flight.get();
        debug_assert!(in_flight > 0, "a blocking job is released once, after it was held");
        self.blocking_in_flight.set(in_flight.saturating_sub(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_paused_clock_stands_still_and_never_goes_back() {
        let clock = Clock::new(true);
        let start = clock.now();
        std::thread::sleep(Duration::from_millis(2));
        assert_eq!(clock.now(), start, "real time passing does not move it");
        let paused = clock.paused().unwrap();
        paused.advance_to(start + Duration::from_secs(5));
        paused.advance_to(start + Duration::from_secs(1));
        assert_eq!(clock.now(), start + Duration::from_secs(5));
    }

    #[test]
    fn a_real_clock_is_instant_now() {
        let clock = Clock::new(false);
        let before = Instant::now();
        let now = clock.now();
        assert!(now >= before && now <= Instant::now());
        assert!(clock.paused().is_none() && !clock.is_paused());
    }
}
