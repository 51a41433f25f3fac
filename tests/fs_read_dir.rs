//! Specifies `kettle::fs::read_dir`: every entry once, in batches; entries'
//! names, paths, metadata and types; errors naming the directory; and a
//! cancelled `next_entry` losing nothing.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::io::ErrorKind;
use std::time::Duration;

use kettle::fs;

mod common;
mod fs_common;
use fs_common::{Scratch, cancel_after};

#[test]
fn a_big_directory_lists_every_entry_exactly_once() {
    let dir = Scratch::new("big");
    let expected: BTreeSet<OsString> = (0..2500).map(|i| OsString::from(format!("entry-{i}"))).collect();
    for name in &expected {
        std::fs::write(dir.path().join(name), "").unwrap();
    }
    kettle::run(async {
        let mut entries = fs::read_dir(dir.path()).await.unwrap();
        let mut seen = BTreeSet::new();
        while let Some(entry) = entries.next_entry().await.unwrap() {
            assert!(seen.insert(entry.file_name()), "{:?} twice", entry.file_name());
        }
        assert_eq!(seen, expected);
        assert!(entries.next_entry().await.unwrap().is_none(), "None again after the end");
    });
}

#[test]
fn an_empty_directory_has_no_entries() {
    let dir = Scratch::new("empty");
    kettle::run(async {
        let mut entries = fs::read_dir(dir.path()).await.unwrap();
        assert!(entries.next_entry().await.unwrap().is_none());
        assert!(entries.next_entry().await.unwrap().is_none());
    });
}

#[test]
fn an_entry_knows_its_name_path_type_and_metadata() {
    let dir = Scratch::new("entries");
    std::fs::write(dir.join("file"), "12345").unwrap();
    std::fs::create_dir(dir.join("sub")).unwrap();
    std::os::unix::fs::symlink("file", dir.join("link")).unwrap();
    kettle::run(async {
        let mut entries = fs::read_dir(dir.path()).await.unwrap();
        let mut count = 0;
        while let Some(entry) = entries.next_entry().await.unwrap() {
            count += 1;
            assert_eq!(entry.path(), dir.path().join(entry.file_name()));
            let file_type = entry.file_type().await.unwrap();
            let metadata = entry.metadata().await.unwrap();
            match entry.file_name().to_str().unwrap() {
                "file" => {
                    assert!(file_type.is_file());
                    assert_eq!(metadata.len(), 5);
                }
                "sub" => assert!(file_type.is_dir() && metadata.is_dir()),
                "link" => {
                    assert!(file_type.is_symlink() && metadata.file_type().is_symlink(), "not followed")
                }
                other => panic!("unexpected entry {other}"),
            }
        }
        assert_eq!(count, 3);
    });
}

#[test]
fn an_entry_removed_after_listing_has_metadata_that_fails_naming_it() {
    let dir = Scratch::new("removed");
    std::fs::write(dir.join("gone"), "").unwrap();
    kettle::run(async {
        let mut entries = fs::read_dir(dir.path()).await.unwrap();
        let entry = entries.next_entry().await.unwrap().unwrap();
        std::fs::remove_file(dir.join("gone")).unwrap();
        let error = entry.metadata().await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound);
        assert!(error.to_string().contains("gone"), "{error}");
    });
}

#[test]
fn read_dir_of_a_missing_path_or_a_file_is_an_error_naming_it() {
    let dir = Scratch::new("errors");
    std::fs::write(dir.join("file"), "").unwrap();
    kettle::run(async {
        let error = fs::read_dir(dir.join("missing")).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound);
        assert!(error.to_string().starts_with("read_dir `"), "{error}");
        assert!(error.to_string().contains("missing"), "{error}");
        let error = fs::read_dir(dir.join("file")).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotADirectory, "{error}");
    });
}

#[test]
fn a_cancelled_next_entry_loses_no_entry() {
    let dir = Scratch::new("cancel");
    let expected: BTreeSet<OsString> = (0..300).map(|i| OsString::from(format!("e{i}"))).collect();
    for name in &expected {
        std::fs::write(dir.path().join(name), "").unwrap();
    }
    kettle::run(async {
        let mut entries = fs::read_dir(dir.path()).await.unwrap();
        let mut seen = BTreeSet::new();
        let mut polls = 1;
        loop {
            let pause = if polls == 2 { Duration::from_millis(1) } else { Duration::ZERO };
            match cancel_after(entries.next_entry(), polls, pause).await {
                Some(Ok(Some(entry))) => assert!(seen.insert(entry.file_name())),
                Some(Ok(None)) => break,
                Some(Err(e)) => panic!("{e}"),
                None => polls = polls % 3 + 1,
            }
        }
        assert_eq!(seen, expected);
    });
}

#[test]
#[should_panic(expected = "kettle::fs::read_dir called outside a kettle runtime")]
fn read_dir_outside_a_runtime_panics_saying_where_to_call_it() {
    let _ = common::block_on_thread(fs::read_dir("."));
}
