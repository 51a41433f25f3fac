//! [`File`]'s async methods, std's names, each with what cancelling it
//! mid-way leaves. All are thin: a `poll_fn` over `poll.rs`, or one trip.

use std::fs::Metadata;
use std::future::poll_fn;
use std::io::{self, SeekFrom};

use super::File;
use super::trip::{Done, Op};

impl File {
    /// Reads some bytes into `dst`, returning how many; 0 at the end of the
    /// file (or for an empty `dst`).
    ///
    /// Served from read-ahead when there is some; otherwise one trip reads
    /// at least 16 KiB (more for a larger `dst`, at most 2 MiB) and the rest
    /// is kept for the next reads.
    ///
    /// **Cancelled** while the trip is in flight, nothing is lost: the trip
    /// finishes in the background and its bytes are kept for the next read.
    ///
    /// # Errors
    /// The read's, or an earlier background write's (returned once).
    ///
    /// ```
    /// kettle::run(async {
    ///     let mut file = kettle::fs::File::open("Cargo.toml").await.unwrap();
    ///     let mut start = [0u8; 9];
    ///     let n = file.read(&mut start).await.unwrap();
    ///     assert_eq!(&start[..n], &b"[package]"[..n]);
    /// });
    /// ```
    pub async fn read(&mut self, dst: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_read(cx, dst)).await
    }

    /// Reads everything to the end of the file, appended to `dst`; returns
    /// how many bytes. The rest of the file comes in one trip.
    ///
    /// **Cancelled**, the bytes appended so far stay in `dst`, and what the
    /// trip in flight reads is kept for the next read: nothing is lost or
    /// read twice.
    ///
    /// # Errors
    /// The read's, or an earlier background write's (returned once). Bytes
    /// read before the error are appended to `dst` or kept for the next read.
    ///
    /// ```
    /// kettle::run(async {
    ///     let mut file = kettle::fs::File::open("Cargo.toml").await.unwrap();
    ///     let mut bytes = Vec::new();
    ///     file.read_to_end(&mut bytes).await.unwrap();
    ///     assert_eq!(bytes, std::fs::read("Cargo.toml").unwrap());
    /// });
    /// ```
    pub async fn read_to_end(&mut self, dst: &mut Vec<u8>) -> io::Result<usize> {
        let mut total = 0;
        loop {
            poll_fn(|cx| self.poll_idle(cx)).await?;
            total += self.idle().buf.take_all_into(dst);
            if let Some(Done::Read { eof: true }) = self.last.take() {
                return Ok(total);
            }
            self.start(Op::ReadToEnd);
        }
    }

    /// Reads everything to the end of the file, appended to `dst` as text;
    /// returns how many bytes.
    ///
    /// **Cancelled**, as [`read_to_end`](File::read_to_end): nothing
    /// appended, the bytes read kept for the next read.
    ///
    /// # Errors
    /// As [`read_to_end`](File::read_to_end), and `InvalidData` if the bytes
    /// are not UTF-8 (`dst` is then unchanged, and they are consumed, as
    /// with std).
    ///
    /// ```
    /// kettle::run(async {
    ///     let mut file = kettle::fs::File::open("Cargo.toml").await.unwrap();
    ///     let mut text = String::new();
    ///     file.read_to_string(&mut text).await.unwrap();
    ///     assert!(text.starts_with("[package]"));
    /// });
    /// ```
    pub async fn read_to_string(&mut self, dst: &mut String) -> io::Result<usize> {
        let mut bytes = Vec::new();
        let n = self.read_to_end(&mut bytes).await?;
        let text = String::from_utf8(bytes).map_err(|e| {
            io::Error::new(io::ErrorKind::InvalidData, format!("the file's contents are not UTF-8: {e}"))
        })?;
        dst.push_str(&text);
        Ok(n)
    }

    /// Accepts some of `src` for writing, returning how many bytes. While
    /// the buffer has room (under 16 KiB pending) this is a copy, at once;
    /// a write that fills it sends the buffer to the pool in one trip and
    /// returns without waiting for it (at most 2 MiB per call). Any error
    /// writing comes back from the next operation; [`flush`](File::flush)
    /// waits for it.
    ///
    /// **Cancelled**, nothing is lost: bytes are accepted only when it
    /// returns; it waits only for an earlier trip, which goes on.
    ///
    /// # Errors
    /// An earlier background write's (returned once).
    ///
    /// ```
    /// kettle::run(async {
    ///     let path = std::env::temp_dir().join(format!("kettle-doc-fwrite-{}", std::process::id()));
    ///     let mut file = kettle::fs::File::create(&path).await.unwrap();
    ///     assert_eq!(file.write(b"rooibos").await.unwrap(), 7);
    ///     file.flush().await.unwrap();
    ///     kettle::fs::remove_file(&path).await.unwrap();
    /// });
    /// ```
    pub async fn write(&mut self, src: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_write(cx, src)).await
    }

    /// Accepts all of `src` for writing ([`write`](File::write) until done).
    /// Returns when every byte is accepted, not written: `flush` for that.
    ///
    /// **Cancelled**, the bytes accepted so far are in the buffer or on the
    /// way, and will be written; the rest were never taken.
    ///
    /// # Errors
    /// An earlier background write's (returned once); bytes before it were
    /// accepted, as above.
    ///
    /// ```
    /// kettle::run(async {
    ///     let path = std::env::temp_dir().join(format!("kettle-doc-fwa-{}", std::process::id()));
    ///     let mut file = kettle::fs::File::create(&path).await.unwrap();
    ///     file.write_all(&vec![b'x'; 100_000]).await.unwrap();
    ///     file.flush().await.unwrap();
    ///     assert_eq!(std::fs::metadata(&path).unwrap().len(), 100_000);
    ///     kettle::fs::remove_file(&path).await.unwrap();
    /// });
    /// ```
    pub async fn write_all(&mut self, mut src: &[u8]) -> io::Result<()> {
        while !src.is_empty() {
            let n = self.write(src).await?;
            src = &src[n..];
        }
        Ok(())
    }

    /// Waits until every accepted byte has reached the operating system
    /// (not the disk: [`sync_all`](File::sync_all) for that), and reports
    /// the error of any write since the last report.
    ///
    /// **Cancelled**, the write goes on in the background; its error, if
    /// any, comes back from the next operation.
    ///
    /// # Errors
    /// A write's (`StorageFull` on a full disk, say). The bytes it failed to
    /// write are dropped, not retried.
    ///
    /// ```
    /// kettle::run(async {
    ///     let mut full = kettle::fs::File::options().write(true).open("/dev/full").await.unwrap();
    ///     full.write_all(b"nowhere to go").await.unwrap(); // accepted into the buffer
    ///     assert!(full.flush().await.is_err(), "the write fails, and flush says so");
    /// });
    /// ```
    pub async fn flush(&mut self) -> io::Result<()> {
        poll_fn(|cx| self.poll_flush(cx)).await
    }

    /// Writes what is pending, then waits until the data and metadata are
    /// on the disk ([`std::fs::File::sync_all`], one trip).
    ///
    /// **Cancelled**, the trip goes on; an error comes back from the next
    /// operation.
    ///
    /// # Errors
    /// The write's or the sync's, or an earlier background write's.
    ///
    /// ```
    /// kettle::run(async {
    ///     let path = std::env::temp_dir().join(format!("kettle-doc-sync-{}", std::process::id()));
    ///     let mut file = kettle::fs::File::create(&path).await.unwrap();
    ///     file.write_all(b"kept").await.unwrap();
    ///     file.sync_all().await.unwrap();
    ///     kettle::fs::remove_file(&path).await.unwrap();
    /// });
    /// ```
    #[doc(alias = "fsync")]
    pub async fn sync_all(&mut self) -> io::Result<()> {
        self.run(Op::SyncAll).await.map(drop)
    }

    /// As [`sync_all`](File::sync_all), but the metadata only as far as
    /// needed to read the data back ([`std::fs::File::sync_data`]).
    ///
    /// # Errors
    /// As [`sync_all`](File::sync_all).
    ///
    /// ```
    /// kettle::run(async {
    ///     let path = std::env::temp_dir().join(format!("kettle-doc-syncd-{}", std::process::id()));
    ///     let mut file = kettle::fs::File::create(&path).await.unwrap();
    ///     file.write_all(b"kept").await.unwrap();
    ///     file.sync_data().await.unwrap();
    ///     kettle::fs::remove_file(&path).await.unwrap();
    /// });
    /// ```
    #[doc(alias = "fdatasync")]
    pub async fn sync_data(&mut self) -> io::Result<()> {
        self.run(Op::SyncData).await.map(drop)
    }

    /// Truncates or extends the file to `len` bytes, after writing what is
    /// pending ([`std::fs::File::set_len`], one trip). The position does not
    /// move.
    ///
    /// **Cancelled**, the trip goes on: the length may or may not be set.
    ///
    /// # Errors
    /// As std's (a file not open for writing), or an earlier background
    /// write's.
    ///
    /// ```
    /// kettle::run(async {
    ///     let path = std::env::temp_dir().join(format!("kettle-doc-setlen-{}", std::process::id()));
    ///     let mut file = kettle::fs::File::create(&path).await.unwrap();
    ///     file.set_len(1024).await.unwrap();
    ///     assert_eq!(file.metadata().await.unwrap().len(), 1024);
    ///     kettle::fs::remove_file(&path).await.unwrap();
    /// });
    /// ```
    #[doc(alias = "truncate")]
    pub async fn set_len(&mut self, len: u64) -> io::Result<()> {
        self.run(Op::SetLen(len)).await.map(drop)
    }

    /// The file's metadata, after writing what is pending, so its length
    /// counts every accepted byte ([`std::fs::File::metadata`], one trip).
    ///
    /// **Cancelled**, the trip goes on and its answer is dropped.
    ///
    /// # Errors
    /// As std's, or an earlier background write's.
    ///
    /// ```
    /// kettle::run(async {
    ///     let mut file = kettle::fs::File::open("Cargo.toml").await.unwrap();
    ///     assert!(file.metadata().await.unwrap().is_file());
    /// });
    /// ```
    pub async fn metadata(&mut self) -> io::Result<Metadata> {
        match self.run(Op::Metadata).await? {
            Done::Metadata(metadata) => Ok(*metadata),
            other => unreachable!("a metadata trip gave {other:?}"),
        }
    }

    /// Moves the position, after writing what is pending and giving back
    /// read-ahead (one trip); returns the new position from the start.
    ///
    /// **Cancelled** while the trip is in flight, the seek still happens:
    /// the next operation starts from the new position.
    ///
    /// # Errors
    /// As std's (before the start of the file: `InvalidInput`), or an
    /// earlier background write's: the seek is then not done.
    ///
    /// ```
    /// use std::io::SeekFrom;
    ///
    /// kettle::run(async {
    ///     let mut file = kettle::fs::File::open("Cargo.toml").await.unwrap();
    ///     let mut first = [0u8; 1];
    ///     file.read(&mut first).await.unwrap();
    ///     assert_eq!(file.seek(SeekFrom::Current(0)).await.unwrap(), 1, "read-ahead is not the position");
    ///     assert_eq!(file.seek(SeekFrom::Start(0)).await.unwrap(), 0);
    /// });
    /// ```
    #[doc(alias = "lseek")]
    pub async fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        match self.run(Op::Seek(pos)).await? {
            Done::Seek(at) => Ok(at),
            other => unreachable!("a seek trip gave {other:?}"),
        }
    }
}
