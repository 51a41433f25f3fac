//! Differential tests: the same programs on kettle and on kettle-mini.
//!
//! kettle-mini (`mini/`) is kettle with every shortcut replaced by its simple
//! version: the same API subset, and the same schedule — one turn polls
//! I/O, drains the injector, fires due timers in (deadline, insertion) order,
//! runs the callbacks queued at the start of that step, then the tasks
//! queued at the start of the task step, first in first out. Being simple,
//! it is the oracle for the real runtime: each program here runs once on
//! each, logs what it observes, and the two logs must be equal. A change to
//! kettle (or to mini) that makes them disagree is found at once, with the
//! first differing event printed. Each test also checks the log against the
//! spec where that is cheap — often the whole expected log — so that a bug
//! both runtimes share does not pass because they agree (and an empty log
//! never passes).
//!
//! # What may legitimately differ, and is not compared
//!
//! - **When I/O readiness is seen relative to busy turns.** kettle skips the
//!   I/O poll on most busy turns (DESIGN.md, "One turn"); mini polls every
//!   turn. The TCP test compares bytes and each connection's own order,
//!   never how connections interleave with each other or with busy tasks.
//! - **Timer precision.** kettle ends a wait with a timerfd, to the
//!   microsecond; mini with epoll's millisecond timeout, rounded up. No log
//!   depends on how long a wait took: deadlines are already passed, an hour
//!   away, or (in `timer_order`) all passed before the turn that fires them.
//! - **When work from another thread lands.** Which turn takes a push from
//!   another thread is timing; the order of one thread's pushes is not. The
//!   live remote test compares the per-kind order only.
//!
//! # The seeded workload
//!
//! `differential/workload.rs` draws 10^4 operations from a seed (spawn,
//! cancel, detach, join, sleep, timeout, `call_soon`, `call_later` and its
//! cancel, queue put/get, gates) with an inline PRNG, runs them on both
//! runtimes, and requires identical logs, for three fixed seeds (and
//! `DIFFERENTIAL_SEED=n` if set); a failure names its seed. Its deadlines
//! are already passed, an hour away, or a zero `call_later` (due at the next
//! turn whatever the clock says), so no event depends on timing.
//!
//! # Layout, and how to add a scenario
//!
//! - `differential/programs/*.rs` hold the programs. Each is a plain `fn()
//!   -> Vec<String>` written against `rt::…`; the macro `on_runtime!` below
//!   includes every program file twice, in module `on_kettle` with `rt` =
//!   `kettle` and in `on_mini` with `rt` = `kettle_mini`. Use only the API
//!   both offer (see `mini/src/lib.rs`), the helpers of
//!   `differential/common.rs` (a `Log`, drop-logging `Guard`s, a
//!   hand-written `yield_once`, a `Gate`, a PRNG), and no wall-clock
//!   dependence in what you log.
//! - `differential/<topic>.rs` hold the tests: each runs a program on both
//!   runtimes with `run_both(name, on_kettle::program, on_mini::program)`
//!   (each run under a watchdog, so a hang fails instead of hanging), which
//!   asserts the logs are equal, then checks the common log against the spec.
//!
//! To add one: write the program in the matching `programs/` file (or a new
//! one, added to the macro's list), then a test named as a sentence that
//! compares and checks it.

// The crate root's modules live beside it in `differential/`.
#[path = "differential/common.rs"]
mod common;

/// Instantiates every program for one runtime crate.
macro_rules! on_runtime {
    ($module:ident, $krate:ident) => {
        #[allow(dead_code)]
        pub mod $module {
            use ::$krate as rt;

            use std::cell::{Cell, RefCell};
            use std::rc::Rc;
            use std::sync::Arc;
            use std::sync::atomic::AtomicUsize;
            use std::sync::atomic::Ordering::SeqCst;
            use std::time::{Duration, Instant};

            use crate::common::*;

            include!("differential/programs/scheduling.rs");
            include!("differential/programs/time.rs");
            include!("differential/programs/cancel.rs");
            include!("differential/programs/queue.rs");
            include!("differential/programs/remote.rs");
            include!("differential/programs/net.rs");

            pub mod workload {
                use super::rt;

                use std::cell::RefCell;
                use std::rc::Rc;
                use std::time::{Duration, Instant};

                use crate::common::*;

                include!("differential/programs/workload.rs");
            }
        }
    };
}

on_runtime!(on_kettle, kettle);
on_runtime!(on_mini, kettle_mini);

#[path = "differential/cancel.rs"]
mod cancel;
#[path = "differential/net.rs"]
mod net;
#[path = "differential/queue.rs"]
mod queue;
#[path = "differential/remote.rs"]
mod remote;
#[path = "differential/scheduling.rs"]
mod scheduling;
#[path = "differential/timers.rs"]
mod timers;
#[path = "differential/workload.rs"]
mod workload;
