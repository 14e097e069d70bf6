//! The [`MetricCollector`] trait: a source of metrics sampled once per round.

use std::fmt;

use crate::descriptor::MetricDescriptor;
use crate::metric::RuntimeMetric;

/// Most metrics one collector may send per round unless it says otherwise
/// ([`MetricCollector::max_metrics_per_round`]); the rest are dropped and counted. Generous for
/// real collectors (a 64-worker Tokio runtime with per-worker series sends ~700), small enough
/// that a runaway collector cannot flood the SDK's queue (10 envelopes of 100 metrics; its
/// transport holds 30).
pub const MAX_METRICS_PER_COLLECTOR: usize = 1_000;

/// A source of runtime metrics.
///
/// Usually derived with `#[derive(MetricCollector)]` (see the [crate docs](crate)); implement it
/// by hand when the metrics are not known as fields:
///
/// ```
/// use sentry_runtime_metrics::{MetricCollector, RuntimeMetric, MetricType, MetricValue};
///
/// struct MyCustomCollector;
///
/// impl MetricCollector for MyCustomCollector {
///     fn collect(&self) -> Vec<RuntimeMetric> {
///         vec![RuntimeMetric {
///             name: "my_app.custom_metric".into(),
///             metric_type: MetricType::Gauge,
///             value: MetricValue::Int(42),
///             unit: None,
///             tags: Default::default(),
///         }]
///     }
///
///     fn name(&self) -> &'static str {
///         "my-custom-collector"
///     }
/// }
/// ```
///
/// Counters are reported as running totals (the integration sends the increase since the previous
/// round) unless [`descriptors`](MetricCollector::descriptors) marks them as
/// [`delta`](MetricDescriptor::delta).
///
/// A collector is never run twice at once, but not always on the same thread: on the
/// integration's own threads (at init, for counter baselines, then every round), or on the
/// thread calling `collect_now`. Do not rely on thread-locals or per-thread statistics in it.
pub trait MetricCollector: Send {
    /// Samples now and returns the metrics: a one-off snapshot, for use outside the
    /// integration (a test, a CLI printing the current state). The integration calls
    /// [`collect_mut`](MetricCollector::collect_mut) instead, which keeps state from one round
    /// to the next (a derived collector's `collect` samples a clone, so what its sample method
    /// remembers, such as the previous CPU time for a utilization, is not carried over).
    fn collect(&self) -> Vec<RuntimeMetric>;

    /// A short name for logs, e.g. `"work-queue"`.
    fn name(&self) -> &'static str;

    /// Samples now, keeping any state the sample changes for the next round. This is what the
    /// integration calls. An error means "nothing this round"; it is reported, not sent.
    ///
    /// The default calls [`collect`](MetricCollector::collect). The derive samples in place.
    fn collect_mut(&mut self) -> Result<Vec<RuntimeMetric>, CollectError> {
        Ok(self.collect())
    }

    /// Every metric this collector can send. The default, for hand-written collectors, is empty.
    fn descriptors(&self) -> Vec<MetricDescriptor> {
        Vec::new()
    }

    /// Whether this collector is done for good: what it reads is gone (the Tokio runtime shut
    /// down, the pool was closed) and it will never send again. The integration asks after each
    /// run and removes a finished collector, so collectors of short-lived things do not pile up.
    /// The default is never; the derive returns the `#[finished]` field.
    fn is_finished(&self) -> bool {
        false
    }

    /// Whether every counter this collector returns already holds the increase since its
    /// previous run (it keeps its own previous totals, or drains what it counts). The
    /// integration then sends counter values as they are, and takes no baseline of this
    /// collector: its first run sends, since there is no running total to record. The default
    /// is false: counters are running totals, unless [`descriptors`](Self::descriptors) marks
    /// one [`delta`](MetricDescriptor::delta).
    fn counters_are_deltas(&self) -> bool {
        false
    }

    /// Most metrics the integration keeps of one run; more are dropped and counted (reason
    /// `over_cap`). The default, [`MAX_METRICS_PER_COLLECTOR`], suits collectors with a fixed
    /// set of series. A collector whose series come from elsewhere (a bridge from another
    /// metrics API) bounds its own output and returns that bound here, so the integration never
    /// cuts it short. Read once, when the collector is registered.
    fn max_metrics_per_round(&self) -> usize {
        MAX_METRICS_PER_COLLECTOR
    }

    /// Values this collector had to drop itself since the last call, over limits of its own
    /// (e.g. a cap on series). The integration counts them with its own losses:
    /// [`RuntimeMetricsStats::metrics_dropped`](crate::RuntimeMetricsStats::metrics_dropped)
    /// and the `runtime_metrics.dropped` counter with reason `collector_limit`. Called after
    /// each run that collected (without an error or a panic) in a round that sends; what is not
    /// taken stays for the next call. The default is 0.
    fn take_dropped(&mut self) -> u64 {
        0
    }
}

impl<T: MetricCollector + ?Sized> MetricCollector for Box<T> {
    fn collect(&self) -> Vec<RuntimeMetric> {
        (**self).collect()
    }

    fn name(&self) -> &'static str {
        (**self).name()
    }

    fn collect_mut(&mut self) -> Result<Vec<RuntimeMetric>, CollectError> {
        (**self).collect_mut()
    }

    fn descriptors(&self) -> Vec<MetricDescriptor> {
        (**self).descriptors()
    }

    fn is_finished(&self) -> bool {
        (**self).is_finished()
    }

    fn counters_are_deltas(&self) -> bool {
        (**self).counters_are_deltas()
    }

    fn max_metrics_per_round(&self) -> usize {
        (**self).max_metrics_per_round()
    }

    fn take_dropped(&mut self) -> u64 {
        (**self).take_dropped()
    }
}

/// A collector could not sample this round (its sample method returned an error).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CollectError {
    collector: &'static str,
    message: String,
}

impl CollectError {
    /// An error of the collector named `collector`.
    pub fn new(collector: &'static str, message: impl fmt::Display) -> Self {
        CollectError {
            collector,
            message: message.to_string(),
        }
    }

    /// The name of the collector that failed.
    pub fn collector(&self) -> &'static str {
        self.collector
    }

    /// What went wrong, as the sample method's error displayed it.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for CollectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "collector `{}` failed to sample: {}",
            self.collector, self.message
        )
    }
}

impl std::error::Error for CollectError {}
