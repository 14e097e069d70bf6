//! [`RuntimeMetricsConfig`]: what to collect and how often.

use std::fmt;
use std::time::Duration;

use crate::collector::MetricCollector;
use crate::metric::Tags;

/// What the integration collects, and how often.
///
/// ```
/// use std::time::Duration;
/// use sentry_runtime_metrics::RuntimeMetricsConfig;
///
/// let config = RuntimeMetricsConfig {
///     collection_interval: Duration::from_secs(30),
///     collect_process: false,
///     ..Default::default()
/// };
/// assert!(config.collect_memory);
/// ```
pub struct RuntimeMetricsConfig {
    /// How often to collect metrics (default: 10 seconds).
    pub collection_interval: Duration,
    /// Enable memory metrics collection (default: on; needs the `memory` feature).
    pub collect_memory: bool,
    /// Enable process metrics collection (default: on; needs the `process` feature).
    pub collect_process: bool,
    /// Enable container metrics (default: on; with `collect_process` only, and the `process`
    /// feature; Linux): CPU throttling, OOM kills, memory limit hits and pressure of the
    /// process's cgroup.
    pub collect_container: bool,
    /// Enable async runtime metrics (default: on; needs the `tokio-runtime` feature).
    pub collect_async_runtime: bool,
    /// Custom metric collectors, sampled every round (the first an interval after init; nothing
    /// runs at init). They run on threads of the integration, so one slower than the interval
    /// delays only itself: it is never run twice at once, and rounds skip it until it returns.
    pub custom_collectors: Vec<Box<dyn MetricCollector>>,
    /// Attributes added to every metric this integration sends (e.g. `service = "api"`).
    pub attributes: Tags,
}

impl Default for RuntimeMetricsConfig {
    fn default() -> Self {
        RuntimeMetricsConfig {
            collection_interval: Duration::from_secs(10),
            collect_memory: true,
            collect_process: true,
            collect_container: true,
            collect_async_runtime: true,
            custom_collectors: Vec::new(),
            attributes: Tags::new(),
        }
    }
}

impl fmt::Debug for RuntimeMetricsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let custom: Vec<&str> = self.custom_collectors.iter().map(|c| c.name()).collect();
        f.debug_struct("RuntimeMetricsConfig")
            .field("collection_interval", &self.collection_interval)
            .field("collect_memory", &self.collect_memory)
            .field("collect_process", &self.collect_process)
            .field("collect_container", &self.collect_container)
            .field("collect_async_runtime", &self.collect_async_runtime)
            .field("custom_collectors", &custom)
            .field("attributes", &self.attributes)
            .finish()
    }
}
