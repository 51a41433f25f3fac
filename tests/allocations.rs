//! The allocation shape of the hot paths: one allocation per spawned task,
//! none per same-thread wake, none per timer insert and cancel once warm.
//!
//! A counting global allocator counts per thread, so tests running in
//! parallel threads of this binary do not disturb each other.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::Duration;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
    static FREES: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: defers every operation to `System`; counting touches only a
// const-initialised thread-local `Cell`, which never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: forwarded unchanged from our caller.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let _ = FREES.try_with(|n| n.set(n.get() + 1));
        // SAFETY: forwarded unchanged from our caller.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: forwarded unchanged from our caller.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

/// Blocks allocated and not yet freed by this thread (a realloc counts as a
/// new block, so compare two readings taken around reallocation-free code).
fn live_blocks() -> usize {
    allocations() - FREES.with(Cell::get)
}

/// Spawns and awaits `n` trivial tasks: grows the slab and run queue to size.
async fn warm_up(n: usize) {
    let handles: Vec<_> = (0..n).map(|i| kettle::spawn(async move { i })).collect();
    for handle in handles {
        handle.await.unwrap();
    }
}

#[test]
fn spawning_allocates_exactly_once_per_task() {
    const N: usize = 1_000;
    kettle::run(async {
        warm_up(N).await;
        let mut handles = Vec::with_capacity(N);
        let before = allocations();
        for i in 0..N {
            handles.push(kettle::spawn(async move { [i; 8] }));
        }
        let spawned = allocations() - before;
        assert_eq!(spawned, N, "one allocation per task: header, future and output share it");
        for handle in handles {
            handle.await.unwrap();
        }
    });
}

#[test]
fn a_same_thread_wake_allocates_nothing() {
    const YIELDS: usize = 10_000;
    kettle::run(async {
        warm_up(16).await;
        let task = kettle::spawn(async {
            let before = allocations();
            for _ in 0..YIELDS {
                kettle::yield_now().await;
            }
            allocations() - before
        });
        let during = task.await.unwrap();
        assert_eq!(during, 0, "{YIELDS} self-wakes and the turns between them allocated");
    });
}

#[test]
fn timer_insert_and_cancel_allocate_nothing_once_warm() {
    const N: usize = 1_000;
    kettle::run(async {
        // The first rounds grow the timer heap and slab.
        for _ in 0..N {
            kettle::timeout(Duration::from_secs(1), kettle::yield_now()).await.unwrap();
        }
        let before = allocations();
        for _ in 0..N {
            kettle::timeout(Duration::from_secs(1), kettle::yield_now()).await.unwrap();
        }
        assert_eq!(allocations() - before, 0, "a timeout's timer reuses the heap's capacity");
    });
}

#[test]
fn a_warm_remote_wake_allocates_nothing_on_the_loop_thread() {
    use std::sync::mpsc;
    use std::task::Poll;

    const ROUNDS: usize = 200;
    let (to_waker, wakers) = mpsc::channel::<std::task::Waker>();
    // Another thread wakes each waker it receives: every wake of the task
    // below crosses threads and goes through the injector.
    let waker_thread = std::thread::spawn(move || {
        for waker in wakers {
            waker.wake();
        }
    });
    let counted = kettle::run(async move {
        let task = kettle::spawn(async move {
            let mut rounds = 0;
            let mut before = 0;
            std::future::poll_fn(|cx| {
                // Round 0 warms the injector's buffers; count from round 1 on.
                if rounds == 1 {
                    before = allocations();
                }
                if rounds == ROUNDS {
                    return Poll::Ready(allocations() - before);
                }
                rounds += 1;
                to_waker.send(cx.waker().clone()).unwrap();
                Poll::Pending
            })
            .await
        });
        task.await.unwrap()
    });
    waker_thread.join().unwrap();
    // Sending into a std channel allocates one block per 31 messages on the
    // sending (loop) thread; the wakes and the loop's handling of them must
    // add nothing on top.
    assert!(counted <= ROUNDS / 31 + 1, "remote wakes allocated {counted} times on the loop thread");
}

/// Gathers `n` futures that yield once; returns the allocations it made.
fn gather_allocations(n: usize) -> usize {
    kettle::run(async move {
        warm_up(16).await;
        let before = allocations();
        let out = kettle::gather((0..n).map(|i| async move {
            kettle::yield_now().await;
            i
        }))
        .await;
        assert_eq!(out.len(), n);
        allocations() - before
    })
}

#[test]
fn gather_allocates_a_fixed_handful_however_many_futures_it_runs() {
    let ten = gather_allocations(10);
    let ten_thousand = gather_allocations(10_000);
    assert_eq!(ten, ten_thousand, "nothing is allocated per future, nor per wake");
    // The children's buffer, the wake list and its entries, the batch
    // buffer, the outputs, and the returned Vec.
    assert!(ten_thousand <= 6, "{ten_thousand} allocations");
}

#[test]
fn a_gathers_wakers_free_their_shared_list_when_the_last_one_is_dropped() {
    use std::cell::RefCell;
    use std::rc::Rc;
    use std::task::{Poll, Waker};

    kettle::run(async {
        warm_up(16).await;
        let kept: Rc<RefCell<Vec<Waker>>> = Rc::new(RefCell::new(Vec::with_capacity(3)));
        let before = live_blocks();
        let out = kettle::gather((0..3).map(|i| {
            let kept = kept.clone();
            std::future::poll_fn(move |cx| {
                kept.borrow_mut().push(cx.waker().clone());
                Poll::Ready(i)
            })
        }))
        .await;
        assert_eq!(out, [0, 1, 2]);
        drop(out);
        assert!(live_blocks() > before, "the kept wakers hold the gather's wake list");
        // Waking by value gives that waker's hold back too.
        let last = kept.borrow_mut().pop().unwrap();
        last.wake();
        kept.borrow_mut().clear();
        assert_eq!(live_blocks(), before, "the last waker freed the list: nothing leaked");
    });
}

#[test]
fn a_block_on_after_another_reuses_its_waker_and_allocates_nothing() {
    let rt = kettle::Runtime::new().unwrap();
    rt.block_on(async {}); // the first allocates the waker
    let before = allocations();
    for i in 0..100 {
        assert_eq!(rt.block_on(std::future::ready(i)), i);
    }
    assert_eq!(allocations() - before, 0, "the main waker is reused when nothing kept a clone");
}
