//! The quickstart: runtime metrics from this process, every 2 seconds, for 5 rounds.
//!
//! ```sh
//! cargo run --example quickstart                       # no account needed: prints the metrics
//! SENTRY_DSN=https://key@o0.ingest.sentry.io/0 cargo run --example quickstart   # also sends them
//! ```
#![allow(clippy::print_stdout, clippy::print_stderr)] // A demo prints.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sentry::ClientOptions;
use sentry_runtime_metrics::{MetricCollector, RuntimeMetricsConfig, RuntimeMetricsIntegration};
use sentry_runtime_metrics_examples::{LocalView, stop_on_ctrl_c};

const ROUNDS: u64 = 5;
const INTERVAL: Duration = Duration::from_secs(2);

/// Health of the demo's work queue: a custom collector, written with the derive.
#[derive(Clone, Default, MetricCollector)]
#[collector(name = "work-queue")]
struct QueueMetrics {
    /// Jobs waiting to run.
    #[gauge(name = "app.queue.depth")]
    depth: u64,
    /// Bytes held by waiting jobs.
    #[gauge(name = "app.queue.bytes", unit = "byte")]
    bytes: u64,
    /// Jobs finished since start: a running total, sent as what it grew by each round.
    #[counter(name = "app.queue.processed")]
    processed: u64,
    /// Where the derive keeps the last total of each counter.
    #[totals]
    totals: sentry_runtime_metrics::RunningTotals,
    queue: Arc<AtomicU64>,
    done: Arc<AtomicU64>,
}

impl QueueMetrics {
    fn sample(&mut self) {
        self.depth = self.queue.load(Ordering::Relaxed);
        self.bytes = self.depth * 512;
        self.processed = self.done.load(Ordering::Relaxed);
    }
}

fn main() {
    let queue = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicU64::new(0));
    let integration = RuntimeMetricsIntegration::new(RuntimeMetricsConfig {
        collection_interval: INTERVAL,
        custom_collectors: vec![Box::new(QueueMetrics {
            queue: queue.clone(),
            done: done.clone(),
            ..Default::default()
        })],
        ..Default::default()
    });

    // Every metric the SDK is about to send passes here; the demo keeps a copy to print.
    let (options, mut view) =
        LocalView::options(ClientOptions::new().add_integration(integration.clone()));
    let guard = sentry::init(options);
    // Declared after the init guard, so it drops first: a last round when the program ends.
    let last_round = integration.last_round_guard();
    view.announce("runtime metrics", INTERVAL, ROUNDS);
    let stop = stop_on_ctrl_c();

    let started = Instant::now();
    let mut printed = 0;
    while printed < ROUNDS && !stop.load(Ordering::Relaxed) {
        // Simulated work: the queue fills and drains, jobs finish.
        let tick = started.elapsed().as_millis() as u64 / 100;
        queue.store(10 + tick % 40, Ordering::Relaxed);
        done.fetch_add(3, Ordering::Relaxed);
        std::thread::sleep(Duration::from_millis(100));
        printed = view.print_new_round(&integration);
    }

    view.finish(&integration, last_round, guard, "quickstart");
}
