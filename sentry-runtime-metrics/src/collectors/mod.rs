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

#[cfg(any(feature = "memory", feature = "process"))]
mod built_in;
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

/// The built-in collectors that `memory`, `process` and `container` (with `process` only) and
/// the cargo features turn on, as the one collector that samples them together; `None` when
/// none is on.
pub(crate) fn built_in(
    memory: bool,
    process: bool,
    container: bool,
    host_pressure: &std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> Option<Box<dyn crate::collector::MetricCollector>> {
    // Without the features, the switches have nothing to turn on.
    let _ = (memory, process, container, host_pressure);
    #[cfg(any(feature = "memory", feature = "process"))]
    {
        let mut built_in = built_in::BuiltIns::new();
        #[cfg(feature = "memory")]
        if memory {
            built_in.add(MemoryMetrics::with_sources(built_in.sources()));
            #[cfg(feature = "jemalloc")]
            built_in.add(JemallocMetrics::new());
        }
        #[cfg(feature = "process")]
        if process {
            built_in.add(ProcessMetrics::with_sources(built_in.sources()));
            // Part of the process's health: off with `process`, and on its own switch too.
            if container {
                built_in.add(ContainerMetrics::with_sources(
                    built_in.sources(),
                    std::sync::Arc::clone(host_pressure),
                ));
            }
        }
        if !built_in.is_empty() {
            return Some(Box::new(built_in));
        }
    }
    None
}
