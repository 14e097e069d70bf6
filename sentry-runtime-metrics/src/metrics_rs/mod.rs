//! A recorder for the [`metrics`] facade: what `metrics::counter!`, `gauge!` and `histogram!`
//! record, in your code or in any crate you use, is sent to Sentry by the integration's rounds.
//!
//! With the `metrics-rs` feature.
//!
//! # Examples
//!
//! Install the recorder globally and hand its collector to the integration:
//!
//! ```
//! use sentry_runtime_metrics::{RuntimeMetricsConfig, RuntimeMetricsIntegration};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let recorded = sentry_runtime_metrics::metrics_rs::install()?;
//! let _guard = sentry::init(sentry::ClientOptions::new().add_integration(
//!     RuntimeMetricsIntegration::new(RuntimeMetricsConfig {
//!         custom_collectors: vec![Box::new(recorded)],
//!         ..Default::default()
//!     }),
//! ));
//!
//! metrics::counter!("http.requests", "route" => "/users").increment(1);
//! metrics::histogram!("http.duration", "route" => "/users").record(0.012);
//! # Ok(())
//! # }
//! ```
//!
//! To compose it with other recorders (a Prometheus exporter, a filter), build it without
//! installing it, and install what you composed:
//!
//! ```
//! use metrics_util::layers::FanoutBuilder;
//! use sentry_runtime_metrics::metrics_rs;
//!
//! let (recorder, recorded) = metrics_rs::Builder::new().max_series(500).build();
//! # let other = metrics::NoopRecorder;
//! let fanout = FanoutBuilder::default()
//!     .add_recorder(recorder)
//!     .add_recorder(other)
//!     .build();
//! metrics::set_global_recorder(fanout).expect("no recorder installed yet");
//! // `recorded` goes into `RuntimeMetricsConfig::custom_collectors`.
//! # drop(recorded);
//! ```
//!
//! # What is sent
//!
//! Every round (`RuntimeMetricsConfig::collection_interval`):
//!
//! - **Counters** (`increment`, `absolute`): the increase since the last round, per series, as a
//!   Sentry counter. A series first seen after the integration started sends its whole value in
//!   its first round (it started at 0). A round in which a counter did not move sends nothing
//!   for it: Sentry sums counters, and a 0 adds nothing.
//! - **Gauges** (`set`, `increment`, `decrement`): the current value. A gauge only registered,
//!   never given a value, is not sent.
//! - **Histograms** (`record`): the values recorded since the last round, as a Sentry
//!   distribution. Per series and round at most [`Builder::histogram_samples`] values are kept
//!   (100 by default): up to that many, every value; past it, a uniform sample of that many
//!   (reservoir sampling). The exact number recorded is always sent as the counter
//!   `<name>.count`, so rates stay exact while percentiles come from the sample. All histograms
//!   together send at most [`Builder::max_histogram_values`] values per round (500 by
//!   default); when they kept more, each gets an equal share of them (one that needs fewer
//!   gives the rest to the others), still a uniform sample of its own values. Percentiles
//!   taken over several series at once weigh each series by its sample, not by its count.
//! - **Labels** become attributes. **Units** given with `describe_*` (or the macros' `unit =`)
//!   become Sentry units: `Seconds` → `second`, `Milliseconds` → `millisecond`, `Bytes` →
//!   `byte`, `Kibibytes` → `kibibyte`, `Percent` → `percent` ...; `Count` and the rates have no
//!   Sentry unit and are sent without one. Counters carry no unit in Sentry's API. Descriptions
//!   feed [`MetricCollector::descriptors`](crate::MetricCollector::descriptors).
//!
//! Names and attributes pass the same checks as every collector's: a name Sentry would rewrite
//! is rewritten and counted, an empty one is dropped and counted (`RuntimeMetricsStats`, the
//! `runtime_metrics.dropped` counter).
//!
//! # Bounds
//!
//! - At most [`Builder::max_series`] series (2 000 by default; counters, gauges and histograms
//!   together), and a key (name and labels) of at most 4 KiB. The handle of a series past
//!   either records nothing; each of its updates (an increment, a `set`, a recorded value) is
//!   counted as dropped, in `runtime_metrics.dropped` with reason `collector_limit` and
//!   `RuntimeMetricsStats::metrics_dropped`, and the debug log says so once. These are counted
//!   in updates, not in the metrics a round would have sent.
//! - Series nobody records into any more are forgotten, as metrics-util's `recency` and the
//!   Prometheus exporter's `idle_timeout` do (the facade has no way to say a series is gone): a
//!   series that no handle holds and that nothing was recorded into for
//!   [`Builder::idle_timeout`] (5 minutes by default) is no longer sent and frees its place
//!   under the limit, so labels that churn (per connection, per tenant) do not fill it for the
//!   life of the process, and idle gauges are not sent for ever (every value sent is billed).
//!   Recorded into again, a series is made anew, and its counter sends from 0: every increase
//!   is still sent once. Counters set with `absolute` and gauges moved with `increment` or
//!   `decrement` are never forgotten (made anew, one would send its whole total again, the
//!   other start again from 0); a gauge set once and never again stops being sent unless its
//!   handle is kept.
//! - Memory, measured with a counting allocator (`cargo run --release -p
//!   sentry-runtime-metrics-tests --example facade_memory`): a counter or gauge series takes
//!   about 250 bytes, 800 with two short labels (most of it the attribute map); a histogram
//!   series about 3.5 KiB with two labels at the default sample size (two windows of 100
//!   values, and the round's copy). Descriptions stop at as many names as there may be series.
//!   At the default limits and short keys, at most about 7 MiB.
//! - A round sends at most `max_series + max_histogram_values` metrics (2 500 by default, 25
//!   of the SDK's envelopes of 100; its transport queue holds 30 by default, see
//!   `ClientOptions::transport_channel_capacity`), and each round says so to the integration
//!   ([`Collected::max_metrics`](crate::Collected::max_metrics)), which keeps to it.
//!
//! # Cost
//!
//! Updating a registered handle takes no lock and allocates nothing: a counter increment or a
//! gauge `set` is one atomic operation on the series, a gauge `increment` a compare-and-swap
//! loop, a histogram value one atomic add and one store (past the sample size, a hash decides
//! whether it replaces one). Finding the handle again with a macro call is a read lock of one
//! of 16 maps and a lookup by the key's precomputed hash. The numbers, against the Prometheus
//! exporter's recorder, are in BENCHMARKS.md.

mod budget;
mod collector;
mod descriptions;
mod recorder;
mod registry;
mod reservoir;
mod series;
mod tracked;
mod units;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

pub use collector::RecordedMetrics;
pub use recorder::SentryRecorder;

use registry::{Limits, Registry};

/// Most values of one histogram series kept per round ([`Builder::histogram_samples`]): each
/// series holds two windows of that many.
pub const MAX_HISTOGRAM_SAMPLES: usize = 10_000;

/// How long a series that no handle holds and nothing records into is kept, by default
/// ([`Builder::idle_timeout`]).
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(300);

/// Builds a [`SentryRecorder`] and its [`RecordedMetrics`] collector, with limits.
#[derive(Clone, Debug)]
#[must_use]
pub struct Builder {
    limits: Limits,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            limits: Limits {
                max_series: 2_000,
                histogram_samples: 100,
                max_histogram_values: 500,
                idle_timeout: Some(DEFAULT_IDLE_TIMEOUT),
            },
        }
    }
}

impl Builder {
    /// The defaults: 2 000 series, 100 values per histogram series and round, 500 histogram
    /// values per round.
    pub fn new() -> Self {
        Builder::default()
    }

    /// Most series recorded (counters, gauges and histograms together); updates of series past
    /// it are dropped and counted. Default 2 000.
    pub fn max_series(mut self, max_series: usize) -> Self {
        self.limits.max_series = max_series;
        self
    }

    /// Most values of one histogram series sent per round; past it, a uniform sample of that
    /// many. 0 sends only the `<name>.count` counter. Default 100, at most
    /// [`MAX_HISTOGRAM_SAMPLES`] (a larger value is taken as that).
    pub fn histogram_samples(mut self, samples: usize) -> Self {
        self.limits.histogram_samples = samples.min(MAX_HISTOGRAM_SAMPLES);
        self
    }

    /// Most histogram values sent per round, all series together; when more were kept, each
    /// series sends an equal share. Default 500.
    pub fn max_histogram_values(mut self, values: usize) -> Self {
        self.limits.max_histogram_values = values;
        self
    }

    /// How long a series nobody records into any more is kept (default
    /// [`DEFAULT_IDLE_TIMEOUT`], 5 minutes); `None` keeps every series for the life of the
    /// recorder. A series is idle while no handle of it is held (a `metrics::Counter` kept in a
    /// variable is one; the macros' handles live for one call) and nothing is recorded into it;
    /// forgotten, it is no longer sent and frees its place under [`max_series`](Self::max_series),
    /// and recorded into again, it is made anew. Counters set with `absolute` and gauges moved
    /// with `increment`/`decrement` are never forgotten: made anew, one would send its total
    /// again and the other start again from 0. A gauge set once and never again stops being sent
    /// after this long: keep its handle (or set it again) for it to go on being sent.
    pub fn idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.limits.idle_timeout = timeout;
        self
    }

    /// The recorder, for you to install or compose, and the collector that sends what it
    /// records.
    pub fn build(self) -> (SentryRecorder, RecordedMetrics) {
        let registry = Arc::new(Registry::new(self.limits));
        (
            SentryRecorder::new(Arc::clone(&registry)),
            RecordedMetrics::new(registry),
        )
    }

    /// Installs the recorder as the global `metrics` recorder and returns the collector that
    /// sends what it records. Fails if a global recorder is already installed (the facade
    /// allows one per process).
    pub fn install(self) -> Result<RecordedMetrics, InstallError> {
        let (recorder, recorded) = self.build();
        metrics::set_global_recorder(recorder).map_err(|_| InstallError(()))?;
        Ok(recorded)
    }
}

/// Installs a recorder with the default limits as the global `metrics` recorder and returns
/// the collector that sends what it records: `Builder::new().install()`.
pub fn install() -> Result<RecordedMetrics, InstallError> {
    Builder::new().install()
}

/// A global `metrics` recorder was already installed: the facade allows one per process. To
/// send to Sentry as well, compose recorders ([`Builder::build`] and a fanout) before
/// installing.
#[derive(Debug)]
pub struct InstallError(());

impl fmt::Display for InstallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "a global `metrics` recorder is already installed; build the Sentry recorder with \
             `metrics_rs::Builder::build` and compose the two (e.g. metrics-util's \
             `FanoutBuilder`) before installing",
        )
    }
}

impl std::error::Error for InstallError {}
