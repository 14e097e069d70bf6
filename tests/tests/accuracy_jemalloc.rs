//! With jemalloc as the global allocator, `JemallocMetrics` follows real allocations.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)] // Tests fail loudly and report.

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

/// The tests read jemalloc's statistics of one epoch: one at a time.
static EPOCH: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn heap_allocated_rises_with_a_32_mib_allocation() {
    let _epoch = EPOCH
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    assert!(JemallocMetrics::jemalloc_is_global());
    let collector = JemallocMetrics::new();
    let before = value(&collector, "runtime.memory.heap_allocated");
    let block = std::hint::black_box(vec![1u8; 32 << 20]);
    let after = value(&collector, "runtime.memory.heap_allocated");
    // Less what is freed meanwhile (the harness's threads, and jemalloc's thread caches, whose
    // small regions its statistics count when a cache is flushed: up to a few hundred KiB).
    assert!(
        after - before >= ((32 << 20) - (1 << 20)) as f64,
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

#[test]
fn fragmentation_is_what_jemalloc_stats_say_and_rises_when_small_blocks_are_freed_apart() {
    let _epoch = EPOCH
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let collector = JemallocMetrics::new();
    // jemalloc's own statistics of the epoch the collection advanced to (no thread advances
    // it in between: the lock above).
    let stats_ratio = || {
        let allocated = tikv_jemalloc_ctl::stats::allocated::read().unwrap() as f64;
        let active = tikv_jemalloc_ctl::stats::active::read().unwrap() as f64;
        1.0 - allocated / active
    };
    let before = value(&collector, "runtime.memory.jemalloc.fragmentation");
    assert!(
        (before - stats_ratio()).abs() < 1e-12,
        "{before} vs {}",
        stats_ratio()
    );
    // 64 MiB of 64-byte blocks, three of each four freed: the pages stay active, a quarter used.
    let mut blocks: Vec<Box<[u8; 64]>> = (0..(1 << 20)).map(|_| Box::new([1u8; 64])).collect();
    let mut index = 0;
    blocks.retain(|_| {
        index += 1;
        index % 4 == 0
    });
    blocks.shrink_to_fit();
    let after = value(&collector, "runtime.memory.jemalloc.fragmentation");
    assert!(
        (after - stats_ratio()).abs() < 1e-12,
        "{after} vs {}",
        stats_ratio()
    );
    assert!(
        after > before + 0.2 && after < 1.0,
        "fragmentation {before} before, {after} after freeing three blocks of four"
    );
    println!("fragmentation {before:.4} before, {after:.4} after");
    drop(std::hint::black_box(blocks));
}
