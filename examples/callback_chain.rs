//! The same three-step job written twice: as a chain of done-callbacks, and
//! with async/await.
//!
//! Run it with `cargo run --example callback_chain`. Each step is a task that
//! takes 10 ms. In callback style, the end of one step starts the next one
//! (asyncio's `task.add_done_callback(...)`); in async/await style the three
//! steps are simply awaited one after the other. Both print the same result,
//! but only one of them reads top to bottom.

use std::time::Duration;

use kettle::sync::oneshot;

mod common;
use common::{heading, say};

const STEP: Duration = Duration::from_millis(10);

/// `async def step1()`: look up a user id.
async fn step1() -> u32 {
    kettle::sleep(STEP).await;
    say!("step1: found user id 7");
    7
}

/// `async def step2(user_id)`: look up the user's name.
async fn step2(user_id: u32) -> String {
    kettle::sleep(STEP).await;
    let name = if user_id == 7 { "ada" } else { "nobody" };
    say!("step2: user {user_id} is {name}");
    name.to_string()
}

/// `async def step3(name)`: build a greeting.
async fn step3(name: String) -> String {
    kettle::sleep(STEP).await;
    let greeting = format!("hello, {name}!");
    say!("step3: greeting is {greeting:?}");
    greeting
}

fn main() {
    common::start_clock();
    kettle::run(async {
        heading("callbacks — task.add_done_callback(...)");
        // The last callback hands the result back to us through a oneshot
        // channel (in asyncio: setting the result of a Future we await).
        let (result_tx, result_rx) = oneshot::channel::<String>();
        let first = kettle::spawn(step1());
        // Each callback runs on the loop thread once its task has finished,
        // with a borrow of the task's result, and spawns the next step.
        first.add_done_callback(|result| {
            let user_id = *result.as_ref().expect("step1 failed");
            say!("callback 1: step1 returned {user_id}; starting step2");
            let second = kettle::spawn(step2(user_id));
            second.add_done_callback(|result| {
                let name = result.as_ref().expect("step2 failed").clone();
                say!("callback 2: step2 returned {name:?}; starting step3");
                let third = kettle::spawn(step3(name));
                third.add_done_callback(|result| {
                    let greeting = result.as_ref().expect("step3 failed").clone();
                    say!("callback 3: step3 returned {greeting:?}; reporting back");
                    let _ = result_tx.send(greeting);
                });
                // Dropping a handle detaches its task: the task, and its
                // callbacks, still run.
            });
        });
        // Nothing so far has run: callbacks and tasks wait for the loop.
        say!("main: chain started, waiting for its result");
        let by_callbacks = result_rx.await.expect("the chain dropped its sender");
        say!("callbacks result: {by_callbacks:?}");

        heading("async/await — result = await step3(await step2(await step1()))");
        let user_id = step1().await;
        let name = step2(user_id).await;
        let by_await = step3(name).await;
        say!("async/await result: {by_await:?}");

        heading("the same?");
        say!("same result both ways: {}", by_callbacks == by_await);
    });
}
