//! Watching the loop turn: `Runtime::turn` driven by hand, one report a turn.
//!
//! Run it with `cargo run --example turn_by_turn`. One of each kind of work
//! goes through the loop: a spawned task, a `call_soon` callback, a 20 ms
//! sleep, a task handed in from another thread with `Handle::spawn`, and a
//! read on a loopback TCP connection. Instead of `block_on`, `main` calls
//! `rt.turn(...)` itself, as a host program with its own main loop would, and
//! prints what each turn did:
//!
//! ```text
//! [0.02s] turn 3: timers_fired 1 (step 4), tasks_run 1 (step 5)
//!           ↳ sleep: ...   what the work said about itself during that turn
//! ```
//!
//! A turn line names the counts of its `Turn` report that are not zero, each
//! with the step of the turn that counts it (`src/runtime/core.rs` draws the
//! turn): step 2 polls for I/O (`io_events`), step 3 takes in what other
//! threads pushed (`injected`), step 4 fires the timers that are due
//! (`timers_fired`), step 5 runs the callbacks, then the tasks, queued when it
//! began (`callbacks_run`, `tasks_run`). Step 1, the idle handshake before a
//! wait, leaves no count. Two things about `io_events`: it counts the loop's
//! own waker, which another thread rings to hand work in, and it is 0 on a
//! turn that begins with work queued, because such a turn may skip the poll
//! (it could not wait anyway).

use std::cell::RefCell;
use std::io::Write;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use kettle::net::TcpStream;
use kettle::{Runtime, Turn};

mod common;
use common::{ms, say};

thread_local! {
    /// What the work said about itself during the current turn.
    static NOTES: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Called by the work as it runs on the loop; printed under the turn's line.
fn note(text: impl Into<String>) {
    NOTES.with(|notes| notes.borrow_mut().push(text.into()));
}

/// The report's non-zero counts, each with the step it counts.
fn describe(turn: &Turn) -> String {
    let counts = [
        ("io_events", turn.io_events, 2),
        ("injected", turn.injected, 3),
        ("timers_fired", turn.timers_fired, 4),
        ("callbacks_run", turn.callbacks_run, 5),
        ("tasks_run", turn.tasks_run, 5),
    ];
    let done: Vec<String> = counts
        .into_iter()
        .filter(|&(_, n, _)| n > 0)
        .map(|(name, n, step)| format!("{name} {n} (step {step})"))
        .collect();
    if done.is_empty() { "nothing (the wait ended with nothing to do)".into() } else { done.join(", ") }
}

fn main() {
    common::start_clock();
    let rt = Runtime::new().expect("could not create the kettle runtime");

    // The other thread: it accepts the task's connection, hands the loop a
    // task with Handle::spawn, and writes that task's answer to the socket.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("could not bind");
    let addr = listener.local_addr().expect("no local address");
    let (reading_tx, reading_rx) = mpsc::channel();
    let handle = rt.handle();
    let peer = thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("could not accept");
        reading_rx.recv().expect("the task never started reading");
        let remote = handle.spawn(async {
            note("remote task: its push rang the loop's waker (step 2), step 3 took it in, step 5 ran it");
            "ping"
        });
        let answer = remote.wait().expect("the remote task failed");
        stream.write_all(answer.as_bytes()).expect("could not write");
    });

    // The spawned task: queued now, it runs in step 5 of the first turn.
    let task = rt.spawn(async move {
        note("spawned task: first run; it queues a callback and goes to sleep for 20 ms");
        kettle::call_soon(|| note("call_soon callback: queued last turn, run in step 5 of this one"));
        kettle::sleep(ms(20)).await;
        note(format!("sleep: step 4 fired its timer, which woke the task for step 5; it connects to {addr}"));
        let mut conn = TcpStream::connect(addr).await.expect("could not connect");
        note("connect: step 2 saw the socket writable (connected) and woke the task; it now waits to read");
        // Only now may the other thread go on: bytes sent before this task
        // waits would be read at once, and step 2 would have nothing to show.
        reading_tx.send(()).expect("the other thread is gone");
        let mut buf = [0; 16];
        let n = conn.read(&mut buf).await.expect("could not read");
        let text = String::from_utf8_lossy(&buf[..n]).into_owned();
        note(format!("read: step 2 saw the socket readable and woke the task; step 5 read {text:?}"));
        text
    });

    // The host's loop: one turn at a time, waiting at most 100 ms each.
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut turns = 0;
    while !task.is_finished() {
        assert!(Instant::now() < deadline, "the work was not done after 2 s and {turns} turns");
        let report = rt.turn(Some(ms(100)));
        turns += 1;
        say!("turn {turns}: {}", describe(&report));
        for text in NOTES.with(|notes| notes.take()) {
            println!("          ↳ {text}");
        }
    }

    let read = rt.block_on(task).expect("the task failed"); // finished: returns at once
    peer.join().expect("the other thread panicked");
    let metrics = rt.metrics();
    say!("all work done after {turns} turns; the task read {read:?}");
    say!("metrics: tasks_alive = {}, timers_pending = {}", metrics.tasks_alive, metrics.timers_pending);
}
