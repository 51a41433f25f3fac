//! Many tasks waiting for one signal: `kettle::sync::Event` (asyncio's
//! `Event`).
//!
//! Run it with `cargo run --example event_gate`. Three workers wait at a
//! gate; an impatient fourth waits at most 10 ms (asyncio's
//! `wait_for(event.wait(), 0.01)`) and gives up. After 30 ms the main task
//! sets the event: every waiting worker goes through at once, and anyone who
//! waits after that passes straight away.

use std::time::Duration;

use kettle::sync::Event;

mod common;
use common::say;

fn main() {
    common::start_clock();
    kettle::run(async {
        // An Event is a cheap handle: each clone names the same event.
        let gate = Event::new();

        let workers: Vec<_> = (1..=3)
            .map(|id| {
                let gate = gate.clone();
                kettle::spawn(async move {
                    say!("worker {id}: waiting at the gate");
                    gate.wait().await; // await event.wait()
                    say!("worker {id}: through the gate");
                })
            })
            .collect();

        let impatient = kettle::spawn({
            let gate = gate.clone();
            async move {
                say!("impatient: waiting at most 10 ms");
                match kettle::timeout(Duration::from_millis(10), gate.wait()).await {
                    Ok(()) => say!("impatient: through the gate (unexpected!)"),
                    // The timed-out wait was dropped, which only gave up its
                    // place: the other waiters are unaffected.
                    Err(elapsed) => say!("impatient: gave up ({elapsed})"),
                }
            }
        });

        kettle::sleep(Duration::from_millis(30)).await;
        say!("main: gate.set() — is_set was {}", gate.is_set());
        gate.set(); // event.set(): releases every waiter at once
        for worker in workers {
            worker.await.expect("a worker failed");
        }
        impatient.await.expect("the impatient task failed");

        // While the event stays set, wait() completes at once.
        gate.wait().await;
        say!("main: a late wait() passed at once: the gate stays open (is_set = {})", gate.is_set());
        gate.clear(); // event.clear(): later waiters wait for the next set()
        say!("main: gate.clear() — is_set = {}", gate.is_set());
    });
}
