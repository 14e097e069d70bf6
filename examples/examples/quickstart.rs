//! The quickstart: runtime metrics from this process, every 2 seconds, for 5 rounds, shown by
//! the local view (the first round as a table, then what changed).
//!
//! ```sh
//! cargo run --example quickstart                       # no account needed: shows the metrics
//! SENTRY_DSN=https://key@o0.ingest.sentry.io/0 cargo run --example quickstart   # also sends them
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sentry::ClientOptions;
use sentry_runtime_metrics::{
    LocalView, MetricCollector, RuntimeMetricsConfig, RuntimeMetricsIntegration,
};
use sentry_runtime_metrics_examples::{dsn_is_set, say, say_done, stop_on_ctrl_c};

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
    // Every round, as the SDK gets it, printed to stdout; a clone tells when stdout is closed.
    let view = LocalView::stdout();
    let integration = RuntimeMetricsIntegration::new(RuntimeMetricsConfig {
        collection_interval: INTERVAL,
        custom_collectors: vec![Box::new(QueueMetrics {
            queue: queue.clone(),
            done: done.clone(),
            ..Default::default()
        })],
        ..Default::default()
    })
    .with_local_view(view.clone());

    say(if dsn_is_set() {
        "Sending runtime metrics to the Sentry project of SENTRY_DSN, and showing them here."
    } else {
        "SENTRY_DSN is not set: nothing is sent, the local view shows what would be."
    });
    say(format_args!(
        "A round every {INTERVAL:?}, {ROUNDS} rounds (the last when the program ends; Ctrl-C \
         ends it early).\n"
    ));
    // What the integration sees here, and what it will not send here and why.
    say(integration.environment_report());
    // `sentry::init` reads SENTRY_DSN; without it the client sends nothing.
    let sentry = sentry::init(ClientOptions::new().add_integration(integration.clone()));
    // Declared after the init guard, so it drops first: a last round when the program ends.
    let last_round = integration.last_round_guard();
    let stop = stop_on_ctrl_c();

    let started = Instant::now();
    while integration.stats().rounds < ROUNDS - 1 && !stop.load(Ordering::Relaxed) {
        if view.is_closed() {
            // Our reader went away (`| head`): nothing more to show.
            break;
        }
        // Simulated work: the queue fills and drains, jobs finish.
        let tick = started.elapsed().as_millis() as u64 / 100;
        queue.store(10 + tick % 40, Ordering::Relaxed);
        done.fetch_add(3, Ordering::Relaxed);
        std::thread::sleep(Duration::from_millis(100));
    }

    drop(last_round);
    let stats = integration.stats();
    drop(sentry);
    say_done(stats, "quickstart");
}
