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
#[cfg(feature = "process")]
mod thread_groups;
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
#[cfg(feature = "process")]
pub use thread_groups::{EXITED_GROUP, OTHER_GROUP, ThreadGroupMetrics};

/// Whether jemalloc is the global allocator (then `JemallocMetrics` sends the heap, and the
/// memory collector does not); always false without the `jemalloc` feature.
#[cfg(any(feature = "memory", feature = "process"))]
pub(crate) fn jemalloc_is_global() -> bool {
    #[cfg(feature = "jemalloc")]
    {
        JemallocMetrics::jemalloc_is_global()
    }
    #[cfg(not(feature = "jemalloc"))]
    {
        false
    }
}

/// Thread groups sent by name by default; the rest are summed as `other`.
pub const DEFAULT_MAX_THREAD_GROUPS: usize = DEFAULT_MAX_GROUPS;
#[cfg(feature = "tokio-runtime")]
pub use tokio_runtime::{DEFAULT_HISTOGRAM_VALUES, DEFAULT_PROBE_TIMEOUT, TokioMetrics};

/// Settings of the built-in collectors that the integration's builder methods change after
/// they were created (shared with them; read at each sample).
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    /// Whether the container collector sends the system's pressure.
    pub(crate) host_pressure: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// Thread groups sent by name; 0 turns thread groups off.
    pub(crate) max_thread_groups: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            host_pressure: std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true)),
            max_thread_groups: std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(
                DEFAULT_MAX_GROUPS,
            )),
        }
    }
}

/// Thread groups sent by name by default.
const DEFAULT_MAX_GROUPS: usize = 16;

/// The built-in collectors that `memory`, `process` and `container` (with `process` only) and
/// the cargo features turn on, as the one collector that samples them together; `None` when
/// none is on.
pub(crate) fn built_in(
    memory: bool,
    process: bool,
    container: bool,
    settings: &Settings,
) -> Option<Box<dyn crate::collector::MetricCollector>> {
    // Without the features, the switches have nothing to turn on.
    let _ = (memory, process, container, settings);
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
            built_in.add(ThreadGroupMetrics::with_sources(
                built_in.sources(),
                std::sync::Arc::clone(&settings.max_thread_groups),
            ));
            // Part of the process's health: off with `process`, and on its own switch too.
            if container {
                built_in.add(ContainerMetrics::with_sources(
                    built_in.sources(),
                    std::sync::Arc::clone(&settings.host_pressure),
                ));
            }
        }
        if !built_in.is_empty() {
            return Some(Box::new(built_in));
        }
    }
    None
}
