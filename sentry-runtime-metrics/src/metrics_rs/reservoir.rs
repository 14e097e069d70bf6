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

    /// Whether no value was recorded since the last drain.
    pub(super) fn is_empty(&self) -> bool {
        self.state.load(Ordering::Acquire) & !WINDOW == 0
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
mod tests;
