//! The values of one histogram series between two rounds, in bounded memory and without a lock:
//! the first `capacity` values as recorded, past that a uniform sample of `capacity` of them
//! (Vitter's algorithm R), and always the exact number recorded.
//!
//! Two windows of `capacity` slots take turns: the application records into one while a round
//! drains the other. One atomic word holds which window is open and how many values it has
//! taken, so the round's swap of that word closes a window and reads its exact count in one
//! step: every value is counted in exactly one round.
//!
//! A value counted just before the swap may be stored just after the round read its slot (a
//! few nanoseconds). The round then sees an empty slot and sends one value fewer in its sample;
//! the count stays exact. Slots are emptied as they are read, and the slots such a late store
//! can reach are emptied again before their window reopens, so a round never sends a value
//! twice, nor one of an earlier round. (Only a thread stopped between counting a value and
//! storing it for longer than a whole round could still put it in a later round's sample.)

use std::sync::atomic::{AtomicU64, Ordering};

/// The top bit of the state word: which window is open.
const WINDOW: u64 = 1 << 63;
/// Most values one window counts; `record_many` stops there (far beyond any real round: at a
/// billion values a second, 146 years), so the count never reaches [`WINDOW`].
const MAX_COUNT: u64 = 1 << 62;
/// An empty slot: a NaN no arithmetic produces. A NaN recorded by the application is stored as
/// the standard NaN, so it is still sent (and dropped and counted by the rules).
const EMPTY: u64 = 0x7ff8_5e47_0000_0001;

/// One histogram series' recorded values.
#[derive(Debug)]
pub(super) struct Reservoir {
    /// [`WINDOW`]: the open window; the other bits: values recorded into it.
    state: AtomicU64,
    /// Mixed into the choice of slots past `capacity`; changed every round.
    seed: AtomicU64,
    /// Window 0's slots, then window 1's.
    slots: Box<[AtomicU64]>,
    capacity: u64,
    /// Per window, the slots its last drain read: the only ones a late store can have filled
    /// since. Only the drain uses them.
    read: [AtomicU64; 2],
    /// Values `record_many` could not count (past [`MAX_COUNT`]).
    overflow: AtomicU64,
}

impl Reservoir {
    /// A reservoir keeping at most `capacity` values per round (the builder bounds it).
    pub(super) fn new(capacity: usize, seed: u64) -> Self {
        Reservoir {
            state: AtomicU64::new(0),
            seed: AtomicU64::new(mix(seed)),
            slots: (0..capacity.saturating_mul(2))
                .map(|_| AtomicU64::new(EMPTY))
                .collect(),
            capacity: capacity as u64,
            read: [AtomicU64::new(0), AtomicU64::new(0)],
            overflow: AtomicU64::new(0),
        }
    }

    /// Records `value`: one atomic add, one store (and, past `capacity`, one hash).
    #[inline]
    pub(super) fn record(&self, value: f64) {
        // Acquire: pairs with the drain's swap, so the drain's emptying of this window's slots
        // comes before the store below.
        let state = self.state.fetch_add(1, Ordering::Acquire);
        let seen = state & !WINDOW;
        if seen < self.capacity {
            self.store(state & WINDOW, seen, value);
        } else {
            // Algorithm R: the value replaces a random one of the sample with probability
            // capacity / (seen + 1).
            self.place(
                state & WINDOW,
                seen,
                self.seed.load(Ordering::Relaxed),
                value,
            );
        }
    }

    /// Records `value` `count` times: exact in the count, and in the sample as `count` records
    /// would be, in at most `capacity` steps (for a run longer than `capacity` past it, each
    /// slot takes the value with the probability that one of the run's records replaces it).
    pub(super) fn record_many(&self, value: f64, count: u64) {
        if count == 0 {
            return;
        }
        // Counted up to MAX_COUNT; what is past it is counted as lost, not wrapped.
        let mut counted = 0;
        let Ok(state) = self
            .state
            .fetch_update(Ordering::Acquire, Ordering::Relaxed, |state| {
                let seen = state & !WINDOW;
                counted = count.min(MAX_COUNT - seen.min(MAX_COUNT));
                Some(state + counted)
            })
        else {
            return;
        };
        if counted < count {
            saturating_add(&self.overflow, count - counted);
        }
        let window = state & WINDOW;
        let start = state & !WINDOW;
        let end = start + counted;
        let seed = self.seed.load(Ordering::Relaxed);
        if counted <= self.capacity {
            // Few enough to take algorithm R's steps one by one.
            for seen in start..end {
                self.place(window, seen, seed, value);
            }
            return;
        }
        // Free slots take it as they come.
        let mut seen = start;
        while seen < end.min(self.capacity) {
            self.store(window, seen, value);
            seen += 1;
        }
        if seen == end {
            return;
        }
        // A sample of `seen` values, then `end - seen` more: each slot ends up holding one of
        // the new ones with probability 1 - seen / end.
        let draws = mix(end ^ seed);
        for slot in 0..self.capacity {
            if mix(draws ^ slot) % end >= seen {
                self.store(window, slot, value);
            }
        }
    }

    /// Algorithm R's step for the value counted `seen`-th in `window`.
    fn place(&self, window: u64, seen: u64, seed: u64, value: f64) {
        if seen < self.capacity {
            self.store(window, seen, value);
        } else {
            let pick = mix(seen ^ seed) % (seen + 1);
            if pick < self.capacity {
                self.store(window, pick, value);
            }
        }
    }

    fn store(&self, window: u64, slot: u64, value: f64) {
        let bits = if value.is_nan() {
            f64::NAN.to_bits()
        } else {
            value.to_bits()
        };
        let offset = if window == 0 { 0 } else { self.capacity };
        if let Some(slot) = self.slots.get((offset + slot) as usize) {
            slot.store(bits, Ordering::Relaxed);
        }
    }

    /// Closes the open window and opens the other: appends the closed window's sample to
    /// `into` and returns how many values it was recorded with. Only one caller at a time (the
    /// series' collector).
    pub(super) fn drain(&self, into: &mut Vec<f64>) -> u64 {
        let open = self.state.load(Ordering::Relaxed) & WINDOW;
        let (closing, opening) = if open == 0 { (0, 1) } else { (1, 0) };
        // Late stores into the window about to open (see the module docs) are emptied first.
        for slot in self.window(opening, self.read[opening].load(Ordering::Relaxed)) {
            slot.store(EMPTY, Ordering::Relaxed);
        }
        self.seed
            .store(mix(self.seed.load(Ordering::Relaxed)), Ordering::Relaxed);
        let closed = self.state.swap(open ^ WINDOW, Ordering::AcqRel);
        let recorded = closed & !WINDOW;
        let kept = recorded.min(self.capacity);
        for slot in self.window(closing, kept) {
            let bits = slot.swap(EMPTY, Ordering::Acquire);
            if bits != EMPTY {
                into.push(f64::from_bits(bits));
            }
        }
        self.read[closing].store(kept, Ordering::Relaxed);
        recorded
    }

    /// The first `len` slots of window `index`.
    fn window(&self, index: usize, len: u64) -> &[AtomicU64] {
        let start = index as u64 * self.capacity;
        self.slots
            .get(start as usize..(start + len.min(self.capacity)) as usize)
            .unwrap_or_default()
    }

    /// Values `record_many` could not count since the last call (past [`MAX_COUNT`] in a
    /// round).
    pub(super) fn take_overflow(&self) -> u64 {
        self.overflow.swap(0, Ordering::Relaxed)
    }
}

/// Adds `n` to `counter`, stopping at `u64::MAX` rather than wrapping.
pub(super) fn saturating_add(counter: &AtomicU64, n: u64) {
    let _ = counter.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |count| {
        Some(count.saturating_add(n))
    });
}

/// SplitMix64's finalizer: a fast, well-spread hash of a counter, enough to pick sample slots.
pub(super) fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drained(reservoir: &Reservoir) -> (Vec<f64>, u64) {
        let mut values = Vec::new();
        let count = reservoir.drain(&mut values);
        (values, count)
    }

    #[test]
    fn keeps_everything_up_to_capacity_and_counts_exactly_past_it() {
        let reservoir = Reservoir::new(4, 1);
        for value in [1.0, 2.0, 3.0] {
            reservoir.record(value);
        }
        assert_eq!(drained(&reservoir), (vec![1.0, 2.0, 3.0], 3));
        assert_eq!(drained(&reservoir), (vec![], 0), "drained and emptied");
        for value in 0..1000 {
            reservoir.record(f64::from(value));
        }
        let (values, count) = drained(&reservoir);
        assert_eq!(count, 1000);
        assert_eq!(values.len(), 4);
        assert!(values.iter().all(|v| (0.0..1000.0).contains(v)));
        // Both windows are used in turn, and the other one starts empty.
        reservoir.record(7.0);
        assert_eq!(drained(&reservoir), (vec![7.0], 1));
    }

    #[test]
    fn the_sample_past_capacity_is_uniform() {
        // 100 rounds of 10 000 values 0..10 000 into a 100-slot sample: each tenth of the range
        // should hold a tenth of the sampled values.
        let reservoir = Reservoir::new(100, 7);
        let mut deciles = [0u32; 10];
        for _ in 0..100 {
            for value in 0..10_000 {
                reservoir.record(f64::from(value));
            }
            let (values, count) = drained(&reservoir);
            assert_eq!((values.len(), count), (100, 10_000));
            for value in values {
                deciles[(value / 1000.0) as usize] += 1;
            }
        }
        // 10 000 samples, 1 000 expected per decile; the standard deviation is 30.
        for (decile, n) in deciles.iter().enumerate() {
            assert!((850..1150).contains(n), "decile {decile}: {n} of 10 000");
        }
    }

    #[test]
    fn record_many_counts_exactly_and_samples_like_single_records() {
        let reservoir = Reservoir::new(10, 3);
        reservoir.record_many(1.0, 4);
        assert_eq!(drained(&reservoir), (vec![1.0; 4], 4));
        // 10 values of 0, then 990 of 1: about 99% of the sample should be 1.
        let mut ones = 0;
        for _ in 0..200 {
            reservoir.record_many(0.0, 10);
            reservoir.record_many(1.0, 990);
            let (values, count) = drained(&reservoir);
            assert_eq!((values.len(), count), (10, 1000));
            ones += values.iter().filter(|v| **v == 1.0).count();
        }
        assert!((1940..=2000).contains(&ones), "{ones} of 2000");
        reservoir.record_many(5.0, 0);
        assert_eq!(drained(&reservoir), (vec![], 0));
    }

    #[test]
    fn a_short_run_past_capacity_leaves_at_most_as_many_copies_as_it_recorded() {
        let reservoir = Reservoir::new(100, 11);
        let mut copies_seen = 0;
        for _ in 0..2000 {
            for value in 0..100 {
                reservoir.record(f64::from(value));
            }
            reservoir.record_many(999.0, 2);
            let (values, count) = drained(&reservoir);
            assert_eq!(count, 102);
            let copies = values.iter().filter(|v| **v == 999.0).count();
            assert!(copies <= 2, "{copies} copies of 2 records");
            copies_seen += copies;
        }
        // Each of the 2 has a 100/101 or 100/102 chance to enter, minus the second replacing
        // the first: about 1.94 copies per round.
        assert!((3700..=4000).contains(&copies_seen), "{copies_seen}");
    }

    #[test]
    fn a_count_past_the_window_limit_is_counted_as_lost_not_wrapped() {
        let reservoir = Reservoir::new(4, 5);
        reservoir.record_many(1.0, u64::MAX);
        reservoir.record_many(2.0, 10);
        let (values, count) = drained(&reservoir);
        assert_eq!(count, MAX_COUNT);
        assert_eq!(values.len(), 4);
        assert_eq!(reservoir.take_overflow(), u64::MAX - MAX_COUNT + 10);
        assert_eq!(reservoir.take_overflow(), 0);
        // The window bit was never touched: the next round is clean.
        reservoir.record(3.0);
        assert_eq!(drained(&reservoir), (vec![3.0], 1));
    }

    #[test]
    fn a_late_store_is_never_sent_in_a_later_round() {
        let reservoir = Reservoir::new(8, 13);
        for value in 0..6 {
            reservoir.record(f64::from(value));
        }
        assert_eq!(drained(&reservoir).1, 6);
        // A writer that counted its value before that drain stores it only now, into slot 5
        // of the closed window 0.
        reservoir.store(0, 5, -1.0);
        // Window 1's round, then window 0 reopens: 8 values are counted, and the one counted
        // 5th is late too, stored only after this round's drain.
        assert_eq!(drained(&reservoir), (vec![], 0));
        reservoir.state.fetch_add(8, Ordering::Relaxed);
        for slot in (0..8).filter(|slot| *slot != 5) {
            reservoir.store(0, slot, f64::from(100 + slot as u32));
        }
        let (values, count) = drained(&reservoir);
        assert_eq!(count, 8);
        assert!(
            !values.contains(&-1.0),
            "an earlier round's value: {values:?}"
        );
        assert_eq!(values.len(), 7);
    }

    #[test]
    fn a_zero_capacity_only_counts_and_nan_is_kept_as_nan() {
        let reservoir = Reservoir::new(0, 0);
        reservoir.record(1.0);
        reservoir.record_many(2.0, 5);
        assert_eq!(drained(&reservoir), (vec![], 6));
        let reservoir = Reservoir::new(2, 0);
        reservoir.record(f64::NAN);
        let (values, count) = drained(&reservoir);
        assert_eq!(count, 1);
        assert!(values[0].is_nan());
    }

    #[test]
    fn concurrent_records_are_all_counted_once() {
        let reservoir = std::sync::Arc::new(Reservoir::new(50, 9));
        let mut total = 0;
        std::thread::scope(|scope| {
            for thread in 0..4 {
                let reservoir = &reservoir;
                scope.spawn(move || {
                    for value in 0..100_000 {
                        reservoir.record(f64::from(thread * 100_000 + value));
                    }
                });
            }
            for _ in 0..50 {
                let (values, count) = drained(&reservoir);
                assert!(values.len() as u64 <= count.min(50));
                assert!(values.iter().all(|v| (0.0..400_000.0).contains(v)));
                total += count;
            }
        });
        total += drained(&reservoir).1;
        assert_eq!(total, 400_000);
    }
}
