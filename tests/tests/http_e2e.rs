//! End to end through the SDK's real HTTP transport: a small HTTP server on 127.0.0.1 (the
//! tests crate's loopback receiver) gets the envelopes the background sampler's metrics end up in.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::print_stderr
)] // Tests fail loudly and report.

mod common;

use std::time::Duration;

use common::{QueueMetrics, attribute, named, wait_for};
use sentry_runtime_metrics::{RuntimeMetricsConfig, RuntimeMetricsIntegration};
use sentry_runtime_metrics_tests::loopback;

#[test]
fn metrics_reach_a_real_http_endpoint() {
    let (dsn, received) = loopback::start(true).expect("a loopback receiver");

    let integration = RuntimeMetricsIntegration::new(RuntimeMetricsConfig {
        collection_interval: Duration::from_millis(50),
        custom_collectors: vec![Box::new(QueueMetrics::default())],
        ..Default::default()
    });
    let mut options = sentry::ClientOptions::new().add_integration(integration.clone());
    options.dsn = Some(dsn.parse().expect("dsn"));
    let guard = sentry::init(options);
    assert!(guard.is_enabled());
    wait_for(Duration::from_secs(30), "two background rounds", || {
        integration.stats().rounds >= 2
    });
    // Dropping the guard flushes the SDK's metric batch through the transport and waits for it.
    drop(guard);
    // Envelopes may be split (the SDK's batcher also flushes on a timer): wait for all rounds.
    let received_metrics = || common::received_metrics(&received);
    wait_for(Duration::from_secs(30), "two rounds at the server", || {
        named(&received_metrics(), "app.queue.depth").len() >= 2
    });
    let metrics = received_metrics();
    let depth = named(&metrics, "app.queue.depth");
    assert!(depth.len() >= 2, "a gauge per round: {metrics:#?}");
    let processed = named(&metrics, "app.queue.processed");
    assert!(processed.len() >= 2);
    assert!(
        processed.iter().all(|m| m.value == 1.0),
        "increases, not totals: {processed:#?}"
    );
    assert!(
        metrics
            .iter()
            .all(|m| attribute(m, "sentry.origin") == Some("auto.runtime_metrics"))
    );
    // The SDK adds its own default attributes.
    assert!(
        metrics
            .iter()
            .all(|m| m.attributes.contains_key("sentry.sdk.name")),
        "{metrics:#?}"
    );
}
