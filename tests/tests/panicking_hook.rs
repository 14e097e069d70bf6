//! A `before_send_metric` hook that panics (the application's code, called by the SDK while the
//! sampler thread captures) does not end collection: later rounds still run and send.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Tests fail loudly.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use common::{QueueMetrics, wait_for};
use sentry::test::TestTransport;
use sentry_runtime_metrics::{RuntimeMetricsConfig, RuntimeMetricsIntegration};

#[test]
fn a_panicking_before_send_metric_hook_does_not_stop_collection() {
    // Keep the expected panics out of the test output.
    std::panic::set_hook(Box::new(|_| {}));
    let integration = RuntimeMetricsIntegration::new(RuntimeMetricsConfig {
        collection_interval: Duration::from_millis(10),
        collect_memory: false,
        // Process metrics are captured on the sampler thread itself.
        collect_process: true,
        custom_collectors: vec![Box::new(QueueMetrics::default())],
        ..Default::default()
    });
    let calls = Arc::new(AtomicU64::new(0));
    let passed = Arc::new(AtomicU64::new(0));
    let (hook_calls, hook_passed) = (calls.clone(), passed.clone());
    let transport = TestTransport::new();
    // Panics on every metric of the first 40 calls, then lets metrics through.
    let mut options = common::options_with(&integration, &transport).before_send_metric(move |m| {
        if hook_calls.fetch_add(1, Ordering::SeqCst) < 40 {
            panic!("hook bug");
        }
        hook_passed.fetch_add(1, Ordering::SeqCst);
        Some(m)
    });
    // Without sentry-panic (enabled in this test build), which would report each panic.
    options.default_integrations = false;
    let guard = sentry::init(options);
    wait_for(Duration::from_secs(30), "metrics after the panics", || {
        passed.load(Ordering::SeqCst) >= 20
    });
    let rounds = integration.stats().rounds;
    wait_for(Duration::from_secs(30), "more rounds", || {
        integration.stats().rounds >= rounds + 3
    });
    drop(guard);
    let _ = std::panic::take_hook();
    let names: Vec<String> = common::metrics_in(&transport.fetch_and_clear_envelopes())
        .into_iter()
        .map(|m| m.name.to_string())
        .collect();
    assert!(
        names.iter().any(|n| n == "process.threads.count"),
        "{names:?}"
    );
    assert!(names.iter().any(|n| n == "app.queue.depth"), "{names:?}");
}
