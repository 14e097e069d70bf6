//! What Sentry accepts of one metric, as its ingestion would judge it: what it drops (an empty or
//! over-long name, a NaN or infinite value) and what it silently rewrites or strips (a name with
//! other characters than `[A-Za-z0-9_.]`, a unit it does not know, attributes past its limits).
//! Here the first is refused and the second fixed before sending, so nothing malformed leaves
//! the process and nothing is changed without being counted. The same attribute rules apply to
//! the attributes of the configuration.

use std::borrow::Cow;

mod attributes;
mod units;

pub(crate) use attributes::fix_attributes;

use crate::metric::{MetricType, RuntimeMetric};
use attributes::attributes_are_clean;
use units::canonical_unit;

/// Longest metric name sent; longer names are dropped (they are never a deliberate choice).
pub(crate) const MAX_NAME_LEN: usize = 256;
/// Most attributes kept on one metric; the rest are dropped (in key order).
pub(crate) const MAX_ATTRIBUTES: usize = 32;
/// Longest attribute value kept; longer values are cut at a char boundary.
pub(crate) const MAX_ATTRIBUTE_VALUE_LEN: usize = 200;

/// Why a metric cannot be sent at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Unsendable {
    /// The name is empty.
    EmptyName,
    /// The name is longer than [`MAX_NAME_LEN`].
    LongName,
    /// The value is NaN or infinite.
    NonFinite,
}

/// What was changed in a metric to make it acceptable, with what it was before.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Fixes {
    /// The name as sent, when characters outside `[A-Za-z0-9_.]` were rewritten (a run of them
    /// to one `_`, as Sentry's ingestion does).
    pub(crate) renamed_from: Option<Cow<'static, str>>,
    /// A unit Sentry does not know, stripped.
    pub(crate) stripped_unit: Option<Cow<'static, str>>,
    /// Attributes were dropped (invalid key, over the count) or cut (long value).
    pub(crate) attributes: bool,
}

impl Fixes {
    pub(crate) fn any(&self) -> bool {
        self.renamed_from.is_some() || self.stripped_unit.is_some() || self.attributes
    }

    /// What was done, in words, for the debug log: "unit `count` stripped (not a unit Sentry
    /// knows)". `name` is the metric's name after the fixes.
    pub(crate) fn describe(&self, name: &str) -> String {
        let mut done = Vec::new();
        if let Some(before) = &self.renamed_from {
            done.push(format!(
                "name `{before}` rewritten to `{name}` (Sentry keeps only [A-Za-z0-9_.])"
            ));
        }
        if let Some(unit) = &self.stripped_unit {
            done.push(format!(
                "unit `{unit}` stripped (not a unit Sentry knows; a number of things takes none)"
            ));
        }
        if self.attributes {
            done.push(format!(
                "attributes dropped or cut (invalid keys, more than {MAX_ATTRIBUTES}, or values \
                 over {MAX_ATTRIBUTE_VALUE_LEN} bytes)"
            ));
        }
        done.join("; ")
    }
}

/// Whether `metric` can be sent at all.
pub(crate) fn sendable(metric: &RuntimeMetric) -> Result<(), Unsendable> {
    if metric.name.is_empty() {
        return Err(Unsendable::EmptyName);
    }
    if metric.name.len() > MAX_NAME_LEN {
        return Err(Unsendable::LongName);
    }
    if !metric.value.is_finite() {
        return Err(Unsendable::NonFinite);
    }
    Ok(())
}

/// Fixes what Sentry would otherwise rewrite or strip: the name, the unit, the attributes (at
/// most `max_attributes` of its own: attributes added to every metric count towards the limit).
pub(crate) fn fix(metric: &mut RuntimeMetric, max_attributes: usize) -> Fixes {
    let mut fixes = Fixes::default();
    if let Some(rewritten) = rewrite(&metric.name) {
        fixes.renamed_from = Some(std::mem::replace(&mut metric.name, Cow::Owned(rewritten)));
    }
    if metric.metric_type == MetricType::Counter {
        // The SDK's counters carry no unit; one is ignored quietly rather than counted.
        metric.unit = None;
    } else if let Some(unit) = metric.unit.take() {
        match canonical_unit(&unit) {
            Some(known) => metric.unit = Some(Cow::Borrowed(known)),
            None => fixes.stripped_unit = Some(unit),
        }
    }
    if !attributes_are_clean(&metric.tags, max_attributes) {
        metric.tags = fix_attributes(std::mem::take(&mut metric.tags), max_attributes).kept;
        fixes.attributes = true;
    }
    fixes
}

/// The character rule of metric names and attribute keys (the derive enforces the same).
pub(crate) fn is_allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.'
}

/// `name` as Sentry's ingestion stores it, if that differs: each run of characters outside
/// `[A-Za-z0-9_.]` becomes one `_`, so the same metric sent by another SDK lands in the same
/// series.
fn rewrite(name: &str) -> Option<String> {
    if name.chars().all(is_allowed) {
        return None;
    }
    let mut rewritten = String::with_capacity(name.len());
    let mut in_run = false;
    for c in name.chars() {
        if is_allowed(c) {
            rewritten.push(c);
            in_run = false;
        } else if !in_run {
            rewritten.push('_');
            in_run = true;
        }
    }
    Some(rewritten)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metric::{MetricValue, Tags};

    /// A gauge without unit or attributes, for the rules' tests.
    pub(super) fn metric(name: &str, value: MetricValue) -> RuntimeMetric {
        RuntimeMetric {
            name: Cow::Owned(name.to_owned()),
            metric_type: MetricType::Gauge,
            value,
            unit: None,
            tags: Tags::new(),
        }
    }

    #[test]
    fn refuses_what_sentry_would_drop() {
        assert_eq!(
            sendable(&metric("", MetricValue::Int(1))),
            Err(Unsendable::EmptyName)
        );
        assert_eq!(
            sendable(&metric("a", MetricValue::Float(f64::NAN))),
            Err(Unsendable::NonFinite)
        );
        assert_eq!(
            sendable(&metric("a", MetricValue::Float(f64::NEG_INFINITY))),
            Err(Unsendable::NonFinite)
        );
        assert_eq!(
            sendable(&metric(&"x".repeat(10 * 1024), MetricValue::Int(1))),
            Err(Unsendable::LongName)
        );
        assert_eq!(sendable(&metric("a", MetricValue::Float(-0.5))), Ok(()));
    }

    #[test]
    fn rewrites_names_like_sentry_and_says_so() {
        let mut m = metric("app-queue depth/größe", MetricValue::Int(1));
        let fixes = fix(&mut m, MAX_ATTRIBUTES);
        // "ö" and "ß" are one run: one `_`.
        assert_eq!(m.name, "app_queue_depth_gr_e");
        assert_eq!(fixes.renamed_from.as_deref(), Some("app-queue depth/größe"));
        assert!(fixes.stripped_unit.is_none() && !fixes.attributes);
        assert_eq!(
            fixes.describe(&m.name),
            "name `app-queue depth/größe` rewritten to `app_queue_depth_gr_e` (Sentry keeps only \
             [A-Za-z0-9_.])"
        );
        let mut m = metric("probe rough/space ø", MetricValue::Int(1));
        fix(&mut m, MAX_ATTRIBUTES);
        assert_eq!(m.name, "probe_rough_space_");
        let mut m = metric("fine.name_1", MetricValue::Int(1));
        assert!(!fix(&mut m, MAX_ATTRIBUTES).any());
        assert_eq!(m.name, "fine.name_1");
    }
}
