//! The seeded generator every random choice comes from. A seed replays its workload only if the
//! sequence of draws never depends on what the runtime did: so every helper here draws the same
//! numbers whatever it is asked about, and a choice among things that exist only at run time (a
//! live task, a pending timer) is drawn first, as a number, and applied later with [`index`].

use std::time::Duration;

/// splitmix64: small, fast, and good enough to pick operations.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }

    pub fn percent(&mut self, p: u64) -> bool {
        self.below(100) < p
    }

    /// An index into something of length `len`, if it is not empty. Always draws once, so
    /// that the sequence of draws does not depend on the runtime's state.
    pub fn pick(&mut self, len: usize) -> Option<usize> {
        let r = self.below(len.max(1) as u64) as usize;
        (len > 0).then_some(r)
    }

    /// A short real-time wait: 0 to 3 ms, a quarter of them exactly zero.
    pub fn short(&mut self) -> Duration {
        match self.below(4_000) {
            0..1_000 => Duration::ZERO,
            r => Duration::from_micros(r - 1_000),
        }
    }

    /// `None` (wait as long as it takes) half the time, else a short limit.
    pub fn maybe_limit(&mut self) -> Option<Duration> {
        let unlimited = self.percent(50);
        let limit = self.short();
        (!unlimited).then_some(limit)
    }

    pub fn weighted<T: Copy>(&mut self, table: &[(T, u32)]) -> T {
        let total: u64 = table.iter().map(|&(_, w)| u64::from(w)).sum();
        let mut r = self.below(total);
        for &(choice, weight) in table {
            if r < u64::from(weight) {
                return choice;
            }
            r -= u64::from(weight);
        }
        unreachable!("r < total")
    }
}

/// Applies `pick` (a full `next()` drawn earlier, perhaps on another thread) to a list of `len`
/// (`len > 0`) known only now.
pub fn index(pick: u64, len: usize) -> usize {
    (pick % len as u64) as usize
}
