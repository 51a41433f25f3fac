//! Plain callbacks on the loop: `call_soon`, `call_later`, `call_at`
//! (asyncio's `loop.call_soon`, `loop.call_later`, `loop.call_at`).
//!
//! Run it with `cargo run --example call_later`. Five callbacks are
//! scheduled, out of order; one is cancelled. The others fire in time order,
//! each printing when it ran, in milliseconds since they were scheduled:
//! never early, at most a millisecond or so late. A callback never runs
//! inside the call that schedules it.

use std::time::Instant;

mod common;
use common::{ms, say};

fn main() {
    common::start_clock();
    kettle::run(async {
        let t0 = Instant::now();
        // The callback's arguments are whatever the closure captures:
        // `loop.call_later(0.03, report, "call_later 30 ms")` in asyncio.
        let report =
            move |what: &'static str| move || say!("fired: {what:<22} at +{} ms", t0.elapsed().as_millis());

        // Scheduled out of order on purpose.
        let thirty = kettle::call_later(ms(30), report("call_later 30 ms"));
        kettle::call_at(t0 + ms(20), report("call_at t0 + 20 ms"));
        kettle::call_later(ms(10), report("call_later 10 ms"));
        kettle::call_soon(report("call_soon"));
        let unwanted = kettle::call_later(ms(15), report("call_later 15 ms"));

        // Nothing has fired yet: callbacks wait for the loop's next turn.
        say!("main: five callbacks scheduled, none has run yet");
        // TimerHandle.cancel(). Dropping a TimerHandle does *not* cancel it.
        say!("main: cancelled the 15 ms callback: cancel() = {}", unwanted.cancel());
        say!("main: the 30 ms callback is due at +{} ms", (thirty.when() - t0).as_millis());

        // Give them time to fire; callbacks run between tasks, in time order.
        kettle::sleep(ms(40)).await;
        say!("main: after 40 ms, is the 30 ms callback pending? {}", thirty.is_pending());
        say!("main: cancelling it now does nothing: cancel() = {}", thirty.cancel());
    });
}
