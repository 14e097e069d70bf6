//! The jemalloc collector's cost, with jemalloc as the global allocator:
//! `cargo bench -p sentry-runtime-metrics --features jemalloc --bench jemalloc`.
//! The epoch advance refreshes jemalloc's statistics cache and grows with the number of arenas.

#![allow(clippy::expect_used, clippy::unwrap_used)] // A benchmark fails loudly on setup errors.

use criterion::{Criterion, criterion_group, criterion_main};
use sentry_runtime_metrics::MetricCollector;
use sentry_runtime_metrics::collectors::JemallocMetrics;

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn jemalloc(c: &mut Criterion) {
    let mut group = c.benchmark_group("jemalloc");
    assert!(JemallocMetrics::jemalloc_is_global());
    let epoch = tikv_jemalloc_ctl::epoch::mib().unwrap();
    group.bench_function("epoch advance", |b| b.iter(|| epoch.advance()));
    let mut collector = JemallocMetrics::new();
    group.bench_function("JemallocMetrics round (advance + 5 reads)", |b| {
        b.iter(|| collector.collect_mut())
    });
    // Arenas are created per thread as threads allocate: show the advance with more of them.
    let threads: Vec<_> = (0..16)
        .map(|_| std::thread::spawn(|| std::hint::black_box(vec![0u8; 4096]).len()))
        .collect();
    threads.into_iter().for_each(|t| drop(t.join()));
    let arenas = tikv_jemalloc_ctl::arenas::narenas::read().unwrap();
    group.bench_function(
        format!("epoch advance after 16 threads ({arenas} arenas)"),
        |b| b.iter(|| epoch.advance()),
    );
    group.finish();
}

criterion_group!(benches, jemalloc);
criterion_main!(benches);
