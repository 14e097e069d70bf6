//! Per-round cost of the integration itself, on top of what the collectors cost:
//! `cargo bench -p sentry-runtime-metrics --bench integration`.
//!
//! - `collector_only`: a derived 3-metric collector sampled by itself (`collect_mut`).
//! - `round_no_client`: one `collect_now()` round with no client bound (checks and counter
//!   arithmetic, nothing handed to the SDK).
//! - `round_to_sdk`: one round captured through the SDK into a client whose transport discards
//!   (what the sampler thread does every interval).
//! - `sdk_capture_same_metrics`: the same three metrics (values, unit, `sentry.origin`) captured
//!   by hand with the SDK's metrics API into the same client: the floor `round_to_sdk` is
//!   compared with. `round_to_sdk / sdk_capture_same_metrics` is the integration's cost.
#![allow(clippy::expect_used, clippy::unwrap_used)] // A benchmark fails loudly on setup errors.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use criterion::{Criterion, criterion_group, criterion_main};
use sentry::protocol::Unit;
use sentry::{ClientOptions, Hub, Transport, metrics};
use sentry_runtime_metrics::{MetricCollector, RuntimeMetricsConfig, RuntimeMetricsIntegration};

#[derive(Clone, Default, MetricCollector)]
struct QueueMetrics {
    #[gauge(name = "app.queue.depth")]
    depth: u64,
    #[gauge(name = "app.queue.bytes", unit = "byte")]
    bytes: u64,
    #[counter(name = "app.queue.processed")]
    processed: u64,
    #[totals]
    totals: sentry_runtime_metrics::RunningTotals,
    source: Arc<AtomicU64>,
}

impl QueueMetrics {
    fn sample(&mut self) {
        self.depth = self.source.load(Ordering::Relaxed);
        self.bytes = self.depth * 512;
        self.processed += 1;
    }
}

struct Discard;

impl Transport for Discard {
    fn send_envelope(&self, _envelope: sentry::Envelope) {}
}

fn integration() -> RuntimeMetricsIntegration {
    RuntimeMetricsIntegration::new(RuntimeMetricsConfig {
        collect_memory: false,
        collect_process: false,
        collect_async_runtime: false,
        custom_collectors: vec![Box::new(QueueMetrics::default())],
        ..Default::default()
    })
}

fn rounds(c: &mut Criterion) {
    let mut group = c.benchmark_group("integration");
    let mut collector = QueueMetrics::default();
    group.bench_function("collector_only", |b| b.iter(|| collector.collect_mut()));

    let bare = integration();
    let empty_hub = Arc::new(Hub::new(None, Arc::default()));
    Hub::run(empty_hub, || {
        group.bench_function("round_no_client", |b| b.iter(|| bare.collect_now()));
    });

    let sending = integration();
    let mut options = ClientOptions::new().add_integration(sending.clone());
    options.dsn = "https://public@sentry.invalid/1".parse().ok();
    options.transport = Some(Arc::new(|_: &ClientOptions| {
        Arc::new(Discard) as Arc<dyn Transport>
    }));
    let client = Arc::new(sentry::Client::from(options));
    let hub = Arc::new(Hub::new(Some(client.clone()), Arc::default()));
    Hub::run(hub, || {
        group.bench_function("round_to_sdk", |b| b.iter(|| sending.collect_now()));
        group.bench_function("sdk_capture_same_metrics", |b| {
            b.iter(|| {
                let depth = std::hint::black_box(0u64) as f64;
                let origin = ("sentry.origin", "auto.runtime_metrics");
                metrics::gauge("app.queue.depth", depth)
                    .attribute(origin.0, origin.1)
                    .capture();
                metrics::gauge("app.queue.bytes", depth * 512.0)
                    .unit(Unit::Byte)
                    .attribute(origin.0, origin.1)
                    .capture();
                metrics::counter("app.queue.processed", 1.0)
                    .attribute(origin.0, origin.1)
                    .capture();
            })
        });
    });
    client.close(None);
    group.finish();
}

criterion_group!(benches, rounds);
criterion_main!(benches);
