//! How big a `File`'s trips are: fixed sizes that grow while the file is
//! used sequentially.
//!
//! The simple version is a fixed 16 KiB: a read trip fetches at least 16
//! KiB, and 16 KiB of pending writes start a write trip. That is right for
//! a program that reads a header and seeks, but a program streaming a big
//! file then pays one trip — two thread hand-offs, some microseconds each —
//! per 16 KiB (or per chunk of its own loop). So each read trip that follows
//! a read trip, with nothing in between (a sequential reader that used up
//! the read-ahead), fetches twice as much as the last, up to 1 MiB; and
//! each write trip that follows a write trip lets twice as many bytes
//! gather before the next, up to 1 MiB. Any other trip (a seek, a flush, a
//! write between reads) starts again from 16 KiB. A 64 MiB copy in 64 KiB
//! chunks then costs about 70 read trips and 70 write trips instead of
//! 1,024 of each, for 1 MiB of buffer per file.

use super::trip::Op;

/// The smallest read trip and the first write threshold.
pub(crate) const START: usize = 16 * 1024;

/// The largest a streak makes them.
pub(crate) const MAX_STREAK: usize = 1024 * 1024;

/// What kind of trip went last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Read,
    WriteBehind,
    Other,
}

#[derive(Debug)]
pub(crate) struct Streak {
    previous: Kind,
    read_ahead: usize,
    write_at: usize,
}

impl Streak {
    pub(crate) fn new() -> Streak {
        Streak { previous: Kind::Other, read_ahead: START, write_at: START }
    }

    /// Pending writes at which `write` sends the buffer.
    pub(crate) fn write_at(&self) -> usize {
        self.write_at
    }

    /// The least a read trip started now should fetch.
    pub(crate) fn read_ahead(&self) -> usize {
        if self.previous == Kind::Read { (self.read_ahead * 2).min(MAX_STREAK) } else { START }
    }

    /// Called as each trip starts: grows or resets the sizes.
    pub(crate) fn on_start(&mut self, op: Op) {
        let kind = match op {
            Op::Read(_) => Kind::Read,
            Op::WriteBehind => Kind::WriteBehind,
            _ => Kind::Other,
        };
        self.read_ahead = self.read_ahead();
        self.write_at = match (self.previous, kind) {
            (Kind::WriteBehind, Kind::WriteBehind) => (self.write_at * 2).min(MAX_STREAK),
            (_, Kind::WriteBehind) => self.write_at, // this trip's threshold is spent; keep it once
            _ => START,
        };
        self.previous = kind;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequential_reads_double_the_read_ahead_up_to_the_cap_and_a_seek_resets_it() {
        let mut streak = Streak::new();
        let mut sizes = Vec::new();
        for _ in 0..9 {
            sizes.push(streak.read_ahead());
            streak.on_start(Op::Read(streak.read_ahead()));
        }
        assert_eq!(sizes, [16, 32, 64, 128, 256, 512, 1024, 1024, 1024].map(|k| k * 1024));
        streak.on_start(Op::Seek(std::io::SeekFrom::Start(0)));
        assert_eq!(streak.read_ahead(), START);
    }

    #[test]
    fn sequential_write_trips_double_the_threshold_and_a_flush_resets_it() {
        let mut streak = Streak::new();
        let mut sizes = Vec::new();
        for _ in 0..9 {
            sizes.push(streak.write_at());
            streak.on_start(Op::WriteBehind);
        }
        assert_eq!(sizes, [16, 16, 32, 64, 128, 256, 512, 1024, 1024].map(|k| k * 1024));
        streak.on_start(Op::Settle);
        assert_eq!(streak.write_at(), START);
    }
}
