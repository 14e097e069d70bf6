//! [`MemoryMetrics`]: resident memory, heap (with [`TrackingAllocator`]) and the cgroup limit.

use std::sync::Arc;

use crate::sys::{Cgroup, Process};
use sentry_runtime_metrics_derive::MetricCollector;

use crate::tracking_alloc::TrackingAllocator;

/// Memory of this process: resident set, heap when a [`TrackingAllocator`] is installed, and the
/// container (cgroup) memory limit with usage as a share of it.
///
/// Values the platform cannot give are not sent. With the `jemalloc` feature,
/// `JemallocMetrics` reports the heap instead.
#[derive(Clone, Debug, MetricCollector)]
#[collector(name = "memory")]
pub struct MemoryMetrics {
    /// Resident set size: bytes of this process in RAM now (not the peak).
    #[gauge(name = "runtime.memory.rss", unit = "byte")]
    rss: Option<u64>,
    /// Bytes allocated on the heap now (with `TrackingAllocator`; with jemalloc, from jemalloc).
    #[gauge(name = "runtime.memory.heap_allocated", unit = "byte")]
    heap_allocated: Option<u64>,
    /// Heap allocations made (with `TrackingAllocator`).
    #[counter(name = "runtime.memory.allocations")]
    allocations: Option<u64>,
    /// Memory limit of the process's cgroup (container); not sent when unlimited.
    #[gauge(name = "runtime.memory.limit", unit = "byte")]
    limit: Option<u64>,
    /// The cgroup's working set (usage minus inactive file cache) over its limit; near 1.0 an
    /// OOM kill is close.
    #[gauge(name = "runtime.memory.limit_usage", unit = "ratio")]
    limit_usage: Option<f64>,
    cgroup: Arc<Cgroup>,
    files: Arc<Process>,
}

impl MemoryMetrics {
    /// A memory collector for this process (finds its cgroup once).
    pub fn new() -> Self {
        MemoryMetrics {
            rss: None,
            heap_allocated: None,
            allocations: None,
            limit: None,
            limit_usage: None,
            cgroup: Arc::new(Cgroup::of_this_process()),
            files: Arc::new(Process::open()),
        }
    }

    fn sample(&mut self) {
        self.rss = self.files.snapshot().rss_bytes;
        self.heap_allocated = TrackingAllocator::<()>::heap_allocated();
        self.allocations = TrackingAllocator::<()>::allocations();
        self.limit = self.cgroup.memory_limit();
        #[allow(clippy::cast_precision_loss)] // A ratio; bytes far below 2^53 are exact.
        {
            self.limit_usage = self
                .limit
                .zip(self.cgroup.memory_working_set())
                .map(|(limit, usage)| usage as f64 / limit as f64);
        }
    }
}

impl Default for MemoryMetrics {
    fn default() -> Self {
        Self::new()
    }
}
