//! Seeded scheduling: the order a turn runs its ready tasks in, shuffled.
//!
//! By default a turn runs the tasks that were ready when its step 5 began
//! in the order they were woken (FIFO). That order is one legal
//! interleaving among many: a program whose tasks race on shared state
//! across an `.await` may be correct in FIFO order only by luck, and a test
//! that runs it in FIFO order will never know. With
//! [`Builder::seed`](super::Builder::seed), each turn instead runs that same
//! set of tasks in an order drawn from a small pseudo-random generator
//! seeded once, so a test can sweep seeds to explore interleavings
//! ([`kettle::test::check`](crate::test::check)), and a failing seed
//! replays the same schedule every time — as long as the program's own
//! inputs (I/O, other threads, real time) are deterministic too, which a
//! paused clock helps with.
//!
//! Only the order *within* a turn changes. A task woken during step 5 still
//! waits for the next turn (the fairness rule), callbacks keep their FIFO
//! order (asyncio guarantees it, and `call_soon` users rely on it), and
//! timers still fire in deadline order.
//!
//! The generator is SplitMix64 (Steele, Lea and Flood, 2014): a 64-bit
//! counter stepped by an odd constant and scrambled, good enough for test
//! schedules, no dependency, and every seed — zero included — is a fine
//! one. The shuffle is Fisher–Yates, with Lemire's multiply-shift to map a
//! draw onto `0..=i` (a bias under 2⁻⁵⁰ for any run queue that fits in
//! memory, irrelevant here).

use std::cell::Cell;

/// A seeded source of task orders (see the module docs).
pub(crate) struct Shuffle {
    state: Cell<u64>,
}

impl Shuffle {
    pub(crate) fn new(seed: u64) -> Shuffle {
        Shuffle { state: Cell::new(seed) }
    }

    /// The next draw of SplitMix64.
    fn next(&self) -> u64 {
        let state = self.state.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        self.state.set(state);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A draw in `0..bound` (`bound > 0`).
    fn below(&self, bound: usize) -> usize {
        ((u128::from(self.next()) * bound as u128) >> 64) as usize
    }

    /// Puts `items` in a uniformly drawn order (Fisher–Yates).
    pub(crate) fn shuffle<T>(&self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_draws_the_same_orders() {
        let (a, b) = (Shuffle::new(7), Shuffle::new(7));
        for _ in 0..10 {
            let (mut x, mut y): (Vec<u32>, Vec<u32>) = ((0..10).collect(), (0..10).collect());
            a.shuffle(&mut x);
            b.shuffle(&mut y);
            assert_eq!(x, y);
        }
    }

    #[test]
    fn a_shuffle_is_a_permutation_and_every_position_is_reachable() {
        let shuffle = Shuffle::new(0);
        let mut seen_first = [false; 5];
        for _ in 0..200 {
            let mut items: Vec<u32> = (0..5).collect();
            shuffle.shuffle(&mut items);
            seen_first[items[0] as usize] = true;
            items.sort();
            assert_eq!(items, [0, 1, 2, 3, 4]);
        }
        assert_eq!(seen_first, [true; 5], "every item comes first sometimes");
    }

    #[test]
    fn splitmix64_matches_its_reference_output() {
        // The first outputs of the reference implementation seeded with 0.
        let rng = Shuffle::new(0);
        assert_eq!(rng.next(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(rng.next(), 0x6E78_9E6A_A1B9_65F4);
    }
}
