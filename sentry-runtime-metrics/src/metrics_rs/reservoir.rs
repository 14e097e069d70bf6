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
//! the count stays exact. Slots are emptied as they are read, so a round never sends a value
//! twice, nor a slot's old value.

use std::sync::atomic::{AtomicU64, Ordering};

/// The top bit of the state word: which window is open.
const WINDOW: u64 = 1 << 63;
/// Most values one `record_many` call counts: far beyond any real use, far below the count bits'
/// overflow into [`WINDOW`].
const MAX_RECORD_MANY: u64 = 1 << 48;
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
}

impl Reservoir {
    /// A reservoir keeping at most `capacity` values per round.
    pub(super) fn new(capacity: usize, seed: u64) -> Self {
        Reservoir {
            state: AtomicU64::new(0),
            seed: AtomicU64::new(mix(seed)),
            slots: (0..capacity * 2).map(|_| AtomicU64::new(EMPTY)).collect(),
            capacity: capacity as u64,
        }
    }

    /// Records `value`: one atomic add, one store (and, past `capacity`, one hash).
    #[inline]
    pub(super) fn record(&self, value: f64) {
        let state = self.state.fetch_add(1, Ordering::Relaxed);
        let seen = state & !WINDOW;
        let slot = if seen < self.capacity {
            seen
        } else {
            // Algorithm R: the value replaces a random one of the sample with probability
            // capacity / (seen + 1).
            let pick = mix(seen ^ self.seed.load(Ordering::Relaxed)) % (seen + 1);
            if pick >= self.capacity {
                return;
            }
            pick
        };
        self.store(state & WINDOW, slot, value);
    }

    /// Records `value` `count` times: exact in the count, and in the sample like `count`
    /// records (for a run past `capacity`, each slot takes the value with the probability that
    /// one of the run's records would have replaced it), in at most `capacity` steps.
    pub(super) fn record_many(&self, value: f64, count: u64) {
        let count = count.min(MAX_RECORD_MANY);
        if count == 0 {
            return;
        }
        let state = self.state.fetch_add(count, Ordering::Relaxed);
        let window = state & WINDOW;
        let mut seen = state & !WINDOW;
        let end = seen.saturating_add(count);
        // Free slots take it as they come.
        while seen < end.min(self.capacity) {
            self.store(window, seen, value);
            seen += 1;
        }
        if seen == end {
            return;
        }
        // A sample of `seen` values, then `end - seen` more: each slot ends up holding one of
        // the new ones with probability 1 - seen / end.
        let seed = mix(end ^ self.seed.load(Ordering::Relaxed));
        for slot in 0..self.capacity {
            let draw = mix(seed ^ slot) % end;
            if draw >= seen {
                self.store(window, slot, value);
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
        self.seed
            .store(mix(self.seed.load(Ordering::Relaxed)), Ordering::Relaxed);
        let closed = self.state.swap(open ^ WINDOW, Ordering::AcqRel);
        let recorded = closed & !WINDOW;
        let offset = if open == 0 { 0 } else { self.capacity };
        let kept = recorded.min(self.capacity);
        for slot in &self.slots[offset as usize..(offset + kept) as usize] {
            let bits = slot.swap(EMPTY, Ordering::Acquire);
            if bits != EMPTY {
                into.push(f64::from_bits(bits));
            }
        }
        recorded
    }
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
