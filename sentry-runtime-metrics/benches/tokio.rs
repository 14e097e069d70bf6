//! Cost of one Tokio round and of the scheduling-delay probes:
//! `cargo bench -p sentry-runtime-metrics --features tokio-runtime --bench tokio`.
//!
//! - `TokioMetrics round`: one `collect_mut()` on an idle 2-worker runtime (reads the runtime's
//!   metrics, harvests last round's probes, spawns 3 new ones).
//! - `probe spawn`: what one probe costs the runtime: spawning a no-op task from outside the
//!   runtime and waiting for it to run.

#![allow(clippy::expect_used, clippy::unwrap_used)] // A benchmark fails loudly on setup errors.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use sentry_runtime_metrics::MetricCollector;
use sentry_runtime_metrics::collectors::TokioMetrics;

fn tokio(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let mut group = c.benchmark_group("tokio");
    // Rounds are seconds apart in real use: let the previous round's probes run (untimed)
    // before timing the next round, so every timed round harvests 3 probes and spawns 3.
    let timed_rounds = |collector: &mut TokioMetrics, iters: u64| {
        let mut total = Duration::ZERO;
        for _ in 0..iters {
            std::thread::sleep(Duration::from_micros(300));
            let start = Instant::now();
            black_box(collector.collect_mut().unwrap());
            total += start.elapsed();
        }
        total
    };
    let mut collector = TokioMetrics::new(runtime.handle().clone());
    group.bench_function("TokioMetrics round", |b| {
        b.iter_custom(|iters| timed_rounds(&mut collector, iters))
    });
    let mut per_worker = TokioMetrics::new(runtime.handle().clone()).per_worker(true);
    group.bench_function("TokioMetrics round, per worker", |b| {
        b.iter_custom(|iters| timed_rounds(&mut per_worker, iters))
    });
    let handle = runtime.handle().clone();
    group.bench_function("probe spawn and first poll", |b| {
        b.iter(|| runtime.block_on(handle.spawn(async {})).unwrap())
    });
    group.finish();
}

criterion_group!(benches, tokio);
criterion_main!(benches);
