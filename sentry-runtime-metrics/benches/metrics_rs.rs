//! The `metrics` facade recorder against the Prometheus exporter's recorder, in the same run:
//! `cargo bench -p sentry-runtime-metrics --features metrics-rs --bench metrics_rs`.
//!
//! - `increment`: `counter.increment(1)` on a registered handle with one label.
//! - `record`: `histogram.record(x)` on a registered handle; both recorders are drained between
//!   batches of 10 000 (outside the timing), as their rounds or scrapes would.
//! - `macro`: `counter!("..", "route" => "/a").increment(1)`, which finds the series again on
//!   every call.
//! - `round/1000 series`: what one export costs with 1 000 series (700 counters, 250 gauges,
//!   50 histograms of 20 values, all updated before each round): our collector's round (the
//!   metrics it returns) against the exporter's `render()` (the text it returns); and our whole
//!   round through the integration into the SDK (checks, capture, a transport that discards).
#![allow(clippy::expect_used, clippy::unwrap_used)] // A benchmark fails loudly on setup errors.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use metrics::{
    Counter, Gauge, Histogram, Recorder, counter, gauge, histogram, with_local_recorder,
};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusRecorder};
use sentry::{ClientOptions, Hub, Transport};
use sentry_runtime_metrics::metrics_rs::{Builder, RecordedMetrics, SentryRecorder};
use sentry_runtime_metrics::{MetricCollector, RuntimeMetricsConfig, RuntimeMetricsIntegration};

struct Discard;

impl Transport for Discard {
    fn send_envelope(&self, _envelope: sentry::Envelope) {}
}

fn ours() -> (SentryRecorder, RecordedMetrics) {
    Builder::new().build()
}

fn prometheus() -> PrometheusRecorder {
    PrometheusBuilder::new().build_recorder()
}

fn handles(recorder: &dyn Recorder) -> (Counter, Histogram) {
    with_local_recorder(recorder, || {
        (
            counter!("bench.requests", "route" => "/a"),
            histogram!("bench.duration", "route" => "/a"),
        )
    })
}

fn increment(c: &mut Criterion) {
    let mut group = c.benchmark_group("increment");
    let (recorder, _recorded) = ours();
    let (counter, _) = handles(&recorder);
    group.bench_function("ours", |b| b.iter(|| counter.increment(black_box(1))));
    let recorder = prometheus();
    let (counter, _) = handles(&recorder);
    group.bench_function("prometheus", |b| b.iter(|| counter.increment(black_box(1))));
    group.finish();
}

/// Times `iters` records in batches of 10 000, running `drain` between batches untimed.
fn record_batches(histogram: &Histogram, iters: u64, mut drain: impl FnMut()) -> Duration {
    let mut timed = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let batch = left.min(10_000);
        let start = Instant::now();
        for i in 0..batch {
            histogram.record(black_box(i as f64 * 1e-6));
        }
        timed += start.elapsed();
        drain();
        left -= batch;
    }
    timed
}

fn record(c: &mut Criterion) {
    let mut group = c.benchmark_group("record");
    let (recorder, mut recorded) = ours();
    let (_, histogram) = handles(&recorder);
    group.bench_function("ours", |b| {
        b.iter_custom(|iters| {
            record_batches(&histogram, iters, || {
                recorded.collect_mut().unwrap();
            })
        })
    });
    let recorder = prometheus();
    let handle = recorder.handle();
    let (_, histogram) = handles(&recorder);
    group.bench_function("prometheus", |b| {
        b.iter_custom(|iters| record_batches(&histogram, iters, || handle.run_upkeep()))
    });
    group.finish();
}

fn lookup(c: &mut Criterion) {
    let mut group = c.benchmark_group("macro");
    let (recorder, _recorded) = ours();
    with_local_recorder(&recorder, || {
        group.bench_function("ours", |b| {
            b.iter(|| counter!("bench.requests", "route" => "/a").increment(1))
        });
    });
    let recorder = prometheus();
    with_local_recorder(&recorder, || {
        group.bench_function("prometheus", |b| {
            b.iter(|| counter!("bench.requests", "route" => "/a").increment(1))
        });
    });
    group.finish();
}

/// 1 000 series of `recorder`: 700 counters, 250 gauges, 50 histograms.
fn thousand_series(recorder: &dyn Recorder) -> (Vec<Counter>, Vec<Gauge>, Vec<Histogram>) {
    with_local_recorder(recorder, || {
        let counters = (0..700)
            .map(|i| counter!("bench.requests", "route" => format!("/route/{i}")))
            .collect();
        let gauges = (0..250)
            .map(|i| gauge!("bench.queue.depth", "queue" => format!("q{i}")))
            .collect();
        let histograms = (0..50)
            .map(|i| histogram!("bench.duration", "route" => format!("/route/{i}")))
            .collect();
        (counters, gauges, histograms)
    })
}

fn update(series: &(Vec<Counter>, Vec<Gauge>, Vec<Histogram>)) {
    let (counters, gauges, histograms) = series;
    for counter in counters {
        counter.increment(1);
    }
    for (i, gauge) in gauges.iter().enumerate() {
        gauge.set(i as f64);
    }
    for histogram in histograms {
        for i in 0..20 {
            histogram.record(f64::from(i) * 1e-3);
        }
    }
}

fn round(c: &mut Criterion) {
    let mut group = c.benchmark_group("round");
    let (recorder, mut recorded) = ours();
    let series = thousand_series(&recorder);
    group.bench_function("ours/1000 series", |b| {
        b.iter_batched(
            || update(&series),
            |()| recorded.collect_mut().unwrap(),
            BatchSize::PerIteration,
        )
    });
    let (recorder, recorded) = ours();
    let series = thousand_series(&recorder);
    let integration = RuntimeMetricsIntegration::new(RuntimeMetricsConfig {
        collect_memory: false,
        collect_process: false,
        collect_async_runtime: false,
        custom_collectors: vec![Box::new(recorded)],
        ..Default::default()
    });
    let mut options = ClientOptions::new().add_integration(integration.clone());
    options.dsn = "https://public@sentry.invalid/1".parse().ok();
    options.transport = Some(Arc::new(|_: &ClientOptions| {
        Arc::new(Discard) as Arc<dyn Transport>
    }));
    let client = Arc::new(sentry::Client::from(options));
    Hub::run(
        Arc::new(Hub::new(Some(client.clone()), Arc::default())),
        || {
            group.bench_function("ours/1000 series to the SDK", |b| {
                b.iter_batched(
                    || update(&series),
                    |()| integration.collect_now(),
                    BatchSize::PerIteration,
                )
            });
        },
    );
    client.close(None);
    let recorder = prometheus();
    let handle = recorder.handle();
    let series = thousand_series(&recorder);
    group.bench_function("prometheus/1000 series", |b| {
        b.iter_batched(
            || update(&series),
            |()| handle.render(),
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, increment, record, lookup, round);
criterion_main!(benches);
