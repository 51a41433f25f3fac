//! A [`File`](super::File)'s buffer: read-ahead or pending writes, never
//! both.
//!
//! The buffer is in one of two modes:
//!
//! - **read**: `bytes[pos..]` were read from the file and not yet handed
//!   out. The OS's file position is past them; the `File`'s position (where
//!   the caller is) is `unread()` bytes earlier.
//! - **write**: `bytes` were accepted by `write` and not yet written. The
//!   `File`'s position is past them; the OS's is where they will go.
//!
//! Switching from read to write (or starting any trip but a read) discards
//! the read-ahead and counts it in `rewind`; the next [`settle`](Buf::settle),
//! on the pool, seeks back that far, then writes what is pending. Every trip
//! settles first, so the operation it carries (a read, a seek, `set_len`,
//! `metadata`) sees the file exactly where and as the caller left it.

use std::io::{self, Read, Seek, SeekFrom, Write};

/// The most one read or write trip carries (a larger `read` or `write`
/// returns a short count, as `read`/`write` may).
pub(crate) const MAX_TRIP: usize = 2 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Read,
    Write,
}

/// The buffer. `bytes` is all initialised memory, kept between trips:
/// zeroing a fresh 64 KiB before every read trip cost more than the copy
/// out of it. What holds data is `bytes[pos..end]`.
#[derive(Debug)]
pub(crate) struct Buf {
    bytes: Vec<u8>,
    /// Read mode: the first byte not yet handed out. Write mode: 0.
    pos: usize,
    /// The end of the data: read-ahead, or pending writes.
    end: usize,
    mode: Mode,
    /// Read-ahead discarded since the last settle: the OS's position is this
    /// many bytes past the `File`'s.
    rewind: usize,
}

impl Buf {
    pub(crate) fn new() -> Buf {
        Buf { bytes: Vec::new(), pos: 0, end: 0, mode: Mode::Read, rewind: 0 }
    }

    /// Read-ahead not yet handed out.
    pub(crate) fn unread(&self) -> &[u8] {
        match self.mode {
            Mode::Read => &self.bytes[self.pos..self.end],
            Mode::Write => &[],
        }
    }

    /// Bytes accepted by `write` and not yet written.
    pub(crate) fn pending_writes(&self) -> usize {
        match self.mode {
            Mode::Read => 0,
            Mode::Write => self.end,
        }
    }

    /// Whether a settle would do anything (seek back, or write).
    pub(crate) fn needs_settle(&self) -> bool {
        self.rewind > 0 || self.pending_writes() > 0 || !self.unread().is_empty()
    }

    /// Hands out read-ahead into `dst`; returns how much.
    pub(crate) fn take_into(&mut self, dst: &mut [u8]) -> usize {
        let unread = self.unread();
        let n = unread.len().min(dst.len());
        dst[..n].copy_from_slice(&unread[..n]);
        self.consume(n);
        n
    }

    /// Marks the first `n` bytes of read-ahead as handed out.
    pub(crate) fn consume(&mut self, n: usize) {
        debug_assert!(n <= self.unread().len(), "only read-ahead can be handed out");
        self.pos += n;
        self.release_if_large();
    }

    /// Hands out all read-ahead, appended to `dst`; returns how much.
    pub(crate) fn take_all_into(&mut self, dst: &mut Vec<u8>) -> usize {
        let n = self.unread().len();
        dst.extend_from_slice(self.unread());
        self.consume(n);
        n
    }

    /// Accepts `src` as pending writes, discarding read-ahead first.
    pub(crate) fn push_write(&mut self, src: &[u8]) {
        self.discard_read_ahead();
        self.mode = Mode::Write;
        let end = self.end + src.len();
        if end <= self.bytes.len() {
            self.bytes[self.end..end].copy_from_slice(src);
        } else {
            self.bytes.truncate(self.end);
            self.bytes.extend_from_slice(src);
        }
        self.end = end;
    }

    /// Before a trip: read-ahead is given up (counted in `rewind`), so that
    /// the trip's operation starts at the `File`'s position.
    pub(crate) fn discard_read_ahead(&mut self) {
        if self.mode == Mode::Read {
            self.rewind += self.end - self.pos;
            self.pos = 0;
            self.end = 0;
        }
    }

    /// On the pool: brings the OS's file to the `File`'s view — seeks back
    /// over discarded read-ahead, then writes what is pending.
    ///
    /// # Errors
    /// The seek's or the write's. Pending bytes are dropped either way: a
    /// failed write is reported once, not retried forever.
    pub(crate) fn settle(&mut self, file: &mut std::fs::File) -> io::Result<()> {
        self.discard_read_ahead();
        let rewind = std::mem::take(&mut self.rewind);
        let result = (|| {
            if rewind > 0 {
                file.seek(SeekFrom::Current(-(rewind as i64)))?;
            }
            if self.mode == Mode::Write && self.end > 0 {
                file.write_all(&self.bytes[..self.end])?;
            }
            Ok(())
        })();
        self.mode = Mode::Read;
        self.pos = 0;
        self.end = 0;
        self.release_if_large();
        debug_assert!(!self.needs_settle(), "a settled buffer has nothing to seek back over or write");
        result
    }

    /// On the pool, after a settle: reads up to `max` bytes as read-ahead.
    /// Returns how many (0 at the end of the file).
    pub(crate) fn fill(&mut self, file: &mut std::fs::File, max: usize) -> io::Result<usize> {
        debug_assert!(!self.needs_settle(), "a read trip starts from a settled buffer");
        if self.bytes.len() < max {
            self.bytes.resize(max, 0); // zeroed once; reused by later trips
        }
        let result = loop {
            match file.read(&mut self.bytes[..max]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other,
            }
        };
        (self.pos, self.end) = (0, *result.as_ref().unwrap_or(&0));
        result
    }

    /// On the pool, after a settle: reads the rest of the file as
    /// read-ahead. Returns how many bytes.
    pub(crate) fn fill_to_end(&mut self, file: &mut std::fs::File) -> io::Result<usize> {
        debug_assert!(!self.needs_settle(), "a read trip starts from a settled buffer");
        self.bytes.clear();
        // On error, what was read stays as read-ahead: nothing is lost.
        let result = file.read_to_end(&mut self.bytes);
        (self.pos, self.end) = (0, self.bytes.len());
        result
    }

    /// Once a large buffer (a `read_to_end`, a big write) is used up, gives
    /// its memory back rather than keeping it as long as the file.
    fn release_if_large(&mut self) {
        if self.unread().is_empty() && self.pending_writes() == 0 && self.bytes.capacity() > MAX_TRIP {
            self.bytes = Vec::new();
            self.pos = 0;
            self.end = 0;
        }
    }
}
