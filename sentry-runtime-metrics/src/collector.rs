//! The [`MetricCollector`] trait: a source of metrics sampled once per round.

use std::fmt;

use crate::descriptor::MetricDescriptor;
use crate::metric::RuntimeMetric;

/// Most metrics the integration keeps of one collector's run unless the collector says otherwise
/// ([`Collected::max_metrics`]); the rest are dropped and counted. Generous for real collectors
/// (a 64-worker Tokio runtime with per-worker series sends ~700), small enough that a runaway
/// collector cannot flood the SDK's queue (10 envelopes of 100 metrics; its transport holds 30).
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
/// A counter a collector returns is the increase to send, as in Sentry's own API
/// (`sentry_core::metrics::counter(name, 1)` counts one event): Sentry sums counter values. A
/// collector that reads running totals (a count kept since start, the kernel's totals) keeps
/// their last values and returns what they grew by: [`RunningTotals`](crate::RunningTotals) does
/// that, and the derive does it for `#[counter]` fields. A counter of 0 is not sent.
///
/// A collector is never run twice at once, but not always on the same thread: on the
/// integration's worker threads in background rounds, or on the thread calling `collect_now`.
/// Do not rely on thread-locals or per-thread statistics in it.
pub trait MetricCollector: Send {
    /// Samples now and returns the metrics: a one-off snapshot, for use outside the
    /// integration (a test, a CLI printing the current state). The integration calls
    /// [`collect_mut`](MetricCollector::collect_mut) instead, which keeps state from one round
    /// to the next (a derived collector's `collect` samples a clone: its counters are the
    /// increases since its last `collect_mut`, and nothing it remembers changes).
    fn collect(&self) -> Vec<RuntimeMetric>;

    /// A short name for logs, e.g. `"work-queue"`.
    fn name(&self) -> &'static str;

    /// What the integration calls every round: samples now, keeping any state the sample changes
    /// for the next round, and returns what to send. An error means "nothing this round"; it is
    /// reported, not sent.
    ///
    /// The default calls [`collect`](MetricCollector::collect). The derive samples in place.
    fn collect_mut(&mut self) -> Result<Collected, CollectError> {
        Ok(Collected::new(self.collect()))
    }

    /// Every metric this collector can send, for docs and tools. The default, for hand-written
    /// collectors, is empty; the derive lists its fields.
    fn descriptors(&self) -> Vec<MetricDescriptor> {
        Vec::new()
    }
}

impl<T: MetricCollector + ?Sized> MetricCollector for Box<T> {
    fn collect(&self) -> Vec<RuntimeMetric> {
        (**self).collect()
    }

    fn name(&self) -> &'static str {
        (**self).name()
    }

    fn collect_mut(&mut self) -> Result<Collected, CollectError> {
        (**self).collect_mut()
    }

    fn descriptors(&self) -> Vec<MetricDescriptor> {
        (**self).descriptors()
    }
}

/// What one run of a collector returns: the metrics to send, and what only some collectors have
/// to say about them.
///
/// ```
/// use sentry_runtime_metrics::{Collected, RuntimeMetric};
///
/// # let metrics: Vec<RuntimeMetric> = Vec::new();
/// // A bridge from another metrics API that bounds its own output and drops past a limit.
/// let collected = Collected::new(metrics).with_max_metrics(2_500).with_dropped(3);
/// assert_eq!(collected.dropped, 3);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Collected {
    /// The metrics of this run; counters hold increases.
    pub metrics: Vec<RuntimeMetric>,
    /// Values the collector dropped itself, over limits of its own, since its previous run
    /// (e.g. updates of series past a cap). Counted with the integration's own losses:
    /// [`RuntimeMetricsStats::metrics_dropped`](crate::RuntimeMetricsStats::metrics_dropped)
    /// and the `runtime_metrics.dropped` counter with reason `collector_limit`.
    pub dropped: u64,
    /// Most metrics the integration keeps of this run; more are dropped and counted (reason
    /// `over_cap`). [`MAX_METRICS_PER_COLLECTOR`] unless the collector bounds its own output and
    /// says so, so that the integration never cuts it short.
    pub max_metrics: usize,
    /// The collector is done for good: what it reads is gone (the Tokio runtime shut down, the
    /// pool was closed) and it will never send again. The integration sends this run's metrics
    /// and removes it, so collectors of short-lived things do not pile up.
    pub finished: bool,
    /// Parts of this collector that could not run this round, each reported under its own
    /// name (the members of the integration's built-in group).
    pub(crate) failed_parts: Vec<FailedPart>,
}

/// A part of a collector that could not run this round.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct FailedPart {
    /// Its name, which its losses are reported under.
    pub(crate) name: &'static str,
    pub(crate) failure: Failure,
    /// The metrics its round would have sent (as many as the last time it ran).
    pub(crate) metrics: u64,
    /// Whether this is the first such failure of the part (worth a line in the debug log).
    pub(crate) note: bool,
}

/// Why a collector, or a part of one, did not send this round.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Failure {
    /// It returned this error.
    Error(String),
    /// It panicked with this message.
    Panic(String),
    /// It rests after panicking.
    Resting,
}

impl Collected {
    /// `metrics`, with nothing dropped, the default bound, and not finished.
    pub fn new(metrics: Vec<RuntimeMetric>) -> Self {
        Collected {
            metrics,
            dropped: 0,
            max_metrics: MAX_METRICS_PER_COLLECTOR,
            finished: false,
            failed_parts: Vec::new(),
        }
    }

    /// Sets [`dropped`](Self::dropped).
    #[must_use]
    pub fn with_dropped(mut self, dropped: u64) -> Self {
        self.dropped = dropped;
        self
    }

    /// Sets [`max_metrics`](Self::max_metrics).
    #[must_use]
    pub fn with_max_metrics(mut self, max_metrics: usize) -> Self {
        self.max_metrics = max_metrics;
        self
    }

    /// Sets [`finished`](Self::finished).
    #[must_use]
    pub fn with_finished(mut self, finished: bool) -> Self {
        self.finished = finished;
        self
    }
}

impl From<Vec<RuntimeMetric>> for Collected {
    fn from(metrics: Vec<RuntimeMetric>) -> Self {
        Collected::new(metrics)
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
