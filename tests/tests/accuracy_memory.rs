//! `runtime.memory.rss` against `VmRSS` of `/proc/self/status` (Linux).
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Tests fail loudly.

use sentry_runtime_metrics::collectors::{JemallocMetrics, MemoryMetrics};
use sentry_runtime_metrics::{MetricCollector, MetricValue};

fn rss(collector: &MemoryMetrics) -> f64 {
    let metrics = collector.collect();
    let rss = metrics
        .iter()
        .find(|m| m.name == "runtime.memory.rss")
        .expect("rss is sent on Linux");
    assert_eq!(rss.unit.as_deref(), Some("byte"));
    match rss.value {
        MetricValue::Int(v) => v as f64,
        MetricValue::Float(v) => v,
    }
}

fn vm_rss_from_status() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kb * 1024.0
}

#[test]
fn rss_matches_vm_rss_and_follows_touched_memory() {
    let collector = MemoryMetrics::new();
    let (ours, status) = (rss(&collector), vm_rss_from_status());
    assert!(
        (ours - status).abs() <= status * 0.10,
        "rss {ours} vs VmRSS {status}"
    );

    let before = rss(&collector);
    let mut block = vec![0u8; 64 << 20];
    for page in block.chunks_mut(4096) {
        page[0] = 1; // Touch every page so it becomes resident.
    }
    let after = rss(&collector);
    assert!(
        after - before >= (60 << 20) as f64,
        "rss rose by {} bytes",
        after - before
    );
    std::hint::black_box(&block);
    // No cgroup limit on this machine or one: either way, never a placeholder.
    let metrics = collector.collect();
    let limit = metrics.iter().find(|m| m.name == "runtime.memory.limit");
    let usage = metrics
        .iter()
        .find(|m| m.name == "runtime.memory.limit_usage");
    assert_eq!(limit.is_some(), usage.is_some());
    if let Some(limit) = limit {
        assert!(limit.value.as_f64() > 0.0);
    }
}

#[test]
fn jemalloc_metrics_send_nothing_when_jemalloc_is_not_the_global_allocator() {
    // This binary uses the system allocator, though jemalloc is linked (the feature is on).
    assert!(!JemallocMetrics::jemalloc_is_global());
    assert!(JemallocMetrics::new().collect().is_empty());
    // Nor does the memory collector invent a heap size without a TrackingAllocator.
    let names: Vec<_> = MemoryMetrics::new()
        .collect()
        .into_iter()
        .map(|m| m.name)
        .collect();
    assert!(
        !names
            .iter()
            .any(|n| n == "runtime.memory.heap_allocated" || n == "runtime.memory.allocations")
    );
}

/// The peak is never sent below the resident set of the same round, while another thread grows
/// and shrinks the process (the kernel's per-CPU resident counters and the order of the reads
/// once sent a peak 140 to 270 KiB under the resident set).
#[test]
fn the_peak_is_never_below_the_resident_set_of_the_same_round() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let running = Arc::new(AtomicBool::new(true));
    let churn = {
        let running = running.clone();
        std::thread::spawn(move || {
            while running.load(Ordering::Relaxed) {
                // Touched page by page: resident memory that comes and goes.
                let mut block = vec![0u8; 8 << 20];
                for page in block.chunks_mut(4096) {
                    page[0] = 1;
                }
                std::hint::black_box(&block);
            }
        })
    };
    let mut collector = MemoryMetrics::new();
    let value = |metrics: &[sentry_runtime_metrics::RuntimeMetric], name: &str| {
        metrics
            .iter()
            .find(|m| m.name == name)
            .map(|m| m.value.as_f64())
    };
    for _ in 0..3000 {
        let metrics = collector.collect_mut().unwrap().metrics;
        let (rss, peak) = (
            value(&metrics, "runtime.memory.rss").unwrap(),
            value(&metrics, "runtime.memory.rss.peak").unwrap(),
        );
        assert!(peak >= rss, "peak {peak} under the resident set {rss}");
    }
    running.store(false, Ordering::Relaxed);
    churn.join().unwrap();
}
