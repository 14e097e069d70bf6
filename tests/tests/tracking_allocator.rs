//! With `TrackingAllocator` as the global allocator, `MemoryMetrics` reports the heap and the
//! allocation count.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Tests fail loudly.

use std::alloc::System;

use sentry_runtime_metrics::collectors::MemoryMetrics;
use sentry_runtime_metrics::{MetricCollector, TrackingAllocator};

#[global_allocator]
static ALLOCATOR: TrackingAllocator<System> = TrackingAllocator::new(System);

/// One collection: the heap now, the allocations made since the previous collection, and the
/// bytes they allocated.
fn collect(collector: &mut MemoryMetrics) -> (f64, f64, f64) {
    let metrics = collector.collect_mut().unwrap().metrics;
    let value = |name: &str| {
        metrics
            .iter()
            .find(|m| m.name == name)
            .map_or(0.0, |m| m.value.as_f64())
    };
    (
        value("runtime.memory.heap_allocated"),
        value("runtime.memory.allocations"),
        value("runtime.memory.allocated_bytes"),
    )
}

#[test]
fn heap_and_allocations_follow_real_allocations() {
    let mut collector = MemoryMetrics::new();
    // The first round sends every allocation since the process started.
    let (heap_before, since_start, bytes_since_start) = collect(&mut collector);
    assert!(since_start > 0.0 && bytes_since_start >= heap_before);
    let blocks: Vec<Vec<u8>> = (0..100).map(|_| vec![1u8; 1 << 20]).collect();
    let (heap_after, made, bytes) = collect(&mut collector);
    assert!(
        heap_after - heap_before >= (100 << 20) as f64,
        "heap +{}",
        heap_after - heap_before
    );
    // The hundred blocks and the vector holding them, and little else.
    assert!((101.0..1_000.0).contains(&made), "allocations +{made}");
    // The hundred MiB, the vector holding them, and the little the collection allocates.
    assert!(
        bytes >= (100 << 20) as f64 && bytes < ((100 << 20) + (256 << 10)) as f64,
        "allocated bytes +{bytes}"
    );
    drop(std::hint::black_box(blocks));
    let (heap_freed, _, bytes_freeing) = collect(&mut collector);
    assert!(
        heap_after - heap_freed >= (100 << 20) as f64,
        "freeing lowers the heap"
    );
    assert!(
        bytes_freeing < (256 << 10) as f64,
        "freeing allocates nothing: +{bytes_freeing}"
    );
    // A reallocation counts its new size: a 1 MiB vector grown to 4 MiB in one step.
    let mut grown = vec![1u8; 1 << 20];
    let _ = collect(&mut collector);
    grown.reserve_exact(3 << 20);
    let (_, reallocations, reallocated) = collect(&mut collector);
    assert!(reallocations >= 1.0, "{reallocations}");
    assert!(
        reallocated >= (4 << 20) as f64 && reallocated < ((4 << 20) + (256 << 10)) as f64,
        "reallocated +{reallocated}"
    );
    drop(std::hint::black_box(grown));
}
