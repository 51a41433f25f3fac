//! Specifies the fairness rule: a turn runs only the tasks and callbacks that
//! were ready when it began, so self-waking work runs once per turn and cannot
//! starve timers, callbacks or other tasks; and a wake never polls inline.

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use kettle::{Runtime, yield_now};

const NOW: Option<Duration> = Some(Duration::ZERO);

/// A task that yields forever, counting its polls.
fn spinner(count: &Rc<Cell<u64>>) -> impl Future<Output = ()> + 'static {
    let count = count.clone();
    async move {
        loop {
            count.set(count.get() + 1);
            yield_now().await;
        }
    }
}

#[test]
fn self_waking_task_runs_once_per_turn() {
    let rt = Runtime::new().unwrap();
    let count = Rc::new(Cell::new(0));
    let _spinner = rt.spawn(spinner(&count));
    for expected in 1..=5 {
        let turn = rt.turn(NOW);
        assert_eq!(turn.tasks_run, 1, "one poll per turn, not a loop until Pending sticks");
        assert_eq!(count.get(), expected);
    }
    assert_eq!(rt.metrics().polls, 5);
    assert_eq!(rt.next_timeout(), Some(Duration::ZERO), "it is queued for the next turn");
}

#[test]
fn task_spawned_during_a_turn_first_runs_in_the_next_turn() {
    let rt = Runtime::new().unwrap();
    let log = Rc::new(RefCell::new(Vec::new()));
    let _parent = rt.spawn({
        let log = log.clone();
        async move {
            log.borrow_mut().push("parent");
            let log = log.clone();
            drop(kettle::spawn(async move { log.borrow_mut().push("child") }));
        }
    });
    assert_eq!(rt.turn(NOW).tasks_run, 1);
    assert_eq!(*log.borrow(), ["parent"]);
    assert_eq!(rt.turn(NOW).tasks_run, 1);
    assert_eq!(*log.borrow(), ["parent", "child"]);
}

#[test]
fn self_waking_callback_runs_once_per_turn() {
    fn reschedule(count: Rc<Cell<u32>>) {
        count.set(count.get() + 1);
        kettle::call_soon(move || reschedule(count));
    }
    let rt = Runtime::new().unwrap();
    let count = Rc::new(Cell::new(0));
    let _starter = rt.spawn({
        let count = count.clone();
        async move { kettle::call_soon(move || reschedule(count)) }
    });
    rt.turn(NOW); // the task queues the first callback
    for expected in 1..=5 {
        let turn = rt.turn(NOW);
        assert_eq!(turn.callbacks_run, 1);
        assert_eq!(count.get(), expected);
    }
    assert_eq!(rt.metrics().callbacks_pending, 1, "the next one waits for the next turn");
}

#[test]
fn spinning_task_cannot_starve_a_timer() {
    let count = Rc::new(Cell::new(0));
    let elapsed = kettle::run({
        let count = count.clone();
        async move {
            let _spinner = kettle::spawn(spinner(&count));
            let start = Instant::now();
            kettle::sleep(Duration::from_millis(10)).await;
            start.elapsed()
        }
    });
    assert!(elapsed >= Duration::from_millis(10));
    assert!(elapsed < Duration::from_secs(1), "the sleep was starved: {elapsed:?}");
    assert!(count.get() > 1, "the spinner really was spinning meanwhile");
}

#[test]
fn spinning_task_cannot_starve_a_timer_callback() {
    let fired = Rc::new(Cell::new(false));
    let count = Rc::new(Cell::new(0));
    let rt = Runtime::new().unwrap();
    let start = Instant::now();
    rt.block_on({
        let fired = fired.clone();
        let count = count.clone();
        async move {
            let _spinner = kettle::spawn(spinner(&count));
            let _timer = kettle::call_later(Duration::from_millis(10), move || fired.set(true));
        }
    });
    while !fired.get() {
        rt.turn(NOW);
        assert!(start.elapsed() < Duration::from_secs(1), "call_later was starved");
    }
    assert!(start.elapsed() >= Duration::from_millis(10));
    assert!(count.get() > 1);
}

#[test]
fn spinning_task_cannot_starve_call_soon() {
    let rt = Runtime::new().unwrap();
    let count = Rc::new(Cell::new(0));
    let fired = Rc::new(Cell::new(false));
    let _spinner = rt.spawn(spinner(&count));
    let _scheduler = rt.spawn({
        let fired = fired.clone();
        async move { kettle::call_soon(move || fired.set(true)) }
    });
    let first = rt.turn(NOW);
    assert_eq!(first.tasks_run, 2);
    assert!(!fired.get(), "queued by a task this turn: runs next turn");
    let second = rt.turn(NOW);
    assert_eq!(second.callbacks_run, 1);
    assert!(fired.get());
}

#[test]
fn spinning_task_cannot_starve_other_tasks() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let count = Rc::new(Cell::new(0));
    kettle::run({
        let log = log.clone();
        let count = count.clone();
        async move {
            let _spinner = kettle::spawn(spinner(&count));
            let worker = kettle::spawn({
                let log = log.clone();
                async move {
                    for step in 0..3 {
                        yield_now().await;
                        log.borrow_mut().push(step);
                    }
                }
            });
            worker.await.unwrap();
        }
    });
    assert_eq!(*log.borrow(), [0, 1, 2]);
    // Interleaved: the spinner got about one poll per worker step, no more.
    assert!((3..=6).contains(&count.get()), "spinner polls: {}", count.get());
}

#[test]
fn self_rescheduling_callback_cannot_starve_tasks() {
    fn reschedule(stop: Rc<Cell<bool>>) {
        if !stop.get() {
            kettle::call_soon(move || reschedule(stop));
        }
    }
    let stop = Rc::new(Cell::new(false));
    let steps = kettle::run({
        let stop = stop.clone();
        async move {
            kettle::call_soon({
                let stop = stop.clone();
                move || reschedule(stop)
            });
            let worker = kettle::spawn(async {
                for _ in 0..3 {
                    yield_now().await;
                }
                3
            });
            let steps = worker.await.unwrap();
            stop.set(true);
            steps
        }
    });
    assert_eq!(steps, 3);
}

#[test]
fn a_million_self_wakes_use_constant_stack() {
    // Each self-wake costs a whole loop turn (an epoll_wait syscall plus
    // unoptimised bookkeeping): a million take one to two seconds in a debug
    // build on a busy machine, so debug builds do 200_000 to keep the suite
    // fast. A stack that grew with each wake would overflow 256 KiB long
    // before either count.
    const WAKES: u64 = if cfg!(debug_assertions) { 200_000 } else { 1_000_000 };
    let worker = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(|| {
            let rt = Runtime::new().unwrap();
            let task = rt.spawn(async {
                let mut polls = 0u64;
                poll_fn(|cx| {
                    polls += 1;
                    if polls > WAKES {
                        return Poll::Ready(polls);
                    }
                    cx.waker().wake_by_ref();
                    Poll::Pending
                })
                .await
            });
            let polls = rt.block_on(task).unwrap();
            (polls, rt.metrics())
        })
        .unwrap();
    let (polls, metrics) = worker.join().expect("no stack overflow");
    assert_eq!(polls, WAKES + 1);
    assert_eq!(metrics.polls, WAKES + 1);
    assert!(metrics.turns >= WAKES, "each self-wake waited for the next turn");
}

#[test]
fn a_million_yields_in_one_task_complete_on_a_small_stack() {
    // See above for the debug-build count.
    const YIELDS: u64 = if cfg!(debug_assertions) { 200_000 } else { 1_000_000 };
    let worker = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(|| {
            kettle::run(async {
                kettle::spawn(async {
                    let mut n = 0;
                    for _ in 0..YIELDS {
                        yield_now().await;
                        n += 1;
                    }
                    n
                })
                .await
                .unwrap()
            })
        })
        .unwrap();
    assert_eq!(worker.join().expect("no stack overflow"), YIELDS);
}

#[test]
fn wake_from_inside_a_task_never_re_enters_it() {
    let rt = Runtime::new().unwrap();
    let in_poll = Rc::new(Cell::new(false));
    let reentered = Rc::new(Cell::new(false));
    let polls = Rc::new(Cell::new(0));
    let task = rt.spawn({
        let (in_poll, reentered, polls) = (in_poll.clone(), reentered.clone(), polls.clone());
        poll_fn(move |cx| {
            if in_poll.replace(true) {
                reentered.set(true);
            }
            polls.set(polls.get() + 1);
            cx.waker().wake_by_ref();
            let owned = cx.waker().clone();
            owned.wake(); // the consuming wake, too
            cx.waker().wake_by_ref();
            in_poll.set(false);
            if polls.get() == 3 { Poll::Ready(()) } else { Poll::Pending }
        })
    });
    for expected in 1..=3 {
        assert_eq!(rt.turn(NOW).tasks_run, 1, "three wakes queue the task once");
        assert_eq!(polls.get(), expected);
    }
    assert!(!reentered.get());
    assert!(task.is_finished());
}

#[test]
fn waking_another_task_does_not_poll_it_inline() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let sleeper_waker: Rc<RefCell<Option<Waker>>> = Rc::new(RefCell::new(None));
    kettle::run({
        let log = log.clone();
        let sleeper_waker = sleeper_waker.clone();
        async move {
            let sleeper = kettle::spawn({
                let (log, slot) = (log.clone(), sleeper_waker.clone());
                let mut first = true;
                poll_fn(move |cx| {
                    log.borrow_mut().push("sleeper polled");
                    if std::mem::take(&mut first) {
                        *slot.borrow_mut() = Some(cx.waker().clone());
                        Poll::Pending
                    } else {
                        Poll::Ready(())
                    }
                })
            });
            yield_now().await; // the sleeper stores its waker
            let waker = sleeper_waker.borrow_mut().take().unwrap();
            log.borrow_mut().push("before wake");
            waker.wake();
            log.borrow_mut().push("after wake");
            sleeper.await.unwrap();
        }
    });
    assert_eq!(*log.borrow(), ["sleeper polled", "before wake", "after wake", "sleeper polled"]);
}

#[test]
fn a_task_that_never_stops_yielding_cannot_starve_io() {
    // Busy turns skip epoll_wait, but only 31 in a row: I/O readiness that
    // arrives while a task spins is noticed within 32 turns.
    let rt = Runtime::new().unwrap();
    let receiver = Rc::new(rt.block_on(async { kettle::net::UdpSocket::bind("127.0.0.1:0").unwrap() }));
    let target = receiver.local_addr().unwrap();
    let _spinner = rt.spawn(async {
        loop {
            kettle::yield_now().await;
        }
    });
    let got = Rc::new(Cell::new(false));
    let (socket, flag) = (receiver.clone(), got.clone());
    let _reader = rt.spawn(async move {
        let mut buf = [0u8; 8];
        socket.recv_from(&mut buf).await.unwrap();
        flag.set(true);
    });
    rt.turn(Some(Duration::ZERO));
    std::net::UdpSocket::bind("127.0.0.1:0").unwrap().send_to(b"ping", target).unwrap();
    let mut turns = 0;
    while !got.get() {
        rt.turn(Some(Duration::ZERO));
        turns += 1;
        assert!(turns <= 40, "the datagram was not noticed within {turns} busy turns");
    }
}

#[test]
fn readiness_is_noticed_within_a_turn_or_two_however_many_tasks_keep_the_loop_busy() {
    // Two hundred tasks yield for ever: every turn is busy and long. Polling
    // for I/O only every 32nd such turn would leave a peer's end of file
    // unseen for 6,400 task polls; the loop also polls once 61 tasks have
    // run since its last poll. (hyper's HTTP/2 connections wrote into
    // connections their client had already closed, and logged BrokenPipe.)
    let rt = Runtime::new().unwrap();
    let spinners: Vec<_> = (0..200)
        .map(|_| {
            rt.spawn(async {
                loop {
                    kettle::yield_now().await;
                }
            })
        })
        .collect();
    let (listener, peer, mut stream) = rt.block_on(async {
        let listener = kettle::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let peer = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (stream, _) = listener.accept().await.unwrap();
        (listener, peer, stream)
    });
    let eof = Rc::new(Cell::new(false));
    let flag = eof.clone();
    let _reader = rt.spawn(async move {
        assert_eq!(stream.read(&mut [0; 8]).await.unwrap(), 0);
        flag.set(true);
    });
    rt.turn(Some(Duration::ZERO)); // the reader waits
    drop(peer); // the FIN
    // Wait (really) until the kernel has the FIN queued for the loop's epoll.
    let mut pollfd =
        libc::pollfd { fd: std::os::fd::AsRawFd::as_raw_fd(&rt), events: libc::POLLIN, revents: 0 };
    // SAFETY: one valid pollfd on the runtime's epoll fd, which `rt` keeps open.
    assert_eq!(unsafe { libc::poll(&mut pollfd, 1, 5_000) }, 1, "the FIN never reached the epoll");
    let mut turns = 0;
    while !eof.get() {
        rt.turn(Some(Duration::ZERO));
        turns += 1;
        assert!(turns <= 2, "end of file still unseen after {turns} busy turns");
    }
    drop((listener, spinners));
}
