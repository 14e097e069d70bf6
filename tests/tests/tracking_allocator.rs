//! With `TrackingAllocator` as the global allocator, `MemoryMetrics` reports the heap and the
//! allocation count.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Tests fail loudly.

use std::alloc::System;

use sentry_runtime_metrics::collectors::MemoryMetrics;
use sentry_runtime_metrics::{MetricCollector, TrackingAllocator};

#[global_allocator]
static ALLOCATOR: TrackingAllocator<System> = TrackingAllocator::new(System);

/// One collection: the heap now, and the allocations made since the previous collection.
fn collect(collector: &mut MemoryMetrics) -> (f64, f64) {
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
    )
}

#[test]
fn heap_and_allocations_follow_real_allocations() {
    let mut collector = MemoryMetrics::new();
    // The first round sends every allocation since the process started.
    let (heap_before, since_start) = collect(&mut collector);
    assert!(since_start > 0.0);
    let blocks: Vec<Vec<u8>> = (0..100).map(|_| vec![1u8; 1 << 20]).collect();
    let (heap_after, made) = collect(&mut collector);
    assert!(
        heap_after - heap_before >= (100 << 20) as f64,
        "heap +{}",
        heap_after - heap_before
    );
    // The hundred blocks and the vector holding them, and little else.
    assert!((101.0..1_000.0).contains(&made), "allocations +{made}");
    drop(std::hint::black_box(blocks));
    let (heap_freed, _) = collect(&mut collector);
    assert!(
        heap_after - heap_freed >= (100 << 20) as f64,
        "freeing lowers the heap"
    );
}
