//! kettle inside other programs' main loops: the glue for four hosts, the
//! scenario the examples run in each, and the measurements the tests make.
//!
//! A host loop owns the thread; kettle is one of its sources. The glue is
//! the same everywhere (`src/runtime/embed.rs` in kettle has the contract):
//! register kettle's fd ([`AsFd`](std::os::fd::AsFd) on `Runtime`) for
//! reading, level- or edge-triggered, and call
//! [`Runtime::try_turn`](kettle::Runtime::try_turn)`(Some(Duration::ZERO))`
//! each time the host says it is readable. Nothing else: the fd fires for
//! kettle's timers too (its timerfd is in kettle's epoll set), for work the
//! host's own callbacks add (`rt.spawn(...)`), for work other threads send,
//! and again after a turn that leaves work behind — so no host needs a
//! timeout source of its own for kettle. `try_turn`, not `turn`: a host
//! calls kettle from callbacks that are often `extern "C"` (glib's), where
//! a panic aborts the process, and a task that runs a nested host loop
//! makes the host call kettle again while a turn runs.
//!
//! The hosts, one module each, all behind [`HostLoop`]:
//!
//! - [`poll`]: a plain `poll(2)` loop, level-triggered;
//! - [`mio_edge`]: a program's own `mio::Poll`, edge-triggered;
//! - [`calloop`](mod@crate::calloop): calloop's `Generic` source, in
//!   `Mode::Level` or `Mode::Edge`;
//! - [`glib`](mod@crate::glib): glib's main loop, kettle in it as a custom
//!   `GSource` ([`glib_source`]) or as a unix-fd source.
//!
//! [`scenario`] is what the examples run in each host (an echo over
//! loopback, a timer chain, work spawned from a host callback, remote work
//! from another thread); [`checks`] is what the tests measure (stalls,
//! host-spawn latency, idle wake-ups, timer lateness, shutdown).

#![deny(missing_docs)]

pub mod calloop;
pub mod checks;
pub mod glib;
pub mod glib_source;
pub mod host;
pub mod mio_edge;
pub mod poll;
pub mod scenario;

pub use host::{HostCallback, HostLoop};
