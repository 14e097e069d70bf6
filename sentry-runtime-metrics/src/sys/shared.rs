//! One reading of a source, shared by the collectors of a round: the memory and process
//! collectors both need `getrusage`, the memory and container collectors the memory limit, the
//! process and container collectors the CPU quota. The first to ask in a round reads; the others
//! take that reading.
//!
//! A round is counted, not timed: each collector starts its sample with [`Rounds::start`], and
//! one that starts again has begun a new round (its previous sample was the last round's). A
//! reading is handed only to collectors of the round it was read in, so it is never stale
//! across rounds, whatever runs when and however slowly (a round under `strace` takes
//! milliseconds), and nor to one that asks more than [`MAX_AGE`] after it was read (collectors
//! sampled by hand, far apart, each read for themselves).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::sync::lock;

/// How old a reading may be when another collector of its round takes it: the collectors of a
/// round run within microseconds of each other (milliseconds when traced).
const MAX_AGE: Duration = Duration::from_millis(100);

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

/// The round a collector's sample belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Round(u64);

/// The round under way, and which consumers started their sample in it.
#[derive(Debug, Default)]
pub(crate) struct Rounds {
    state: Mutex<(u64, u64)>,
}

impl Rounds {
    /// `consumer` starts a sample: it joins the round under way, or begins a new one if it has
    /// already sampled in this one.
    pub(crate) fn start(&self, consumer: Consumer) -> Round {
        let mut state = lock(&self.state);
        let (round, started) = &mut *state;
        if *started & consumer.bit() != 0 {
            *round += 1;
            *started = 0;
        }
        *started |= consumer.bit();
        Round(*round)
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
    round: Round,
}

impl<T> Default for Shared<T> {
    fn default() -> Self {
        Shared {
            last: Mutex::new(None),
        }
    }
}

impl<T: Copy> Shared<T> {
    /// The reading of `round`: the last one if it was read in that round and is fresh, else a
    /// new one from `read`.
    pub(crate) fn get(&self, round: Round, read: impl FnOnce() -> T) -> T {
        let mut last = lock(&self.last);
        if let Some(reading) = last.as_ref()
            && reading.round == round
            && reading.at.elapsed() <= MAX_AGE
        {
            return reading.value;
        }
        let value = read();
        *last = Some(Reading {
            value,
            at: Instant::now(),
            round,
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
        let (rounds, shared) = (Rounds::default(), Shared::default());
        let reads = Cell::new(0);
        let read = || {
            reads.set(reads.get() + 1);
            reads.get()
        };
        let (memory, process) = (Consumer::nth(0), Consumer::nth(1));
        // One round: the first reads, the second takes it.
        let (m, p) = (rounds.start(memory), rounds.start(process));
        assert_eq!((shared.get(m, read), shared.get(p, read)), (1, 1));
        // The next round, in the other order: the first to ask reads again.
        let (p, m) = (rounds.start(process), rounds.start(memory));
        assert_eq!((shared.get(p, read), shared.get(m, read)), (2, 2));
        // A collector that samples twice while the other does not: a new round each time.
        assert_eq!(shared.get(rounds.start(memory), read), 3);
        assert_eq!(shared.get(rounds.start(memory), read), 4);
        // The other then joins the round under way, whose reading is fresh.
        assert_eq!(shared.get(rounds.start(process), read), 4);
        // A reading older than MAX_AGE is not handed on, even within its round.
        let m = rounds.start(memory);
        shared.get(m, read);
        std::thread::sleep(MAX_AGE + Duration::from_millis(10));
        assert_eq!(shared.get(rounds.start(process), read), 6);
    }
}
