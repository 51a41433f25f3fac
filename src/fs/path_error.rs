//! Errors that name their path.
//!
//! `std::fs::File::open("missing.txt")` fails with "No such file or
//! directory (os error 2)", and a program that opened ten files cannot tell
//! which one. Every error `kettle::fs` returns from a path-taking function is
//! wrapped here: same [`io::ErrorKind`], a message that says what was tried
//! and on which path — "open \`missing.txt\`: No such file or directory (os
//! error 2)" — and std's error kept as the [`source`](std::error::Error::source),
//! where `raw_os_error()` can still be read.
//!
//! (The wrapper's own `raw_os_error()` is `None`: `io::Error` keeps an OS
//! code only in errors it builds itself. Match on `kind()`, or reach the
//! original through `get_ref()` and `source()`.)

use std::error::Error;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// What was tried, on which path(s), and std's error.
#[derive(Debug)]
struct PathError {
    op: &'static str,
    path: PathBuf,
    /// The second path of `copy`, `rename`, `hard_link`.
    to: Option<PathBuf>,
    source: io::Error,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} `{}`", self.op, self.path.display())?;
        if let Some(to) = &self.to {
            write!(f, " to `{}`", to.display())?;
        }
        write!(f, ": {}", self.source)
    }
}

impl Error for PathError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.source)
    }
}

/// `error`, of the same kind, with a message naming `op` and `path`.
pub(crate) fn at(op: &'static str, path: &Path, error: io::Error) -> io::Error {
    wrap(PathError { op, path: path.to_owned(), to: None, source: error })
}

/// `error`, of the same kind, with a message naming `op`, `from` and `to`.
pub(crate) fn between(op: &'static str, from: &Path, to: &Path, error: io::Error) -> io::Error {
    wrap(PathError { op, path: from.to_owned(), to: Some(to.to_owned()), source: error })
}

fn wrap(error: PathError) -> io::Error {
    io::Error::new(error.source.kind(), error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_names_the_operation_and_the_path_and_keeps_the_kind() {
        let std = io::Error::from_raw_os_error(libc::ENOENT);
        let error = at("open", Path::new("missing.txt"), std);
        assert_eq!(error.kind(), io::ErrorKind::NotFound);
        assert_eq!(error.to_string(), "open `missing.txt`: No such file or directory (os error 2)");
        let inner = error.get_ref().unwrap().source().unwrap();
        let inner = inner.downcast_ref::<io::Error>().unwrap();
        assert_eq!(inner.raw_os_error(), Some(libc::ENOENT), "std's error is the source");
    }

    #[test]
    fn a_two_path_error_names_both() {
        let error =
            between("rename", Path::new("a"), Path::new("b"), io::Error::from(io::ErrorKind::NotFound));
        assert!(error.to_string().starts_with("rename `a` to `b`: "), "{error}");
    }
}
