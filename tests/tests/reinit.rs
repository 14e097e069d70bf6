//! Re-init with the same handle. The README keeps a clone of the integration for
//! `collect_now()`; a client created again with that handle, after the first guard is dropped or
//! while it still lives, gets background rounds, through the SDK's real HTTP transport.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Tests fail loudly.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{QueueMetrics, named, wait_for};
use sentry_runtime_metrics::{RuntimeMetricsConfig, RuntimeMetricsIntegration};
use sentry_runtime_metrics_examples::TimeoutTransport;
use sentry_runtime_metrics_tests::loopback::{self, Received};

fn integration() -> RuntimeMetricsIntegration {
    RuntimeMetricsIntegration::new(RuntimeMetricsConfig {
        collection_interval: Duration::from_millis(20),
        collect_memory: false,
        collect_process: false,
        custom_collectors: vec![Box::new(QueueMetrics::default())],
        ..Default::default()
    })
}

/// Options that send to `dsn` over HTTP, carrying a clone of `integration`.
fn options(integration: &RuntimeMetricsIntegration, dsn: &str) -> sentry::ClientOptions {
    let mut options = sentry::ClientOptions::new().add_integration(integration.clone());
    options.dsn = Some(dsn.parse().unwrap());
    options.transport = Some(Arc::new(TimeoutTransport(Duration::from_secs(5))));
    options
}

/// The `app.queue.processed` values that reached `received` (one per round).
fn processed(received: &Received) -> Vec<f64> {
    named(&common::received_metrics(received), "app.queue.processed")
        .iter()
        .map(|m| m.value)
        .collect()
}

/// Waits for three more background rounds, drops `guard` (which flushes) and returns what the
/// client's endpoint received.
fn three_rounds_then_close(
    integration: &RuntimeMetricsIntegration,
    guard: sentry::ClientInitGuard,
    received: &Received,
) -> Vec<f64> {
    let rounds = integration.stats().rounds;
    wait_for(
        Duration::from_secs(30),
        "background rounds for the new client",
        || integration.stats().rounds >= rounds + 3,
    );
    drop(guard);
    wait_for(
        Duration::from_secs(30),
        "the rounds at the endpoint",
        || processed(received).len() >= 3,
    );
    processed(received)
}

#[test]
fn a_new_client_after_the_guard_was_dropped_gets_background_rounds() {
    let integration = integration();
    let (first_dsn, first) = loopback::start(true).unwrap();
    let guard = sentry::init(options(&integration, &first_dsn));
    let sent = three_rounds_then_close(&integration, guard, &first);
    assert!(sent.iter().all(|v| *v == 1.0), "{sent:?}");

    let (second_dsn, second) = loopback::start(true).unwrap();
    let guard = sentry::init(options(&integration, &second_dsn));
    let sent = three_rounds_then_close(&integration, guard, &second);
    // Increases of one per round, from one sampler: not doubled, not lifetime totals.
    assert!(sent.iter().all(|v| *v == 1.0), "{sent:?}");
}

#[test]
fn a_second_client_while_the_first_guard_lives_gets_the_rounds() {
    let integration = integration();
    let (first_dsn, first) = loopback::start(true).unwrap();
    let first_guard = sentry::init(options(&integration, &first_dsn));
    wait_for(
        Duration::from_secs(30),
        "rounds for the first client",
        || integration.stats().rounds >= 2,
    );

    let (second_dsn, second) = loopback::start(true).unwrap();
    let second_guard = sentry::init(options(&integration, &second_dsn));
    only_the_second_gets_the_rounds(&integration, first_guard, &first, second_guard, &second);
}

/// With both clients alive, the rounds go to the second; the first, flushed, got only what it
/// had before the switch.
fn only_the_second_gets_the_rounds(
    integration: &RuntimeMetricsIntegration,
    first_guard: sentry::ClientInitGuard,
    first: &Received,
    second_guard: sentry::ClientInitGuard,
    second: &Received,
) {
    // Everything the first client got until now, sent to its endpoint.
    first_guard.flush(Some(Duration::from_secs(5)));
    let before_switch = processed(first).len();
    let sent = three_rounds_then_close(integration, second_guard, second);
    assert!(sent.iter().all(|v| *v == 1.0), "{sent:?}");
    drop(first_guard);
    let first_got = processed(first);
    assert!(first_got.iter().all(|v| *v == 1.0), "{first_got:?}");
    // At most the round that was running at the switch.
    assert!(
        first_got.len() <= before_switch + 1,
        "the first client kept getting rounds: {before_switch} before the switch, {} after",
        first_got.len()
    );
}

#[test]
fn clients_from_clones_of_the_same_options_are_told_apart() {
    // `ClientOptions` is `Clone`, and a clone shares the integration instance itself.
    let integration = integration();
    let (first_dsn, first) = loopback::start(true).unwrap();
    let (second_dsn, second) = loopback::start(true).unwrap();
    let first_options = options(&integration, &first_dsn);
    let mut second_options = first_options.clone();
    second_options.dsn = Some(second_dsn.parse().unwrap());
    let first_guard = sentry::init(first_options);
    wait_for(
        Duration::from_secs(30),
        "rounds for the first client",
        || integration.stats().rounds >= 2,
    );
    let second_guard = sentry::init(second_options);
    only_the_second_gets_the_rounds(&integration, first_guard, &first, second_guard, &second);
}
