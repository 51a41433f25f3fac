//! Specifies `Stream` for `kettle::fs::ReadDir` (cargo feature
//! `futures-core`): the entries of `next_entry`, then `None`, fused.

use std::collections::BTreeSet;
use std::future::poll_fn;
use std::pin::Pin;

use futures_core::Stream;
use futures_core::stream::FusedStream;

mod fs_common;
use fs_common::Scratch;

#[test]
fn a_read_dir_stream_yields_every_entry_then_ends_for_good() {
    let dir = Scratch::new("stream");
    for i in 0..100 {
        std::fs::write(dir.join(&format!("f{i}")), "").unwrap();
    }
    kettle::run(async {
        let mut entries = kettle::fs::read_dir(dir.path()).await.unwrap();
        let mut names = BTreeSet::new();
        assert!(!entries.is_terminated());
        while let Some(entry) = poll_fn(|cx| Pin::new(&mut entries).poll_next(cx)).await {
            names.insert(entry.unwrap().file_name());
        }
        assert_eq!(names.len(), 100);
        assert!(entries.is_terminated());
        assert!(poll_fn(|cx| Pin::new(&mut entries).poll_next(cx)).await.is_none(), "None again");
    });
}
