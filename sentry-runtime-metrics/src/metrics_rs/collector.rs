//! The collector that sends what the facade recorded: each round, every counter's increase since
//! the last round, every gauge's value, and every histogram's values with their exact count.
//!
//! It keeps its own list of the series (taking the new ones from the registry each round) and,
//! for each, what it last sent, in plain fields ([`tracked`](super::tracked)): a round takes no
//! lock the application's threads wait on, except the short one that hands over new series, and
//! the write lock of a shard to forget a series nobody records any more.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Instant;

use crate::collector::{CollectError, Collected, MetricCollector};
use crate::debug_log;
use crate::descriptor::MetricDescriptor;
use crate::metric::{MetricType, MetricValue, RuntimeMetric};
use crate::metrics_rs::budget::{pick, shares};
use crate::metrics_rs::descriptions::Description;
use crate::metrics_rs::registry::Registry;
use crate::metrics_rs::reservoir::mix;
use crate::metrics_rs::series::{CounterCell, Series};
use crate::metrics_rs::tracked::{TrackedCounter, TrackedGauge, TrackedHistogram, count_name};

/// Sends what a [`SentryRecorder`](super::SentryRecorder) recorded; register it in
/// [`RuntimeMetricsConfig::custom_collectors`](crate::RuntimeMetricsConfig::custom_collectors).
///
/// Its counters are the increases since its last round (a counter's first round sends all it
/// counted, from 0): what was recorded before `sentry::init` is sent in the first round.
#[derive(Debug)]
pub struct RecordedMetrics {
    registry: Arc<Registry>,
    counters: Vec<TrackedCounter>,
    gauges: Vec<TrackedGauge>,
    histograms: Vec<TrackedHistogram>,
    /// The registry's description count when units were last looked up.
    described: u64,
    /// Whether the series limit was reported in the debug log.
    limit_reported: bool,
    /// Rounds run, for the choice of values when the round's budget is short.
    rounds: u64,
    /// Per histogram, the values drained this round (kept to reuse their memory).
    drained: Vec<Vec<f64>>,
    /// Histogram values that could not be counted since the last round.
    overflowed: u64,
}

impl RecordedMetrics {
    pub(super) fn new(registry: Arc<Registry>) -> Self {
        RecordedMetrics {
            registry,
            counters: Vec::new(),
            gauges: Vec::new(),
            histograms: Vec::new(),
            described: 0,
            limit_reported: false,
            rounds: 0,
            drained: Vec::new(),
            overflowed: 0,
        }
    }

    /// Takes the series created since the last round, and looks units up again if a
    /// description was added.
    fn adopt_new_series(&mut self) {
        let counters = self.registry.counters.take_added();
        self.counters
            .extend(counters.into_iter().map(TrackedCounter::new));
        let gauges = self.registry.gauges.take_added();
        let histograms = self.registry.histograms.take_added();
        let described = self.registry.descriptions_changed();
        let relook = described != self.described;
        if !relook && gauges.is_empty() && histograms.is_empty() {
            return;
        }
        self.described = described;
        let registry = Arc::clone(&self.registry);
        registry.with_descriptions(|descriptions| {
            if relook {
                for gauge in &mut self.gauges {
                    gauge.unit = descriptions.unit(MetricType::Gauge, &gauge.series.name);
                }
                for histogram in &mut self.histograms {
                    let name = &histogram.series.name;
                    histogram.unit = descriptions.unit(MetricType::Distribution, name);
                }
            }
            self.gauges.extend(gauges.into_iter().map(|series| {
                let unit = descriptions.unit(MetricType::Gauge, &series.name);
                TrackedGauge::new(series, unit)
            }));
            self.histograms.extend(histograms.into_iter().map(|series| {
                let unit = descriptions.unit(MetricType::Distribution, &series.name);
                TrackedHistogram::new(series, unit)
            }));
        });
    }

    /// This round's metrics: counters, gauges and the histograms' counts first, then as many
    /// histogram values as the round's budget allows. Series nobody records any more are
    /// forgotten after it.
    fn round(&mut self) -> Vec<RuntimeMetric> {
        self.adopt_new_series();
        self.rounds += 1;
        let (now, timeout) = (Instant::now(), self.registry.limits.idle_timeout);
        let mut metrics = Vec::new();
        for counter in &mut self.counters {
            let increase = counter.increase(now, timeout);
            if increase > 0 {
                metrics.push(counter_of(&counter.series, increase));
            }
        }
        for gauge in &mut self.gauges {
            if let Some(value) = gauge.value(now, timeout) {
                let value = MetricValue::Float(value);
                metrics.push(metric(&gauge.series, MetricType::Gauge, value, gauge.unit));
            }
        }
        self.drained.resize_with(self.histograms.len(), Vec::new);
        for (histogram, values) in self.histograms.iter_mut().zip(&mut self.drained) {
            values.clear();
            let recorded = histogram.drain(values, now, timeout);
            let overflow = histogram.series.cell.take_overflow();
            self.overflowed = self.overflowed.saturating_add(overflow);
            if recorded > 0 {
                metrics.push(RuntimeMetric {
                    name: histogram.count_name.clone(),
                    metric_type: MetricType::Counter,
                    value: count_value(recorded),
                    unit: None,
                    tags: histogram.series.tags.clone(),
                });
            }
        }
        let sizes: Vec<usize> = self.drained.iter().map(Vec::len).collect();
        let shares = shares(&sizes, self.registry.limits.max_histogram_values);
        for ((histogram, values), share) in
            self.histograms.iter().zip(&mut self.drained).zip(shares)
        {
            pick(values, share, mix(self.rounds));
            metrics.extend(values.iter().map(|value| {
                let value = MetricValue::Float(*value);
                let kind = MetricType::Distribution;
                metric(&histogram.series, kind, value, histogram.unit)
            }));
        }
        self.forget_idle();
        self.report_limit();
        metrics
    }

    /// Forgets the series that nobody held or recorded into for the idle timeout (checked
    /// again under their shard's write lock, where no new handle can be taken).
    fn forget_idle(&mut self) {
        let registry = &self.registry;
        self.counters.retain(|counter| {
            !(counter.idle.expired()
                && registry.forget(&registry.counters, &counter.series, |cell| {
                    counter.still_idle(cell)
                }))
        });
        self.gauges.retain(|gauge| {
            !(gauge.idle.expired()
                && registry.forget(&registry.gauges, &gauge.series, |cell| {
                    gauge.still_idle(cell)
                }))
        });
        self.histograms.retain(|histogram| {
            !(histogram.idle.expired()
                && registry.forget(&registry.histograms, &histogram.series, |cell| {
                    histogram.still_idle(cell)
                }))
        });
    }

    /// Writes once to the debug log when the series limit first refuses a series.
    fn report_limit(&mut self) {
        if self.limit_reported || self.registry.refused.peek() == 0 {
            return;
        }
        self.limit_reported = true;
        debug_log::write_from_collector(format_args!(
            "the `metrics` facade recorded more than {} series; updates of new series are \
             dropped and counted in `runtime_metrics.dropped` (reason `collector_limit`); raise \
             `metrics_rs::Builder::max_series` or record fewer label values (reported once)",
            self.registry.limits.max_series
        ));
    }
}

impl MetricCollector for RecordedMetrics {
    /// What the next round would send of counters and gauges, without sending it: counter
    /// increases since the last round, gauge values. Histogram values are only taken by rounds.
    fn collect(&self) -> Vec<RuntimeMetric> {
        let counters = self
            .counters
            .iter()
            .map(|c| (Arc::clone(&c.series), c.sent))
            .chain(
                self.registry
                    .counters
                    .peek_added()
                    .into_iter()
                    .map(|series| (series, 0)),
            );
        let mut metrics: Vec<RuntimeMetric> = counters
            .filter_map(|(series, sent)| {
                let increase = series.cell.total().wrapping_sub(sent);
                (increase > 0).then(|| counter_of(&series, increase))
            })
            .collect();
        self.registry.with_descriptions(|descriptions| {
            let gauges = self
                .gauges
                .iter()
                .map(|gauge| Arc::clone(&gauge.series))
                .chain(self.registry.gauges.peek_added());
            metrics.extend(gauges.filter_map(|series| {
                let value = MetricValue::Float(series.cell.value()?);
                let unit = descriptions.unit(MetricType::Gauge, &series.name);
                Some(metric(&series, MetricType::Gauge, value, unit))
            }));
        });
        metrics
    }

    fn name(&self) -> &'static str {
        "metrics-rs"
    }

    /// This round's metrics, bounded by the builder's limits (one counter, gauge or count per
    /// series and the histogram values' budget, a bound the integration keeps to), and what
    /// was dropped since the last round: updates of series refused by the series limit (each
    /// increment, set or recorded value), and histogram values past what one round can count.
    fn collect_mut(&mut self) -> Result<Collected, CollectError> {
        let metrics = self.round();
        let limits = self.registry.limits;
        let dropped = self
            .registry
            .refused
            .take()
            .saturating_add(std::mem::take(&mut self.overflowed));
        Ok(Collected::new(metrics)
            .with_max_metrics(
                limits
                    .max_series
                    .saturating_add(limits.max_histogram_values),
            )
            .with_dropped(dropped))
    }

    /// The metrics described with `describe_*` (a histogram's with its `.count`).
    fn descriptors(&self) -> Vec<MetricDescriptor> {
        self.registry.with_descriptions(|descriptions| {
            let mut descriptors = Vec::new();
            for (kind, name, Description { unit, text }) in descriptions.all() {
                let unit = if kind == MetricType::Counter {
                    None
                } else {
                    *unit
                };
                descriptors.push(MetricDescriptor::new(
                    name.to_owned(),
                    kind,
                    unit,
                    text.clone(),
                ));
                if kind == MetricType::Distribution {
                    descriptors.push(MetricDescriptor::new(
                        count_name(name).into_owned(),
                        MetricType::Counter,
                        None,
                        format!("Values recorded into `{name}`."),
                    ));
                }
            }
            descriptors
        })
    }
}

fn metric<C>(
    series: &Series<C>,
    metric_type: MetricType,
    value: MetricValue,
    unit: Option<&'static str>,
) -> RuntimeMetric {
    RuntimeMetric {
        name: series.name.clone(),
        metric_type,
        value,
        unit: unit.map(Cow::Borrowed),
        tags: series.tags.clone(),
    }
}

/// The counter of `series` for an increase of `increase`.
fn counter_of(series: &Series<CounterCell>, increase: u64) -> RuntimeMetric {
    metric(series, MetricType::Counter, count_value(increase), None)
}

/// A count, exact as an integer while it fits one.
fn count_value(count: u64) -> MetricValue {
    match i64::try_from(count) {
        Ok(count) => MetricValue::Int(count),
        #[allow(clippy::cast_precision_loss)] // Sentry's wire format is f64.
        Err(_) => MetricValue::Float(count as f64),
    }
}
