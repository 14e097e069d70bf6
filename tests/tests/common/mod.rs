//! Helpers shared by the end-to-end tests.
#![allow(dead_code, unreachable_pub, unused_imports)] // Each test binary uses a different subset.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sentry::Envelope;
use sentry::protocol::{EnvelopeItem, ItemContainer, Metric, MetricType, Value};
use sentry_runtime_metrics::MetricCollector;

/// Every metric in `envelopes`' `trace_metric` items.
pub fn metrics_in(envelopes: &[Envelope]) -> Vec<Metric> {
    let mut metrics = Vec::new();
    for envelope in envelopes {
        for item in envelope.items() {
            if let EnvelopeItem::ItemContainer(ItemContainer::Metrics(items)) = item {
                metrics.extend(items.iter().cloned());
            }
        }
    }
    metrics
}

/// The metrics named `name`.
pub fn named<'a>(metrics: &'a [Metric], name: &str) -> Vec<&'a Metric> {
    metrics.iter().filter(|m| m.name == name).collect()
}

/// The values of the metrics named `name`, in the order they were sent.
pub fn values(metrics: &[Metric], name: &str) -> Vec<f64> {
    named(metrics, name).iter().map(|m| m.value).collect()
}

/// A string attribute of `metric`.
pub fn attribute<'a>(metric: &'a Metric, key: &str) -> Option<&'a str> {
    match &metric.attributes.get(key)?.0 {
        Value::String(value) => Some(value),
        _ => None,
    }
}

pub fn is(metric: &Metric, ty: MetricType) -> bool {
    std::mem::discriminant(&metric.r#type) == std::mem::discriminant(&ty)
}

pub use sentry_runtime_metrics_tests::probes::{library_threads, thread_names};
pub use sentry_runtime_metrics_tests::wait_for;

/// Resident set size of this process in KiB, from `/proc/self/status` (Linux).
pub fn rss_kib() -> i64 {
    let kib = sentry_runtime_metrics_tests::probes::rss_kib().expect("VmRSS of /proc/self/status");
    i64::try_from(kib).expect("fits")
}

/// A hand-written collector named `panicking` that panics every time it runs ("collector bug")
/// and counts its runs.
pub struct Panicking(pub Arc<AtomicU64>);

impl MetricCollector for Panicking {
    fn collect(&self) -> Vec<sentry_runtime_metrics::RuntimeMetric> {
        self.0.fetch_add(1, Ordering::SeqCst);
        panic!("collector bug");
    }

    fn name(&self) -> &'static str {
        "panicking"
    }
}

/// Health of the work queue (the example of the derive's docs).
#[derive(Clone, Default, MetricCollector)]
#[collector(name = "work-queue")]
pub struct QueueMetrics {
    /// Jobs waiting to run.
    #[gauge(name = "app.queue.depth")]
    pub depth: u64,
    /// Bytes held by waiting jobs.
    #[gauge(name = "app.queue.bytes", unit = "byte")]
    pub bytes: u64,
    /// Jobs finished since start: a running total, sent as what it grew by.
    #[counter(name = "app.queue.processed")]
    pub processed: u64,
    /// Where the derive keeps the last total of each counter.
    #[totals]
    pub totals: sentry_runtime_metrics::RunningTotals,
    /// Not a metric: unannotated fields are state the sample method may use.
    pub source: Arc<AtomicU64>,
}

impl QueueMetrics {
    fn sample(&mut self) {
        self.depth = self.source.load(Ordering::Relaxed);
        self.bytes = self.depth * 512;
        self.processed += 1;
    }
}

/// Client options that send to `transport` (a DSN is needed for the client to be enabled; no
/// request is made to it).
pub fn options_with(
    integration: &sentry_runtime_metrics::RuntimeMetricsIntegration,
    transport: &Arc<sentry::test::TestTransport>,
) -> sentry::ClientOptions {
    let mut options = sentry::ClientOptions::new().add_integration(integration.clone());
    options.dsn = Some("https://public@sentry.invalid/1".parse().expect("dsn"));
    options.transport = Some(Arc::new(transport.clone()));
    options
}

/// `sentry::init` with an integration sampling a [`QueueMetrics`] every `interval`, sending to a
/// test transport.
pub fn init_with_queue(
    interval: Duration,
) -> (
    sentry::ClientInitGuard,
    sentry_runtime_metrics::RuntimeMetricsIntegration,
    Arc<sentry::test::TestTransport>,
) {
    let transport = sentry::test::TestTransport::new();
    let integration = sentry_runtime_metrics::RuntimeMetricsIntegration::new(
        sentry_runtime_metrics::RuntimeMetricsConfig {
            collection_interval: interval,
            custom_collectors: vec![Box::new(QueueMetrics::default())],
            ..Default::default()
        },
    );
    let guard = sentry::init(options_with(&integration, &transport));
    (guard, integration, transport)
}

/// A task busy like a real workload until `running` is cleared: spins `each`, then yields, and
/// never parks its worker (tokio publishes a worker's busy time when it parks or does maintenance
/// between polls).
pub async fn spin_and_yield(running: Arc<AtomicBool>, each: Duration) {
    while running.load(Ordering::Relaxed) {
        let until = Instant::now() + each;
        while Instant::now() < until {
            std::hint::spin_loop();
        }
        tokio::task::yield_now().await;
    }
}

/// `sentry::test::with_captured_envelopes_options`, flushing the client's metric batch before
/// the envelopes are read. That helper never closes its client: the batch is flushed when the
/// client is dropped, which is after the read if another thread (the integration's sampler,
/// looking at its client) holds it at that moment, and then the metrics are missing.
pub fn with_captured_envelopes_options(
    f: impl FnOnce(),
    options: sentry::ClientOptions,
) -> Vec<Envelope> {
    sentry::test::with_captured_envelopes_options(
        || {
            f();
            if let Some(client) = sentry::Hub::current().client() {
                client.flush(None);
            }
        },
        options,
    )
}

/// The envelopes the loopback receiver kept, parsed (it must keep bodies).
pub fn received_envelopes(
    received: &sentry_runtime_metrics_tests::loopback::Received,
) -> Vec<Envelope> {
    let bodies = received
        .bodies
        .as_ref()
        .expect("the receiver keeps bodies")
        .lock()
        .expect("the bodies' lock");
    bodies
        .iter()
        .map(|body| Envelope::from_slice(body).expect("a valid envelope"))
        .collect()
}

/// Every metric the loopback receiver got so far.
pub fn received_metrics(
    received: &sentry_runtime_metrics_tests::loopback::Received,
) -> Vec<Metric> {
    metrics_in(&received_envelopes(received))
}

/// An integration that runs `collectors` and no built-in collector.
pub fn integration_of(
    collectors: Vec<Box<dyn MetricCollector>>,
) -> sentry_runtime_metrics::RuntimeMetricsIntegration {
    sentry_runtime_metrics::RuntimeMetricsIntegration::new(
        sentry_runtime_metrics::RuntimeMetricsConfig {
            collect_memory: false,
            collect_process: false,
            collect_async_runtime: false,
            custom_collectors: collectors,
            ..Default::default()
        },
    )
}
