//! Builders the generated code fills, one call per metric, so the expansion stays readable.

use std::borrow::Cow;

use crate::descriptor::MetricDescriptor;
use crate::metric::{MetricType, MetricValue, RuntimeMetric, Tags};

/// The metrics of one collection, in field order.
#[derive(Debug, Default)]
pub struct Batch(Vec<RuntimeMetric>);

impl Batch {
    /// Room for `capacity` metrics (one per plain metric field).
    pub fn with_capacity(capacity: usize) -> Self {
        Batch(Vec::with_capacity(capacity))
    }

    /// Adds one metric, unless `value` is `None` (nothing to send this round).
    pub fn push(
        &mut self,
        name: &'static str,
        metric_type: MetricType,
        unit: Option<&'static str>,
        value: Option<MetricValue>,
    ) {
        self.push_with_tags(name, metric_type, unit, value, Tags::new());
    }

    /// Adds one series of a labelled metric, unless `value` is `None`.
    pub fn push_labelled(
        &mut self,
        name: &'static str,
        metric_type: MetricType,
        unit: Option<&'static str>,
        key: &'static str,
        label: Cow<'static, str>,
        value: Option<MetricValue>,
    ) {
        if value.is_some() {
            // `insert`, not `Tags::from([..])`, which sorts and bulk-builds even one entry.
            let mut tags = Tags::new();
            tags.insert(Cow::Borrowed(key), label);
            self.push_with_tags(name, metric_type, unit, value, tags);
        }
    }

    fn push_with_tags(
        &mut self,
        name: &'static str,
        metric_type: MetricType,
        unit: Option<&'static str>,
        value: Option<MetricValue>,
        tags: Tags,
    ) {
        if let Some(value) = value {
            self.0.push(RuntimeMetric {
                name: Cow::Borrowed(name),
                metric_type,
                value,
                unit: unit.map(Cow::Borrowed),
                tags,
            });
        }
    }

    /// Adds the metrics of a nested collector, with `prefix` before each name.
    pub fn extend_prefixed(&mut self, prefix: &'static str, metrics: Vec<RuntimeMetric>) {
        self.0.extend(metrics.into_iter().map(|mut metric| {
            if !prefix.is_empty() {
                metric.name = Cow::Owned(format!("{prefix}{}", metric.name));
            }
            metric
        }));
    }

    /// Adds `attributes` to every metric collected so far; attributes a series already has win.
    pub fn add_attributes(&mut self, attributes: &Tags) {
        for metric in &mut self.0 {
            for (key, value) in attributes {
                metric
                    .tags
                    .entry(key.clone())
                    .or_insert_with(|| value.clone());
            }
        }
    }

    /// The collected metrics.
    pub fn into_vec(self) -> Vec<RuntimeMetric> {
        self.0
    }
}

/// The descriptors of one collector type, in field order.
#[derive(Debug, Default)]
pub struct Descriptors(Vec<MetricDescriptor>);

impl Descriptors {
    /// Describes one metric field.
    pub fn push(
        &mut self,
        name: &'static str,
        metric_type: MetricType,
        unit: Option<&'static str>,
        description: &'static str,
        attribute: Option<&'static str>,
        delta: bool,
    ) {
        let mut descriptor =
            MetricDescriptor::new(name, metric_type, unit, description).with_delta(delta);
        descriptor.attribute = attribute;
        self.0.push(descriptor);
    }

    /// Adds the descriptors of a nested collector, with `prefix` before each name.
    pub fn extend_prefixed(&mut self, prefix: &'static str, descriptors: Vec<MetricDescriptor>) {
        self.0.extend(descriptors.into_iter().map(|mut descriptor| {
            if !prefix.is_empty() {
                descriptor.name = Cow::Owned(format!("{prefix}{}", descriptor.name));
            }
            descriptor
        }));
    }

    /// The descriptors.
    pub fn into_vec(self) -> Vec<MetricDescriptor> {
        self.0
    }
}
