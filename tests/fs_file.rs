//! Specifies `kettle::fs::File`: buffered reads and writes that agree with
//! std's view of the file at every step, write-behind whose errors come back
//! once, a dropped `File` that still writes, cancellation at every await
//! point losing nothing, and a loop that keeps turning meanwhile.

use std::io::{ErrorKind, SeekFrom};
use std::os::unix::fs::PermissionsExt;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use kettle::fs::{self, File};

mod common;
mod fs_common;
use fs_common::{Scratch, cancel_after, eventually, pattern};

const KIB: usize = 1024;

#[test]
fn an_empty_file_reads_zero_bytes_every_way() {
    let dir = Scratch::new("empty");
    kettle::run(async {
        let path = dir.join("empty");
        File::create(&path).await.unwrap();
        let mut file = File::open(&path).await.unwrap();
        assert_eq!(file.read(&mut [0; 10]).await.unwrap(), 0);
        assert_eq!(file.read(&mut [0; 10]).await.unwrap(), 0, "and again");
        let mut all = Vec::new();
        assert_eq!(file.read_to_end(&mut all).await.unwrap(), 0);
        let mut text = String::new();
        assert_eq!(file.read_to_string(&mut text).await.unwrap(), 0);
        assert_eq!(file.read(&mut []).await.unwrap(), 0, "an empty buffer reads nothing");
        assert_eq!(file.metadata().await.unwrap().len(), 0);
    });
}

#[test]
fn a_large_file_written_in_odd_chunks_reads_back_in_other_odd_chunks() {
    let dir = Scratch::new("large");
    let data = pattern(6 * 1024 * KIB + 333);
    kettle::run(async {
        let path = dir.join("large");
        let mut file = File::create(&path).await.unwrap();
        // Chunks below, at and above the buffer's 16 KiB and the 2 MiB trip.
        let sizes = [1, 100, 16 * KIB - 1, 16 * KIB, 16 * KIB + 1, 70_000, 3 * 1024 * KIB, 5];
        let mut at = 0;
        for size in sizes.iter().cycle() {
            let end = (at + size).min(data.len());
            file.write_all(&data[at..end]).await.unwrap();
            at = end;
            if at == data.len() {
                break;
            }
        }
        file.flush().await.unwrap();
        assert!(std::fs::read(&path).unwrap() == data, "std reads what was written");

        let mut file = File::open(&path).await.unwrap();
        let mut back = Vec::new();
        let mut chunk = vec![0; 3 * 1024 * KIB];
        for size in sizes.iter().cycle() {
            let n = file.read(&mut chunk[..*size]).await.unwrap();
            if n == 0 {
                break;
            }
            back.extend_from_slice(&chunk[..n]);
        }
        assert!(back == data, "read back {} bytes of {}", back.len(), data.len());
        let mut rest = Vec::new();
        assert_eq!(file.read_to_end(&mut rest).await.unwrap(), 0);
    });
}

#[test]
fn read_to_end_and_read_to_string_read_the_rest_after_a_partial_read() {
    let dir = Scratch::new("readrest");
    let data = pattern(300 * KIB);
    std::fs::write(dir.join("f"), &data).unwrap();
    std::fs::write(dir.join("t"), "héllo\nwörld\n").unwrap();
    kettle::run(async {
        let mut file = File::open(dir.join("f")).await.unwrap();
        let mut first = [0; 10];
        file.read(&mut first).await.unwrap();
        let mut rest = first.to_vec();
        assert_eq!(file.read_to_end(&mut rest).await.unwrap(), data.len() - 10);
        assert!(rest == data);
        let mut text = String::from(">");
        File::open(dir.join("t")).await.unwrap().read_to_string(&mut text).await.unwrap();
        assert_eq!(text, ">héllo\nwörld\n");
        let mut bad = String::from("kept");
        let error = File::open(dir.join("f")).await.unwrap().read_to_string(&mut bad).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidData);
        assert_eq!(bad, "kept", "unchanged on invalid UTF-8");
    });
}

#[test]
fn a_write_after_a_read_lands_at_the_read_position_not_after_the_read_ahead() {
    let dir = Scratch::new("readthenwrite");
    let path = dir.join("f");
    std::fs::write(&path, b"abcdef").unwrap();
    kettle::run(async {
        let mut file = File::options().read(true).write(true).open(&path).await.unwrap();
        let mut one = [0; 1];
        file.read(&mut one).await.unwrap();
        assert_eq!(&one, b"a");
        file.write_all(b"X").await.unwrap();
        file.read(&mut one).await.unwrap();
        assert_eq!(&one, b"c", "the read after the write continues after it");
        file.flush().await.unwrap();
    });
    assert_eq!(std::fs::read(&path).unwrap(), b"aXcdef");
}

#[test]
fn set_len_sync_and_metadata_see_pending_writes_and_keep_the_position() {
    let dir = Scratch::new("setlen");
    kettle::run(async {
        let path = dir.join("f");
        let mut file = File::options().read(true).write(true).create(true).open(&path).await.unwrap();
        file.write_all(b"0123456789").await.unwrap();
        assert_eq!(file.metadata().await.unwrap().len(), 10);
        file.sync_all().await.unwrap();
        file.sync_data().await.unwrap();
        file.set_len(4).await.unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"0123");
        assert_eq!(file.seek(SeekFrom::Current(0)).await.unwrap(), 10, "set_len does not move the position");
        let error = File::open(&path).await.unwrap().set_len(0).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput, "not open for writing: {error}");
    });
}

#[test]
fn open_options_follow_std() {
    let dir = Scratch::new("options");
    kettle::run(async {
        let path = dir.join("f");
        let error = File::options().write(true).open(&path).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound, "no create: {error}");
        let mut file = File::options().write(true).create_new(true).mode(0o600).open(&path).await.unwrap();
        file.write_all(b"one\n").await.unwrap();
        drop(file.into_std().await.unwrap());
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let again = File::options().write(true).create_new(true).open(&path).await.unwrap_err();
        assert_eq!(again.kind(), ErrorKind::AlreadyExists);
        let mut log = File::options().append(true).open(&path).await.unwrap();
        log.write_all(b"two\n").await.unwrap();
        log.flush().await.unwrap();
        assert_eq!(fs::read_to_string(&path).await.unwrap(), "one\ntwo\n");
        let mut file = File::options()
            .write(true)
            .truncate(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path)
            .await
            .unwrap();
        file.flush().await.unwrap();
        assert_eq!(fs::read(&path).await.unwrap(), b"");
        let error = File::options().open(&path).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput, "no mode at all: {error}");
    });
}

#[test]
fn a_directory_opened_as_a_file_fails_to_read() {
    let dir = Scratch::new("dirfile");
    kettle::run(async {
        let mut file = File::open(dir.path()).await.expect("Linux opens a directory read-only");
        let error = file.read(&mut [0; 8]).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::IsADirectory);
        let error = File::create(dir.path()).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::IsADirectory);
        assert!(error.to_string().contains(&dir.path().display().to_string()), "{error}");
    });
}

#[test]
fn from_std_starts_at_the_std_files_position() {
    let dir = Scratch::new("fromstd");
    let path = dir.join("f");
    std::fs::write(&path, b"skip:rest").unwrap();
    let mut std = std::fs::File::open(&path).unwrap();
    std::io::Read::read_exact(&mut std, &mut [0; 5]).unwrap();
    kettle::run(async {
        let mut file = File::from_std(std);
        let mut rest = String::new();
        file.read_to_string(&mut rest).await.unwrap();
        assert_eq!(rest, "rest");
    });
}

#[test]
fn flush_reports_a_write_error_once_and_then_the_file_works_again() {
    kettle::run(async {
        let mut full = File::options().write(true).open("/dev/full").await.unwrap();
        full.write_all(b"no room").await.expect("accepted into the buffer");
        let error = full.flush().await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::StorageFull, "{error}");
        full.flush().await.expect("reported once, then cleared: nothing pending");
    });
}

#[test]
fn a_background_write_error_is_returned_by_the_next_operation_once() {
    kettle::run(async {
        let mut full = File::options().read(true).write(true).open("/dev/full").await.unwrap();
        let n = full.write(&[7; 20 * KIB]).await.expect("accepted: the trip goes in the background");
        assert_eq!(n, 20 * KIB);
        let error = full.write(b"x").await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::StorageFull, "the next write reports it: {error}");
        assert_eq!(full.write(b"x").await.unwrap(), 1, "then cleared");
        full.write(&[7; 20 * KIB]).await.unwrap();
        let error = full.read(&mut [0; 4]).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::StorageFull, "a read reports it too: {error}");
        assert_eq!(full.read(&mut [1; 4]).await.unwrap(), 4, "/dev/full reads zeros");
    });
}

#[test]
fn a_file_dropped_with_pending_writes_still_writes_them() {
    let dir = Scratch::new("dropwrites");
    let path = dir.join("f");
    let data = pattern(40 * KIB + 3);
    kettle::run(async {
        let mut file = File::create(&path).await.unwrap();
        file.write_all(&data[..40 * KIB]).await.unwrap(); // 40 KiB: a trip, started and not awaited
        file.write_all(&data[40 * KIB..]).await.unwrap(); // 3 bytes: in the buffer
        drop(file);
        let (path, data) = (path.clone(), data.clone());
        kettle::spawn_blocking(move || {
            eventually("the dropped file's bytes are written", || std::fs::read(&path).unwrap() == data)
        })
        .await
        .unwrap();
    });
}

#[test]
fn pending_writes_of_a_file_dropped_as_the_runtime_shuts_down_are_written_by_the_dropping_thread() {
    let dir = Scratch::new("dropshutdown");
    let path = dir.join("f");
    let rt = kettle::Builder::new().max_blocking_threads(1).build().unwrap();
    let (gate_tx, gate_rx) = std::sync::mpsc::channel::<()>();
    rt.block_on(async {
        let mut file = File::create(&path).await.unwrap();
        file.write_all(b"pending").await.unwrap();
        // The only worker is held, so the write-behind job stays queued...
        drop(kettle::spawn_blocking(move || gate_rx.recv()));
        kettle::sleep(Duration::from_millis(20)).await;
        drop(file);
    });
    drop(rt); // ... and is dropped unrun here: its drop writes.
    assert_eq!(std::fs::read(&path).unwrap(), b"pending");
    drop(gate_tx);
}

#[test]
fn a_file_dropped_outside_a_runtime_writes_its_pending_bytes_on_the_spot() {
    let dir = Scratch::new("dropoutside");
    let path = dir.join("f");
    let file = kettle::run(async {
        let mut file = File::create(&path).await.unwrap();
        file.write_all(b"late").await.unwrap();
        file
    });
    drop(file);
    assert_eq!(std::fs::read(&path).unwrap(), b"late");
}

#[test]
fn into_std_hands_over_a_file_with_everything_written() {
    let dir = Scratch::new("intostd");
    let path = dir.join("f");
    let data = pattern(100 * KIB);
    kettle::run(async {
        let mut file = File::create(&path).await.unwrap();
        file.write_all(&data).await.unwrap();
        let std = file.into_std().await.unwrap();
        assert_eq!(std.metadata().unwrap().len(), data.len() as u64);
        let mut full = File::options().write(true).open("/dev/full").await.unwrap();
        full.write_all(b"lost").await.unwrap();
        assert_eq!(
            full.into_std().await.unwrap_err().kind(),
            ErrorKind::StorageFull,
            "the error is reported"
        );
    });
    assert!(std::fs::read(&path).unwrap() == data);
}

/// Reads `file` to its end with a read future cancelled after 1, 2, ...
/// polls in turn (each pause letting the trip come back or not); returns
/// the bytes of the reads that finished, in order.
async fn read_with_cancellations(file: &mut File, chunk: usize, pause: Duration) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = vec![0; chunk];
    let mut polls = 1;
    loop {
        match cancel_after(file.read(&mut buf), polls, pause).await {
            Some(n) => {
                let n = n.unwrap();
                if n == 0 {
                    return got;
                }
                got.extend_from_slice(&buf[..n]);
            }
            None => polls = polls % 3 + 1,
        }
    }
}

#[test]
fn cancelled_reads_lose_nothing_and_read_nothing_twice() {
    let dir = Scratch::new("cancelread");
    let data = pattern(500 * KIB + 5);
    std::fs::write(dir.join("f"), &data).unwrap();
    kettle::run(async {
        for (chunk, pause) in
            [(1000, Duration::ZERO), (7, Duration::from_millis(1)), (40 * KIB, Duration::ZERO)]
        {
            let mut file = File::open(dir.join("f")).await.unwrap();
            let got = read_with_cancellations(&mut file, chunk, pause).await;
            assert!(got == data, "chunk {chunk}: {} bytes of {}", got.len(), data.len());
        }
        // read_to_end cancelled mid-trip: the rest is kept for the next read.
        let mut file = File::open(dir.join("f")).await.unwrap();
        let mut head = [0; 100];
        file.read(&mut head).await.unwrap();
        let mut got = head.to_vec();
        // (On a loaded machine the trip may even finish within the one poll.)
        let _ = cancel_after(file.read_to_end(&mut got), 1, Duration::ZERO).await;
        file.read_to_end(&mut got).await.unwrap();
        assert!(got == data, "{} bytes of {}", got.len(), data.len());
    });
}

#[test]
fn cancelled_writes_flushes_and_seeks_lose_nothing() {
    let dir = Scratch::new("cancelwrite");
    let path = dir.join("f");
    let mut model = Vec::new();
    kettle::run(async {
        let mut file = File::options().read(true).write(true).create(true).open(&path).await.unwrap();
        for round in 0..60u32 {
            let chunk = vec![round as u8; [10, 9 * KIB, 20 * KIB][round as usize % 3]];
            let polls = round as usize % 3 + 1;
            let pause = if round % 2 == 0 { Duration::ZERO } else { Duration::from_millis(1) };
            // A cancelled write accepted nothing; a finished one says how much.
            if let Some(n) = cancel_after(file.write(&chunk), polls, pause).await {
                model.extend_from_slice(&chunk[..n.unwrap()]);
            }
            let _ = cancel_after(file.flush(), polls, pause).await;
            if round % 5 == 0 {
                // A cancelled seek to the end still happens (or did nothing, if
                // it only waited): either way the position is the end.
                let _ = cancel_after(file.seek(SeekFrom::End(0)), polls, pause).await;
            }
        }
        file.flush().await.unwrap();
        assert_eq!(file.seek(SeekFrom::Current(0)).await.unwrap(), model.len() as u64);
    });
    assert!(std::fs::read(&path).unwrap() == model);
}

#[test]
fn many_files_in_concurrent_tasks_each_keep_their_own_bytes() {
    let dir = Scratch::new("manyfiles");
    let dir = Rc::new(dir);
    kettle::run(async {
        let tasks: Vec<_> = (0..200)
            .map(|i| {
                let path = dir.join(&format!("f{i}"));
                kettle::spawn(async move {
                    let data = pattern(1000 + i * 300);
                    let mut file =
                        File::options().read(true).write(true).create(true).open(&path).await.unwrap();
                    for piece in data.chunks(777) {
                        file.write_all(piece).await.unwrap();
                    }
                    file.seek(SeekFrom::Start(0)).await.unwrap();
                    let mut back = Vec::new();
                    file.read_to_end(&mut back).await.unwrap();
                    assert!(back == data, "file {i}");
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
}

#[test]
fn the_loop_keeps_ticking_while_a_read_waits_on_the_pool() {
    // A FIFO: the read trip blocks in the kernel until the writer thread
    // writes, which it does only once it has seen the loop tick 5 times.
    let dir = Scratch::new("fifo");
    let path = dir.join("fifo");
    let c_path = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0, "mkfifo");
    let ticks = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (ticks, path) = (ticks.clone(), path.clone());
        std::thread::spawn(move || {
            let mut fifo = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
            let deadline = std::time::Instant::now() + Duration::from_secs(5);
            while ticks.load(Ordering::SeqCst) < 5 && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(1));
            }
            std::io::Write::write_all(&mut fifo, b"after the ticks").unwrap();
        })
    };
    kettle::run(async {
        let ticker = kettle::spawn({
            let ticks = ticks.clone();
            async move {
                loop {
                    kettle::sleep(Duration::from_millis(1)).await;
                    ticks.fetch_add(1, Ordering::SeqCst);
                }
            }
        });
        // Read and write, so opening does not wait for the writer either.
        let mut fifo = File::options().read(true).write(true).open(&path).await.unwrap();
        let mut got = [0; 15];
        let n = fifo.read(&mut got).await.unwrap();
        assert_eq!(&got[..n], &b"after the ticks"[..n]);
        assert!(ticks.load(Ordering::SeqCst) >= 5, "the loop ticked while the read waited");
        ticker.cancel();
    });
    writer.join().unwrap();
}

#[test]
fn the_loop_keeps_ticking_during_a_large_read() {
    let dir = Scratch::new("largeread");
    let data = pattern(32 * 1024 * KIB);
    std::fs::write(dir.join("f"), &data).unwrap();
    kettle::run(async {
        let ticks = Rc::new(std::cell::Cell::new(0));
        let ticker = kettle::spawn({
            let ticks = ticks.clone();
            async move {
                loop {
                    kettle::yield_now().await;
                    ticks.set(ticks.get() + 1);
                }
            }
        });
        let mut back = Vec::new();
        File::open(dir.join("f")).await.unwrap().read_to_end(&mut back).await.unwrap();
        assert!(back == data);
        assert!(ticks.get() > 10, "the ticker ran {} times during the read", ticks.get());
        ticker.cancel();
    });
}

#[test]
#[should_panic(expected = "kettle::fs::File called outside a kettle runtime")]
fn a_file_used_outside_a_runtime_panics_saying_where_to_call_it() {
    let mut file = File::from_std(std::fs::File::open("Cargo.toml").unwrap());
    common::block_on_thread(file.read(&mut [0; 4])).unwrap();
}

#[test]
fn the_paused_clock_holds_still_while_a_file_trip_is_in_flight() {
    let dir = Scratch::new("pausedfile");
    let path = dir.join("f");
    let rt = kettle::Builder::new().start_paused(true).build().unwrap();
    rt.block_on(async {
        let start = kettle::time::now();
        let sleeper = kettle::spawn(async { kettle::sleep(Duration::from_secs(3600)).await });
        let mut file = File::options().read(true).write(true).create(true).open(&path).await.unwrap();
        for _ in 0..50 {
            file.write_all(&pattern(50 * KIB)).await.unwrap();
        }
        file.flush().await.unwrap();
        file.seek(SeekFrom::Start(0)).await.unwrap();
        let mut back = Vec::new();
        file.read_to_end(&mut back).await.unwrap();
        assert_eq!(back.len(), 50 * 50 * KIB);
        drop(file);
        assert_eq!(kettle::time::now(), start, "no time passed on the paused clock during the trips");
        assert!(!sleeper.is_finished());
        sleeper.cancel();
    });
}

#[test]
fn files_directories_and_their_futures_can_move_between_threads() {
    fn send<T: Send>(_: &T) {}
    let mut file = File::from_std(std::fs::File::open("Cargo.toml").unwrap());
    send(&file);
    send(&file.read(&mut []));
    send(&fs::read("Cargo.toml"));
    send(&fs::read_dir("."));
    send(&File::open("Cargo.toml"));
}

#[test]
fn a_file_owned_by_a_task_still_pending_when_the_runtime_drops_writes_its_bytes() {
    let dir = Scratch::new("taskdrop");
    let path = dir.join("f");
    let rt = kettle::Runtime::new().unwrap();
    rt.block_on(async {
        let path = path.clone();
        drop(kettle::spawn(async move {
            let mut file = File::create(&path).await.unwrap();
            file.write_all(b"from a task that never finished").await.unwrap();
            std::future::pending::<()>().await;
        }));
        kettle::sleep(Duration::from_millis(50)).await;
    });
    drop(rt); // drops the task, and with it the File
    eventually("the bytes are written", || {
        std::fs::read(&path).map(|d| d == b"from a task that never finished").unwrap_or(false)
    });
}
