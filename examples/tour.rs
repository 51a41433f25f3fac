//! A narrated tour of kettle, for readers who know Python's asyncio.
//!
//! Run it with `cargo run --release --example tour`. Every line is stamped with
//! the seconds since the program started, so you can watch the concurrency:
//! three downloads of 100, 50 and 150 ms finish together in about 0.15 s.
//!
//! Each section names the asyncio call it mirrors.

use std::panic;
use std::thread;
use std::time::{Duration, Instant};

use kettle::{JoinHandle, Runtime, task};

mod common;
use common::{heading, ms, say};

/// A pretend download: waits `millis`, then returns a byte count.
/// `async def download(name, millis)` in asyncio.
async fn download(name: &'static str, millis: u64) -> u64 {
    kettle::sleep(ms(millis)).await; // await asyncio.sleep(...)
    say!("{name} finished ({millis} ms)");
    millis * 1000
}

/// Cleanup that must happen even if the task is cancelled. In asyncio you would
/// write `try: ... finally: close()`; in Rust the task's future is dropped on
/// cancellation, so destructors are the cleanup.
struct Connection(&'static str);

impl Drop for Connection {
    fn drop(&mut self) {
        say!("cleanup: closing connection to {} (Drop ran)", self.0);
    }
}

fn thread_name() -> String {
    thread::current().name().unwrap_or("unnamed").to_owned()
}

fn main() {
    common::start_clock();
    // loop = asyncio.new_event_loop()
    let rt = Runtime::new().expect("could not create the kettle runtime");
    say!("kettle tour: asyncio's vocabulary, in Rust, on one thread");
    // Record a timeline of everything the loop does; section h) draws it.
    rt.start_trace();

    // loop.run_until_complete(...): everything in here runs on the loop.
    // Free functions such as kettle::sleep and kettle::spawn only work inside.
    rt.block_on(async {
        heading("a) sleep — asyncio.sleep");
        say!("sleeping for 100 ms ...");
        kettle::sleep(ms(100)).await;
        say!("awake again");

        heading("b) spawn and await — asyncio.create_task");
        let started = Instant::now();
        // Three tasks at once; each starts on the loop's next turn.
        let downloads: Vec<JoinHandle<u64>> = [("a.txt", 100), ("b.txt", 50), ("c.txt", 150)]
            .into_iter()
            // kettle::spawn(...) would do; a name shows in dumps and traces.
            .map(|(name, millis)| task::Builder::new().name(name).spawn(download(name, millis)))
            .collect();
        let mut bytes = 0;
        for task in downloads {
            bytes += task.await.expect("a download failed"); // await task
        }
        say!(
            "three downloads took {:.2}s in total ({bytes} bytes; one after another: 0.30s)",
            started.elapsed().as_secs_f64()
        );

        heading("c) a timeout that fires — asyncio.wait_for");
        say!("downloading huge.iso (1 s), but waiting at most 80 ms ...");
        match kettle::timeout(ms(80), download("huge.iso", 1000)).await {
            Ok(bytes) => say!("huge.iso arrived: {bytes} bytes (unexpected!)"),
            // The download's future was dropped right there: it never finishes.
            Err(elapsed) => say!("timeout: Err({elapsed:?}): {elapsed}"),
        }

        heading("d) callbacks — loop.call_soon / loop.call_later");
        kettle::call_soon(|| say!("call_soon: runs on the next turn"));
        let kept = kettle::call_later(ms(50), || say!("call_later: fired after 50 ms"));
        let unwanted = kettle::call_later(ms(60), || say!("call_later: this line never prints"));
        // TimerHandle.cancel(); merely dropping a TimerHandle would *not* cancel.
        say!("cancelled the 60 ms callback: cancel() = {}", unwanted.cancel());
        kettle::sleep(ms(100)).await;
        say!("after 100 ms: 50 ms callback still pending? {}", kept.is_pending());

        heading("e) cancelling a task — Task.cancel() and CancelledError");
        let mut worker = task::Builder::new().name("worker").spawn(async {
            let _conn = Connection("db.example");
            say!("worker: connected, working for 10 s ...");
            kettle::sleep(Duration::from_secs(10)).await;
            say!("worker: this line never prints");
        });
        kettle::sleep(ms(30)).await;
        say!("main: worker.cancel()");
        worker.cancel();
        // `&mut worker` awaits without consuming the handle, so we can ask it more.
        let err = (&mut worker).await.expect_err("the worker was cancelled");
        say!("worker.await = Err({err}); is_cancelled() = {}", err.is_cancelled());
        say!("worker.is_finished() = {} (Task.done())", worker.is_finished());
    });

    heading("f) from another thread — run_coroutine_threadsafe + run_forever");
    // A Handle is the thread-safe side of the runtime: Send, Sync, cheap to clone.
    let handle = rt.handle();
    let client = thread::Builder::new()
        .name("client".into())
        .spawn(move || {
            say!("{}: handle.spawn(...) submits a task to the loop", thread_name());
            // asyncio.run_coroutine_threadsafe(coro, loop) -> concurrent Future
            let task = handle.spawn(async {
                say!("{}: the submitted task runs on the loop", thread_name());
                kettle::sleep(ms(50)).await;
                42
            });
            let answer = task.wait().expect("the remote task failed"); // future.result()
            say!("{}: task.wait() returned {answer}; calling handle.stop()", thread_name());
            handle.stop(); // loop.call_soon_threadsafe(loop.stop)
            answer
        })
        .expect("could not start the client thread");
    say!("{}: rt.run_forever() until someone calls stop()", thread_name());
    rt.run_forever(); // loop.run_forever()
    let answer = client.join().expect("the client thread panicked");
    say!("{}: run_forever() returned; the client's answer was {answer}", thread_name());

    heading("g) a panicking task does not stop the loop");
    // The default hook would print the panic to stderr; keep the tour tidy.
    let default_hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    rt.block_on(async {
        let broken: JoinHandle<u64> =
            task::Builder::new().name("broken").spawn(async { panic!("corrupt download") });
        let healthy = task::Builder::new().name("d.txt").spawn(download("d.txt", 20));
        match broken.await {
            Ok(_) => say!("the broken task returned (unexpected!)"),
            Err(err) => say!("broken task: Err({err}); is_panic() = {}", err.is_panic()),
        }
        let bytes = healthy.await.expect("the healthy task failed");
        say!("the loop kept running: the healthy task returned {bytes} bytes");
    });
    panic::set_hook(default_hook);

    heading("h) seeing the loop — asyncio.all_tasks() and a timeline");
    let sleepers: Vec<JoinHandle<()>> = rt.block_on(async {
        let sleepers = ["poller", "heartbeat"]
            .into_iter()
            .map(|name| task::Builder::new().name(name).spawn(kettle::sleep(Duration::from_secs(3600))))
            .collect();
        kettle::sleep(ms(10)).await;
        sleepers
    });
    say!("rt.tasks(), one line per task:");
    for info in rt.tasks() {
        say!("  {info}");
    }
    rt.block_on(async {
        for sleeper in sleepers {
            sleeper.cancel();
            let _ = sleeper.await;
        }
    });
    let trace = rt.stop_trace();
    say!("the trace: {trace:?}");
    write_trace(&trace);

    heading("metrics");
    // Nothing left behind: no live tasks, no pending timers.
    say!("{:?}", rt.metrics());
}

/// Writes the tour's timeline for a trace viewer and as a picture, into
/// `target/` of this crate.
fn write_trace(trace: &kettle::trace::Trace) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
    let written = std::fs::create_dir_all(&dir).and_then(|()| {
        let json = dir.join("tour-trace.json");
        trace.write_chrome_json(std::fs::File::create(&json)?)?;
        let svg = dir.join("tour-timeline.svg");
        trace.write_svg(std::fs::File::create(&svg)?)?;
        Ok((json, svg))
    });
    match written {
        Ok((json, svg)) => {
            say!("wrote {} (open it in ui.perfetto.dev or chrome://tracing)", json.display());
            say!("wrote {} (open it in a browser)", svg.display());
        }
        Err(e) => say!("could not write the trace files: {e}"),
    }
}
