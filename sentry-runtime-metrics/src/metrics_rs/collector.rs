//! The collector that sends what the facade recorded: each round, every counter's increase since
//! the last round, every gauge's value, and every histogram's values with their exact count.
//!
//! It keeps its own list of the series (taking the new ones from the registry each round) and,
//! for each counter, the total it last sent, in plain fields: a round takes no lock the
//! application's threads wait on, except the short one that hands over new series.

use std::borrow::Cow;
use std::sync::Arc;

use crate::collector::{CollectError, Collected, MetricCollector};
use crate::debug_log;
use crate::descriptor::MetricDescriptor;
use crate::metric::{MetricType, MetricValue, RuntimeMetric};
use crate::metrics_rs::registry::{Description, Registry};
use crate::metrics_rs::reservoir::{Reservoir, mix};
use crate::metrics_rs::series::{CounterCell, GaugeCell, Series};

/// Sends what a [`SentryRecorder`](super::SentryRecorder) recorded; register it in
/// [`RuntimeMetricsConfig::custom_collectors`](crate::RuntimeMetricsConfig::custom_collectors).
///
/// Its counters are the increases since its last round (a counter's first round sends all it
/// counted, from 0): what was recorded before `sentry::init` is sent in the first round.
#[derive(Debug)]
pub struct RecordedMetrics {
    registry: Arc<Registry>,
    counters: Vec<TrackedCounter>,
    gauges: Vec<Tracked<GaugeCell>>,
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

#[derive(Debug)]
struct TrackedCounter {
    series: Arc<Series<CounterCell>>,
    /// The total the last increase was computed to.
    sent: u64,
}

#[derive(Debug)]
struct Tracked<C> {
    series: Arc<Series<C>>,
    unit: Option<&'static str>,
}

#[derive(Debug)]
struct TrackedHistogram {
    tracked: Tracked<Reservoir>,
    /// `<name>.count`, the counter of values recorded.
    count_name: Cow<'static, str>,
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
        self.counters.extend(
            self.registry
                .counters
                .take_added()
                .into_iter()
                .map(|series| TrackedCounter { series, sent: 0 }),
        );
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
                    let tracked = &mut histogram.tracked;
                    tracked.unit =
                        descriptions.unit(MetricType::Distribution, &tracked.series.name);
                }
            }
            self.gauges.extend(gauges.into_iter().map(|series| Tracked {
                unit: descriptions.unit(MetricType::Gauge, &series.name),
                series,
            }));
            self.histograms
                .extend(histograms.into_iter().map(|series| TrackedHistogram {
                    count_name: count_name(&series.name),
                    tracked: Tracked {
                        unit: descriptions.unit(MetricType::Distribution, &series.name),
                        series,
                    },
                }));
        });
    }

    /// This round's metrics: counters, gauges and the histograms' counts first, then as many
    /// histogram values as the round's budget allows.
    fn round(&mut self) -> Vec<RuntimeMetric> {
        self.adopt_new_series();
        self.rounds += 1;
        let mut metrics = Vec::new();
        for counter in &mut self.counters {
            let total = counter.series.cell.total();
            metrics.extend(increase(&counter.series, total, counter.sent));
            counter.sent = total;
        }
        metrics.extend(
            self.gauges
                .iter()
                .filter_map(|gauge| level(&gauge.series, gauge.unit)),
        );
        self.drained.resize_with(self.histograms.len(), Vec::new);
        for (histogram, values) in self.histograms.iter().zip(&mut self.drained) {
            values.clear();
            let series = &histogram.tracked.series;
            let recorded = series.cell.drain(values);
            self.overflowed = self.overflowed.saturating_add(series.cell.take_overflow());
            if recorded > 0 {
                metrics.push(RuntimeMetric {
                    name: histogram.count_name.clone(),
                    metric_type: MetricType::Counter,
                    value: count_value(recorded),
                    unit: None,
                    tags: series.tags.clone(),
                });
            }
        }
        let sizes: Vec<usize> = self.drained.iter().map(Vec::len).collect();
        let shares = shares(&sizes, self.registry.limits.max_histogram_values);
        for ((histogram, values), share) in
            self.histograms.iter().zip(&mut self.drained).zip(shares)
        {
            pick(values, share, mix(self.rounds));
            let tracked = &histogram.tracked;
            metrics.extend(values.iter().map(|value| {
                metric(
                    &tracked.series,
                    MetricType::Distribution,
                    MetricValue::Float(*value),
                    tracked.unit,
                )
            }));
        }
        self.report_limit();
        metrics
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
            .filter_map(|(series, sent)| increase(&series, series.cell.total(), sent))
            .collect();
        self.registry.with_descriptions(|descriptions| {
            let gauges = self
                .gauges
                .iter()
                .map(|gauge| Arc::clone(&gauge.series))
                .chain(self.registry.gauges.peek_added());
            metrics.extend(gauges.filter_map(|series| {
                level(&series, descriptions.unit(MetricType::Gauge, &series.name))
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
                let counter = kind == MetricType::Counter;
                let unit = if counter { None } else { *unit };
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

/// The counter of `series` for the increase from `sent` to `total`, if it moved. Counters never
/// go down (`absolute` keeps the larger value); a wrap past `u64::MAX` is still the right
/// difference.
fn increase(series: &Series<CounterCell>, total: u64, sent: u64) -> Option<RuntimeMetric> {
    let increase = total.wrapping_sub(sent);
    (increase > 0).then(|| metric(series, MetricType::Counter, count_value(increase), None))
}

/// The gauge of `series` at its current value, unless nobody set it.
fn level(series: &Series<GaugeCell>, unit: Option<&'static str>) -> Option<RuntimeMetric> {
    let value = series.cell.value()?;
    Some(metric(
        series,
        MetricType::Gauge,
        MetricValue::Float(value),
        unit,
    ))
}

/// A count, exact as an integer while it fits one.
fn count_value(count: u64) -> MetricValue {
    match i64::try_from(count) {
        Ok(count) => MetricValue::Int(count),
        #[allow(clippy::cast_precision_loss)] // Sentry's wire format is f64.
        Err(_) => MetricValue::Float(count as f64),
    }
}

/// The name of a histogram's count. An empty name stays empty, so both are dropped alike.
fn count_name(name: &str) -> Cow<'static, str> {
    if name.is_empty() {
        Cow::Borrowed("")
    } else {
        Cow::Owned(format!("{name}.count"))
    }
}

/// How many of each histogram's values to send, when together they are more than `budget`:
/// every histogram an equal share, and what one needs less of goes to the others. Each keeps a
/// uniform sample of its own values, and its `.count` stays exact.
fn shares(sizes: &[usize], budget: usize) -> Vec<usize> {
    if sizes.iter().sum::<usize>() <= budget {
        return sizes.to_vec();
    }
    let mut by_size: Vec<usize> = (0..sizes.len()).collect();
    by_size.sort_by_key(|&index| sizes[index]);
    let mut shares = vec![0; sizes.len()];
    let mut left = budget;
    for (taken, &index) in by_size.iter().enumerate() {
        let share = sizes[index].min(left / (sizes.len() - taken));
        shares[index] = share;
        left -= share;
    }
    shares
}

/// Keeps a uniform sample of `keep` of `values` (a partial Fisher-Yates shuffle).
fn pick(values: &mut Vec<f64>, keep: usize, seed: u64) {
    if keep >= values.len() {
        return;
    }
    for i in 0..keep {
        let rest = (values.len() - i) as u64;
        let j = i + (mix(seed ^ i as u64) % rest) as usize;
        values.swap(i, j);
    }
    values.truncate(keep);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_are_equal_and_what_one_needs_less_of_goes_to_the_others() {
        assert_eq!(shares(&[3, 4], 10), [3, 4], "within budget: everything");
        assert_eq!(shares(&[100, 100, 100], 10), [3, 3, 4]);
        assert_eq!(shares(&[1, 100, 100], 11), [1, 5, 5]);
        assert_eq!(shares(&[100, 2, 0], 50), [48, 2, 0]);
        assert_eq!(shares(&[5, 5], 0), [0, 0]);
        assert_eq!(shares(&[], 0), Vec::<usize>::new());
        for sizes in [[7, 90, 33, 100], [100, 100, 100, 1]] {
            let given = shares(&sizes, 60);
            assert_eq!(given.iter().sum::<usize>(), 60);
            assert!(given.iter().zip(sizes).all(|(g, s)| *g <= s));
        }
    }

    #[test]
    fn pick_keeps_a_uniform_sample_of_distinct_values() {
        let mut low_half = 0;
        for round in 0..1000 {
            let mut values: Vec<f64> = (0..100).map(f64::from).collect();
            pick(&mut values, 10, mix(round));
            assert_eq!(values.len(), 10);
            let mut distinct = values.clone();
            distinct.sort_by(f64::total_cmp);
            distinct.dedup();
            assert_eq!(distinct.len(), 10);
            low_half += values.iter().filter(|v| **v < 50.0).count();
        }
        // 10 000 picks, 5 000 expected below 50; the standard deviation is about 48.
        assert!((4800..5200).contains(&low_half), "{low_half}");
    }
}
