//! With jemalloc as the global allocator, `JemallocMetrics` follows real allocations.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Tests fail loudly.

use sentry_runtime_metrics::MetricCollector;
use sentry_runtime_metrics::collectors::JemallocMetrics;

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn value(collector: &JemallocMetrics, name: &str) -> f64 {
    let metrics = collector.collect();
    metrics
        .iter()
        .find(|m| m.name == name)
        .unwrap_or_else(|| panic!("{name} missing from {metrics:#?}"))
        .value
        .as_f64()
}

#[test]
fn heap_allocated_rises_with_a_32_mib_allocation() {
    assert!(JemallocMetrics::jemalloc_is_global());
    let collector = JemallocMetrics::new();
    let before = value(&collector, "runtime.memory.heap_allocated");
    let block = std::hint::black_box(vec![1u8; 32 << 20]);
    let after = value(&collector, "runtime.memory.heap_allocated");
    assert!(
        after - before >= (32 << 20) as f64,
        "heap_allocated rose by {}",
        after - before
    );
    // The other statistics are consistent with it.
    assert!(value(&collector, "runtime.memory.jemalloc.active") >= after);
    assert!(
        value(&collector, "runtime.memory.jemalloc.mapped")
            >= value(&collector, "runtime.memory.jemalloc.active")
    );
    assert!(value(&collector, "runtime.memory.jemalloc.resident") > 0.0);
    drop(block);
}
