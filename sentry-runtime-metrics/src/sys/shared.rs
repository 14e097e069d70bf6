//! One reading of a source, shared by the collectors of a round: the memory and process
//! collectors both need `getrusage`, the memory and container collectors the memory limit, the
//! process and container collectors the CPU quota. The first to ask in a round reads; the others
//! take that reading. A reading is never handed twice to the same collector (asking again means
//! a new round: it is read again), nor to any collector once it is older than [`MAX_AGE`], so
//! it is never stale across rounds, whatever runs when.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::sync::lock;

/// How old a reading may be when another collector takes it: the collectors of one round run
/// within microseconds of each other; rounds are at least a millisecond apart.
const MAX_AGE: Duration = Duration::from_millis(1);

/// A collector that takes shared readings (one bit of 64; two collectors sharing a bit only
/// share less).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Consumer(u8);

impl Consumer {
    /// The `n`-th consumer of a source.
    pub(crate) fn nth(n: usize) -> Self {
        Consumer((n % 64) as u8)
    }

    fn bit(self) -> u64 {
        1 << self.0
    }
}

/// The last reading of one source.
#[derive(Debug)]
pub(crate) struct Shared<T> {
    last: Mutex<Option<Reading<T>>>,
}

#[derive(Debug)]
struct Reading<T> {
    value: T,
    at: Instant,
    /// Consumers that have had it.
    taken: u64,
}

impl<T> Default for Shared<T> {
    fn default() -> Self {
        Shared {
            last: Mutex::new(None),
        }
    }
}

impl<T: Copy> Shared<T> {
    /// The reading of this round for `consumer`: the last one if it is fresh and new to it, else
    /// a new one from `read`.
    pub(crate) fn get(&self, consumer: Consumer, read: impl FnOnce() -> T) -> T {
        let mut last = lock(&self.last);
        if let Some(reading) = last.as_mut()
            && reading.taken & consumer.bit() == 0
            && reading.at.elapsed() <= MAX_AGE
        {
            reading.taken |= consumer.bit();
            return reading.value;
        }
        let value = read();
        *last = Some(Reading {
            value,
            at: Instant::now(),
            taken: consumer.bit(),
        });
        value
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    #[test]
    fn a_round_reads_once_and_every_collector_gets_a_fresh_reading() {
        let shared = Shared::default();
        let reads = Cell::new(0);
        let read = || {
            reads.set(reads.get() + 1);
            reads.get()
        };
        let (memory, process) = (Consumer::nth(0), Consumer::nth(1));
        // One round: the first reads, the second takes it.
        assert_eq!(
            (shared.get(memory, read), shared.get(process, read)),
            (1, 1)
        );
        // The next round: the first to ask reads again.
        assert_eq!(
            (shared.get(process, read), shared.get(memory, read)),
            (2, 2)
        );
        // A reading older than a round is not handed on.
        shared.get(memory, read);
        std::thread::sleep(MAX_AGE * 2);
        assert_eq!(shared.get(process, read), 4);
    }
}
