//! [`MemoryMetrics`]: resident memory now and at its peak, heap (with [`TrackingAllocator`]) and
//! the cgroup limit in effect.

use std::sync::Arc;

use sentry_runtime_metrics_derive::MetricCollector;

use super::built_in::SharesReadings;
use crate::running_totals::RunningTotals;
use crate::sys::{Needs, Platform, Shared, Sources};
use crate::tracking_alloc::TrackingAllocator;

/// Memory of this process: resident set now and at its peak, heap when a [`TrackingAllocator`]
/// is installed, and the memory limit of its cgroup (the smallest set on its own cgroup or a
/// parent) with the working set as a share of it.
///
/// Values the platform cannot give are not sent. With the `jemalloc` feature and jemalloc as the
/// global allocator (also behind a `TrackingAllocator`), `JemallocMetrics` reports the heap and
/// this collector does not: one series, one source.
#[derive(Clone, Debug, MetricCollector)]
#[collector(name = "memory")]
pub struct MemoryMetrics {
    /// Resident set size: bytes of this process in RAM now (not the peak).
    #[gauge(name = "runtime.memory.rss", unit = "byte")]
    rss: Option<u64>,
    /// The largest resident set this process has had (`getrusage`; `VmHWM` while that still
    /// holds the peak of the program that started it).
    #[gauge(name = "runtime.memory.rss.peak", unit = "byte")]
    rss_peak: Option<u64>,
    /// The anonymous part of the resident set: heap, thread stacks and other memory no file
    /// backs (the kernel's `RssAnon`, from `statm`); a leak grows this.
    #[gauge(name = "runtime.memory.rss.anon", unit = "byte")]
    rss_anon: Option<u64>,
    /// The file-backed and shared part of the resident set: mapped files, the program's own
    /// code, and shared memory (`RssFile` + `RssShmem`, from `statm`). The kernel can drop or
    /// write back the mapped files; shared memory (tmpfs, `memfd`, shared anonymous mappings)
    /// it cannot, and a leak there grows this part.
    #[gauge(name = "runtime.memory.rss.file", unit = "byte")]
    rss_file: Option<u64>,
    /// Bytes allocated on the heap now (with `TrackingAllocator`; with jemalloc as the global
    /// allocator, the jemalloc collector sends it instead).
    #[gauge(name = "runtime.memory.heap_allocated", unit = "byte")]
    heap_allocated: Option<u64>,
    /// Heap allocations made (with `TrackingAllocator`).
    #[counter(name = "runtime.memory.allocations")]
    allocations: Option<u64>,
    /// Bytes allocated on the heap (with `TrackingAllocator`; a reallocation counts its new
    /// size): per second, the allocation rate.
    #[counter(name = "runtime.memory.allocated_bytes")]
    allocated_bytes: Option<u64>,
    /// Memory limit in effect: the smallest set on the process's cgroup or a parent (container,
    /// pod, systemd slice); not sent when unlimited.
    #[gauge(name = "runtime.memory.limit", unit = "byte")]
    limit: Option<u64>,
    /// The working set (usage minus inactive file cache) of the cgroup that sets the limit,
    /// over that limit; near 1.0 an OOM kill is close.
    #[gauge(name = "runtime.memory.limit_usage", unit = "ratio")]
    limit_usage: Option<f64>,
    /// The last allocation count and allocated bytes sent (counted from the process's start).
    #[totals]
    totals: RunningTotals,
    sources: Arc<Sources>,
    /// This round's shared readings, when the group that samples the built-in collectors
    /// together handed them over; read here when sampled alone.
    shared: Option<Shared>,
}

impl MemoryMetrics {
    /// A memory collector for this process (its cgroup is found when first needed, each file
    /// opened once).
    pub fn new() -> Self {
        Self::with_sources(Arc::new(Sources::open()))
    }

    /// A memory collector reading `sources`, shared with the other built-in collectors.
    pub(crate) fn with_sources(sources: Arc<Sources>) -> Self {
        MemoryMetrics {
            rss: None,
            rss_peak: None,
            rss_anon: None,
            rss_file: None,
            heap_allocated: None,
            allocations: None,
            allocated_bytes: None,
            limit: None,
            limit_usage: None,
            totals: RunningTotals::new(),
            sources,
            shared: None,
        }
    }

    fn sample(&mut self) {
        let shared =
            (self.shared.take()).unwrap_or_else(|| Shared::read(&self.sources, self.needs()));
        let resident = self.sources.resident();
        self.rss = resident.map(|resident| resident.bytes);
        let file = resident.and_then(|resident| resident.file_and_shared);
        self.rss_file = file;
        self.rss_anon = resident
            .zip(file)
            .map(|(resident, file)| resident.bytes - file);
        // Never below the resident set sent with it: the peak is read first (`getrusage`, at
        // the start of the round), the resident set after, and the kernel's resident counters
        // are per-CPU and summed only approximately (by up to a batch of pages per CPU) in both;
        // a process growing in between would otherwise send a peak under its current size.
        let rss = self.rss;
        self.rss_peak = shared
            .usage
            .and_then(|usage| self.sources.peak_rss(usage, rss))
            .map(|peak| rss.map_or(peak, |rss| peak.max(rss)));
        self.heap_allocated =
            TrackingAllocator::<()>::heap_allocated().filter(|_| !super::jemalloc_is_global());
        self.allocations = TrackingAllocator::<()>::allocations();
        self.allocated_bytes = TrackingAllocator::<()>::allocated_bytes();
        let limit = shared.memory_limit;
        self.limit = limit.map(|limit| limit.bytes);
        #[allow(clippy::cast_precision_loss)] // A ratio; bytes far below 2^53 are exact.
        {
            self.limit_usage = limit.and_then(|limit| {
                let working_set = self.sources.working_set(limit)?;
                Some(working_set as f64 / limit.bytes as f64)
            });
        }
    }
}

impl SharesReadings for MemoryMetrics {
    fn needs(&self) -> Needs {
        Needs {
            usage: true,
            memory_limit: true,
            cpu_quota: false,
        }
    }

    fn hand(&mut self, shared: Shared) {
        self.shared = Some(shared);
    }
}

impl Default for MemoryMetrics {
    fn default() -> Self {
        Self::new()
    }
}
