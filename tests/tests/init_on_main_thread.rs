//! `sentry::init` on the process's main thread (this binary has no test harness, so `main` is
//! the main thread): the background sampler sends on the main hub.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::print_stderr
)] // Tests fail loudly and report.

mod common;

use std::time::Duration;

use common::{QueueMetrics, metrics_in, named, wait_for};
use sentry::test::TestTransport;
use sentry_runtime_metrics::{RuntimeMetricsConfig, RuntimeMetricsIntegration};

fn main() {
    let transport = TestTransport::new();
    let integration = RuntimeMetricsIntegration::new(RuntimeMetricsConfig {
        collection_interval: Duration::from_millis(20),
        custom_collectors: vec![Box::new(QueueMetrics::default())],
        ..Default::default()
    });
    let guard = sentry::init(common::options_with(&integration, &transport));
    wait_for(Duration::from_secs(30), "two background rounds", || {
        integration.stats().rounds >= 2
    });
    drop(guard);
    let metrics = metrics_in(&transport.fetch_and_clear_envelopes());
    let processed = named(&metrics, "app.queue.processed");
    assert!(processed.len() >= 2, "{metrics:#?}");
    // Each round's counter is the increase since the previous one (1 per sample here).
    assert!(processed.iter().all(|m| m.value == 1.0), "{processed:#?}");
    println!("init_on_main_thread: 1 passed; 0 failed");
}
