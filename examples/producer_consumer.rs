//! Producers and consumers around a bounded `kettle::sync::Queue`
//! (asyncio's `Queue`, `task_done` and `join`).
//!
//! Run it with `cargo run --example producer_consumer`. Two producers put five
//! orders each into a queue that holds at most three; three consumers take
//! them and need a "random" time for each. The main task waits with
//! `queue.join()` until every order is marked done, then closes the queue so
//! the consumers' `get()` returns `None` and they finish.
//!
//! The randomness is a tiny xorshift generator with fixed seeds, so every run
//! makes the same choices (no `rand` crate needed).

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use kettle::sync::Queue;

mod common;
use common::say;

/// xorshift64: a few shifts and xors, good enough to vary some delays.
struct Rng(u64);

impl Rng {
    /// A random delay of 1 to `max_ms` milliseconds.
    fn delay(&mut self, max_ms: u64) -> Duration {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        Duration::from_millis(1 + self.0 % max_ms)
    }
}

const PRODUCERS: usize = 2;
const ORDERS_EACH: usize = 5;
const CONSUMERS: usize = 3;

async fn producer(id: usize, queue: Queue<String>) {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d + id as u64);
    for n in 1..=ORDERS_EACH {
        kettle::sleep(rng.delay(4)).await;
        let order = format!("order {id}.{n}");
        // Waits while the queue is full (three orders waiting).
        queue.put(order.clone()).await.expect("the queue closed early");
        say!("producer {id}: put {order} (queue holds {})", queue.len());
    }
}

/// Takes orders until the queue is closed and drained; returns what it did.
async fn consumer(id: usize, queue: Queue<String>, handled: Rc<RefCell<Vec<String>>>) -> usize {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 + id as u64);
    let mut count = 0;
    while let Some(order) = queue.get().await {
        let took = rng.delay(8);
        kettle::sleep(took).await; // the "work"
        say!("consumer {id}: handled {order} in {} ms", took.as_millis());
        handled.borrow_mut().push(order);
        count += 1;
        queue.task_done(); // one more order fully processed
    }
    say!("consumer {id}: queue closed, stopping after {count} orders");
    count
}

fn main() {
    common::start_clock();
    kettle::run(async {
        let queue = Queue::bounded(3); // asyncio.Queue(maxsize=3)
        let handled = Rc::new(RefCell::new(Vec::new()));
        let consumers: Vec<_> =
            (1..=CONSUMERS).map(|id| kettle::spawn(consumer(id, queue.clone(), handled.clone()))).collect();
        let producers: Vec<_> =
            (1..=PRODUCERS).map(|id| kettle::spawn(producer(id, queue.clone()))).collect();

        for producer in producers {
            producer.await.expect("a producer failed");
        }
        say!("main: producers done; await queue.join() until every order is handled");
        queue.join().await;
        say!("main: queue.join() returned: every order was marked task_done");

        // asyncio cancels its consumers here. Closing the queue lets them end
        // their loops on their own (cancelling them would work as well).
        queue.close();
        let mut per_consumer = Vec::new();
        for consumer in consumers {
            per_consumer.push(consumer.await.expect("a consumer failed"));
        }
        let mut orders = handled.borrow().clone();
        orders.sort();
        orders.dedup();
        say!("main: orders per consumer: {per_consumer:?}");
        say!(
            "main: {} orders handled, {} distinct, {} expected",
            handled.borrow().len(),
            orders.len(),
            PRODUCERS * ORDERS_EACH
        );
    });
}
