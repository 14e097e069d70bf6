//! Sending checked metrics with the SDK's public metrics API, and the integration's debug log.

use std::fmt;
use std::io::Write;

use sentry_core::Hub;
use sentry_core::metrics;
use sentry_core::protocol::Unit;

use crate::{MetricType, RuntimeMetric, Tags};

/// The `sentry.origin` of every metric this crate sends, so they can be told from manual ones.
pub(crate) const ORIGIN: &str = "auto.runtime_metrics";

/// Captures one checked metric on `hub`, with `common` attributes (the user's static attributes
/// and the origin) below the series' own.
pub(crate) fn capture(hub: &Hub, metric: RuntimeMetric, common: &Tags) {
    let RuntimeMetric {
        name,
        metric_type,
        value,
        unit,
        tags,
    } = metric;
    let value = value.as_f64();
    let attributes = common.iter().chain(tags.iter());
    macro_rules! with_attributes {
        ($metric:expr) => {{
            let mut metric = $metric;
            for (key, value) in attributes {
                metric = metric.attribute(key.clone(), value.clone());
            }
            metric
        }};
    }
    match metric_type {
        MetricType::Counter => hub.capture_metric(with_attributes!(metrics::counter(name, value))),
        MetricType::Gauge => {
            let mut gauge = metrics::gauge(name, value);
            if let Some(unit) = unit {
                gauge = gauge.unit(Unit::from(unit));
            }
            hub.capture_metric(with_attributes!(gauge));
        }
        MetricType::Distribution => {
            let mut distribution = metrics::distribution(name, value);
            if let Some(unit) = unit {
                distribution = distribution.unit(Unit::from(unit));
            }
            hub.capture_metric(with_attributes!(distribution));
        }
    }
}

/// Writes to stderr when the hub's client has `debug: true`, like the SDK's own `sentry_debug!`,
/// but for an explicit hub (the sampler thread's current hub is not the client's).
pub(crate) fn debug(hub: &Hub, message: fmt::Arguments<'_>) {
    if hub.client().is_some_and(|client| client.options().debug) {
        // The SDK's debug log is stderr. Not `eprintln!`, which panics when stderr is closed.
        let _ = writeln!(std::io::stderr(), "[sentry] [runtime-metrics] {message}");
    }
}
