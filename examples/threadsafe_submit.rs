//! A loop running forever on a background thread, fed from the main thread
//! (asyncio's `run_forever` in a thread, `run_coroutine_threadsafe` and
//! `call_soon_threadsafe`).
//!
//! Run it with `cargo run --example threadsafe_submit`. The loop thread
//! creates the runtime (a `Runtime` never leaves its thread), sends a
//! `Handle` back, and runs forever. The main thread submits a coroutine,
//! checks on it a few times, waits for its result, schedules a plain
//! callback, and finally stops the loop and joins the thread.

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use kettle::{Handle, Runtime};

mod common;
use common::say;

fn thread_name() -> String {
    thread::current().name().unwrap_or("unnamed").to_owned()
}

fn main() {
    common::start_clock();

    // The loop thread: new_event_loop(), hand out the loop, run_forever().
    let (handle_tx, handle_rx) = mpsc::channel::<Handle>();
    let loop_thread = thread::Builder::new()
        .name("loop".into())
        .spawn(move || {
            let rt = Runtime::new().expect("could not create the kettle runtime");
            handle_tx.send(rt.handle()).expect("the main thread is gone");
            say!("{}: run_forever()", thread_name());
            rt.run_forever();
            say!("{}: run_forever() returned, dropping the runtime", thread_name());
        })
        .expect("could not start the loop thread");
    // A Handle is Send + Sync and cheap to clone: the only way in from here.
    let handle = handle_rx.recv().expect("the loop thread died");

    // future = asyncio.run_coroutine_threadsafe(coro, loop). The future must
    // be Send, because it is built here and runs there (Handle::spawn_with
    // builds it on the loop thread instead, for futures that are not Send).
    let task = handle.spawn(async {
        say!("{}: the submitted coroutine runs here", thread_name());
        kettle::sleep(Duration::from_millis(30)).await;
        say!("{}: the coroutine is done", thread_name());
        6 * 7
    });
    // future.done(): the main thread is free to do other things meanwhile.
    for check in 1..=3 {
        say!("{}: check {check}: done? {}", thread_name(), task.is_finished());
        thread::sleep(Duration::from_millis(5));
    }
    // future.result(): block this thread until the loop has finished the task.
    let answer = task.wait().expect("the submitted task failed");
    say!("{}: task.wait() returned {answer}", thread_name());

    // loop.call_soon_threadsafe(callback): a plain closure, run on the loop.
    let (done_tx, done_rx) = mpsc::channel();
    handle
        .call_soon(move || {
            say!("{}: call_soon_threadsafe callback runs here", thread_name());
            done_tx.send(()).expect("the main thread is gone");
        })
        .expect("the runtime is gone");
    done_rx.recv().expect("the callback never ran");

    // loop.call_soon_threadsafe(loop.stop), then join the thread.
    say!("{}: handle.stop()", thread_name());
    handle.stop();
    loop_thread.join().expect("the loop thread panicked");
    say!("{}: loop thread joined; handle.is_closed() = {}", thread_name(), handle.is_closed());
}
