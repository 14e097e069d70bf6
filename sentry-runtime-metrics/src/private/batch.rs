//! Builders the generated code fills, one call per metric, so the expansion stays readable.

use std::borrow::Cow;

use crate::collector::Collected;
use crate::descriptor::MetricDescriptor;
use crate::metric::{MetricType, MetricValue, RuntimeMetric, Tags};
use crate::running_totals::{Began, FieldSeries, Sample};

/// The metrics of one collection, in field order, and what nested collectors dropped.
#[derive(Debug, Default)]
pub struct Batch {
    metrics: Vec<RuntimeMetric>,
    dropped: u64,
}

impl Batch {
    /// Room for `capacity` metrics (one per plain metric field).
    pub fn with_capacity(capacity: usize) -> Self {
        Batch {
            metrics: Vec::with_capacity(capacity),
            dropped: 0,
        }
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

    /// Adds the increase of the running total of counter field number `field`, recorded in
    /// `totals` (nothing when there is no increase to send yet).
    pub fn push_total(
        &mut self,
        totals: &mut Sample<'_, FieldSeries, MetricValue>,
        field: u16,
        began: Began,
        name: &'static str,
        total: Option<MetricValue>,
    ) {
        let increase =
            total.and_then(|total| totals.increase(FieldSeries::new(field, None), total, began));
        self.push(name, MetricType::Counter, None, increase);
    }

    /// Adds the increase of one series of a labelled counter field holding running totals.
    #[allow(clippy::too_many_arguments)] // One call per series in generated code.
    pub fn push_labelled_total(
        &mut self,
        totals: &mut Sample<'_, FieldSeries, MetricValue>,
        field: u16,
        began: Began,
        name: &'static str,
        key: &'static str,
        label: Cow<'static, str>,
        total: Option<MetricValue>,
    ) {
        let increase = total.and_then(|total| {
            totals.increase(FieldSeries::new(field, Some(label.clone())), total, began)
        });
        self.push_labelled(name, MetricType::Counter, None, key, label, increase);
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
            self.metrics.push(RuntimeMetric {
                name: Cow::Borrowed(name),
                metric_type,
                value,
                unit: unit.map(Cow::Borrowed),
                tags,
            });
        }
    }

    /// Adds what a nested collector collected, with `prefix` before each metric name. Its drops
    /// are this collector's; its bound and whether it finished are not (this one decides).
    pub fn extend_prefixed(&mut self, prefix: &'static str, nested: Collected) {
        self.dropped = self.dropped.saturating_add(nested.dropped);
        self.metrics
            .extend(nested.metrics.into_iter().map(|mut metric| {
                if !prefix.is_empty() {
                    metric.name = Cow::Owned(format!("{prefix}{}", metric.name));
                }
                metric
            }));
    }

    /// Adds `attributes` to every metric collected so far; attributes a series already has win.
    pub fn add_attributes(&mut self, attributes: &Tags) {
        for metric in &mut self.metrics {
            for (key, value) in attributes {
                metric
                    .tags
                    .entry(key.clone())
                    .or_insert_with(|| value.clone());
            }
        }
    }

    /// What the collection returns; `finished`: the `#[finished]` field's value.
    pub fn into_collected(self, finished: bool) -> Collected {
        Collected::new(self.metrics)
            .with_dropped(self.dropped)
            .with_finished(finished)
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
    ) {
        let mut descriptor = MetricDescriptor::new(name, metric_type, unit, description);
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
