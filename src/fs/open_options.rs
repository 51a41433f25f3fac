//! [`OpenOptions`]: std's builder, with an async `open`.
//!
//! The builder methods only set flags, on the loop; `open` is one trip.

use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use super::{File, on_path};

/// How to open a file: std's [`std::fs::OpenOptions`] methods, then
/// [`open`](OpenOptions::open)`.await`. From [`File::options`] or
/// [`OpenOptions::new`].
///
/// ```
/// kettle::run(async {
///     let path = std::env::temp_dir().join(format!("kettle-doc-oo-{}", std::process::id()));
///     let file = kettle::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path).await;
///     assert!(file.is_ok());
///     let again = kettle::fs::OpenOptions::new().write(true).create_new(true).open(&path).await;
///     assert_eq!(again.unwrap_err().kind(), std::io::ErrorKind::AlreadyExists);
///     kettle::fs::remove_file(&path).await.unwrap();
/// });
/// ```
#[derive(Clone, Debug)]
pub struct OpenOptions(std::fs::OpenOptions);

impl OpenOptions {
    /// Every option off (as [`std::fs::OpenOptions::new`]): set `read`,
    /// `write` or `append` before opening.
    pub fn new() -> OpenOptions {
        OpenOptions(std::fs::OpenOptions::new())
    }

    /// Open for reading.
    pub fn read(&mut self, read: bool) -> &mut OpenOptions {
        self.0.read(read);
        self
    }

    /// Open for writing.
    pub fn write(&mut self, write: bool) -> &mut OpenOptions {
        self.0.write(write);
        self
    }

    /// Every write goes to the end of the file (implies writing).
    pub fn append(&mut self, append: bool) -> &mut OpenOptions {
        self.0.append(append);
        self
    }

    /// Truncate an existing file to length 0 (needs writing).
    pub fn truncate(&mut self, truncate: bool) -> &mut OpenOptions {
        self.0.truncate(truncate);
        self
    }

    /// Create the file if it does not exist (needs `write` or `append`).
    pub fn create(&mut self, create: bool) -> &mut OpenOptions {
        self.0.create(create);
        self
    }

    /// Create the file, failing with `AlreadyExists` if it exists (needs
    /// `write` or `append`; `create` and `truncate` are then ignored).
    pub fn create_new(&mut self, create_new: bool) -> &mut OpenOptions {
        self.0.create_new(create_new);
        self
    }

    /// The permission bits a created file gets (before the umask; default
    /// `0o666`), as std's `OpenOptionsExt::mode`.
    pub fn mode(&mut self, mode: u32) -> &mut OpenOptions {
        self.0.mode(mode);
        self
    }

    /// Extra `open(2)` flags (`libc::O_NOFOLLOW`, ...), as std's
    /// `OpenOptionsExt::custom_flags`.
    pub fn custom_flags(&mut self, flags: i32) -> &mut OpenOptions {
        self.0.custom_flags(flags);
        self
    }

    /// Opens `path` with these options (one trip).
    ///
    /// # Errors
    /// As [`std::fs::OpenOptions::open`] (`NotFound`, `AlreadyExists`,
    /// `InvalidInput` for options that contradict each other), with a
    /// message naming the path.
    ///
    /// ```
    /// kettle::run(async {
    ///     let error = kettle::fs::OpenOptions::new().read(true).open("missing.txt").await.unwrap_err();
    ///     assert_eq!(error.to_string(), "open `missing.txt`: No such file or directory (os error 2)");
    /// });
    /// ```
    pub async fn open(&self, path: impl AsRef<Path>) -> io::Result<File> {
        let options = self.0.clone();
        let std =
            on_path("kettle::fs::OpenOptions::open", "open", path.as_ref(), move |p| options.open(p)).await?;
        Ok(File::from_std(std))
    }
}

impl Default for OpenOptions {
    fn default() -> OpenOptions {
        OpenOptions::new()
    }
}
