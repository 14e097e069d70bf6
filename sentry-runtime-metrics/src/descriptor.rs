//! Static descriptions of the metrics a collector can send, for docs and tools.

use std::borrow::Cow;

use crate::metric::MetricType;

/// What one metric of a collector is, known without sampling it.
///
/// `#[derive(MetricCollector)]` generates these from the field attributes and doc comments; the
/// README's metric table is generated from the built-in collectors' descriptors.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MetricDescriptor {
    /// The metric's name, including any `#[flatten(prefix = "..")]`.
    pub name: Cow<'static, str>,
    /// Gauge, counter or distribution.
    pub metric_type: MetricType,
    /// The unit's canonical name, if any.
    pub unit: Option<&'static str>,
    /// The first paragraph of the field's doc comment (or, for metrics from elsewhere, the
    /// description given there).
    pub description: Cow<'static, str>,
    /// For labelled series, the attribute key that tells them apart (e.g. `worker`).
    pub attribute: Option<&'static str>,
}

impl MetricDescriptor {
    /// Describes a metric; for hand-written [`DescribeMetrics`] impls.
    pub fn new(
        name: impl Into<Cow<'static, str>>,
        metric_type: MetricType,
        unit: Option<&'static str>,
        description: impl Into<Cow<'static, str>>,
    ) -> Self {
        MetricDescriptor {
            name: name.into(),
            metric_type,
            unit,
            description: description.into(),
            attribute: None,
        }
    }

    /// Sets the attribute key of a labelled series.
    #[must_use]
    pub fn with_attribute(mut self, attribute: &'static str) -> Self {
        self.attribute = Some(attribute);
        self
    }
}

/// Lists every metric a collector type can send, without an instance or a sample.
///
/// Implemented by `#[derive(MetricCollector)]`.
pub trait DescribeMetrics {
    /// The descriptors, in field order.
    fn describe() -> Vec<MetricDescriptor>;
}
