//! Makes collected metrics safe to send: what Sentry's ingestion would drop or silently rewrite
//! is fixed or dropped here, and counted, so nothing malformed leaves the process unnoticed.

use std::borrow::Cow;

use sentry_core::protocol::Unit;

use crate::{MetricType, RuntimeMetric, Tags};

/// Longest metric name sent; longer names are dropped (they are never a deliberate choice).
pub(crate) const MAX_NAME_LEN: usize = 256;
/// Most attributes kept on one metric; the rest are dropped (in key order).
pub(crate) const MAX_ATTRIBUTES: usize = 32;
/// Longest attribute value kept; longer values are truncated at a char boundary.
pub(crate) const MAX_ATTRIBUTE_VALUE_LEN: usize = 200;

/// Why a metric, or a part of it, was not sent as collected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Problem {
    /// The name was empty: dropped.
    EmptyName,
    /// The name was longer than [`MAX_NAME_LEN`]: dropped.
    LongName,
    /// The name had characters outside `[A-Za-z0-9_.]`: rewritten to `_`, sent.
    RewrittenName,
    /// NaN or infinite value: dropped.
    NonFinite,
    /// A negative counter increase: dropped (Sentry counters only go up).
    NegativeCounter,
    /// A unit Sentry does not know: stripped, sent without unit.
    UnknownUnit,
    /// More than [`MAX_ATTRIBUTES`] attributes, or an invalid key: extra ones dropped.
    Attributes,
    /// The collector sent more series than the per-round cap: the rest dropped.
    OverCap,
    /// The collector panicked: its metrics for the round are lost.
    CollectorPanicked,
    /// The collector returned an error: its metrics for the round are lost.
    CollectorFailed,
    /// The collector was still running (from an earlier round, its baseline at init, or
    /// another `collect_now`) and was skipped.
    CollectorBusy,
    /// The SDK's capture path panicked (a `before_send_metric` hook), or sending was paused
    /// after such a panic: the metric is lost.
    CaptureFailed,
}

impl Problem {
    /// Whether the metric itself is lost (rather than sent in a corrected form).
    pub(crate) fn drops_metric(self) -> bool {
        matches!(
            self,
            Problem::EmptyName
                | Problem::LongName
                | Problem::NonFinite
                | Problem::NegativeCounter
                | Problem::OverCap
                | Problem::CollectorPanicked
                | Problem::CollectorFailed
                | Problem::CollectorBusy
                | Problem::CaptureFailed
        )
    }

    /// The `reason` attribute of the `runtime_metrics.dropped` counter.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Problem::EmptyName => "empty_name",
            Problem::LongName => "long_name",
            Problem::RewrittenName => "rewritten_name",
            Problem::NonFinite => "non_finite_value",
            Problem::NegativeCounter => "negative_counter",
            Problem::UnknownUnit => "unknown_unit",
            Problem::Attributes => "attributes",
            Problem::OverCap => "over_cap",
            Problem::CollectorPanicked => "collector_panicked",
            Problem::CollectorFailed => "collector_failed",
            Problem::CollectorBusy => "collector_busy",
            Problem::CaptureFailed => "capture_panicked",
        }
    }
}

/// Checks and fixes `metric` in place. Returns the problems found; the metric must not be sent
/// if any of them [drops the metric](Problem::drops_metric).
pub(crate) fn sanitize(metric: &mut RuntimeMetric, problems: &mut Vec<Problem>) {
    if metric.name.is_empty() {
        problems.push(Problem::EmptyName);
        return;
    }
    if metric.name.len() > MAX_NAME_LEN {
        problems.push(Problem::LongName);
        return;
    }
    if !metric.value.is_finite() {
        problems.push(Problem::NonFinite);
        return;
    }
    if !metric.name.chars().all(is_allowed) {
        metric.name = Cow::Owned(rewrite(&metric.name));
        problems.push(Problem::RewrittenName);
    }
    if metric.metric_type == MetricType::Counter {
        // The SDK's counters carry no unit; ignore one quietly rather than count a problem.
        metric.unit = None;
    } else if let Some(unit) = &metric.unit {
        match canonical_unit(unit) {
            Some(name) => metric.unit = Some(Cow::Borrowed(name)),
            None => {
                metric.unit = None;
                problems.push(Problem::UnknownUnit);
            }
        }
    }
    if !tags_are_clean(&metric.tags) {
        metric.tags = clean_tags(std::mem::take(&mut metric.tags));
        problems.push(Problem::Attributes);
    }
}

/// The character rule of metric names and attribute keys (the derive enforces the same).
pub(crate) fn is_allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.'
}

fn rewrite(name: &str) -> String {
    name.chars()
        .map(|c| if is_allowed(c) { c } else { '_' })
        .collect()
}

/// The name Sentry serializes for `unit`, if it is one Sentry knows (by sentry-types' rules).
fn canonical_unit(unit: &str) -> Option<&'static str> {
    Some(match Unit::from(unit.to_owned()) {
        Unit::Nanosecond => "nanosecond",
        Unit::Microsecond => "microsecond",
        Unit::Millisecond => "millisecond",
        Unit::Second => "second",
        Unit::Minute => "minute",
        Unit::Hour => "hour",
        Unit::Day => "day",
        Unit::Week => "week",
        Unit::Bit => "bit",
        Unit::Byte => "byte",
        Unit::Kilobyte => "kilobyte",
        Unit::Kibibyte => "kibibyte",
        Unit::Megabyte => "megabyte",
        Unit::Mebibyte => "mebibyte",
        Unit::Gigabyte => "gigabyte",
        Unit::Gibibyte => "gibibyte",
        Unit::Terabyte => "terabyte",
        Unit::Tebibyte => "tebibyte",
        Unit::Petabyte => "petabyte",
        Unit::Pebibyte => "pebibyte",
        Unit::Exabyte => "exabyte",
        Unit::Exbibyte => "exbibyte",
        Unit::Ratio => "ratio",
        Unit::Percent => "percent",
        _ => return None,
    })
}

fn key_is_clean(key: &str) -> bool {
    !key.is_empty() && key.len() <= MAX_NAME_LEN && key.chars().all(is_allowed)
}

fn tags_are_clean(tags: &Tags) -> bool {
    tags.len() <= MAX_ATTRIBUTES
        && tags
            .iter()
            .all(|(key, value)| key_is_clean(key) && value.len() <= MAX_ATTRIBUTE_VALUE_LEN)
}

/// Keeps the first [`MAX_ATTRIBUTES`] attributes with valid keys, truncating long values.
fn clean_tags(tags: Tags) -> Tags {
    tags.into_iter()
        .filter(|(key, _)| key_is_clean(key))
        .take(MAX_ATTRIBUTES)
        .map(|(key, value)| {
            if value.len() <= MAX_ATTRIBUTE_VALUE_LEN {
                return (key, value);
            }
            let mut end = MAX_ATTRIBUTE_VALUE_LEN;
            while !value.is_char_boundary(end) {
                end -= 1;
            }
            (key, Cow::Owned(value[..end].to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MetricValue;

    fn metric(name: &str, value: MetricValue) -> RuntimeMetric {
        RuntimeMetric {
            name: Cow::Owned(name.to_owned()),
            metric_type: MetricType::Gauge,
            value,
            unit: None,
            tags: Tags::new(),
        }
    }

    fn check(mut m: RuntimeMetric) -> (RuntimeMetric, Vec<Problem>) {
        let mut problems = Vec::new();
        sanitize(&mut m, &mut problems);
        (m, problems)
    }

    #[test]
    fn drops_what_sentry_would_drop() {
        assert_eq!(
            check(metric("", MetricValue::Int(1))).1,
            [Problem::EmptyName]
        );
        assert_eq!(
            check(metric("a", MetricValue::Float(f64::NAN))).1,
            [Problem::NonFinite]
        );
        assert_eq!(
            check(metric("a", MetricValue::Float(f64::NEG_INFINITY))).1,
            [Problem::NonFinite]
        );
        assert_eq!(
            check(metric(&"x".repeat(10 * 1024), MetricValue::Int(1))).1,
            [Problem::LongName]
        );
    }

    #[test]
    fn rewrites_names_like_sentry_and_says_so() {
        let (m, problems) = check(metric("app-queue depth/größe", MetricValue::Int(1)));
        assert_eq!(m.name, "app_queue_depth_gr__e");
        assert_eq!(problems, [Problem::RewrittenName]);
    }

    #[test]
    fn canonicalizes_or_strips_units() {
        let mut m = metric("a", MetricValue::Int(1));
        m.unit = Some("ms".into());
        assert_eq!(check(m.clone()).0.unit.as_deref(), Some("millisecond"));
        m.unit = Some("count".into());
        let (m, problems) = check(m);
        assert_eq!((m.unit, problems), (None, vec![Problem::UnknownUnit]));
    }

    #[test]
    fn caps_attributes() {
        let mut m = metric("a", MetricValue::Int(1));
        m.tags = (0..1000)
            .map(|i| (Cow::Owned(format!("k{i:04}")), Cow::Borrowed("v")))
            .collect();
        m.tags.insert("bad key".into(), "v".into());
        m.tags.insert("long".into(), Cow::Owned("é".repeat(300)));
        let (m, problems) = check(m);
        assert_eq!(problems, [Problem::Attributes]);
        assert_eq!(m.tags.len(), MAX_ATTRIBUTES);
        assert!(m.tags.keys().all(|k| key_is_clean(k)));
    }
}
