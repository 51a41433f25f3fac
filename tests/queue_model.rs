//! Specifies `sync::Queue` against a ledger, in seeded random workloads:
//! gets, streams watching through `poll_next`, and puts started, polled
//! when woken, dropped mid-wait (before and after they were woken),
//! `try_get`s and `try_put`s, and a close, in every
//! order a seed picks — polled by hand, without a runtime, so each step is
//! one poll and each wake-up is recorded.
//!
//! A queue's put and get take a shortcut when they wake nobody
//! (`State::put_without_waking`, `State::take_without_waking`); these
//! workloads switch between the shortcut and the full path at every step,
//! and check after each that the two agree with the ledger:
//!
//! - items come out in the order they went in, each exactly once, and an
//!   item whose put did not complete never comes out;
//! - no wake-up is lost: once every woken future has been polled, a get
//!   or a stream still waits only on an empty queue, and a put only on a
//!   full one;
//! - after the close, once settled, nobody waits.
//!
//! A failure names its seed; `QUEUE_MODEL_SEED=n` replays one.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use kettle::sync::{Queue, QueueStream, TryGetError, TryPutError};

/// A waker that records that it was woken.
#[derive(Default)]
struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// xorshift64*: small, seeded, good enough to pick steps.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) % n
    }
}

/// A get in flight: a `get` in line, or a stream watching through
/// `poll_next` (which holds no place in line).
enum GetFuture<'a> {
    InLine(kettle::sync::Get<'a, u64>),
    Watching(QueueStream<u64>),
}
type PutFuture<'a> = kettle::sync::Put<'a, u64>;

/// A future in flight, with the flag its waker sets.
struct Waiting<F> {
    future: F,
    woken: Arc<Flag>,
    item: u64,
}

/// What the workload has seen: the items in the order their puts
/// completed, and in the order gets returned them.
#[derive(Default)]
struct Ledger {
    inserted: Vec<u64>,
    taken: Vec<u64>,
}

fn poll_get(ledger: &mut Ledger, get: &mut Waiting<GetFuture<'_>>) -> bool {
    get.woken.0.store(false, Ordering::SeqCst);
    let waker = Waker::from(get.woken.clone());
    let mut cx = Context::from_waker(&waker);
    let poll = match &mut get.future {
        GetFuture::InLine(get) => Pin::new(get).poll(&mut cx),
        GetFuture::Watching(stream) => stream.poll_next(&mut cx),
    };
    match poll {
        Poll::Ready(Some(item)) => {
            ledger.taken.push(item);
            true
        }
        Poll::Ready(None) => true,
        Poll::Pending => false,
    }
}

fn poll_put(seed: u64, ledger: &mut Ledger, put: &mut Waiting<PutFuture<'_>>) -> bool {
    put.woken.0.store(false, Ordering::SeqCst);
    let waker = Waker::from(put.woken.clone());
    match Pin::new(&mut put.future).poll(&mut Context::from_waker(&waker)) {
        Poll::Ready(Ok(())) => {
            ledger.inserted.push(put.item);
            true
        }
        Poll::Ready(Err(closed)) => {
            assert_eq!(closed.into_inner(), put.item, "seed {seed}: a failed put hands its own item back");
            true
        }
        Poll::Pending => false,
    }
}

/// Polls the woken futures, in a random order, until none is woken; drops
/// those that completed.
fn settle<'a>(
    seed: u64,
    rng: &mut Rng,
    ledger: &mut Ledger,
    gets: &mut Vec<Waiting<GetFuture<'a>>>,
    puts: &mut Vec<Waiting<PutFuture<'a>>>,
) {
    loop {
        let woken_gets: Vec<usize> =
            (0..gets.len()).filter(|&i| gets[i].woken.0.load(Ordering::SeqCst)).collect();
        let woken_puts: Vec<usize> =
            (0..puts.len()).filter(|&i| puts[i].woken.0.load(Ordering::SeqCst)).collect();
        if woken_gets.is_empty() && woken_puts.is_empty() {
            return;
        }
        let mut order: Vec<(bool, usize)> =
            woken_gets.iter().map(|&i| (true, i)).chain(woken_puts.iter().map(|&i| (false, i))).collect();
        for i in (1..order.len()).rev() {
            order.swap(i, rng.below(i as u64 + 1) as usize);
        }
        let (mut done_gets, mut done_puts) = (Vec::new(), Vec::new());
        for (is_get, i) in order {
            if is_get && poll_get(ledger, &mut gets[i]) {
                done_gets.push(i);
            } else if !is_get && poll_put(seed, ledger, &mut puts[i]) {
                done_puts.push(i);
            }
        }
        done_gets.sort_unstable();
        done_puts.sort_unstable();
        for i in done_gets.into_iter().rev() {
            gets.remove(i);
        }
        for i in done_puts.into_iter().rev() {
            puts.remove(i);
        }
    }
}

/// One workload: `steps` random steps on a queue bounded to `capacity`
/// (`None`: unbounded), then a close and a drain.
fn run(seed: u64, capacity: Option<usize>, steps: usize) {
    let queue = match capacity {
        Some(capacity) => Queue::bounded(capacity),
        None => Queue::new(),
    };
    let mut rng = Rng::new(seed);
    let mut ledger = Ledger::default();
    let mut gets: Vec<Waiting<GetFuture<'_>>> = Vec::new();
    let mut puts: Vec<Waiting<PutFuture<'_>>> = Vec::new();
    let mut next_item = 0_u64;
    let mut closed = false;

    for step in 0..steps + 200 {
        let ending = step >= steps;
        if step == steps {
            queue.close();
            closed = true;
        }
        match if ending { 3 } else { rng.below(9) } {
            // Start a get and poll it once.
            0 | 1 => {
                let future = if rng.below(3) == 0 {
                    GetFuture::Watching(queue.stream())
                } else {
                    GetFuture::InLine(queue.get())
                };
                let mut get = Waiting { future, woken: Arc::default(), item: 0 };
                if !poll_get(&mut ledger, &mut get) {
                    gets.push(get);
                }
            }
            // Start a put and poll it once.
            2 | 3 if !ending => {
                next_item += 1;
                let item = next_item;
                let mut put = Waiting { future: queue.put(item), woken: Arc::default(), item };
                if !poll_put(seed, &mut ledger, &mut put) {
                    puts.push(put);
                }
            }
            // Drop a waiting get or put, woken or not.
            4 if !gets.is_empty() => drop(gets.remove(rng.below(gets.len() as u64) as usize)),
            5 if !puts.is_empty() => drop(puts.remove(rng.below(puts.len() as u64) as usize)),
            6 => match queue.try_get() {
                Ok(item) => ledger.taken.push(item),
                Err(TryGetError::Closed) => {
                    assert!(closed, "seed {seed}: try_get says closed on an open queue")
                }
                Err(TryGetError::Empty) => {}
            },
            7 => {
                next_item += 1;
                match queue.try_put(next_item) {
                    Ok(()) => ledger.inserted.push(next_item),
                    Err(TryPutError::Closed(_)) => {
                        assert!(closed, "seed {seed}: try_put says closed on an open queue")
                    }
                    Err(TryPutError::Full(_)) => {}
                }
            }
            // Poll whoever was woken, in a random order, until nobody is;
            // then nobody waits who could go ahead.
            _ => {
                settle(seed, &mut rng, &mut ledger, &mut gets, &mut puts);
                if !gets.is_empty() {
                    assert!(queue.is_empty(), "seed {seed}, step {step}: a get waits beside a buffered item");
                    assert!(!closed, "seed {seed}, step {step}: a get waits on a closed, drained queue");
                }
                if !puts.is_empty() {
                    assert!(!closed, "seed {seed}, step {step}: a put waits on a closed queue");
                    assert!(queue.is_full(), "seed {seed}, step {step}: a put waits beside a free slot");
                }
            }
        }
        assert!(
            ledger.inserted.starts_with(&ledger.taken),
            "seed {seed}, step {step}: items came out in the order they went in, once each"
        );
        assert_eq!(
            queue.len(),
            ledger.inserted.len() - ledger.taken.len(),
            "seed {seed}, step {step}: the queue holds exactly the items put and not taken"
        );
    }
    // Drain what is left; every item put comes out.
    while let Ok(item) = queue.try_get() {
        ledger.taken.push(item);
    }
    drop(gets);
    drop(puts);
    assert_eq!(ledger.taken, ledger.inserted, "seed {seed}: every item put came out, once, in order");
}

fn seeds() -> Vec<u64> {
    match std::env::var("QUEUE_MODEL_SEED") {
        Ok(seed) => vec![seed.parse().expect("QUEUE_MODEL_SEED is a number")],
        Err(_) => (0..300).collect(),
    }
}

#[test]
fn random_gets_streams_and_puts_with_cancellations_on_a_bounded_queue_lose_nothing_and_wake_everyone_owed() {
    for seed in seeds() {
        run(seed, Some(1 + (seed % 4) as usize), 400);
    }
}

#[test]
fn random_gets_streams_and_puts_with_cancellations_on_an_unbounded_queue_lose_nothing_and_wake_everyone_owed()
{
    for seed in seeds() {
        run(seed, None, 400);
    }
}
