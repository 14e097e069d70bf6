//! With `TrackingAllocator` as the global allocator, `MemoryMetrics` reports the heap and the
//! allocation count.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Tests fail loudly.

use std::alloc::System;

use sentry_runtime_metrics::collectors::MemoryMetrics;
use sentry_runtime_metrics::{MetricCollector, TrackingAllocator};

#[global_allocator]
static ALLOCATOR: TrackingAllocator<System> = TrackingAllocator::new(System);

fn value(collector: &mut MemoryMetrics, name: &str) -> f64 {
    let metrics = collector.collect_mut().unwrap();
    metrics
        .iter()
        .find(|m| m.name == name)
        .unwrap()
        .value
        .as_f64()
}

#[test]
fn heap_and_allocations_follow_real_allocations() {
    let mut collector = MemoryMetrics::new();
    let heap_before = value(&mut collector, "runtime.memory.heap_allocated");
    let count_before = value(&mut collector, "runtime.memory.allocations");
    let blocks: Vec<Vec<u8>> = (0..100).map(|_| vec![1u8; 1 << 20]).collect();
    let heap_after = value(&mut collector, "runtime.memory.heap_allocated");
    let count_after = value(&mut collector, "runtime.memory.allocations");
    assert!(
        heap_after - heap_before >= (100 << 20) as f64,
        "heap +{}",
        heap_after - heap_before
    );
    assert!(
        count_after - count_before >= 101.0,
        "allocations +{}",
        count_after - count_before
    );
    drop(std::hint::black_box(blocks));
    let heap_freed = value(&mut collector, "runtime.memory.heap_allocated");
    assert!(
        heap_after - heap_freed >= (100 << 20) as f64,
        "freeing lowers the heap"
    );
}
