//! The values a collector produces: one [`RuntimeMetric`] per series and round.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

/// Attributes of a series (Sentry calls them attributes; the field keeps its original name).
pub type Tags = BTreeMap<Cow<'static, str>, Cow<'static, str>>;

/// Sentry's three metric types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MetricType {
    /// The current level of something (queue depth, resident memory). Sent every round.
    Gauge,
    /// A count of events: the value is how many happened since the collector's previous run (an
    /// increase), because Sentry sums counter values over time.
    Counter,
    /// Individual observations (latencies, sizes) that Sentry aggregates into percentiles.
    Distribution,
}

impl MetricType {
    /// The lowercase name Sentry uses (`gauge`, `counter`, `distribution`).
    pub fn as_str(self) -> &'static str {
        match self {
            MetricType::Gauge => "gauge",
            MetricType::Counter => "counter",
            MetricType::Distribution => "distribution",
        }
    }
}

impl fmt::Display for MetricType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A metric's numeric value. Integers stay exact until they are sent (Sentry stores `f64`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum MetricValue {
    /// A whole number.
    Int(i64),
    /// A floating point number. NaN and infinities are never sent (Sentry drops them).
    Float(f64),
}

impl MetricValue {
    /// The value as Sentry receives it.
    pub fn as_f64(self) -> f64 {
        match self {
            #[allow(clippy::cast_precision_loss)] // Sentry's wire format is f64.
            MetricValue::Int(value) => value as f64,
            MetricValue::Float(value) => value,
        }
    }

    /// Whether the value can be sent: Sentry drops NaN and infinite values.
    pub fn is_finite(self) -> bool {
        match self {
            MetricValue::Int(_) => true,
            MetricValue::Float(value) => value.is_finite(),
        }
    }
}

impl fmt::Display for MetricValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MetricValue::Int(value) => fmt::Display::fmt(value, f),
            MetricValue::Float(value) => fmt::Display::fmt(value, f),
        }
    }
}

macro_rules! from_lossless {
    ($variant:ident <- $($ty:ty),*) => {$(
        impl From<$ty> for MetricValue {
            fn from(value: $ty) -> Self {
                MetricValue::$variant(value.into())
            }
        }
    )*};
}
from_lossless!(Int <- i8, i16, i32, i64, u8, u16, u32, bool);
from_lossless!(Float <- f32, f64);

/// One measurement of one series, as collected. The integration validates it and sends it with
/// `sentry_core::metrics`.
#[derive(Clone, Debug, PartialEq)]
pub struct RuntimeMetric {
    /// The metric's name, `[A-Za-z0-9_.]+` (e.g. `runtime.memory.rss`).
    pub name: Cow<'static, str>,
    /// Gauge, counter or distribution.
    pub metric_type: MetricType,
    /// The value: for counters, the increase since the collector's previous run.
    pub value: MetricValue,
    /// A unit Sentry knows (e.g. `byte`, `millisecond`), for gauges and distributions.
    pub unit: Option<Cow<'static, str>>,
    /// Attributes that distinguish series of the same name (e.g. `worker = "3"`).
    pub tags: Tags,
}
