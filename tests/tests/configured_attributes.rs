//! `RuntimeMetricsConfig::attributes` pass the same checks as a collector's attributes: keys
//! outside `[A-Za-z0-9_.]` and empty keys are dropped, long values cut to 200 bytes, counted
//! once at init and reported once in the SDK's debug log.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::print_stderr
)] // Tests fail loudly and report.

mod common;

use std::borrow::Cow;
use std::time::Duration;

use common::with_captured_envelopes_options;
use common::{QueueMetrics, attribute, metrics_in};
use sentry::ClientOptions;
use sentry_runtime_metrics::{RuntimeMetricsConfig, RuntimeMetricsIntegration, Tags};
use sentry_runtime_metrics_tests::child;

fn integration() -> RuntimeMetricsIntegration {
    RuntimeMetricsIntegration::new(RuntimeMetricsConfig {
        collection_interval: Duration::from_secs(3600),
        collect_memory: false,
        collect_process: false,
        collect_container: false,
        collect_async_runtime: false,
        custom_collectors: vec![Box::new(QueueMetrics::default())],
        attributes: Tags::from([
            (Cow::Borrowed("service name"), Cow::Borrowed("api")),
            (Cow::Borrowed(""), Cow::Borrowed("empty key")),
            (Cow::Borrowed("big"), Cow::Owned("é".repeat(2500))),
            (Cow::Borrowed("region"), Cow::Borrowed("eu-west")),
        ]),
    })
}

/// Two rounds captured with `options`.
fn two_rounds(
    integration: &RuntimeMetricsIntegration,
    options: ClientOptions,
) -> Vec<sentry::protocol::Metric> {
    let envelopes = with_captured_envelopes_options(
        || {
            integration.collect_now();
            integration.collect_now();
        },
        options,
    );
    metrics_in(&envelopes)
}

#[test]
fn configured_attributes_are_checked_like_collected_ones() {
    let integration = integration();
    let metrics = two_rounds(
        &integration,
        ClientOptions::new().add_integration(integration.clone()),
    );
    assert_eq!(metrics.len(), 6, "{metrics:#?}");
    for metric in &metrics {
        assert!(
            !metric.attributes.contains_key("service name"),
            "{metric:?}"
        );
        assert!(!metric.attributes.contains_key(""), "{metric:?}");
        assert_eq!(attribute(metric, "region"), Some("eu-west"));
        let big = attribute(metric, "big").expect("kept, cut");
        assert_eq!(big, "é".repeat(100), "cut at a char boundary to 200 bytes");
    }
    // Counted once, at init: two keys dropped and one value cut, not per metric or round.
    assert_eq!(integration.stats().attributes_corrected, 3);
}

#[test]
fn configured_attribute_problems_are_reported_once_in_the_debug_log() {
    const TEST: &str = "configured_attribute_problems_are_reported_once_in_the_debug_log";
    if child::is_child() {
        let integration = integration();
        let mut options = ClientOptions::new().add_integration(integration.clone());
        options.debug = true;
        assert_eq!(two_rounds(&integration, options).len(), 6);
        return;
    }
    let output = child::rerun(TEST).unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let reports: Vec<&str> = stderr
        .lines()
        .filter(|line| line.contains("[runtime-metrics]") && line.contains("attributes"))
        .collect();
    assert_eq!(reports.len(), 1, "{stderr}");
    for key in ["service name", "big"] {
        assert!(reports[0].contains(key), "{key} not named: {}", reports[0]);
    }
}
