//! Per-allocation overhead of `TrackingAllocator` over the allocator it wraps:
//! `cargo bench -p sentry-runtime-metrics --bench allocator`. Each iteration allocates and frees
//! 64 bytes through the `GlobalAlloc` trait directly; the `4 threads` rows run the same loop on
//! four threads at once, where shared counters would contend.
#![allow(clippy::expect_used, clippy::unwrap_used)] // A benchmark fails loudly on setup errors.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use sentry_runtime_metrics::TrackingAllocator;

static TRACKING: TrackingAllocator<System> = TrackingAllocator::new(System);

fn pair<A: GlobalAlloc>(allocator: &A, layout: Layout) {
    // SAFETY: `layout` has a non-zero size; the pointer is freed with the same layout.
    unsafe {
        let ptr = allocator.alloc(layout);
        black_box(ptr);
        if !ptr.is_null() {
            allocator.dealloc(ptr, layout);
        }
    }
}

fn threaded<A: GlobalAlloc + Sync>(allocator: &'static A, layout: Layout, iters: u64) -> Duration {
    let start = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(move || (0..iters).for_each(|_| pair(allocator, layout)));
        }
    });
    start.elapsed()
}

fn allocator(c: &mut Criterion) {
    let layout = Layout::from_size_align(64, 8).expect("layout");
    let mut group = c.benchmark_group("alloc+dealloc 64 B");
    group.bench_function("System", |b| b.iter(|| pair(&System, layout)));
    group.bench_function("TrackingAllocator<System>", |b| {
        b.iter(|| pair(&TRACKING, layout))
    });
    group.bench_function("System, 4 threads", |b| {
        b.iter_custom(|iters| threaded(&System, layout, iters))
    });
    group.bench_function("TrackingAllocator<System>, 4 threads", |b| {
        b.iter_custom(|iters| threaded(&TRACKING, layout, iters))
    });
    group.finish();
}

criterion_group!(benches, allocator);
criterion_main!(benches);
