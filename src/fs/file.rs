//! [`File`]: an open file whose operations run on the blocking pool,
//! buffered so that small reads and writes do not each cost a trip.
//!
//! # Idle and busy
//!
//! A `File` is a state machine over what it owns (`Inner`: the
//! `std::fs::File` and a buffer). While *idle*, the loop holds it: a `read`
//! served from read-ahead, or a `write` that fits in the buffer, is a copy,
//! with no trip. Any other operation sends the whole `Inner` to the pool
//! with one operation — *a trip* — and the `File` is *busy* until it comes
//! back:
//!
//! ```text
//!            (1) start: a read with no read-ahead, a write that
//!                fills the buffer, flush, seek, sync_*, set_len, ...
//!    ┌──────┐ ───────────────────────────────────────────▶ ┌──────┐
//!    │ Idle │                                               │ Busy │
//!    └──────┘ ◀─────────────────────────────────────────── └──────┘
//!       │  ▲      (2) poll_idle: the trip is back; its error is
//!       └──┘          kept in `error`, its result in `last`
//!   served from the buffer, no trip
//! ```
//!
//! Edge (1) is `File::start` (`file/poll.rs`), edge (2)
//! `File::poll_idle`. Every operation first reaches *idle* (waiting for a
//! trip still in flight, perhaps one an earlier, cancelled call started),
//! and returns the error that trip came back with, if any: **an error from a
//! background trip is returned by the next operation, once, then
//! cleared**. That is how a write that `write` accepted and sent to the pool
//! without waiting reports its failure: to the next `write`, `flush`, `read`
//! or `seek`. `flush` exists to ask for it.
//!
//! Trips are 16 KiB and up: a streak of reads, or of writes, doubles them
//! up to 1 MiB, so that streaming a big file costs few trips
//! (`file/streak.rs`).
//!
//! Every trip starts by *settling* the buffer (`file/buf.rs`): seeking back
//! over read-ahead not handed out, and writing pending bytes; so whatever it
//! carries sees the file exactly as the caller does.
//!
//! # Why this shape
//!
//! A trip moves ownership rather than sharing: no lock, and the `File` can
//! be dropped at any moment — the trip in flight finishes on its own, with
//! the file. A dropped future never loses data either: the trip it started
//! stays in the `File`, and the next operation picks up its result.
//!
//! Writes are *write-behind*, as tokio's are: a `write` that fills the
//! buffer sends it and returns at once; the next operation waits for it.
//! A copy loop (read from one file, write to another) therefore has the
//! write of one chunk in flight while the next is read.
//!
//! # Dropping a `File`
//!
//! Bytes accepted by `write` and not yet written are still written: the
//! dropped `File`'s state goes to the pool in a job that writes them, then
//! closes the file (`file/trip.rs`, `write_behind`). Only the error is lost,
//! as with tokio; call `flush` to see it. A trip in flight when the `File`
//! is dropped finishes and closes the file on the pool. Outside a runtime,
//! or if the pool refuses the job, the bytes are written by the dropping
//! thread.

mod buf;
mod methods;
mod poll;
mod streak;
mod trip;

use std::fmt;
use std::io::{self, SeekFrom};
use std::path::Path;

use self::buf::Buf;
use self::streak::Streak;
use self::trip::{Done, Inner, Trip};
use super::OpenOptions;

/// An open file, read and written without blocking the loop
/// (`aiofiles.open`'s object; tokio's `tokio::fs::File`).
///
/// Reads and writes are buffered: consecutive small writes go to the pool in
/// one trip, and a small read fetches 16 KiB at once. [`flush`](File::flush)
/// waits until written data has reached the operating system and reports
/// any error writing it; a `File` dropped with unwritten data still writes
/// it, in the background.
///
/// ```
/// kettle::run(async {
///     let path = std::env::temp_dir().join(format!("kettle-doc-file-{}", std::process::id()));
///     let mut file = kettle::fs::File::create(&path).await.unwrap();
///     file.write_all(b"first line\nsecond line\n").await.unwrap();
///     file.flush().await.unwrap();
///
///     let mut file = kettle::fs::File::open(&path).await.unwrap();
///     let mut text = String::new();
///     file.read_to_string(&mut text).await.unwrap();
///     assert_eq!(text.lines().count(), 2);
///     kettle::fs::remove_file(&path).await.unwrap();
/// });
/// ```
#[doc(alias = "aiofiles.open")]
pub struct File {
    state: State,
    /// The error a trip came back with, not yet returned: the next
    /// operation returns it and clears it.
    error: Option<io::Error>,
    /// What the latest trip gave, for the operation waiting on it (a read's
    /// end of file, a seek's position). Cleared when a trip starts.
    last: Option<Done>,
    /// A seek asked for by tokio's `start_seek` and not yet started.
    #[cfg_attr(not(feature = "tokio-io"), allow(dead_code))]
    queued_seek: Option<SeekFrom>,
    /// The target of the seek trip in flight or just back, until its
    /// position is collected.
    seek_in_flight: Option<SeekFrom>,
    /// Trip sizes, grown by sequential use (`file/streak.rs`).
    streak: Streak,
}

enum State {
    /// On the loop.
    Idle(Box<Inner>),
    /// On the pool.
    Busy(Trip),
    /// Gone for good: a trip vanished without sending the state back (it
    /// never does; kept so that it would be an error, not a hang), or the
    /// state was handed over by `into_std`.
    Lost,
}

impl File {
    /// Opens a file for reading ([`std::fs::File::open`], one trip).
    ///
    /// # Errors
    /// As std's, with a message naming the path: `File::open("missing.txt")`
    /// is a `NotFound` error saying "open \`missing.txt\`: No such file or
    /// directory (os error 2)".
    ///
    /// ```
    /// kettle::run(async {
    ///     let error = kettle::fs::File::open("missing.txt").await.unwrap_err();
    ///     assert_eq!(error.kind(), std::io::ErrorKind::NotFound);
    ///     assert!(error.to_string().contains("missing.txt"));
    /// });
    /// ```
    pub async fn open(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new().read(true).open(path).await
    }

    /// Creates a file for writing, truncating it if it exists
    /// ([`std::fs::File::create`], one trip).
    ///
    /// # Errors
    /// As std's, with a message naming the path.
    ///
    /// ```
    /// kettle::run(async {
    ///     let path = std::env::temp_dir().join(format!("kettle-doc-create-{}", std::process::id()));
    ///     let mut file = kettle::fs::File::create(&path).await.unwrap();
    ///     file.write_all(b"assam").await.unwrap();
    ///     file.flush().await.unwrap();
    ///     assert_eq!(std::fs::read(&path).unwrap(), b"assam");
    ///     kettle::fs::remove_file(&path).await.unwrap();
    /// });
    /// ```
    pub async fn create(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new().write(true).create(true).truncate(true).open(path).await
    }

    /// A builder for opening a file in any mode: std's `OpenOptions`
    /// methods, then [`OpenOptions::open`].
    ///
    /// ```
    /// kettle::run(async {
    ///     let path = std::env::temp_dir().join(format!("kettle-doc-options-{}", std::process::id()));
    ///     let mut log = kettle::fs::File::options().append(true).create(true).open(&path).await.unwrap();
    ///     log.write_all(b"boiled\n").await.unwrap();
    ///     log.flush().await.unwrap();
    ///     kettle::fs::remove_file(&path).await.unwrap();
    /// });
    /// ```
    pub fn options() -> OpenOptions {
        OpenOptions::new()
    }

    /// Wraps an open `std::fs::File`. Its position is where this `File`
    /// starts.
    ///
    /// ```
    /// let std = std::fs::File::open("Cargo.toml").unwrap();
    /// let file = kettle::fs::File::from_std(std);
    /// # drop(file);
    /// ```
    pub fn from_std(std: std::fs::File) -> File {
        File {
            state: State::Idle(Box::new(Inner { std, buf: Buf::new() })),
            error: None,
            last: None,
            queued_seek: None,
            seek_in_flight: None,
            streak: Streak::new(),
        }
    }

    /// Hands over the `std::fs::File`, with every accepted write written and
    /// its position where this `File`'s was (read-ahead given back by a
    /// seek). Waits for a trip in flight first.
    ///
    /// Cancelled mid-way, the `File` is dropped: pending writes are still
    /// written, in the background.
    ///
    /// # Errors
    /// An earlier background write's error, or the error writing what is
    /// pending; the file is then closed (the error says what was lost).
    ///
    /// ```
    /// kettle::run(async {
    ///     let path = std::env::temp_dir().join(format!("kettle-doc-into-std-{}", std::process::id()));
    ///     let mut file = kettle::fs::File::create(&path).await.unwrap();
    ///     file.write_all(b"darjeeling").await.unwrap();
    ///     let std = file.into_std().await.unwrap();
    ///     assert_eq!(std.metadata().unwrap().len(), 10, "written before the handover");
    ///     kettle::fs::remove_file(&path).await.unwrap();
    /// });
    /// ```
    pub async fn into_std(mut self) -> io::Result<std::fs::File> {
        std::future::poll_fn(|cx| self.poll_idle(cx)).await?;
        if self.idle().buf.needs_settle() {
            self.run(trip::Op::Settle).await?;
        }
        match std::mem::replace(&mut self.state, State::Lost) {
            State::Idle(inner) => Ok(inner.std),
            _ => unreachable!("idle after poll_idle"),
        }
    }
}

impl Drop for File {
    fn drop(&mut self) {
        if let State::Idle(inner) = std::mem::replace(&mut self.state, State::Lost)
            && inner.buf.pending_writes() > 0
        {
            trip::write_behind(inner);
        }
    }
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("File");
        match &self.state {
            State::Idle(inner) => d.field("std", &inner.std).field("buf", &inner.buf),
            State::Busy(_) => d.field("state", &"busy"),
            State::Lost => d.field("state", &"lost"),
        };
        d.field("error", &self.error).finish_non_exhaustive()
    }
}
