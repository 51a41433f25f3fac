//! Specifies `kettle::fs`'s free functions: std's names, each a trip to the
//! blocking pool; errors that name their path and keep their kind; what a
//! cancelled call leaves; the paused clock holding still during a trip; and
//! the runtime's usual panic outside a runtime.

use std::io::ErrorKind;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use kettle::fs;

mod common;
mod fs_common;
use fs_common::{Scratch, cancel_after, pattern};

#[test]
fn write_then_read_gives_back_the_bytes_and_the_text() {
    let dir = Scratch::new("roundtrip");
    kettle::run(async {
        let path = dir.join("tea.txt");
        fs::write(&path, "green\nblack\n").await.unwrap();
        assert_eq!(fs::read(&path).await.unwrap(), b"green\nblack\n");
        assert_eq!(fs::read_to_string(&path).await.unwrap(), "green\nblack\n");
        assert_eq!(std::fs::read(&path).unwrap(), b"green\nblack\n", "std sees the same file");
    });
}

#[test]
fn an_empty_file_reads_as_nothing() {
    let dir = Scratch::new("empty");
    kettle::run(async {
        let path = dir.join("empty");
        fs::write(&path, b"").await.unwrap();
        assert_eq!(fs::read(&path).await.unwrap(), b"");
        assert_eq!(fs::read_to_string(&path).await.unwrap(), "");
        assert_eq!(fs::metadata(&path).await.unwrap().len(), 0);
    });
}

#[test]
fn a_large_file_round_trips_whole() {
    let dir = Scratch::new("large");
    let data = pattern(5 * 1024 * 1024 + 17);
    let expected = data.clone();
    kettle::run(async move {
        let path = dir.join("large");
        fs::write(&path, &data).await.unwrap();
        assert!(fs::read(&path).await.unwrap() == expected);
    });
}

#[test]
fn a_missing_file_error_names_its_path_and_keeps_its_kind() {
    kettle::run(async {
        let error = fs::read("missing.txt").await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound);
        assert_eq!(error.to_string(), "read `missing.txt`: No such file or directory (os error 2)");
        let error = fs::File::open("missing.txt").await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound);
        assert_eq!(error.to_string(), "open `missing.txt`: No such file or directory (os error 2)");
        let source = std::error::Error::source(error.get_ref().unwrap()).expect("std's error is the source");
        let std = source.downcast_ref::<std::io::Error>().unwrap();
        assert_eq!(std.raw_os_error(), Some(libc::ENOENT), "the OS's code is still there");
        for error in [
            fs::metadata("missing.txt").await.unwrap_err(),
            fs::remove_file("missing.txt").await.unwrap_err(),
            fs::canonicalize("missing.txt").await.unwrap_err(),
            fs::read_link("missing.txt").await.unwrap_err(),
        ] {
            assert_eq!(error.kind(), ErrorKind::NotFound);
            assert!(error.to_string().contains("`missing.txt`"), "{error}");
        }
    });
}

#[test]
fn an_error_between_two_paths_names_both() {
    let dir = Scratch::new("twopaths");
    kettle::run(async {
        let (from, to) = (dir.join("nope"), dir.join("there"));
        for error in [
            fs::copy(&from, &to).await.unwrap_err(),
            fs::rename(&from, &to).await.unwrap_err(),
            fs::hard_link(&from, &to).await.unwrap_err(),
        ] {
            assert_eq!(error.kind(), ErrorKind::NotFound);
            let message = error.to_string();
            assert!(message.contains(&format!("`{}` to `{}`", from.display(), to.display())), "{message}");
        }
    });
}

#[test]
fn a_directory_where_a_file_is_expected_is_an_error_naming_it() {
    let dir = Scratch::new("dirasfile");
    kettle::run(async {
        let error = fs::read(dir.path()).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::IsADirectory, "{error}");
        assert!(error.to_string().contains(&dir.path().display().to_string()));
        let error = fs::remove_file(dir.path()).await.unwrap_err();
        assert!(error.to_string().starts_with("remove_file `"), "{error}");
        let error = fs::write(dir.path(), "x").await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::IsADirectory, "{error}");
    });
}

#[test]
fn read_to_string_of_bytes_that_are_not_utf8_is_invalid_data() {
    let dir = Scratch::new("notutf8");
    kettle::run(async {
        let path = dir.join("bin");
        fs::write(&path, [0xff, 0xfe, 0x00]).await.unwrap();
        let error = fs::read_to_string(&path).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidData);
        assert!(error.to_string().contains("bin"), "{error}");
    });
}

#[test]
fn copy_copies_the_contents_and_returns_their_length() {
    let dir = Scratch::new("copy");
    kettle::run(async {
        let (a, b) = (dir.join("a"), dir.join("b"));
        fs::write(&a, pattern(100_000)).await.unwrap();
        assert_eq!(fs::copy(&a, &b).await.unwrap(), 100_000);
        assert_eq!(fs::read(&b).await.unwrap(), pattern(100_000));
    });
}

#[test]
fn rename_moves_a_file_and_replaces_the_target() {
    let dir = Scratch::new("rename");
    kettle::run(async {
        let (a, b) = (dir.join("a"), dir.join("b"));
        fs::write(&a, "new").await.unwrap();
        fs::write(&b, "old").await.unwrap();
        fs::rename(&a, &b).await.unwrap();
        assert!(!fs::try_exists(&a).await.unwrap());
        assert_eq!(fs::read_to_string(&b).await.unwrap(), "new");
    });
}

#[test]
fn directories_are_created_and_removed() {
    let dir = Scratch::new("dirs");
    kettle::run(async {
        let one = dir.join("one");
        fs::create_dir(&one).await.unwrap();
        assert_eq!(fs::create_dir(&one).await.unwrap_err().kind(), ErrorKind::AlreadyExists);
        let deep = dir.join("a/b/c");
        assert_eq!(fs::create_dir(&deep).await.unwrap_err().kind(), ErrorKind::NotFound, "no parents");
        fs::create_dir_all(&deep).await.unwrap();
        fs::create_dir_all(&deep).await.expect("create_dir_all of an existing directory is fine");
        fs::write(deep.join("f"), "x").await.unwrap();
        assert_eq!(fs::remove_dir(dir.join("a")).await.unwrap_err().kind(), ErrorKind::DirectoryNotEmpty);
        fs::remove_dir(&one).await.unwrap();
        fs::remove_dir_all(dir.join("a")).await.unwrap();
        assert!(!fs::try_exists(dir.join("a")).await.unwrap());
    });
}

#[test]
fn metadata_follows_a_link_and_symlink_metadata_does_not() {
    let dir = Scratch::new("meta");
    kettle::run(async {
        let (file, link) = (dir.join("file"), dir.join("link"));
        fs::write(&file, "12345").await.unwrap();
        std::os::unix::fs::symlink(&file, &link).unwrap();
        let followed = fs::metadata(&link).await.unwrap();
        assert!(followed.is_file());
        assert_eq!(followed.len(), 5);
        assert!(fs::symlink_metadata(&link).await.unwrap().file_type().is_symlink());
        assert_eq!(fs::read_link(&link).await.unwrap(), file);
        assert_eq!(fs::canonicalize(&link).await.unwrap(), std::fs::canonicalize(&file).unwrap());
        let error = fs::read_link(&file).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput, "not a link: {error}");
    });
}

#[test]
fn try_exists_is_false_for_a_missing_path_and_a_broken_link() {
    let dir = Scratch::new("exists");
    kettle::run(async {
        assert!(fs::try_exists(dir.path()).await.unwrap());
        assert!(!fs::try_exists(dir.join("nope")).await.unwrap());
        std::os::unix::fs::symlink(dir.join("nope"), dir.join("broken")).unwrap();
        assert!(!fs::try_exists(dir.join("broken")).await.unwrap());
    });
}

#[test]
fn hard_link_gives_the_same_file_a_second_name() {
    let dir = Scratch::new("hardlink");
    kettle::run(async {
        let (a, b) = (dir.join("a"), dir.join("b"));
        fs::write(&a, "one").await.unwrap();
        fs::hard_link(&a, &b).await.unwrap();
        fs::write(&a, "two").await.unwrap();
        assert_eq!(fs::read_to_string(&b).await.unwrap(), "two");
        assert_eq!(fs::hard_link(&a, &b).await.unwrap_err().kind(), ErrorKind::AlreadyExists);
    });
}

#[test]
fn set_permissions_sets_the_mode() {
    let dir = Scratch::new("chmod");
    kettle::run(async {
        let path = dir.join("f");
        fs::write(&path, "").await.unwrap();
        fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).await.unwrap();
        assert_eq!(fs::metadata(&path).await.unwrap().permissions().mode() & 0o777, 0o640);
        let error =
            fs::set_permissions(dir.join("nope"), std::fs::Permissions::from_mode(0o600)).await.unwrap_err();
        assert!(error.to_string().starts_with("set_permissions `"), "{error}");
    });
}

#[test]
fn a_cancelled_write_still_writes_the_whole_file() {
    let dir = Scratch::new("cancelwrite");
    let path = dir.join("f");
    let data = pattern(3 * 1024 * 1024);
    kettle::run(async move {
        // One poll starts the trip (which may, on a loaded machine, finish).
        let _ = cancel_after(fs::write(&path, data.clone()), 1, Duration::ZERO).await;
        // The runtime stays up: a job still queued when it drops is dropped.
        for _ in 0..5000 {
            if std::fs::read(&path).map(|d| d == data).unwrap_or(false) {
                return;
            }
            kettle::sleep(Duration::from_millis(1)).await;
        }
        panic!("the cancelled write never finished");
    });
}

#[test]
fn a_thousand_concurrent_reads_each_get_their_own_file() {
    let dir = Scratch::new("concurrent");
    for i in 0..1000 {
        std::fs::write(dir.join(&i.to_string()), i.to_string()).unwrap();
    }
    kettle::run(async {
        let reads: Vec<_> = (0..1000)
            .map(|i| {
                let path = dir.join(&i.to_string());
                kettle::spawn(async move { (i, fs::read_to_string(path).await.unwrap()) })
            })
            .collect();
        for read in reads {
            let (i, text) = read.await.unwrap();
            assert_eq!(text, i.to_string());
        }
    });
}

#[test]
fn the_paused_clock_holds_still_while_a_trip_is_in_flight() {
    let dir = Scratch::new("paused");
    let path = dir.join("big");
    std::fs::write(&path, pattern(4 * 1024 * 1024)).unwrap();
    let rt = kettle::Builder::new().start_paused(true).build().unwrap();
    rt.block_on(async {
        let start = kettle::time::now();
        let sleeper = kettle::spawn(async { kettle::sleep(Duration::from_secs(3600)).await });
        for _ in 0..20 {
            fs::read(&path).await.unwrap();
        }
        assert_eq!(kettle::time::now(), start, "no time passed on the paused clock during the trips");
        assert!(!sleeper.is_finished());
        sleeper.cancel();
    });
}

#[test]
#[should_panic(expected = "kettle::fs::read called outside a kettle runtime")]
fn a_free_function_outside_a_runtime_panics_saying_where_to_call_it() {
    common::block_on_thread(fs::read("Cargo.toml")).unwrap();
}

#[test]
fn with_every_pool_thread_busy_a_call_waits_its_turn_and_then_runs() {
    let dir = Scratch::new("exhausted");
    let path = dir.join("f");
    std::fs::write(&path, "waited").unwrap();
    let rt = kettle::Builder::new().max_blocking_threads(1).build().unwrap();
    rt.block_on(async {
        let (gate_tx, gate_rx) = std::sync::mpsc::channel::<()>();
        let busy = kettle::spawn_blocking(move || gate_rx.recv());
        let read = kettle::spawn(fs::read_to_string(path));
        kettle::sleep(Duration::from_millis(20)).await;
        assert!(!read.is_finished(), "queued behind the busy thread");
        gate_tx.send(()).unwrap();
        assert_eq!(read.await.unwrap().unwrap(), "waited");
        busy.await.unwrap().unwrap();
    });
}
