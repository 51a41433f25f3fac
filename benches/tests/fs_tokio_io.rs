//! Specifies tokio's `AsyncRead`, `AsyncWrite` and `AsyncSeek` for
//! `kettle::fs::File` (kettle's `tokio-io` feature), driven by tokio's own
//! extension traits and helpers on a kettle runtime: `BufReader::lines`,
//! `io::copy`, `AsyncSeekExt::seek`, `read_buf` into spare capacity.

use std::io::SeekFrom;

use kettle::fs::File;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncSeekExt, AsyncWriteExt, BufReader};

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("kettle-fs-tokio-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn tokio_lines_read_a_kettle_file_line_by_line() {
    let dir = scratch("lines");
    let path = dir.join("tea.txt");
    kettle::run(async {
        let mut file = File::create(&path).await.unwrap();
        for i in 0..10_000 {
            file.write_all(format!("cup {i}\n").as_bytes()).await.unwrap();
        }
        AsyncWriteExt::shutdown(&mut file).await.unwrap();
        let mut lines = BufReader::new(File::open(&path).await.unwrap()).lines();
        let mut count = 0;
        while let Some(line) = lines.next_line().await.unwrap() {
            assert_eq!(line, format!("cup {count}"));
            count += 1;
        }
        assert_eq!(count, 10_000);
    });
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn tokio_copy_seek_and_read_buf_work_on_kettle_files() {
    let dir = scratch("copy");
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(dir.join("from"), &data).unwrap();
    kettle::run(async {
        let mut from = File::open(dir.join("from")).await.unwrap();
        let mut to = File::options().read(true).write(true).create(true).open(dir.join("to")).await.unwrap();
        assert_eq!(tokio::io::copy(&mut from, &mut to).await.unwrap(), data.len() as u64);
        AsyncWriteExt::flush(&mut to).await.unwrap();
        assert!(std::fs::read(dir.join("to")).unwrap() == data);

        assert_eq!(AsyncSeekExt::seek(&mut to, SeekFrom::Start(100)).await.unwrap(), 100);
        let mut spare = Vec::with_capacity(50);
        let n = to.read_buf(&mut spare).await.unwrap();
        assert!(n > 0 && spare[..] == data[100..100 + n], "read into uninitialised capacity");
        assert_eq!(AsyncSeekExt::stream_position(&mut to).await.unwrap(), 100 + n as u64);

        let mut rest = Vec::new();
        AsyncReadExt::read_to_end(&mut to, &mut rest).await.unwrap();
        assert!(rest[..] == data[100 + n..]);
    });
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn tokio_flush_reports_a_write_error() {
    kettle::run(async {
        let mut full = File::options().write(true).open("/dev/full").await.unwrap();
        AsyncWriteExt::write_all(&mut full, b"no room").await.unwrap();
        let error = AsyncWriteExt::flush(&mut full).await.unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::StorageFull);
    });
}
