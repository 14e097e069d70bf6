//! The built-in collectors, written with `#[derive(MetricCollector)]` like any user collector.
//!
//! The integration registers them according to `RuntimeMetricsConfig::collect_memory` /
//! `collect_process`, `collect_container` and the cargo features; each also works on its own:
//!
//! ```
//! # #[cfg(feature = "process")] {
//! use sentry_runtime_metrics::MetricCollector;
//! use sentry_runtime_metrics::collectors::ProcessMetrics;
//!
//! let process = ProcessMetrics::new();
//! for metric in process.collect() {
//!     println!("{} = {}", metric.name, metric.value);
//! }
//! # }
//! ```

#[cfg(feature = "process")]
mod container;
#[cfg(feature = "jemalloc")]
mod jemalloc;
#[cfg(feature = "memory")]
mod memory;
#[cfg(feature = "process")]
mod process;
#[cfg(feature = "tokio-runtime")]
mod tokio_runtime;

#[cfg(feature = "process")]
pub use container::ContainerMetrics;
#[cfg(feature = "jemalloc")]
pub use jemalloc::JemallocMetrics;
#[cfg(feature = "memory")]
pub use memory::MemoryMetrics;
#[cfg(feature = "process")]
pub use process::ProcessMetrics;
#[cfg(feature = "tokio-runtime")]
pub use tokio_runtime::{DEFAULT_PROBE_TIMEOUT, TokioMetrics};
