//! [`RunningTotals`]: running totals turned into the increases a round sends. Sentry sums counter
//! values, so a counter sent twice must carry only what was added in between. Every rule of that
//! is here, once: what a first sample sends, a total that goes down, a source that changed, a
//! series not seen for long. Collectors keep one as plain state, as tokio-metrics keeps the
//! previous totals of its probes; the derive keeps one for counter fields that hold running
//! totals (`#[totals]`).

mod total;

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

pub use total::Total;

use crate::metric::MetricValue;

/// Samples a series may go unseen before its last total is forgotten: bounds memory when labels
/// churn (per-connection series); a series seen again after that starts over, by its [`Began`].
pub const FORGET_AFTER_SAMPLES: u64 = 60;

/// Where a running total started counting, which decides what its first sample sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Began {
    /// From zero, where this process could see it: with the process (CPU time, page faults),
    /// the collector or the series (a count the application keeps). The first sample sends the
    /// whole total: every bit of it happened and was never sent.
    AtZero,
    /// Before this process could look (the totals of a cgroup, a host, another process). The
    /// first sample only records it and sends nothing: a lifetime is not an increase.
    Earlier,
}

/// One series of a derived collector's counter field: the field's position among the fields
/// and, for labelled series (`attribute = ".."`), the label. The key of the [`RunningTotals`] a
/// `#[totals]` field holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldSeries {
    field: u16,
    label: Option<Cow<'static, str>>,
}

/// The field and whether there is a label in one word, then the label.
impl Hash for FieldSeries {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(u64::from(self.field) << 1 | u64::from(self.label.is_some()));
        if let Some(label) = &self.label {
            label.hash(state);
        }
    }
}

impl FieldSeries {
    /// The series of field number `field`, labelled `label` if it is one of a labelled field's.
    pub fn new(field: u16, label: Option<Cow<'static, str>>) -> Self {
        FieldSeries { field, label }
    }
}

/// The last total of one series, where it came from, and the sample it was seen in.
#[derive(Clone, Copy, Debug)]
struct Last<T> {
    total: T,
    source: u64,
    seen: u64,
}

/// The last total of each series of one collector, to send what each grew by.
///
/// Keep one in the collector and take a [`sample`](Self::sample) each time it collects:
///
/// ```
/// use sentry_runtime_metrics::{Began, RunningTotals};
///
/// let mut totals: RunningTotals<&str, u64> = RunningTotals::new();
/// let mut sample = totals.sample();
/// // A count this process keeps from its start: the first sample sends all of it.
/// assert_eq!(sample.increase("jobs", 40, Began::AtZero), Some(40));
/// // The host's total, running long before: the first sample is only recorded.
/// assert_eq!(sample.increase("host.stalls", 9_000, Began::Earlier), None);
/// drop(sample);
///
/// let mut sample = totals.sample();
/// assert_eq!(sample.increase("jobs", 45, Began::AtZero), Some(5));
/// assert_eq!(sample.increase("host.stalls", 9_010, Began::Earlier), Some(10));
/// ```
///
/// The rules, for every series alike:
/// - the first sample of a series sends the whole total, or nothing, by its [`Began`];
/// - a total below the last one was reset: all of it is new, and is sent;
/// - a total read from another source than the last one ([`Sample::increase_from`], e.g. the
///   cgroup that sets a limit, which can change) is a first sample again: two unrelated totals
///   are never subtracted;
/// - a series not seen for [`FORGET_AFTER_SAMPLES`] samples is forgotten, so labels that churn
///   do not grow it for ever; seen again, it is a first sample again;
/// - a NaN or infinite total is returned as it is (the integration drops it, and counts it),
///   and the last good total is kept.
///
/// An increase of zero is returned as `Some(0)`; the integration does not send counters that
/// did not move.
#[derive(Clone, Debug)]
pub struct RunningTotals<K = FieldSeries, T = MetricValue> {
    last: HashMap<K, Last<T>>,
    samples: u64,
}

impl<K, T> Default for RunningTotals<K, T> {
    fn default() -> Self {
        RunningTotals {
            last: HashMap::default(),
            samples: 0,
        }
    }
}

impl<K: Hash + Eq, T: Total> RunningTotals<K, T> {
    /// No series seen yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts a sample: the increases of this collection. Series not seen in the last
    /// [`FORGET_AFTER_SAMPLES`] samples are forgotten when it ends.
    pub fn sample(&mut self) -> Sample<'_, K, T> {
        self.samples += 1;
        Sample {
            totals: self,
            seen: 0,
        }
    }

    /// Series remembered.
    pub fn len(&self) -> usize {
        self.last.len()
    }

    /// Whether no series is remembered.
    pub fn is_empty(&self) -> bool {
        self.last.is_empty()
    }
}

/// One collection's use of [`RunningTotals`]; forgets series unseen for long when dropped.
#[derive(Debug)]
#[must_use = "a sample records totals through `increase`"]
pub struct Sample<'a, K: Hash + Eq, T: Total> {
    totals: &'a mut RunningTotals<K, T>,
    /// Series seen in this sample (each once): when all are, none is to be forgotten.
    seen: usize,
}

impl<K: Hash + Eq, T: Total> Sample<'_, K, T> {
    /// What the series `key` grew by since its last total, recording `total` as its last.
    /// `None`: nothing to send (its first sample, for a total that [`Began::Earlier`]).
    pub fn increase(&mut self, key: K, total: T, began: Began) -> Option<T> {
        self.record(key, 0, total, began)
    }

    /// As [`increase`](Self::increase), for a total read from `source` (e.g. the cgroup it was
    /// read from): a total from another source than the last one is a first sample.
    pub fn increase_from(
        &mut self,
        key: K,
        source: impl Hash,
        total: T,
        began: Began,
    ) -> Option<T> {
        let mut hasher = DefaultHasher::new();
        source.hash(&mut hasher);
        // 0 is the source of totals without one; a hash of 0 is as good as any other.
        self.record(key, hasher.finish() | 1, total, began)
    }

    fn record(&mut self, key: K, source: u64, total: T, began: Began) -> Option<T> {
        if !total.is_finite() {
            return Some(total);
        }
        let seen = self.totals.samples;
        let first = match began {
            Began::AtZero => Some(total),
            Began::Earlier => None,
        };
        let Some(last) = self.totals.last.get_mut(&key) else {
            self.seen += 1;
            let last = Last {
                total,
                source,
                seen,
            };
            self.totals.last.insert(key, last);
            return first;
        };
        if last.seen != seen {
            self.seen += 1;
        }
        let previous = std::mem::replace(
            last,
            Last {
                total,
                source,
                seen,
            },
        );
        if previous.source != source {
            return first;
        }
        Some(total.increase_since(previous.total).unwrap_or(total))
    }
}

impl<K: Hash + Eq, T: Total> Drop for Sample<'_, K, T> {
    fn drop(&mut self) {
        let totals = &mut *self.totals;
        // Nothing to forget when every series remembered was seen (most samples).
        if self.seen < totals.last.len() {
            let now = totals.samples;
            totals
                .last
                .retain(|_, last| now - last.seen < FORGET_AFTER_SAMPLES);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_samples_resets_and_increases() {
        let mut totals = RunningTotals::<&str, u64>::new();
        let mut sample = totals.sample();
        assert_eq!(sample.increase("a", 10, Began::AtZero), Some(10));
        assert_eq!(sample.increase("b", 10, Began::Earlier), None);
        drop(sample);
        let mut sample = totals.sample();
        assert_eq!(sample.increase("a", 15, Began::AtZero), Some(5));
        assert_eq!(sample.increase("b", 10, Began::Earlier), Some(0));
        drop(sample);
        let mut sample = totals.sample();
        assert_eq!(sample.increase("a", 3, Began::AtZero), Some(3), "reset");
        assert_eq!(sample.increase("b", 2, Began::Earlier), Some(2), "reset");
    }

    #[test]
    fn another_source_is_a_first_sample_and_a_missed_reading_keeps_the_last() {
        let mut totals = RunningTotals::<&str, u64>::new();
        let mut round = |source: char, total| {
            totals
                .sample()
                .increase_from("hits", source, total, Began::Earlier)
        };
        assert_eq!(
            round('a', 37),
            None,
            "first sample of a total that began earlier"
        );
        assert_eq!(round('a', 40), Some(3));
        let _ = totals.sample(); // A round without a reading.
        let mut round = |source: char, total| {
            totals
                .sample()
                .increase_from("hits", source, total, Began::Earlier)
        };
        assert_eq!(round('a', 45), Some(5), "across a round without a reading");
        assert_eq!(
            round('b', 10),
            None,
            "another source: recorded, not subtracted"
        );
        assert_eq!(round('b', 12), Some(2));
        assert_eq!(round('a', 45), None, "back: a first sample again");
    }

    #[test]
    fn series_unseen_for_long_are_forgotten() {
        let mut totals = RunningTotals::<u32, u64>::new();
        totals.sample().increase(1, 7, Began::AtZero);
        for _ in 1..FORGET_AFTER_SAMPLES {
            let _ = totals.sample();
        }
        assert_eq!(totals.len(), 1, "kept while seen within the window");
        let _ = totals.sample();
        assert!(totals.is_empty());
        assert_eq!(
            totals.sample().increase(1, 9, Began::AtZero),
            Some(9),
            "seen again: a first sample"
        );
    }

    #[test]
    fn a_non_finite_total_is_returned_and_the_last_good_one_kept() {
        let mut totals = RunningTotals::<(), f64>::new();
        totals.sample().increase((), 1.0, Began::AtZero);
        let nan = totals.sample().increase((), f64::NAN, Began::AtZero);
        assert!(nan.is_some_and(f64::is_nan));
        assert_eq!(totals.sample().increase((), 3.5, Began::AtZero), Some(2.5));
    }

    #[test]
    fn metric_values_stay_exact_integers() {
        let mut totals = RunningTotals::<(), MetricValue>::new();
        let big = i64::MAX - 1;
        totals
            .sample()
            .increase((), MetricValue::Int(big - 5), Began::AtZero);
        assert_eq!(
            totals
                .sample()
                .increase((), MetricValue::Int(big), Began::AtZero),
            Some(MetricValue::Int(5))
        );
        assert_eq!(
            totals
                .sample()
                .increase((), MetricValue::Float(f64::MAX), Began::AtZero)
                .map(MetricValue::as_f64),
            Some(f64::MAX - big as f64)
        );
    }
}
