//! Testing code built on kettle: a paused clock for time, a seed for order.
//!
//! Run it with `cargo run --example deterministic`. Two pieces of ordinary
//! kettle code, each tested the way a test suite would:
//!
//! 1. `fetch_with_retries` gives a slow service 30 s per attempt and backs
//!    off between attempts. On a runtime built with `start_paused(true)`
//!    its 83 seconds of timeouts and back-off take milliseconds, and every
//!    time stamp is exact, because the clock only moves when nothing but a
//!    timer is left to happen.
//! 2. `sell_last_seat` has a race: two buyers check the seat is free, await
//!    (a payment), then take it. In spawn order the first buyer always
//!    finishes first, so a plain test passes. `kettle::test::check` runs it
//!    under many seeds (`Builder::seed`), each a different order of the
//!    ready tasks per turn, finds a seed that sells the seat twice, and that
//!    seed replays the failure every time.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use kettle::Builder;
use kettle::time::now;

const SECOND: Duration = Duration::from_secs(1);

/// Asks a service that answers in `delays[i]` on attempt `i`, allowing 30 s
/// per attempt and backing off 1 s, 2 s, 4 s ... between attempts. Returns
/// the attempt that was answered.
async fn fetch_with_retries(delays: &[u64]) -> Option<usize> {
    let start = now();
    let mut backoff = SECOND;
    for (attempt, &delay) in delays.iter().enumerate() {
        let elapsed = (now() - start).as_secs();
        println!("  attempt {} at +{elapsed} s", attempt + 1);
        let service = kettle::sleep(Duration::from_secs(delay));
        if kettle::timeout(30 * SECOND, service).await.is_ok() {
            return Some(attempt + 1);
        }
        println!("  attempt {} timed out at +{} s", attempt + 1, (now() - start).as_secs());
        kettle::sleep(backoff).await;
        backoff *= 2;
    }
    None
}

/// Two buyers, one seat. The second buyer looks the show up first (one
/// await), so in spawn order the first buyer has taken the seat before the
/// second one checks. Returns how many tickets were sold.
fn sell_last_seat(builder: Builder) -> u32 {
    let rt = builder.start_paused(true).build().unwrap();
    let (free, sold) = (Rc::new(Cell::new(true)), Rc::new(Cell::new(0)));
    let buy = |free: Rc<Cell<bool>>, sold: Rc<Cell<u32>>| async move {
        if free.get() {
            kettle::yield_now().await; // take the payment
            free.set(false);
            sold.set(sold.get() + 1);
        }
    };
    rt.block_on(async {
        let first = kettle::spawn(buy(free.clone(), sold.clone()));
        let second = kettle::spawn({
            let buy = buy(free.clone(), sold.clone());
            async move {
                kettle::yield_now().await; // look the show up
                buy.await;
            }
        });
        let _ = kettle::join!(first, second);
    });
    assert!(sold.get() <= 1, "the last seat was sold {} times", sold.get());
    sold.get()
}

fn main() {
    println!("1. time: a paused clock");
    let real = Instant::now();
    let rt = Builder::new().start_paused(true).build().unwrap();
    rt.block_on(async {
        let start = now();
        let answered = fetch_with_retries(&[50, 40, 20]).await.expect("the third attempt is answered");
        println!("  attempt {answered} answered at +{} s of virtual time", (now() - start).as_secs());
    });
    println!("  real time taken: {} ms", real.elapsed().as_millis());

    println!("2. order: a seed sweep");
    println!("  in spawn order: {} ticket sold", sell_last_seat(Builder::new()));
    // The panic hook would print each failing seed's panic; keep it quiet here.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let sweep = std::panic::catch_unwind(|| {
        kettle::test::check(0..64, |seed| {
            sell_last_seat(Builder::new().seed(seed));
        })
    });
    let message = *sweep.expect_err("a seed oversells").downcast::<String>().unwrap();
    let first_line = message.lines().next().unwrap_or_default();
    println!("  the sweep says: {first_line}");
    let seed: u64 = first_line.split(' ').nth(2).and_then(|s| s.parse().ok()).expect("a seed");
    let replays =
        (0..3).filter(|_| std::panic::catch_unwind(|| sell_last_seat(Builder::new().seed(seed))).is_err());
    println!("  replayed seed {seed} three times: oversold {} times out of 3", replays.count());
    std::panic::set_hook(hook);
}
