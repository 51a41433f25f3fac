//! Specifies futures-io's `AsyncRead`, `AsyncWrite` and `AsyncSeek` for
//! `kettle::fs::File` (cargo feature `futures-io`): the same buffer and
//! trips as the inherent methods, `poll_close` flushing.

use std::future::poll_fn;
use std::io::{ErrorKind, SeekFrom};
use std::pin::Pin;

use futures_io::{AsyncRead, AsyncSeek, AsyncWrite};
use kettle::fs::File;

mod fs_common;
use fs_common::{Scratch, pattern};

async fn write_all(file: &mut File, mut src: &[u8]) {
    while !src.is_empty() {
        let n = poll_fn(|cx| Pin::new(&mut *file).poll_write(cx, src)).await.unwrap();
        src = &src[n..];
    }
}

async fn read_to_end(file: &mut File) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0; 5000];
    loop {
        let n = poll_fn(|cx| Pin::new(&mut *file).poll_read(cx, &mut buf)).await.unwrap();
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&buf[..n]);
    }
}

#[test]
fn a_file_is_written_sought_and_read_through_futures_io() {
    let dir = Scratch::new("futuresio");
    let data = pattern(300_000);
    kettle::run(async {
        let path = dir.join("f");
        let mut file = File::options().read(true).write(true).create(true).open(&path).await.unwrap();
        write_all(&mut file, &data).await;
        poll_fn(|cx| Pin::new(&mut file).poll_close(cx)).await.unwrap();
        assert!(std::fs::read(&path).unwrap() == data, "closed means written");
        let at = poll_fn(|cx| Pin::new(&mut file).poll_seek(cx, SeekFrom::Start(1000))).await.unwrap();
        assert_eq!(at, 1000);
        assert!(read_to_end(&mut file).await == data[1000..]);
        let at = poll_fn(|cx| Pin::new(&mut file).poll_seek(cx, SeekFrom::End(-10))).await.unwrap();
        assert_eq!(at, data.len() as u64 - 10);
        assert!(read_to_end(&mut file).await == data[data.len() - 10..]);
    });
}

#[test]
fn poll_flush_reports_a_write_error() {
    kettle::run(async {
        let mut full = File::options().write(true).open("/dev/full").await.unwrap();
        write_all(&mut full, b"no room").await;
        let error = poll_fn(|cx| Pin::new(&mut full).poll_flush(cx)).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::StorageFull);
    });
}
