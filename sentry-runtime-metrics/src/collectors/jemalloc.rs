//! [`JemallocMetrics`]: jemalloc's own statistics, when jemalloc is the global allocator.

use std::fmt;
use std::sync::OnceLock;

use tikv_jemalloc_ctl::{epoch, epoch_mib, stats, thread};

use sentry_runtime_metrics_derive::MetricCollector;

/// jemalloc's statistics, read after advancing its epoch (they are cached until then).
///
/// Sends nothing unless jemalloc is the process's global allocator (e.g.
/// `#[global_allocator] static A: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;`):
/// a linked but unused jemalloc would report near-zero heaps, which would be a misleading number.
#[derive(Clone, Copy, MetricCollector)]
#[collector(name = "jemalloc")]
pub struct JemallocMetrics {
    /// Bytes allocated by the application (jemalloc `stats.allocated`).
    #[gauge(name = "runtime.memory.heap_allocated", unit = "byte")]
    allocated: Option<u64>,
    /// Bytes in active pages: allocated plus fragmentation inside them (`stats.active`).
    #[gauge(name = "runtime.memory.jemalloc.active", unit = "byte")]
    active: Option<u64>,
    /// Bytes of physically resident data pages mapped by jemalloc (`stats.resident`).
    #[gauge(name = "runtime.memory.jemalloc.resident", unit = "byte")]
    resident: Option<u64>,
    /// Bytes in active extents mapped by jemalloc (`stats.mapped`).
    #[gauge(name = "runtime.memory.jemalloc.mapped", unit = "byte")]
    mapped: Option<u64>,
    /// Bytes retained (virtual memory kept for reuse, not returned to the OS) (`stats.retained`).
    #[gauge(name = "runtime.memory.jemalloc.retained", unit = "byte")]
    retained: Option<u64>,
    /// The share of active pages not allocated to the application (`1 - stats.allocated /
    /// stats.active`): fragmentation. A heap that grows with this flat is a leak; this rising
    /// while the allocated bytes stay flat is fragmentation.
    #[gauge(name = "runtime.memory.jemalloc.fragmentation", unit = "ratio")]
    fragmentation: Option<f64>,
    epoch: Option<epoch_mib>,
}

impl JemallocMetrics {
    /// A jemalloc collector.
    pub fn new() -> Self {
        JemallocMetrics {
            allocated: None,
            active: None,
            resident: None,
            mapped: None,
            retained: None,
            fragmentation: None,
            epoch: epoch::mib().ok(),
        }
    }

    /// Whether jemalloc is the global allocator: an allocation through the global allocator
    /// must show in this thread's jemalloc counter (`thread.allocatedp`), which other threads
    /// cannot disturb. Checked once.
    pub fn jemalloc_is_global() -> bool {
        static GLOBAL: OnceLock<bool> = OnceLock::new();
        *GLOBAL.get_or_init(|| {
            const PROBE: usize = 4096;
            let Ok(counter) = thread::allocatedp::read() else {
                return false;
            };
            let before = counter.get();
            let block = std::hint::black_box(vec![1u8; PROBE]);
            let after = counter.get();
            drop(block);
            after >= before + PROBE as u64
        })
    }

    fn sample(&mut self) {
        let fresh = Self::jemalloc_is_global() && self.epoch.is_some_and(|e| e.advance().is_ok());
        let read = |value: tikv_jemalloc_ctl::Result<usize>| {
            value.ok().filter(|_| fresh).map(|bytes| bytes as u64)
        };
        self.allocated = read(stats::allocated::read());
        self.active = read(stats::active::read());
        self.resident = read(stats::resident::read());
        self.mapped = read(stats::mapped::read());
        self.retained = read(stats::retained::read());
        self.fragmentation = fragmentation(self.allocated, self.active);
    }
}

/// The share of `active` bytes not `allocated`: from one epoch, so `allocated <= active`
/// (clamped should a future jemalloc round them apart); `None` without active pages.
#[allow(clippy::cast_precision_loss)] // A ratio; bytes far below 2^53 are exact.
fn fragmentation(allocated: Option<u64>, active: Option<u64>) -> Option<f64> {
    let (allocated, active) = (allocated?, active.filter(|active| *active > 0)?);
    Some(active.saturating_sub(allocated) as f64 / active as f64)
}

impl fmt::Debug for JemallocMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // jemalloc's epoch handle has no `Debug`; whether it was found is what matters.
        f.debug_struct("JemallocMetrics")
            .field("allocated", &self.allocated)
            .field("active", &self.active)
            .field("resident", &self.resident)
            .field("mapped", &self.mapped)
            .field("retained", &self.retained)
            .field("fragmentation", &self.fragmentation)
            .field("epoch", &self.epoch.map(|_| "found"))
            .finish()
    }
}

/// Reads jemalloc, nothing of the shared sources.
impl super::built_in::SharesReadings for JemallocMetrics {}

impl Default for JemallocMetrics {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::fragmentation;

    #[test]
    fn fragmentation_is_the_share_of_active_bytes_not_allocated() {
        assert_eq!(fragmentation(Some(75), Some(100)), Some(0.25));
        assert_eq!(fragmentation(Some(100), Some(100)), Some(0.0));
        assert_eq!(
            fragmentation(Some(120), Some(100)),
            Some(0.0),
            "never negative"
        );
        assert_eq!(fragmentation(Some(0), Some(0)), None, "no active pages");
        assert_eq!(fragmentation(None, Some(100)), None);
    }
}
