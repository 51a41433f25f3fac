//! The floor: the standard workloads done with no runtime at all.
//!
//! # What the floor is
//!
//! A runtime is worth its price only if the price is known. The floor is the
//! least work each workload needs — the same tasks, the same hand-offs, the
//! same counts, done by the plainest code that can do them — so that
//! kettle's time divided by the floor's is *the price of the runtime*: what
//! its task headers, wakers, run queue, timer queue and reactor cost on top
//! of the work itself. A ratio near 1 says the runtime costs nothing there;
//! 5 says four fifths of the time is the runtime's.
//!
//! The floor has to do the same *observable* work, or it is not a floor but
//! a different, easier workload: every task the workload spawns is a boxed
//! future here too (one allocation, as in every runtime measured), polled
//! through [`Future::poll`] with a real [`Waker`]; every hand-off between
//! tasks (a join, a yield, a oneshot, a full or empty queue) goes through a
//! wake and a later poll, as it does on a runtime; and every workload returns
//! the same checksum as kettle's (`tests/same_work.rs` checks it). What the
//! floor leaves out is everything a general runtime needs and these
//! workloads do not: thread-safe wakers, reference-counted task headers,
//! cancellation, task ids, fairness budgets, a reactor for I/O it does not
//! wait on.
//!
//! # How it runs
//!
//! The "executor" is as little as a wakeable set of boxed futures can be.
//! [`Floor::block_on`] keeps the tasks' futures in a local `Vec` (index =
//! task; never reused within one `block_on`) and polls them in place; what
//! tasks and wakers must reach is the thread-local `Shared`: a `VecDeque`
//! of the indices of woken tasks, the futures spawned during the current
//! poll (moved into the `Vec` after it), each task's output or waiting
//! joiner, and a min-heap of timers. A waker is the task's index itself, in
//! the data pointer of a [`RawWaker`]: cloning it copies a word, waking it
//! pushes the index onto the ready queue — no reference count, no "already
//! queued" flag (no workload here wakes a task twice between two of its
//! polls; if one did, the task would be polled once more for nothing, which
//! futures allow). The future given to `block_on` is the *root*, polled when
//! woken; then the ready queue is drained, a batch at a time (the queue is
//! swapped out whole, and what the batch wakes forms the next); when nothing
//! is ready and the
//! root is not woken, the loop sleeps until the earliest timer (or panics:
//! nothing could wake it). Timers are cancelled lazily: a timeout that
//! completes leaves its entry in the heap, and if the entry ever fires its
//! task gets a spurious wake.
//!
//! The wakers are for this thread only: woken from another thread, they
//! would schedule on that thread's loop. No workload here wakes across
//! threads through them; `spawn_remote`, the one that crosses threads, is
//! written without the loop (below).
//!
//! # Each workload's floor
//!
//! | workload | its floor |
//! |---|---|
//! | `spawn_many` | n boxed tasks, each polled once, their outputs joined |
//! | `spawn_remote` | the other thread pushes n boxed futures into a `Mutex<Vec<_>>` and unparks the loop thread; the loop swaps the vector out, polls each once and sums the outputs |
//! | `yield_many` | boxed tasks that wake themselves and return `Pending`, round-robin through the ready queue |
//! | `ping_pong` | the oneshots are `Rc<RefCell<(value, waker)>>` |
//! | `chained_spawn` | each boxed task spawns the next and awaits its join |
//! | `timeout_ready` | the timeout polls its future first; pending, it reads the clock and pushes a heap entry (never removed: lazy cancellation) |
//! | `timeout_immediate` | the same timeout, whose future is ready at once: no clock read, no timer |
//! | `sleep_spread` | n boxed tasks on timer-heap entries; the loop `thread::sleep`s to the earliest deadline |
//! | `queue` | a `VecDeque` with the consumer's waker and a `VecDeque` of waiting producers' wakers |
//! | `gather` | `kettle::gather` itself (executor-agnostic, the same combinator on every column) on the floor's `block_on` |
//! | `tcp_echo` | blocking sockets, no readiness at all: for each round trip, connection after connection, `write`, `read`, `write`, `read` — the four system calls a round trip cannot do without |
//!
//! Every standard workload has a floor. Four rows read differently from the
//! rest:
//!
//! - `tcp_echo`'s floor serves one connection at a time: the same bytes
//!   through the same sockets with the same system calls, but none of the
//!   readiness work (`epoll_wait`, the `EAGAIN` reads) that serving 32 at
//!   once needs. kettle/floor there is what the reactor costs, not what
//!   tasks cost.
//! - `sleep_spread`'s time is mostly the 10 ms of sleeping every column
//!   does; its ratio is close to 1 by construction, and what it shows is the
//!   timer overhead plus the lateness of the last deadline.
//! - `timeout_ready` and `timeout_immediate` are one `block_on` each, of one
//!   timeout or of a hundred that need no timer; the floor's `block_on`
//!   allocates nothing for a future that spawns nothing, so kettle/floor
//!   there is mostly the fixed cost of entering and leaving kettle's
//!   `block_on` (a few hundred instructions), not of its timers.
//! - `spawn_remote`'s floor takes a lock per task on the other thread, and
//!   its loop thread may park and be unparked many times while the other
//!   thread submits (kettle wakes its loop at most once per idle period); it
//!   is the plainest hand-over between threads, not the cheapest possible,
//!   and wall-time rounds can put kettle below it.
//!
use std::cell::RefCell;
use std::collections::{BinaryHeap, VecDeque};
use std::future::Future;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};
use std::time::{Duration, Instant};

use crate::MESSAGE;

/// The floor's "runtime": a unit value, so that the floor's workloads have
/// the same signatures as kettle's (`floor::spawn_many(&Floor, n)`). Its
/// state is [`Floor::block_on`]'s locals and the thread-local `Shared`.
#[derive(Debug, Default, Clone, Copy)]
pub struct Floor;

/// A task: a boxed future of the task's output (every floor task returns a
/// `u64`, the workloads' checksum currency).
type BoxFuture = Pin<Box<dyn Future<Output = u64>>>;

/// A timer: a deadline and whom to wake. Ordered by deadline, *earliest
/// greatest*, so that `BinaryHeap` (a max-heap) pops the earliest.
struct Timer {
    deadline: Instant,
    waker: Waker,
}

impl PartialEq for Timer {
    fn eq(&self, other: &Timer) -> bool {
        self.deadline == other.deadline
    }
}

impl Eq for Timer {}

impl PartialOrd for Timer {
    fn partial_cmp(&self, other: &Timer) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Timer {
    fn cmp(&self, other: &Timer) -> std::cmp::Ordering {
        other.deadline.cmp(&self.deadline)
    }
}

/// A task's join: its output, from the moment it finishes until the
/// [`JoinHandle`] takes it, and the waker of whoever waits for it.
struct Join {
    output: Option<u64>,
    joiner: Option<Waker>,
}

/// What tasks, wakers and timers reach while `block_on` polls.
struct Shared {
    /// The indices of the woken tasks, in wake order.
    ready: VecDeque<usize>,
    /// Futures spawned since `block_on` last looked, in index order.
    spawned: Vec<BoxFuture>,
    /// Every task's join, by index (so also the next task's index).
    joins: Vec<Join>,
    /// The root (the future `block_on` runs) was woken.
    root_woken: bool,
    /// Pending timers, earliest first; cancelled ones stay until they fire.
    timers: BinaryHeap<Timer>,
}

thread_local! {
    static SHARED: RefCell<Shared> = const {
        RefCell::new(Shared {
            ready: VecDeque::new(),
            spawned: Vec::new(),
            joins: Vec::new(),
            root_woken: false,
            timers: BinaryHeap::new(),
        })
    };
}

/// Runs `f` on this thread's [`Shared`].
fn shared<T>(f: impl FnOnce(&mut Shared) -> T) -> T {
    SHARED.with(|shared| f(&mut shared.borrow_mut()))
}

/// The root's index in wakers (no task has it).
const ROOT: usize = usize::MAX;

/// The wakers' vtable: the data pointer is a task index, never dereferenced.
static VTABLE: RawWakerVTable = RawWakerVTable::new(clone_waker, wake, wake, drop_waker);

fn clone_waker(index: *const ()) -> RawWaker {
    RawWaker::new(index, &VTABLE)
}

/// Marks task `index` (or the root) woken.
fn wake(index: *const ()) {
    let index = index as usize;
    shared(|shared| if index == ROOT { shared.root_woken = true } else { shared.ready.push_back(index) });
}

fn drop_waker(_: *const ()) {}

/// The waker of task `index` (or of the root, [`ROOT`]).
fn waker(index: usize) -> Waker {
    // SAFETY: `RawWaker`'s contract is that the vtable's functions are sound
    // to call with this data pointer from any thread, for as long as any
    // clone lives. They never dereference it (it is an index cast to a
    // pointer) and touch only a thread-local, so they are.
    unsafe { Waker::from_raw(RawWaker::new(index as *const (), &VTABLE)) }
}

/// Spawns `future` as a task on this thread's floor: boxed, queued, and
/// handed to `block_on` after the current poll.
pub fn spawn(future: impl Future<Output = u64> + 'static) -> JoinHandle {
    let future: BoxFuture = Box::pin(future);
    shared(|shared| {
        let index = shared.joins.len();
        shared.joins.push(Join { output: None, joiner: None });
        shared.spawned.push(future);
        shared.ready.push_back(index);
        JoinHandle { index }
    })
}

/// A spawned task's output, as a future.
pub struct JoinHandle {
    index: usize,
}

impl Future for JoinHandle {
    type Output = u64;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u64> {
        shared(|shared| {
            let join = &mut shared.joins[self.index];
            match join.output.take() {
                Some(output) => Poll::Ready(output),
                None => {
                    join.joiner = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        })
    }
}

/// Stores task `index`'s output and wakes its joiner, if it waits.
fn finish(index: usize, output: u64) {
    let joiner = shared(|shared| {
        let join = &mut shared.joins[index];
        join.output = Some(output);
        join.joiner.take()
    });
    if let Some(joiner) = joiner {
        joiner.wake();
    }
}

/// Waits for the earliest timer, then wakes it and every other that is due.
/// Panics when there is none: nothing is ready, the root is not woken, and
/// nothing could ever wake anything.
fn wait_for_timers() {
    let first = shared(|shared| shared.timers.pop());
    let first = first.expect("the floor is stuck: nothing is ready and no timer is pending");
    let now = Instant::now();
    if first.deadline > now {
        std::thread::sleep(first.deadline - now);
    }
    first.waker.wake();
    let now = Instant::now();
    while let Some(timer) = shared(|shared| {
        shared
            .timers
            .peek_mut()
            .filter(|t| t.deadline <= now)
            .map(std::collections::binary_heap::PeekMut::pop)
    }) {
        timer.waker.wake();
    }
}

impl Floor {
    /// Runs `future` to completion on this thread's floor, with every task it
    /// spawns; the tasks (all finished, in these workloads) are dropped after.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let mut root = pin!(future);
        let root_waker = waker(ROOT);
        let mut tasks: Vec<Option<BoxFuture>> = Vec::new();
        let mut batch = VecDeque::new();
        shared(|shared| {
            // Empty already, unless a `block_on` before this one panicked.
            shared.ready.clear();
            shared.spawned.clear();
            shared.joins.clear();
            shared.timers.clear();
            shared.root_woken = true;
        });
        let output = 'run: loop {
            if shared(|shared| std::mem::take(&mut shared.root_woken))
                && let Poll::Ready(output) = root.as_mut().poll(&mut Context::from_waker(&root_waker))
            {
                break 'run output;
            }
            // Run the ready tasks, a batch at a time: take in what was
            // spawned and swap the whole ready queue out in one borrow; what
            // the batch wakes or spawns lands in the next one.
            loop {
                shared(|shared| {
                    if !shared.spawned.is_empty() {
                        tasks.extend(shared.spawned.drain(..).map(Some));
                    }
                    std::mem::swap(&mut batch, &mut shared.ready);
                });
                if batch.is_empty() {
                    break;
                }
                for index in batch.drain(..) {
                    let Some(future) = tasks[index].as_mut() else { continue }; // finished
                    if let Poll::Ready(output) = future.as_mut().poll(&mut Context::from_waker(&waker(index)))
                    {
                        tasks[index] = None;
                        finish(index, output);
                    }
                }
            }
            if !shared(|shared| shared.root_woken) {
                wait_for_timers();
            }
        };
        drop(tasks);
        shared(|shared| {
            shared.ready.clear();
            shared.joins.clear();
            shared.timers.clear();
        });
        output
    }
}

/// Yields once: wakes itself and returns `Pending` on its first poll.
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// The future of [`yield_now`].
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Sleeps for `duration` from now.
pub fn sleep(duration: Duration) -> Sleep {
    Sleep { deadline: Instant::now() + duration, registered: false }
}

/// The future of [`sleep`]: a timer entry pushed at its first poll.
pub struct Sleep {
    deadline: Instant,
    registered: bool,
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.registered {
            // Woken: by our own timer, or spuriously by a stale one.
            return if Instant::now() >= self.deadline { Poll::Ready(()) } else { Poll::Pending };
        }
        self.registered = true;
        let timer = Timer { deadline: self.deadline, waker: cx.waker().clone() };
        shared(|shared| shared.timers.push(timer));
        Poll::Pending
    }
}

/// `future`, or `Err(())` once `duration` has passed.
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    Timeout { future, duration, deadline: None }
}

/// The future of [`timeout`]. It polls its future first, so a future ready
/// at once costs no clock read and no timer; pending, it reads the clock and
/// pushes a timer entry, which stays in the heap if the future wins.
pub struct Timeout<F> {
    future: F,
    duration: Duration,
    deadline: Option<Instant>,
}

/// Only for `Unpin` futures (the workloads' are), which keeps it free of
/// pin projection.
impl<F: Future + Unpin> Future for Timeout<F> {
    type Output = Result<F::Output, ()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Poll::Ready(output) = Pin::new(&mut this.future).poll(cx) {
            return Poll::Ready(Ok(output));
        }
        match this.deadline {
            None => {
                let deadline = Instant::now() + this.duration;
                this.deadline = Some(deadline);
                shared(|shared| shared.timers.push(Timer { deadline, waker: cx.waker().clone() }));
                Poll::Pending
            }
            Some(deadline) if Instant::now() >= deadline => Poll::Ready(Err(())),
            Some(_) => Poll::Pending,
        }
    }
}

/// A oneshot's shared slot: the value, once sent, and the receiver's waker,
/// while it waits.
type OneshotSlot = RefCell<(Option<()>, Option<Waker>)>;

/// A one-value channel between two tasks of one thread: a shared slot for
/// the value and the receiver's waker.
fn oneshot() -> (Rc<OneshotSlot>, OneshotReceiver) {
    let slot = Rc::new(RefCell::new((None, None)));
    (slot.clone(), OneshotReceiver(slot))
}

/// Puts the value in the slot and wakes the receiver, if it waits.
fn oneshot_send(slot: &OneshotSlot) {
    let waker = {
        let mut slot = slot.borrow_mut();
        slot.0 = Some(());
        slot.1.take()
    };
    if let Some(waker) = waker {
        waker.wake();
    }
}

/// The receiving half of [`oneshot`].
struct OneshotReceiver(Rc<OneshotSlot>);

impl Future for OneshotReceiver {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut slot = self.0.borrow_mut();
        match slot.0.take() {
            Some(()) => Poll::Ready(()),
            None => {
                slot.1 = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// A bounded queue between tasks of one thread: the items, the waiting
/// consumer's waker and the waiting producers' wakers.
struct Queue {
    items: VecDeque<u64>,
    capacity: usize,
    closed: bool,
    consumer: Option<Waker>,
    producers: VecDeque<Waker>,
}

/// Puts `item` into `queue`, waiting while it is full.
fn put(queue: &RefCell<Queue>, item: u64) -> impl Future<Output = ()> + '_ {
    std::future::poll_fn(move |cx| {
        let mut q = queue.borrow_mut();
        if q.items.len() == q.capacity {
            q.producers.push_back(cx.waker().clone());
            return Poll::Pending;
        }
        q.items.push_back(item);
        let consumer = q.consumer.take();
        drop(q);
        if let Some(consumer) = consumer {
            consumer.wake();
        }
        Poll::Ready(())
    })
}

/// Takes the next item from `queue`, waiting while it is empty; `None` once
/// it is empty and closed.
fn get(queue: &RefCell<Queue>) -> impl Future<Output = Option<u64>> + '_ {
    std::future::poll_fn(move |cx| {
        let mut q = queue.borrow_mut();
        match q.items.pop_front() {
            Some(item) => {
                let producer = q.producers.pop_front();
                drop(q);
                if let Some(producer) = producer {
                    producer.wake();
                }
                Poll::Ready(Some(item))
            }
            None if q.closed => Poll::Ready(None),
            None => {
                q.consumer = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    })
}

/// `n` tasks spawned inside `block_on`, their handles awaited.
pub fn spawn_many(floor: &Floor, n: usize) -> u64 {
    floor.block_on(async {
        let handles: Vec<_> = (0..n).map(|i| spawn(async move { i as u64 })).collect();
        let mut sum = 0;
        for h in handles {
            sum += h.await;
        }
        sum
    })
}

/// `n` futures submitted from another thread: `submit` runs its job there,
/// which pushes them one by one into a shared vector, unparking this thread
/// after each; this thread takes the vector's contents whenever it is
/// non-empty (parking when it is), polls each future once and sums the
/// outputs. One lock per task on the other thread, one per batch here.
pub fn spawn_remote(_: &Floor, n: usize, submit: impl FnOnce(Box<dyn FnOnce() + Send>)) -> u64 {
    type SendFuture = Pin<Box<dyn Future<Output = u64> + Send>>;
    let inbox: Arc<Mutex<Vec<SendFuture>>> = Arc::new(Mutex::new(Vec::new()));
    let this_thread = std::thread::current();
    submit(Box::new({
        let inbox = inbox.clone();
        move || {
            for i in 0..n {
                inbox.lock().unwrap().push(Box::pin(async move { i as u64 }));
                this_thread.unpark();
            }
        }
    }));
    let mut cx = Context::from_waker(Waker::noop());
    let (mut sum, mut done, mut batch) = (0, 0, Vec::new());
    while done < n {
        std::mem::swap(&mut batch, &mut *inbox.lock().unwrap());
        if batch.is_empty() {
            std::thread::park();
            continue;
        }
        for mut future in batch.drain(..) {
            match future.as_mut().poll(&mut cx) {
                Poll::Ready(output) => sum += output,
                Poll::Pending => unreachable!("spawn_remote's futures are ready at their first poll"),
            }
            done += 1;
        }
    }
    sum
}

/// `tasks` tasks × `yields` yields.
pub fn yield_many(floor: &Floor, tasks: usize, yields: usize) -> u64 {
    floor.block_on(async {
        let handles: Vec<_> = (0..tasks)
            .map(|_| {
                spawn(async move {
                    for _ in 0..yields {
                        yield_now().await;
                    }
                    yields as u64
                })
            })
            .collect();
        let mut sum = 0;
        for h in handles {
            sum += h.await;
        }
        sum
    })
}

/// `pings` ping tasks, each spawning its pong task, through two oneshots.
pub fn ping_pong(floor: &Floor, pings: usize) -> u64 {
    floor.block_on(async {
        let pings: Vec<_> = (0..pings)
            .map(|_| {
                spawn(async {
                    let (ping_tx, ping_rx) = oneshot();
                    let (pong_tx, pong_rx) = oneshot();
                    let pong = spawn(async move {
                        ping_rx.await;
                        oneshot_send(&pong_tx);
                        0
                    });
                    oneshot_send(&ping_tx);
                    pong_rx.await;
                    pong.await;
                    1
                })
            })
            .collect();
        let mut pongs = 0;
        for ping in pings {
            pongs += ping.await;
        }
        pongs
    })
}

/// Each task spawns the next and awaits it, `depth` deep.
pub fn chained_spawn(floor: &Floor, depth: usize) -> u64 {
    fn chain(n: usize) -> JoinHandle {
        spawn(async move { if n > 0 { chain(n - 1).await + 1 } else { 1 } })
    }
    floor.block_on(async { chain(depth).await })
}

/// `timeout(1 s, yield_now())`: pending once, so a timer entry is pushed.
pub fn timeout_ready(floor: &Floor) -> u64 {
    floor.block_on(async {
        timeout(Duration::from_secs(1), yield_now()).await.unwrap();
        1
    })
}

/// `n` × `timeout(1 s, ready(i))`: no clock read, no timer.
pub fn timeout_immediate(floor: &Floor, n: u32) -> u64 {
    floor.block_on(async {
        let mut sum = 0;
        for i in 0..n {
            let v = timeout(Duration::from_secs(1), std::future::ready(i)).await.unwrap();
            sum += u64::from(std::hint::black_box(v));
        }
        sum
    })
}

/// `n` tasks, each sleeping [`crate::spread`]`(i)`, all awaited.
pub fn sleep_spread(floor: &Floor, n: usize) -> u64 {
    floor.block_on(async {
        let sleepers: Vec<_> = (0..n)
            .map(|i| {
                spawn(async move {
                    sleep(crate::spread(i)).await;
                    0
                })
            })
            .collect();
        let mut woke = 0;
        for s in sleepers {
            s.await;
            woke += 1;
        }
        woke
    })
}

/// `producers` tasks × `items` items through a queue bounded to `capacity`,
/// drained by one consumer task; closed once every producer has finished.
pub fn queue(floor: &Floor, producers: usize, items: usize, capacity: usize) -> u64 {
    floor.block_on(async {
        let queue = Rc::new(RefCell::new(Queue {
            items: VecDeque::with_capacity(capacity),
            capacity,
            closed: false,
            consumer: None,
            producers: VecDeque::new(),
        }));
        let consumer = spawn({
            let queue = queue.clone();
            async move {
                let mut sum = 0;
                while let Some(item) = get(&queue).await {
                    sum += item;
                }
                sum
            }
        });
        let producers_done: Vec<_> = (0..producers)
            .map(|_| {
                let queue = queue.clone();
                spawn(async move {
                    for i in 0..items as u64 {
                        put(&queue, i).await;
                    }
                    0
                })
            })
            .collect();
        for p in producers_done {
            p.await;
        }
        let consumer_waker = {
            let mut q = queue.borrow_mut();
            q.closed = true;
            q.consumer.take()
        };
        if let Some(waker) = consumer_waker {
            waker.wake();
        }
        consumer.await
    })
}

/// `kettle::gather` over `n` futures that yield once.
pub fn gather(floor: &Floor, n: usize) -> u64 {
    floor.block_on(kettle::gather((0..n).map(|_| yield_now()))).len() as u64
}

/// `connections` loopback connections × `round_trips` round trips of
/// [`MESSAGE`] bytes, `TCP_NODELAY` on both ends, on blocking sockets served
/// one connection at a time: for each round trip, on each connection in
/// turn, the client writes, the server reads and writes back what it read
/// until it has echoed the whole message, and the client reads it all. Then
/// each client closes and its server end reads the end of the stream.
pub fn tcp_echo(_: &Floor, connections: usize, round_trips: usize) -> u64 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut pairs: Vec<(TcpStream, TcpStream)> = (0..connections)
        .map(|_| {
            let client = TcpStream::connect(addr).unwrap();
            let (server, _) = listener.accept().unwrap();
            client.set_nodelay(true).unwrap();
            server.set_nodelay(true).unwrap();
            (client, server)
        })
        .collect();
    let (out, mut buf, mut back) = ([7; MESSAGE], [0; MESSAGE], [0; MESSAGE]);
    let mut echoed = 0;
    for _ in 0..round_trips {
        for (client, server) in &mut pairs {
            client.write_all(&out).unwrap();
            let mut served = 0;
            while served < MESSAGE {
                let n = server.read(&mut buf).unwrap();
                server.write_all(&buf[..n]).unwrap();
                served += n;
            }
            client.read_exact(&mut back).unwrap();
            echoed += MESSAGE as u64;
        }
    }
    for (client, mut server) in pairs {
        drop(client);
        assert_eq!(server.read(&mut buf).unwrap(), 0, "the client closed");
    }
    echoed
}
