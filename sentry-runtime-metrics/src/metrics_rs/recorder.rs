//! The `metrics::Recorder`: the facade's calls, answered from the [registry](super::registry).

use std::sync::Arc;

use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};

use crate::metric::MetricType;
use crate::metrics_rs::registry::Registry;
use crate::metrics_rs::units::sentry_unit;

/// The recorder of the `metrics` facade that keeps what it records for a
/// [`RecordedMetrics`](super::RecordedMetrics) collector to send.
///
/// Install it globally with [`install`](super::install) (or
/// [`Builder::install`](super::Builder::install)), or get it from [`Builder::build`](super::Builder::build) to
/// compose it with other recorders.
#[derive(Clone, Debug)]
pub struct SentryRecorder {
    registry: Arc<Registry>,
}

impl SentryRecorder {
    pub(super) fn new(registry: Arc<Registry>) -> Self {
        SentryRecorder { registry }
    }

    fn describe(&self, kind: MetricType, key: &KeyName, unit: Option<Unit>, text: &str) {
        self.registry
            .describe(kind, key.as_str(), unit.and_then(sentry_unit), text);
    }
}

impl Recorder for SentryRecorder {
    fn describe_counter(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.describe(MetricType::Counter, &key, unit, &description);
    }

    fn describe_gauge(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.describe(MetricType::Gauge, &key, unit, &description);
    }

    fn describe_histogram(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.describe(MetricType::Distribution, &key, unit, &description);
    }

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        match self.registry.counter(key) {
            Some(series) => Counter::from_arc(series),
            None => Counter::from_arc(Arc::clone(&self.registry.refused)),
        }
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        match self.registry.gauge(key) {
            Some(series) => Gauge::from_arc(series),
            None => Gauge::from_arc(Arc::clone(&self.registry.refused)),
        }
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        match self.registry.histogram(key) {
            Some(series) => Histogram::from_arc(series),
            None => Histogram::from_arc(Arc::clone(&self.registry.refused)),
        }
    }
}
