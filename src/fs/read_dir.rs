//! A directory's entries, fetched in batches: [`read_dir`], [`ReadDir`],
//! [`DirEntry`].
//!
//! std's `ReadDir` is an iterator whose every `next` may be a system call
//! (`getdents64` refills a buffer of entries now and then). One trip to the
//! pool per entry would cost a thread hand-off per file name; so a trip takes
//! up to [`BATCH`] entries at once and the loop hands them out one by one.
//! The first batch comes back with the `read_dir` trip that opens the
//! directory: a small directory costs one trip in all.
//!
//! Each entry's file type is asked for on the pool, in the batch (free on
//! most Linux file systems, which report it with the name), so
//! [`DirEntry::file_type`] usually needs no trip of its own.
//!
//! ```text
//!            next_entry: batch empty,            trip back: batch
//!            directory not exhausted             (and the iterator)
//!   Idle ───────────────────────────▶ Busy ─────────────────────────▶ Idle
//!    │ batch not empty: pop one, no trip
//!    └ batch empty, exhausted: Ok(None), forever
//! ```

use std::collections::VecDeque;
use std::ffi::OsString;
use std::fmt;
use std::fs::{FileType, Metadata};
use std::future::{Future, poll_fn};
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use super::{path_error, trip};

/// Entries fetched per trip to the pool.
pub(crate) const BATCH: usize = 32;

/// What one trip brings back: entries, and the iterator unless it is
/// exhausted.
type Batch = (VecDeque<io::Result<DirEntry>>, Option<std::fs::ReadDir>);

/// Opens a directory for reading its entries ([`std::fs::read_dir`]); the
/// first batch of entries comes back with it.
///
/// The entries come in the order the file system gives them, without `.`
/// and `..`.
///
/// # Errors
/// As [`std::fs::read_dir`] (`NotFound`, a file that is not a directory),
/// with a message naming the path. An error reading one entry is returned by
/// [`ReadDir::next_entry`] in its place, also naming the directory.
///
/// ```
/// kettle::run(async {
///     let mut entries = kettle::fs::read_dir(".").await.unwrap();
///     let mut names = Vec::new();
///     while let Some(entry) = entries.next_entry().await.unwrap() {
///         names.push(entry.file_name());
///     }
///     assert!(names.iter().any(|name| name == "Cargo.toml"));
/// });
/// ```
#[doc(alias = "scandir")]
#[doc(alias = "listdir")]
pub async fn read_dir(path: impl AsRef<Path>) -> io::Result<ReadDir> {
    let path: Arc<Path> = path.as_ref().into();
    let dir = path.clone();
    let (batch, rest) = trip::run("kettle::fs::read_dir", move || {
        let std = std::fs::read_dir(&dir).map_err(|e| path_error::at("read_dir", &dir, e))?;
        Ok(fetch(std, &dir))
    })
    .await?;
    Ok(ReadDir { path, batch, state: State::Idle(rest) })
}

/// Takes up to [`BATCH`] entries from `std`; gives the iterator back unless
/// it ended.
fn fetch(mut std: std::fs::ReadDir, dir: &Path) -> Batch {
    let mut batch = VecDeque::with_capacity(BATCH);
    while batch.len() < BATCH {
        match std.next() {
            Some(entry) => batch.push_back(
                entry
                    .map(|std| {
                        let file_type = std.file_type().ok();
                        DirEntry { std: Arc::new(std), file_type }
                    })
                    .map_err(|e| path_error::at("read_dir", dir, e)),
            ),
            None => return (batch, None),
        }
    }
    (batch, Some(std))
}

/// A directory being read: from [`read_dir`], entries one at a time with
/// [`next_entry`](ReadDir::next_entry) (or as a `Stream`, with the
/// `futures-core` feature).
pub struct ReadDir {
    path: Arc<Path>,
    /// Entries fetched and not yet handed out.
    batch: VecDeque<io::Result<DirEntry>>,
    state: State,
}

enum State {
    /// On the loop: the iterator, or `None` once it is exhausted.
    Idle(Option<std::fs::ReadDir>),
    /// On the pool, fetching the next batch.
    Busy(Pin<Box<dyn Future<Output = io::Result<Batch>> + Send>>),
}

impl ReadDir {
    /// The next entry, `Ok(None)` after the last one (and on every call
    /// after that).
    ///
    /// Cancelling it loses nothing: a batch being fetched is kept, and the
    /// next call starts from it.
    ///
    /// # Errors
    /// An error reading an entry (rare: the directory removed while being
    /// read, an I/O error), naming the directory. The entries after it can
    /// still be asked for.
    ///
    /// ```
    /// kettle::run(async {
    ///     let mut entries = kettle::fs::read_dir(std::env::temp_dir()).await.unwrap();
    ///     if let Some(entry) = entries.next_entry().await.unwrap() {
    ///         println!("{}", entry.path().display());
    ///     }
    /// });
    /// ```
    pub async fn next_entry(&mut self) -> io::Result<Option<DirEntry>> {
        poll_fn(|cx| self.poll_next_entry(cx)).await
    }

    /// The poll-level form of [`next_entry`](ReadDir::next_entry), for
    /// adapters: `Pending` while a batch is being fetched (the waker of the
    /// latest poll is woken when it arrives).
    ///
    /// # Errors
    /// As [`next_entry`](ReadDir::next_entry).
    pub fn poll_next_entry(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<DirEntry>>> {
        loop {
            if let Some(entry) = self.batch.pop_front() {
                return Poll::Ready(entry.map(Some));
            }
            match &mut self.state {
                State::Idle(None) => return Poll::Ready(Ok(None)),
                State::Idle(rest) => {
                    let (std, dir) = (rest.take().expect("matched Some above"), self.path.clone());
                    self.state =
                        State::Busy(Box::pin(trip::run("kettle::fs::ReadDir::next_entry", move || {
                            Ok(fetch(std, &dir))
                        })));
                }
                State::Busy(trip) => {
                    let fetched = ready!(trip.as_mut().poll(cx));
                    match fetched {
                        Ok((batch, rest)) => {
                            self.batch = batch;
                            self.state = State::Idle(rest);
                        }
                        Err(e) => {
                            // The trip never ran (the pool shut down): the
                            // iterator is gone with it.
                            self.state = State::Idle(None);
                            return Poll::Ready(Err(e));
                        }
                    }
                }
            }
        }
    }
}

impl ReadDir {
    /// Every entry handed out: `next_entry` gives `Ok(None)` from now on.
    #[cfg_attr(not(feature = "futures-core"), allow(dead_code))]
    pub(crate) fn is_exhausted(&self) -> bool {
        self.batch.is_empty() && matches!(self.state, State::Idle(None))
    }
}

impl fmt::Debug for ReadDir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadDir").field("path", &self.path).field("fetched", &self.batch.len()).finish()
    }
}

/// One entry of a directory, from [`ReadDir::next_entry`].
///
/// Its name and path are known without a trip; its metadata needs one, its
/// file type usually not (it came with the batch).
pub struct DirEntry {
    std: Arc<std::fs::DirEntry>,
    /// Asked for on the pool when the entry was fetched; `None` if that
    /// failed, and [`DirEntry::file_type`] then asks again.
    file_type: Option<FileType>,
}

impl DirEntry {
    /// The directory's path joined with the entry's name
    /// ([`std::fs::DirEntry::path`]).
    ///
    /// ```
    /// kettle::run(async {
    ///     let mut entries = kettle::fs::read_dir("src").await.unwrap();
    ///     let entry = entries.next_entry().await.unwrap().unwrap();
    ///     assert!(entry.path().starts_with("src"));
    /// });
    /// ```
    pub fn path(&self) -> PathBuf {
        self.std.path()
    }

    /// The entry's bare name ([`std::fs::DirEntry::file_name`]).
    ///
    /// ```
    /// kettle::run(async {
    ///     let mut entries = kettle::fs::read_dir("src").await.unwrap();
    ///     let entry = entries.next_entry().await.unwrap().unwrap();
    ///     assert_eq!(Some(entry.file_name().as_os_str()), entry.path().file_name());
    /// });
    /// ```
    pub fn file_name(&self) -> OsString {
        self.std.file_name()
    }

    /// The entry's metadata, not following a symbolic link
    /// ([`std::fs::DirEntry::metadata`], one trip).
    ///
    /// # Errors
    /// As std's (the entry removed meanwhile), naming the entry's path.
    ///
    /// ```
    /// kettle::run(async {
    ///     let mut entries = kettle::fs::read_dir(".").await.unwrap();
    ///     while let Some(entry) = entries.next_entry().await.unwrap() {
    ///         if entry.file_name() == "Cargo.toml" {
    ///             assert!(entry.metadata().await.unwrap().len() > 0);
    ///         }
    ///     }
    /// });
    /// ```
    pub async fn metadata(&self) -> io::Result<Metadata> {
        let std = self.std.clone();
        trip::run("kettle::fs::DirEntry::metadata", move || {
            std.metadata().map_err(|e| path_error::at("metadata", &std.path(), e))
        })
        .await
    }

    /// The entry's file type, not following a symbolic link
    /// ([`std::fs::DirEntry::file_type`]). Usually known from the batch the
    /// entry came in, with no trip.
    ///
    /// # Errors
    /// As std's, naming the entry's path.
    ///
    /// ```
    /// kettle::run(async {
    ///     let mut entries = kettle::fs::read_dir(".").await.unwrap();
    ///     while let Some(entry) = entries.next_entry().await.unwrap() {
    ///         if entry.file_name() == "src" {
    ///             assert!(entry.file_type().await.unwrap().is_dir());
    ///         }
    ///     }
    /// });
    /// ```
    pub async fn file_type(&self) -> io::Result<FileType> {
        if let Some(file_type) = self.file_type {
            return Ok(file_type);
        }
        let std = self.std.clone();
        trip::run("kettle::fs::DirEntry::file_type", move || {
            std.file_type().map_err(|e| path_error::at("file_type", &std.path(), e))
        })
        .await
    }
}

impl fmt::Debug for DirEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DirEntry").field(&self.path()).finish()
    }
}
