//! Specifies `kettle::io::Async`: any pollable descriptor on the reactor. On
//! a pipe, a `UnixStream` pair and an eventfd: the operations (`read_with`,
//! `write_with`, `readable`, `writable`, their `_mut` and `poll_` forms),
//! the readiness rule (`readable` leaves readiness set, `WouldBlock` clears
//! only the direction it was tried on, an operation never spins), cancel
//! safety, getting the descriptor back, and the misuses: a regular file, one
//! descriptor wrapped twice, a dropped runtime, another runtime, no runtime.

use std::cell::Cell;
use std::fs::File;
use std::future::poll_fn;
use std::io::{self, ErrorKind, Read, Write};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

use kettle::Runtime;
use kettle::io::Async;

mod common;
use common::net::{bounded, poll_once};
use common::{block_on_thread, finishes_within};

/// Long enough for a wait that must not end to show that it did not.
const A_WHILE: Duration = Duration::from_millis(30);

/// Whether `fd`'s open file description has `O_NONBLOCK`, from procfs.
fn is_nonblocking(fd: &impl AsFd) -> bool {
    let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", fd.as_fd().as_raw_fd())).unwrap();
    let flags = info.lines().find_map(|line| line.strip_prefix("flags:")).expect("fdinfo has flags");
    let flags = i32::from_str_radix(flags.trim(), 8).unwrap();
    flags & libc::O_NONBLOCK != 0
}

/// A new eventfd (counter 0), non-blocking, as a `File` so it reads and
/// writes through `&File`.
fn eventfd() -> File {
    // SAFETY: `eventfd` takes two integers and returns a new descriptor or -1.
    let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
    assert!(fd >= 0, "eventfd: {}", io::Error::last_os_error());
    // SAFETY: `fd` was just returned by `eventfd`, is open, and nothing else
    // owns it.
    File::from(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Adds `n` to an eventfd's counter.
fn add(mut eventfd: &File, n: u64) -> io::Result<()> {
    eventfd.write(&n.to_ne_bytes()).map(|_| ())
}

/// Takes an eventfd's counter (leaving 0).
fn take(mut eventfd: &File) -> io::Result<u64> {
    let mut count = [0; 8];
    eventfd.read_exact(&mut count)?;
    Ok(u64::from_ne_bytes(count))
}

// ----- the normal path -----------------------------------------------------------

#[test]
fn read_with_on_a_pipe_returns_what_the_writer_wrote() {
    kettle::run(async {
        let (reader, mut writer) = std::io::pipe().unwrap();
        let reader = Async::new(reader).unwrap();
        writer.write_all(b"kettle").unwrap();
        let mut buf = [0; 16];
        let n = bounded(reader.read_with(|mut pipe| pipe.read(&mut buf))).await.unwrap();
        assert_eq!(&buf[..n], b"kettle");
    });
}

#[test]
fn readable_waits_until_another_task_writes() {
    kettle::run(async {
        let (reader, writer) = std::io::pipe().unwrap();
        let (reader, writer) = (Async::new(reader).unwrap(), Async::new(writer).unwrap());
        let written = Rc::new(Cell::new(false));
        let flag = written.clone();
        let _writer = kettle::spawn(async move {
            kettle::sleep(Duration::from_millis(5)).await;
            writer.write_with(|mut pipe| pipe.write(b"x")).await.unwrap();
            flag.set(true);
        });
        bounded(reader.readable()).await.unwrap();
        assert!(written.get(), "readable() returned before anything was written");
        let mut buf = [0; 4];
        assert_eq!(reader.read_with(|mut pipe| pipe.read(&mut buf)).await.unwrap(), 1);
    });
}

#[test]
fn a_unix_stream_pair_wrapped_on_both_sides_echoes() {
    kettle::run(async {
        let (client, server) = UnixStream::pair().unwrap();
        let (client, server) = (Async::new(client).unwrap(), Async::new(server).unwrap());
        let echo = kettle::spawn(async move {
            let mut buf = [0; 64];
            loop {
                let n = server.read_with(|mut s| s.read(&mut buf)).await?;
                if n == 0 {
                    return io::Result::Ok(());
                }
                server.write_with(|mut s| s.write_all(&buf[..n])).await?;
            }
        });
        for word in [&b"earl grey"[..], b"assam", b"sencha"] {
            bounded(client.write_with(|mut s| s.write(word))).await.unwrap();
            let mut buf = [0; 64];
            let n = bounded(client.read_with(|mut s| s.read(&mut buf))).await.unwrap();
            assert_eq!(&buf[..n], word);
        }
        drop(client); // end of file for the echo task
        bounded(echo).await.unwrap().unwrap();
    });
}

#[test]
fn a_megabyte_through_a_unix_stream_pair_arrives_whole_though_writes_must_wait() {
    const LEN: usize = 1 << 20; // far more than a socket buffer holds
    let pattern = |i: usize| (i % 251) as u8;
    kettle::run(async {
        let (ours, theirs) = UnixStream::pair().unwrap();
        let (writer, reader) = (Async::new(ours).unwrap(), Async::new(theirs).unwrap());
        let would_block = Rc::new(Cell::new(0));
        let counter = would_block.clone();
        let sender = kettle::spawn(async move {
            let data: Vec<u8> = (0..LEN).map(pattern).collect();
            let mut sent = 0;
            while sent < LEN {
                sent += writer
                    .write_with(|mut s| {
                        let result = s.write(&data[sent..]);
                        if matches!(&result, Err(e) if e.kind() == ErrorKind::WouldBlock) {
                            counter.set(counter.get() + 1);
                        }
                        result
                    })
                    .await
                    .unwrap();
            }
            // Dropping `writer` closes the stream: the reader sees the end.
        });
        let mut received = Vec::with_capacity(LEN);
        let mut buf = vec![0; 64 * 1024];
        loop {
            let n = bounded(reader.read_with(|mut s| s.read(&mut buf))).await.unwrap();
            if n == 0 {
                break;
            }
            received.extend_from_slice(&buf[..n]);
        }
        bounded(sender).await.unwrap();
        assert_eq!(received.len(), LEN);
        assert!(received.iter().enumerate().all(|(i, b)| *b == pattern(i)), "the bytes arrived in order");
        assert!(would_block.get() > 0, "the writer had to wait for room at least once");
    });
}

#[test]
fn an_eventfd_counts_what_write_with_adds_and_read_with_takes() {
    kettle::run(async {
        let counter = Async::new(eventfd()).unwrap();
        bounded(counter.write_with(|fd| add(fd, 3))).await.unwrap();
        bounded(counter.write_with(|fd| add(fd, 4))).await.unwrap();
        assert_eq!(bounded(counter.read_with(take)).await.unwrap(), 7);

        // The counter is 0 now: the next read waits (and its `WouldBlock`
        // cleared readiness) until something is added.
        assert!(kettle::timeout(A_WHILE, counter.read_with(take)).await.is_err());
        bounded(counter.write_with(|fd| add(fd, 1))).await.unwrap();
        assert_eq!(bounded(counter.read_with(take)).await.unwrap(), 1);
    });
}

#[test]
fn two_tasks_bouncing_a_counter_through_two_eventfds_each_take_every_bump_exactly_once() {
    // The shape of the `async_io_eventfd` bench: every read but the first
    // of a wait ends in `WouldBlock`, which clears readiness, and the other
    // task's write is the edge that wakes it again.
    const ROUND_TRIPS: u64 = 1_000;
    kettle::run(async {
        let ping = Rc::new(Async::new(eventfd()).unwrap());
        let pong = Rc::new(Async::new(eventfd()).unwrap());
        let (their_ping, their_pong) = (ping.clone(), pong.clone());
        let other = kettle::spawn(async move {
            let mut taken = 0;
            for _ in 0..ROUND_TRIPS {
                taken += their_ping.read_with(take).await.unwrap();
                their_pong.write_with(|fd| add(fd, 1)).await.unwrap();
            }
            taken
        });
        let mut taken = 0;
        bounded(async {
            for _ in 0..ROUND_TRIPS {
                ping.write_with(|fd| add(fd, 1)).await.unwrap();
                taken += pong.read_with(take).await.unwrap();
            }
        })
        .await;
        assert_eq!(taken, ROUND_TRIPS, "each read took one bump");
        assert_eq!(bounded(other).await.unwrap(), ROUND_TRIPS);
    });
}

#[test]
fn read_with_mut_and_write_with_mut_hand_the_operation_a_mutable_reference() {
    kettle::run(async {
        let (ours, theirs) = UnixStream::pair().unwrap();
        let (mut ours, mut theirs) = (Async::new(ours).unwrap(), Async::new(theirs).unwrap());
        bounded(ours.write_with_mut(|s: &mut UnixStream| s.write(b"mut"))).await.unwrap();
        let mut buf = [0; 8];
        let n = bounded(theirs.read_with_mut(|s: &mut UnixStream| s.read(&mut buf))).await.unwrap();
        assert_eq!(&buf[..n], b"mut");
    });
}

#[test]
fn poll_read_with_waits_for_the_next_edge_after_would_block() {
    kettle::run(async {
        let (reader, mut writer) = std::io::pipe().unwrap();
        let reader = Rc::new(Async::new(reader).unwrap());
        let attempts = Rc::new(Cell::new(0));
        let (pipe, tries) = (reader.clone(), attempts.clone());
        let read = kettle::spawn(async move {
            let mut buf = [0; 8];
            poll_fn(|cx| {
                pipe.poll_read_with(cx, |mut pipe| {
                    tries.set(tries.get() + 1);
                    pipe.read(&mut buf)
                })
            })
            .await
        });
        kettle::sleep(A_WHILE).await;
        assert_eq!(attempts.get(), 0, "nothing was readable: no attempt");
        assert!(!read.is_finished());
        writer.write_all(b"ab").unwrap();
        assert_eq!(bounded(read).await.unwrap().unwrap(), 2);
        assert_eq!(attempts.get(), 1, "one edge, one attempt");
        assert!(poll_once(poll_fn(|cx| reader.poll_readable(cx))).is_ready(), "still marked readable");
    });
}

// ----- the readiness rule --------------------------------------------------------

#[test]
fn readable_leaves_readiness_set_until_a_read_with_sees_would_block() {
    kettle::run(async {
        let (reader, mut writer) = std::io::pipe().unwrap();
        let reader = Async::new(reader).unwrap();
        writer.write_all(b"abc").unwrap();
        bounded(reader.readable()).await.unwrap();
        assert!(poll_once(reader.readable()).is_ready(), "readable() cleared nothing");
        let mut buf = [0; 2];
        assert_eq!(reader.read_with(|mut pipe| pipe.read(&mut buf)).await.unwrap(), 2);
        assert!(poll_once(reader.readable()).is_ready(), "a successful read clears nothing either");
        assert_eq!(reader.read_with(|mut pipe| pipe.read(&mut buf)).await.unwrap(), 1);
        // Empty now, but nothing has proved it yet.
        assert!(poll_once(reader.readable()).is_ready());
        assert!(poll_once(reader.read_with(|mut pipe| pipe.read(&mut buf))).is_pending());
        assert!(poll_once(reader.readable()).is_pending(), "the WouldBlock cleared it");
    });
}

#[test]
fn a_would_block_on_one_side_leaves_the_other_side_ready() {
    kettle::run(async {
        let (ours, theirs) = UnixStream::pair().unwrap();
        let ours = Async::new(ours).unwrap();
        (&theirs).write_all(b"x").unwrap();
        bounded(ours.readable()).await.unwrap();
        bounded(ours.writable()).await.unwrap();
        // A read that claims WouldBlock clears "readable" only.
        let stale = poll_once(ours.read_with(|_| io::Result::<()>::Err(ErrorKind::WouldBlock.into())));
        assert!(stale.is_pending());
        assert!(poll_once(ours.readable()).is_pending(), "read readiness was cleared");
        assert!(poll_once(ours.writable()).is_ready(), "write readiness was left alone");
    });
}

#[test]
fn an_operation_that_keeps_returning_would_block_waits_for_each_edge_instead_of_spinning() {
    finishes_within(Duration::from_secs(10), || {
        kettle::run(async {
            let (ours, theirs) = UnixStream::pair().unwrap();
            let ours = Async::new(ours).unwrap();
            let attempts = Cell::new(0);
            let stubborn = |_: &UnixStream| -> io::Result<()> {
                attempts.set(attempts.get() + 1);
                Err(ErrorKind::WouldBlock.into())
            };
            (&theirs).write_all(b"1").unwrap();
            assert!(kettle::timeout(A_WHILE, ours.read_with(stubborn)).await.is_err());
            assert_eq!(attempts.get(), 1, "one edge, one attempt: then it waited");
            (&theirs).write_all(b"2").unwrap();
            assert!(kettle::timeout(A_WHILE, ours.read_with(stubborn)).await.is_err());
            assert_eq!(attempts.get(), 2, "the second write's edge, one more attempt");
        });
    });
}

#[test]
fn readable_reports_a_closed_writer_and_the_read_then_returns_end_of_file() {
    kettle::run(async {
        let (reader, writer) = std::io::pipe().unwrap();
        let reader = Async::new(reader).unwrap();
        drop(writer);
        bounded(reader.readable()).await.unwrap();
        let mut buf = [0; 4];
        assert_eq!(bounded(reader.read_with(|mut pipe| pipe.read(&mut buf))).await.unwrap(), 0);
    });
}

#[test]
fn write_with_to_a_pipe_whose_reader_is_gone_fails_with_broken_pipe() {
    kettle::run(async {
        let (reader, writer) = std::io::pipe().unwrap();
        let writer = Async::new(writer).unwrap();
        drop(reader);
        let error = bounded(writer.write_with(|mut pipe| pipe.write(b"x"))).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::BrokenPipe);
    });
}

/// One event can release several waiters: the loop wakes them after the
/// poll, in the order they started waiting (`fire_io_wakers`, `core.rs`),
/// whether it released one, two or five.
#[test]
fn one_readiness_event_wakes_every_task_waiting_on_it_in_the_order_they_waited() {
    for waiters in [1, 2, 5] {
        let order = kettle::run(async move {
            let (reader, writer) = std::io::pipe().unwrap();
            let reader = Rc::new(Async::new(reader).unwrap());
            let order = Rc::new(std::cell::RefCell::new(Vec::new()));
            let tasks: Vec<_> = (0..waiters)
                .map(|i| {
                    let (reader, order) = (reader.clone(), order.clone());
                    kettle::spawn(async move {
                        reader.readable().await.unwrap();
                        order.borrow_mut().push(i);
                    })
                })
                .collect();
            kettle::yield_now().await; // every task is waiting now
            (&writer).write_all(b"x").unwrap();
            for task in tasks {
                bounded(task).await.unwrap();
            }
            order.take()
        });
        assert_eq!(order, (0..waiters).collect::<Vec<_>>(), "{waiters} waiters");
    }
}

/// A waker released by an event is user code: a foreign one that panics
/// is contained, and the tasks waiting beside it still wake.
#[test]
fn a_panicking_waker_released_by_an_event_leaves_the_others_waking() {
    use std::sync::Arc;
    use std::task::{Context, Wake, Waker};
    struct Panics;
    impl Wake for Panics {
        fn wake(self: Arc<Self>) {
            panic!("a foreign waker that panics");
        }
    }
    kettle::run(async {
        let (reader, writer) = std::io::pipe().unwrap();
        let reader = Rc::new(Async::new(reader).unwrap());
        let waker = Waker::from(Arc::new(Panics));
        let mut foreign = Box::pin(reader.readable());
        assert!(foreign.as_mut().poll(&mut Context::from_waker(&waker)).is_pending());
        let (first, second) = (reader.clone(), reader.clone());
        let tasks = [
            kettle::spawn(async move { first.readable().await }),
            kettle::spawn(async move { second.readable().await }),
        ];
        kettle::yield_now().await;
        (&writer).write_all(b"x").unwrap();
        for task in tasks {
            bounded(task).await.unwrap().unwrap();
        }
        drop(foreign);
    });
}

// ----- cancellation --------------------------------------------------------------

#[test]
fn a_readable_dropped_by_a_timeout_leaves_the_next_one_working() {
    kettle::run(async {
        let (reader, writer) = std::io::pipe().unwrap();
        let reader = Async::new(reader).unwrap();
        assert!(kettle::timeout(A_WHILE, reader.readable()).await.is_err(), "nothing written yet");
        let _writer = kettle::spawn(async move {
            kettle::sleep(Duration::from_millis(5)).await;
            (&writer).write_all(b"x").unwrap();
            writer // keep the pipe open
        });
        bounded(reader.readable()).await.unwrap();
    });
}

#[test]
fn one_write_wakes_every_operation_waiting_on_the_descriptor_even_in_one_task() {
    kettle::run(async {
        let (reader, writer) = std::io::pipe().unwrap();
        let reader = Async::new(reader).unwrap();
        let _writer = kettle::spawn(async move {
            kettle::sleep(Duration::from_millis(5)).await;
            (&writer).write_all(b"x").unwrap();
            writer
        });
        let (first, second) = bounded(async { kettle::join!(reader.readable(), reader.readable()) }).await;
        first.unwrap();
        second.unwrap();
    });
}

// ----- getting the descriptor back, and dropping it ------------------------------

#[test]
fn async_new_makes_the_descriptor_non_blocking_and_into_inner_returns_it_so() {
    let rt = Runtime::new().unwrap();
    let (ours, theirs) = UnixStream::pair().unwrap();
    assert!(!is_nonblocking(&ours), "std's sockets start blocking");
    let ours = rt.block_on(async { Async::new(ours).unwrap() });
    assert!(is_nonblocking(ours.get_ref()));
    assert_eq!(rt.metrics().io_sources, 1);

    let mut ours = ours.into_inner().unwrap();
    assert_eq!(rt.metrics().io_sources, 0, "out of the reactor");
    assert!(is_nonblocking(&ours), "still non-blocking, as documented");
    (&theirs).write_all(b"still open").unwrap();
    let mut buf = [0; 16];
    assert_eq!(ours.read(&mut buf).unwrap(), 10);
    assert_eq!(ours.read(&mut buf).unwrap_err().kind(), ErrorKind::WouldBlock);

    // Out of epoll as well: registering it again is not `AlreadyExists`.
    let again = rt.block_on(async { Async::new(ours).unwrap() });
    assert_eq!(rt.metrics().io_sources, 1);
    drop(again);
    assert_eq!(rt.metrics().io_sources, 0);
}

#[test]
fn dropping_an_async_takes_a_duplicated_descriptor_out_of_epoll() {
    let rt = Runtime::new().unwrap();
    let (reader, mut writer) = std::io::pipe().unwrap();
    let (dropped, kept) = rt.block_on(async {
        let dropped = Async::new(reader.try_clone().unwrap()).unwrap();
        let kept = Async::new(reader.try_clone().unwrap()).unwrap();
        (dropped, kept)
    });
    // `reader` stays open, so the pipe lives on after `dropped`'s dup closes:
    // only deregistering keeps epoll from reporting it.
    drop(dropped);
    writer.write_all(b"x").unwrap();
    let turn = rt.turn(Some(Duration::from_secs(1)));
    assert_eq!(turn.io_events, 1, "one event, for `kept` only: {turn:?}");
    drop((kept, reader));
}

#[test]
fn wrapping_one_descriptor_twice_fails_with_already_exists() {
    let rt = Runtime::new().unwrap();
    let (ours, theirs) = UnixStream::pair().unwrap();
    rt.block_on(async {
        let first = Async::new(&ours).unwrap();
        let error = Async::new(&ours).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::AlreadyExists);
        (&theirs).write_all(b"x").unwrap();
        bounded(first.readable()).await.unwrap();
    });
    assert_eq!(rt.metrics().io_sources, 0, "the refused registration left nothing behind");
}

#[test]
fn async_and_its_futures_print_for_debugging() {
    kettle::run(async {
        let (reader, _writer) = std::io::pipe().unwrap();
        let reader = Async::new(reader).unwrap();
        assert!(format!("{reader:?}").starts_with("Async { io: "));
        assert!(format!("{:?}", reader.readable()).contains("Read"));
        assert_eq!(reader.as_raw_fd(), reader.get_ref().as_raw_fd());
    });
}

// ----- misuse --------------------------------------------------------------------

#[test]
fn a_regular_file_is_refused_with_epoll_s_error_and_left_blocking() {
    let path = std::env::temp_dir().join(format!("kettle-async-fd-{}", std::process::id()));
    let file = File::create(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let rt = Runtime::new().unwrap();
    let error = rt.block_on(async { Async::new(&file).unwrap_err() });
    assert_eq!(error.raw_os_error(), Some(libc::EPERM), "{error}");
    assert_eq!(rt.metrics().io_sources, 0, "the refused registration left nothing behind");
    assert!(!is_nonblocking(&file), "registering comes first, so the flags were not touched");
}

#[test]
fn after_the_runtime_is_dropped_operations_fail_instead_of_hanging() {
    finishes_within(Duration::from_secs(10), || {
        let rt = Runtime::new().unwrap();
        let (reader, mut writer) = std::io::pipe().unwrap();
        let reader = rt.block_on(async { Async::new(reader).unwrap() });
        drop(rt);

        let error = block_on_thread(reader.readable()).unwrap_err();
        assert!(error.to_string().contains("has been dropped"), "{error}");
        let never = |_: &std::io::PipeReader| -> io::Result<()> { panic!("no attempt without a runtime") };
        assert!(block_on_thread(reader.read_with(never)).is_err());
        assert!(matches!(poll_once(poll_fn(|cx| reader.poll_writable(cx))), Poll::Ready(Err(_))));

        // The descriptor itself is fine: there is no epoll left to leave.
        let mut reader = reader.into_inner().unwrap();
        writer.write_all(b"x").unwrap();
        assert_eq!(reader.read(&mut [0; 4]).unwrap(), 1);
    });
}

#[test]
fn inside_another_runtime_on_the_same_thread_an_operation_fails_instead_of_waiting() {
    finishes_within(Duration::from_secs(10), || {
        let home = Runtime::new().unwrap();
        let (reader, _writer) = std::io::pipe().unwrap();
        let reader = home.block_on(async { Async::new(reader).unwrap() });
        let elsewhere = Runtime::new().unwrap();
        let error = elsewhere.block_on(reader.readable()).unwrap_err();
        assert!(error.to_string().contains("on the same thread"), "{error}");
    });
}

#[test]
#[should_panic(expected = "kettle::io::Async::new called outside a kettle runtime")]
fn async_new_outside_a_runtime_panics_saying_where_to_call_it() {
    let (reader, _writer) = std::io::pipe().unwrap();
    let _ = Async::new(reader);
}

// ----- futures-io ----------------------------------------------------------------

#[cfg(feature = "futures-io")]
#[test]
fn with_futures_io_an_async_pipe_is_async_read_and_async_write() {
    use futures_io::{AsyncRead, AsyncWrite};
    use std::pin::Pin;

    kettle::run(async {
        let (reader, writer) = std::io::pipe().unwrap();
        let (mut reader, writer) = (Async::new(reader).unwrap(), Async::new(writer).unwrap());
        let mut by_ref = &writer;
        let n = bounded(poll_fn(|cx| Pin::new(&mut by_ref).poll_write(cx, b"brew"))).await.unwrap();
        assert_eq!(n, 4);
        bounded(poll_fn(|cx| Pin::new(&mut by_ref).poll_flush(cx))).await.unwrap();
        let mut buf = [0; 8];
        let n = bounded(poll_fn(|cx| Pin::new(&mut reader).poll_read(cx, &mut buf))).await.unwrap();
        assert_eq!(&buf[..n], b"brew");
        // Nothing more: the read waits (its WouldBlock cleared readiness).
        let waiting = kettle::timeout(A_WHILE, poll_fn(|cx| Pin::new(&mut reader).poll_read(cx, &mut buf)));
        assert!(waiting.await.is_err());
    });
}
