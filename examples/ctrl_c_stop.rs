//! Running until Ctrl+C, then stopping cleanly (asyncio's
//! `loop.add_signal_handler(SIGINT, ...)`, or catching `KeyboardInterrupt`
//! around `asyncio.run`).
//!
//! Run it with `cargo run --example ctrl_c_stop` and press Ctrl+C. A worker
//! ticks every 20 ms; the main future waits for Ctrl+C, then cancels the
//! worker (its cleanup runs) and says goodbye. Without a waiter, Ctrl+C would
//! kill the process on the spot; while `kettle::signal::ctrl_c()` waits, it
//! becomes an ordinary event the loop handles.
//!
//! `ctrl_c()` resolves once. For another signal, or for every Ctrl+C, use
//! `kettle::signal::signal(SignalKind::terminate())` (or `interrupt()`,
//! `hangup()`, ...): its `recv()` resolves for each delivery.
//! `examples/http_hello.rs` stops on Ctrl+C or SIGTERM, whichever comes first.

use std::io::Write;
use std::time::Duration;

mod common;
use common::say;

/// The worker's `finally:` block.
struct Shutdown;

impl Drop for Shutdown {
    fn drop(&mut self) {
        say!("worker: cancelled, cleaning up (Drop ran)");
    }
}

fn main() {
    common::start_clock();
    kettle::run(async {
        let worker = kettle::spawn(async {
            let _shutdown = Shutdown;
            let mut ticks = kettle::interval(Duration::from_millis(20));
            for n in 1.. {
                ticks.tick().await;
                say!("worker: tick {n}");
            }
        });
        kettle::yield_now().await; // let the worker start: tick 1

        // Creating the future installs the SIGINT handler right away, so
        // Ctrl+C from now on is caught, even before the first poll.
        let ctrl_c = kettle::signal::ctrl_c();
        say!("main: press Ctrl+C to stop");
        std::io::stdout().flush().expect("stdout is gone");
        ctrl_c.await.expect("could not wait for Ctrl+C");

        say!("main: got Ctrl+C; cancelling the worker");
        worker.cancel();
        let err = worker.await.expect_err("the worker never ends by itself");
        say!("main: worker ended: {err}");
        say!("main: goodbye");
    });
}
