//! Cancelling a task, and the cleanup that still runs
//! (asyncio's `task.cancel()` and `except CancelledError` / `finally`).
//!
//! Run it with `cargo run --example cancel_cleanup`. A worker holds a
//! connection and works in 10 ms steps; after about 35 ms the main task
//! cancels it. The loop drops the worker's future, and dropping it runs the
//! destructors of everything it held: that is where the cleanup goes. The
//! handle then reports the cancellation.
//!
//! One difference from asyncio: the cleanup cannot `await` (a destructor is
//! synchronous), and the task cannot refuse to be cancelled.

use std::time::Duration;

mod common;
use common::{heading, say};

/// Something that must be released however the task ends.
struct Connection(&'static str);

impl Drop for Connection {
    // The `finally:` block.
    fn drop(&mut self) {
        say!("cleanup: closing connection {} (Drop ran)", self.0);
    }
}

fn main() {
    common::start_clock();
    kettle::run(async {
        heading("cancelling a running task — task.cancel()");
        let mut worker = kettle::spawn(async {
            let _conn = Connection("db-1");
            for step in 1.. {
                say!("worker: step {step}");
                kettle::sleep(Duration::from_millis(10)).await; // cancellation lands at an await
            }
        });
        kettle::sleep(Duration::from_millis(35)).await;
        say!("main: worker.cancel()");
        worker.cancel();
        // Cancelling only asks: the future is dropped on the loop's next turn.
        say!("main: right after cancel(): is_finished() = {}", worker.is_finished());
        // `&mut worker` awaits without consuming the handle.
        let err = (&mut worker).await.expect_err("the worker was cancelled");
        say!("main: await worker = Err({err}); is_cancelled() = {}", err.is_cancelled());
        say!("main: is_finished() = {} (task.done())", worker.is_finished());

        heading("cancelled before it ever ran");
        // The future owns the connection from the start, so even a task that
        // never got to run releases it when cancelled.
        let conn = Connection("db-2");
        let never = kettle::spawn(async move {
            let _conn = conn;
            say!("never: this line never prints");
        });
        never.cancel();
        let err = never.await.expect_err("cancelled before its first poll");
        say!("main: await never = Err({err}); is_cancelled() = {}", err.is_cancelled());

        heading("cancelling a finished task does nothing");
        let done = kettle::spawn(async { "finished in time" });
        kettle::yield_now().await; // let it run
        done.cancel();
        say!("main: await done = {:?}", done.await);
    });
}
