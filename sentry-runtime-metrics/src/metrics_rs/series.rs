//! One series recorded through the facade: its name and attributes as they will be sent, and the
//! cell the application's handles write to (a `metrics::Counter` is an `Arc` of one of these).
//! Every write is one atomic operation on the cell: no lock, no allocation.

use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use metrics::{CounterFn, GaugeFn, HistogramFn, Key};

use crate::metric::Tags;
use crate::metrics_rs::reservoir::{Reservoir, saturating_add};

/// A gauge nobody has set: a NaN no arithmetic produces, so a gauge only registered is not sent
/// as a 0 it was never given.
const UNSET: u64 = 0x7ff8_5e47_0000_0002;

/// A series: what identifies it in Sentry, and its cell.
#[derive(Debug)]
pub(super) struct Series<C> {
    pub(super) name: Cow<'static, str>,
    pub(super) tags: Tags,
    pub(super) cell: C,
    /// The hash of its key, which finds its place in the registry.
    pub(super) hash: u64,
}

impl<C> Series<C> {
    /// The series of `key` (its labels become attributes; a label given twice keeps its last
    /// value, as an attribute can only have one).
    pub(super) fn new(key: &Key, cell: C) -> Self {
        Series {
            name: Cow::Owned(key.name().to_owned()),
            tags: key
                .labels()
                .map(|label| {
                    (
                        Cow::Owned(label.key().to_owned()),
                        Cow::Owned(label.value().to_owned()),
                    )
                })
                .collect(),
            cell,
            hash: key.get_hash(),
        }
    }
}

/// A counter's running total, as the application counts it.
#[derive(Debug, Default)]
pub(super) struct CounterCell {
    total: AtomicU64,
    /// Set by the first `absolute`: the total is copied from elsewhere, so the series is never
    /// forgotten (made again, it would send that total once more).
    absolute: AtomicBool,
}

impl CounterCell {
    pub(super) fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    /// Whether its total was ever set with `absolute`.
    pub(super) fn is_absolute(&self) -> bool {
        self.absolute.load(Ordering::Relaxed)
    }
}

impl CounterFn for Series<CounterCell> {
    #[inline]
    fn increment(&self, value: u64) {
        self.cell.total.fetch_add(value, Ordering::Relaxed);
    }

    /// As the facade defines it: "at least `value`", so that callers copying an outside total
    /// in any order never move it back.
    fn absolute(&self, value: u64) {
        set_once(&self.cell.absolute);
        self.cell.total.fetch_max(value, Ordering::Relaxed);
    }
}

/// Sets `flag`, writing only the first time (a write would take the cache line from the other
/// threads updating the series).
fn set_once(flag: &AtomicBool) {
    if !flag.load(Ordering::Relaxed) {
        flag.store(true, Ordering::Relaxed);
    }
}

/// A gauge's current value (its bits), or [`UNSET`].
#[derive(Debug)]
pub(super) struct GaugeCell {
    bits: AtomicU64,
    /// Set by the first `increment` or `decrement`: its level is relative to what it held, so
    /// the series is never forgotten (made again, it would start from 0).
    relative: AtomicBool,
}

impl Default for GaugeCell {
    fn default() -> Self {
        GaugeCell {
            bits: AtomicU64::new(UNSET),
            relative: AtomicBool::new(false),
        }
    }
}

impl GaugeCell {
    /// The current value, unless nobody set it yet.
    pub(super) fn value(&self) -> Option<f64> {
        let bits = self.bits();
        (bits != UNSET).then(|| f64::from_bits(bits))
    }

    /// The current value's bits ([`UNSET`] included), to tell whether it changed.
    pub(super) fn bits(&self) -> u64 {
        self.bits.load(Ordering::Relaxed)
    }

    /// Whether it was ever moved with `increment` or `decrement`.
    pub(super) fn is_relative(&self) -> bool {
        self.relative.load(Ordering::Relaxed)
    }

    fn add(&self, delta: f64) {
        set_once(&self.relative);
        // Never fails: the closure always returns `Some`.
        let _ = self
            .bits
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
                let current = if bits == UNSET {
                    0.0
                } else {
                    f64::from_bits(bits)
                };
                Some(bits_of(current + delta))
            });
    }
}

/// The bits of `value`, never [`UNSET`] (a NaN is stored as the standard NaN).
fn bits_of(value: f64) -> u64 {
    if value.is_nan() {
        f64::NAN.to_bits()
    } else {
        value.to_bits()
    }
}

impl GaugeFn for Series<GaugeCell> {
    fn increment(&self, value: f64) {
        self.cell.add(value);
    }

    fn decrement(&self, value: f64) {
        self.cell.add(-value);
    }

    #[inline]
    fn set(&self, value: f64) {
        self.cell.bits.store(bits_of(value), Ordering::Relaxed);
    }
}

impl HistogramFn for Series<Reservoir> {
    #[inline]
    fn record(&self, value: f64) {
        self.cell.record(value);
    }

    fn record_many(&self, value: f64, count: usize) {
        self.cell.record_many(value, count as u64);
    }
}

/// What a handle of a series refused by the series limit writes to: nothing is kept, each
/// update is counted, so what the limit costs is known.
#[derive(Debug, Default)]
pub(super) struct Refused(AtomicU64);

impl Refused {
    /// Updates refused since the last [`take`](Self::take), left in place.
    pub(super) fn peek(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    /// Updates refused since the last call.
    pub(super) fn take(&self) -> u64 {
        self.0.swap(0, Ordering::Relaxed)
    }

    fn count(&self, updates: u64) {
        saturating_add(&self.0, updates);
    }
}

impl CounterFn for Refused {
    fn increment(&self, _: u64) {
        self.count(1);
    }

    fn absolute(&self, _: u64) {
        self.count(1);
    }
}

impl GaugeFn for Refused {
    fn increment(&self, _: f64) {
        self.count(1);
    }

    fn decrement(&self, _: f64) {
        self.count(1);
    }

    fn set(&self, _: f64) {
        self.count(1);
    }
}

impl HistogramFn for Refused {
    fn record(&self, _: f64) {
        self.count(1);
    }

    fn record_many(&self, _: f64, count: usize) {
        self.count(count as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gauge_is_unset_until_written_and_arithmetic_starts_from_zero() {
        let gauge = Series::new(&Key::from_name("g"), GaugeCell::default());
        assert_eq!(gauge.cell.value(), None);
        gauge.increment(2.5);
        gauge.decrement(1.0);
        assert_eq!(gauge.cell.value(), Some(1.5));
        gauge.set(f64::NAN);
        assert!(gauge.cell.value().is_some_and(f64::is_nan));
        gauge.set(-3.0);
        assert_eq!(gauge.cell.value(), Some(-3.0));
    }

    #[test]
    fn a_counter_adds_and_absolute_never_moves_it_back() {
        let counter = Series::new(&Key::from_name("c"), CounterCell::default());
        counter.increment(5);
        counter.absolute(3);
        assert_eq!(counter.cell.total(), 5);
        counter.absolute(9);
        assert_eq!(counter.cell.total(), 9);
    }

    #[test]
    fn labels_become_attributes() {
        let key = Key::from_parts(
            "http.requests",
            vec![
                metrics::Label::new("route", "/a"),
                metrics::Label::new("status", "200"),
                metrics::Label::new("route", "/b"),
            ],
        );
        let series = Series::new(&key, CounterCell::default());
        assert_eq!(series.name, "http.requests");
        assert_eq!(series.tags.len(), 2);
        assert_eq!(series.tags["route"], "/b");
        assert_eq!(series.tags["status"], "200");
    }
}
