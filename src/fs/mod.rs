//! Files and directories without blocking the loop (asyncio's `aiofiles`,
//! tokio's `tokio::fs`): the functions of `std::fs` under the same names,
//! each `async`, and a buffered [`File`].
//!
//! # How it works: trips to the blocking pool
//!
//! Linux has no readiness for regular files — a file is always "ready",
//! and a read that has to wait for the disk blocks the thread anyway — so
//! the reactor cannot help. Every operation here is a *trip*: the blocking
//! `std::fs` call is sent to the runtime's blocking pool (the threads behind
//! [`spawn_blocking`](crate::spawn_blocking)), and the calling task waits for
//! the answer, as for any other future; the loop keeps turning meanwhile.
//! A trip costs a thread hand-off both ways (some microseconds), which is why
//! [`File`] buffers: consecutive small writes fill a buffer that goes to the
//! pool in one trip, and a small read fetches a whole buffer at once.
//!
//! | module file         | what                                                        |
//! |---------------------|-------------------------------------------------------------|
//! | `mod.rs`            | the free functions: one trip each                            |
//! | `trip.rs`           | a job on the pool and the wait for its answer                |
//! | `path_error.rs`     | errors that name the path                                    |
//! | `read_dir.rs`       | [`ReadDir`], [`DirEntry`]: entries fetched 32 per trip        |
//! | `file.rs`, `file/`  | [`File`]: the idle/busy state machine, its buffer, its trips  |
//! | `open_options.rs`   | [`OpenOptions`]                                              |
//!
//! # Errors name the path
//!
//! `File::open("missing.txt")` fails with an error of kind `NotFound` whose
//! message is "open \`missing.txt\`: No such file or directory (os error
//! 2)": std's error, same kind, with the operation and the path in front
//! (std's own says neither). std's error is the message's `source()`.
//!
//! # Cancelling
//!
//! A trip cannot be called back: the thread is inside a system call. So a
//! free function's future dropped mid-way stops *waiting*, not the work: a
//! dropped `fs::write` still writes the whole file, a dropped `fs::rename`
//! still renames, and the result is dropped on the pool — unless the
//! runtime is dropped before a worker took the job: the pool drops queued
//! jobs at shutdown ([`File`]'s pending writes are the exception, written
//! by the dropping thread then). [`File`]'s methods
//! keep the trip in flight in the `File` itself, so nothing is lost: each
//! method's docs say what a cancelled call leaves.
//!
//! # Outside a runtime
//!
//! Each function panics when first polled outside a kettle runtime, with the
//! runtime's usual message saying where to call it from.

mod file;
mod open_options;
mod path_error;
mod read_dir;
mod trip;

#[cfg(feature = "futures-io")]
mod futures_io;
#[cfg(feature = "tokio-io")]
mod tokio_io;

use std::fs::{Metadata, Permissions};
use std::io;
use std::path::{Path, PathBuf};

pub use file::File;
pub use open_options::OpenOptions;
pub use read_dir::{DirEntry, ReadDir, read_dir};

/// Runs `f(path)` on the pool; its error names `op` and `path`.
async fn on_path<T, F>(what: &'static str, op: &'static str, path: &Path, f: F) -> io::Result<T>
where
    F: FnOnce(&Path) -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    let path = path.to_owned();
    trip::run(what, move || f(&path).map_err(|e| path_error::at(op, &path, e))).await
}

/// Runs `f(from, to)` on the pool; its error names `op` and both paths.
async fn on_paths<T, F>(what: &'static str, op: &'static str, from: &Path, to: &Path, f: F) -> io::Result<T>
where
    F: FnOnce(&Path, &Path) -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    let (from, to) = (from.to_owned(), to.to_owned());
    trip::run(what, move || f(&from, &to).map_err(|e| path_error::between(op, &from, &to, e))).await
}

/// Reads a whole file into a vector ([`std::fs::read`], one trip).
///
/// # Errors
/// As [`std::fs::read`], with a message naming the path; `NotFound` for a
/// missing file, and an error for a directory.
///
/// ```
/// kettle::run(async {
///     let path = std::env::temp_dir().join(format!("kettle-doc-read-{}", std::process::id()));
///     kettle::fs::write(&path, b"tea").await.unwrap();
///     assert_eq!(kettle::fs::read(&path).await.unwrap(), b"tea");
///     kettle::fs::remove_file(&path).await.unwrap();
/// });
/// ```
pub async fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    on_path("kettle::fs::read", "read", path.as_ref(), |p| std::fs::read(p)).await
}

/// Reads a whole file into a string ([`std::fs::read_to_string`], one trip).
///
/// # Errors
/// As [`std::fs::read_to_string`] (`InvalidData` if it is not UTF-8), with a
/// message naming the path.
///
/// ```
/// kettle::run(async {
///     let path = std::env::temp_dir().join(format!("kettle-doc-rts-{}", std::process::id()));
///     kettle::fs::write(&path, "green\nblack\n").await.unwrap();
///     let text = kettle::fs::read_to_string(&path).await.unwrap();
///     assert_eq!(text.lines().count(), 2);
///     kettle::fs::remove_file(&path).await.unwrap();
/// });
/// ```
pub async fn read_to_string(path: impl AsRef<Path>) -> io::Result<String> {
    on_path("kettle::fs::read_to_string", "read", path.as_ref(), |p| std::fs::read_to_string(p)).await
}

/// Creates or truncates a file and writes `contents` ([`std::fs::write`],
/// one trip). `contents` is copied first: the trip owns what it writes.
///
/// Cancelled mid-way, the file is still written in full.
///
/// # Errors
/// As [`std::fs::write`], with a message naming the path.
///
/// ```
/// kettle::run(async {
///     let path = std::env::temp_dir().join(format!("kettle-doc-write-{}", std::process::id()));
///     kettle::fs::write(&path, "oolong").await.unwrap();
///     assert_eq!(std::fs::read_to_string(&path).unwrap(), "oolong");
///     kettle::fs::remove_file(&path).await.unwrap();
/// });
/// ```
pub async fn write(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> io::Result<()> {
    let contents = contents.as_ref().to_owned();
    on_path("kettle::fs::write", "write", path.as_ref(), move |p| std::fs::write(p, contents)).await
}

/// Copies a file's contents and permissions to another path, returning the
/// bytes copied ([`std::fs::copy`], one trip; the kernel copies where it
/// can).
///
/// # Errors
/// As [`std::fs::copy`], with a message naming both paths.
///
/// ```
/// kettle::run(async {
///     let dir = std::env::temp_dir();
///     let (from, to) = (dir.join(format!("kettle-doc-cp-a-{}", std::process::id())),
///                       dir.join(format!("kettle-doc-cp-b-{}", std::process::id())));
///     kettle::fs::write(&from, "sencha").await.unwrap();
///     assert_eq!(kettle::fs::copy(&from, &to).await.unwrap(), 6);
///     kettle::fs::remove_file(&from).await.unwrap();
///     kettle::fs::remove_file(&to).await.unwrap();
/// });
/// ```
pub async fn copy(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<u64> {
    on_paths("kettle::fs::copy", "copy", from.as_ref(), to.as_ref(), |a, b| std::fs::copy(a, b)).await
}

/// Renames a file or directory, replacing `to` if it is a file
/// ([`std::fs::rename`]).
///
/// # Errors
/// As [`std::fs::rename`], with a message naming both paths.
///
/// ```
/// kettle::run(async {
///     let dir = std::env::temp_dir();
///     let (from, to) = (dir.join(format!("kettle-doc-mv-a-{}", std::process::id())),
///                       dir.join(format!("kettle-doc-mv-b-{}", std::process::id())));
///     kettle::fs::write(&from, "").await.unwrap();
///     kettle::fs::rename(&from, &to).await.unwrap();
///     assert!(!kettle::fs::try_exists(&from).await.unwrap());
///     kettle::fs::remove_file(&to).await.unwrap();
/// });
/// ```
pub async fn rename(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
    on_paths("kettle::fs::rename", "rename", from.as_ref(), to.as_ref(), |a, b| std::fs::rename(a, b)).await
}

/// Removes a file ([`std::fs::remove_file`]).
///
/// # Errors
/// As [`std::fs::remove_file`] (for a directory too), naming the path.
///
/// ```
/// kettle::run(async {
///     let path = std::env::temp_dir().join(format!("kettle-doc-rm-{}", std::process::id()));
///     kettle::fs::write(&path, "").await.unwrap();
///     kettle::fs::remove_file(&path).await.unwrap();
///     assert!(kettle::fs::remove_file(&path).await.is_err(), "already gone");
/// });
/// ```
pub async fn remove_file(path: impl AsRef<Path>) -> io::Result<()> {
    on_path("kettle::fs::remove_file", "remove_file", path.as_ref(), |p| std::fs::remove_file(p)).await
}

/// Removes an empty directory ([`std::fs::remove_dir`]).
///
/// # Errors
/// As [`std::fs::remove_dir`] (a directory that is not empty, a file),
/// naming the path.
///
/// ```
/// kettle::run(async {
///     let dir = std::env::temp_dir().join(format!("kettle-doc-rmdir-{}", std::process::id()));
///     kettle::fs::create_dir(&dir).await.unwrap();
///     kettle::fs::remove_dir(&dir).await.unwrap();
/// });
/// ```
pub async fn remove_dir(path: impl AsRef<Path>) -> io::Result<()> {
    on_path("kettle::fs::remove_dir", "remove_dir", path.as_ref(), |p| std::fs::remove_dir(p)).await
}

/// Removes a directory and everything in it ([`std::fs::remove_dir_all`],
/// one trip however big the tree).
///
/// # Errors
/// As [`std::fs::remove_dir_all`], naming the path.
///
/// ```
/// kettle::run(async {
///     let dir = std::env::temp_dir().join(format!("kettle-doc-rmall-{}", std::process::id()));
///     kettle::fs::create_dir_all(dir.join("a/b")).await.unwrap();
///     kettle::fs::remove_dir_all(&dir).await.unwrap();
/// });
/// ```
pub async fn remove_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    on_path("kettle::fs::remove_dir_all", "remove_dir_all", path.as_ref(), |p| std::fs::remove_dir_all(p))
        .await
}

/// Creates a directory ([`std::fs::create_dir`]); its parent must exist.
///
/// # Errors
/// As [`std::fs::create_dir`] (`AlreadyExists`, a missing parent), naming
/// the path.
///
/// ```
/// kettle::run(async {
///     let dir = std::env::temp_dir().join(format!("kettle-doc-mkdir-{}", std::process::id()));
///     kettle::fs::create_dir(&dir).await.unwrap();
///     assert!(kettle::fs::metadata(&dir).await.unwrap().is_dir());
///     kettle::fs::remove_dir(&dir).await.unwrap();
/// });
/// ```
pub async fn create_dir(path: impl AsRef<Path>) -> io::Result<()> {
    on_path("kettle::fs::create_dir", "create_dir", path.as_ref(), |p| std::fs::create_dir(p)).await
}

/// Creates a directory and any missing parents ([`std::fs::create_dir_all`]).
///
/// # Errors
/// As [`std::fs::create_dir_all`], naming the path.
///
/// ```
/// kettle::run(async {
///     let dir = std::env::temp_dir().join(format!("kettle-doc-mkdirs-{}", std::process::id()));
///     kettle::fs::create_dir_all(dir.join("x/y/z")).await.unwrap();
///     kettle::fs::remove_dir_all(&dir).await.unwrap();
/// });
/// ```
pub async fn create_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    on_path("kettle::fs::create_dir_all", "create_dir_all", path.as_ref(), |p| std::fs::create_dir_all(p))
        .await
}

/// A path's metadata, following symbolic links ([`std::fs::metadata`]).
///
/// # Errors
/// As [`std::fs::metadata`], naming the path.
///
/// ```
/// kettle::run(async {
///     let meta = kettle::fs::metadata(std::env::temp_dir()).await.unwrap();
///     assert!(meta.is_dir());
/// });
/// ```
pub async fn metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    on_path("kettle::fs::metadata", "metadata", path.as_ref(), |p| std::fs::metadata(p)).await
}

/// A path's metadata, not following a final symbolic link
/// ([`std::fs::symlink_metadata`]).
///
/// # Errors
/// As [`std::fs::symlink_metadata`], naming the path.
///
/// ```
/// kettle::run(async {
///     let meta = kettle::fs::symlink_metadata(std::env::temp_dir()).await.unwrap();
///     assert!(!meta.file_type().is_file());
/// });
/// ```
pub async fn symlink_metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    on_path("kettle::fs::symlink_metadata", "symlink_metadata", path.as_ref(), |p| {
        std::fs::symlink_metadata(p)
    })
    .await
}

/// The absolute path with every link and `..` resolved
/// ([`std::fs::canonicalize`]).
///
/// # Errors
/// As [`std::fs::canonicalize`] (`NotFound` for a path that does not
/// exist), naming the path.
///
/// ```
/// kettle::run(async {
///     let here = kettle::fs::canonicalize(".").await.unwrap();
///     assert!(here.is_absolute());
/// });
/// ```
pub async fn canonicalize(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    on_path("kettle::fs::canonicalize", "canonicalize", path.as_ref(), |p| std::fs::canonicalize(p)).await
}

/// Whether a path exists: `Ok(false)` when it does not, an error when that
/// cannot be told (a permission refused on the way) ([`std::fs::exists`]).
/// A broken symbolic link does not exist.
///
/// # Errors
/// As [`std::fs::exists`], naming the path.
///
/// ```
/// kettle::run(async {
///     assert!(kettle::fs::try_exists("/").await.unwrap());
///     assert!(!kettle::fs::try_exists("/no/such/kettle/path").await.unwrap());
/// });
/// ```
pub async fn try_exists(path: impl AsRef<Path>) -> io::Result<bool> {
    on_path("kettle::fs::try_exists", "try_exists", path.as_ref(), |p| std::fs::exists(p)).await
}

/// The target of a symbolic link ([`std::fs::read_link`]).
///
/// # Errors
/// As [`std::fs::read_link`] (`InvalidInput` if it is not a link), naming
/// the path.
///
/// ```
/// kettle::run(async {
///     let dir = std::env::temp_dir();
///     let link = dir.join(format!("kettle-doc-link-{}", std::process::id()));
///     std::os::unix::fs::symlink("target.txt", &link).unwrap();
///     assert_eq!(kettle::fs::read_link(&link).await.unwrap(), std::path::Path::new("target.txt"));
///     kettle::fs::remove_file(&link).await.unwrap();
/// });
/// ```
pub async fn read_link(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    on_path("kettle::fs::read_link", "read_link", path.as_ref(), |p| std::fs::read_link(p)).await
}

/// Makes `link` a new name for the file `original` ([`std::fs::hard_link`]).
///
/// # Errors
/// As [`std::fs::hard_link`], naming both paths.
///
/// ```
/// kettle::run(async {
///     let dir = std::env::temp_dir();
///     let (a, b) = (dir.join(format!("kettle-doc-ln-a-{}", std::process::id())),
///                   dir.join(format!("kettle-doc-ln-b-{}", std::process::id())));
///     kettle::fs::write(&a, "matcha").await.unwrap();
///     kettle::fs::hard_link(&a, &b).await.unwrap();
///     assert_eq!(kettle::fs::read(&b).await.unwrap(), b"matcha");
///     kettle::fs::remove_file(&a).await.unwrap();
///     kettle::fs::remove_file(&b).await.unwrap();
/// });
/// ```
pub async fn hard_link(original: impl AsRef<Path>, link: impl AsRef<Path>) -> io::Result<()> {
    on_paths("kettle::fs::hard_link", "hard_link", original.as_ref(), link.as_ref(), |a, b| {
        std::fs::hard_link(a, b)
    })
    .await
}

/// Sets a path's permissions ([`std::fs::set_permissions`]).
///
/// # Errors
/// As [`std::fs::set_permissions`], naming the path.
///
/// ```
/// use std::os::unix::fs::PermissionsExt;
///
/// kettle::run(async {
///     let path = std::env::temp_dir().join(format!("kettle-doc-chmod-{}", std::process::id()));
///     kettle::fs::write(&path, "").await.unwrap();
///     kettle::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).await.unwrap();
///     let mode = kettle::fs::metadata(&path).await.unwrap().permissions().mode();
///     assert_eq!(mode & 0o777, 0o600);
///     kettle::fs::remove_file(&path).await.unwrap();
/// });
/// ```
pub async fn set_permissions(path: impl AsRef<Path>, permissions: Permissions) -> io::Result<()> {
    on_path("kettle::fs::set_permissions", "set_permissions", path.as_ref(), move |p| {
        std::fs::set_permissions(p, permissions)
    })
    .await
}
