//! A `before_send_metric` hook that panics (the application's code, called by the SDK while the
//! integration captures) neither ends collection nor makes it panic for every metric of every
//! round: sending stops for the round and pauses 1, 2, 4 .. rounds, then resumes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Tests fail loudly.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Once};
use std::time::Duration;

use common::{QueueMetrics, wait_for};
use sentry::test::TestTransport;
use sentry_runtime_metrics::{RuntimeMetricsConfig, RuntimeMetricsIntegration};

const HOOK_BUG: &str = "hook bug";

/// Keeps the hook's expected panics out of the output; any other panic (a failing assertion)
/// is reported as usual.
fn silence_hook_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let message = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str));
            if message != Some(HOOK_BUG) {
                default(info);
            }
        }));
    });
}

/// An integration with process metrics (captured on the sampler thread) and a custom collector
/// (captured on a worker), sending through a hook that panics on its first `panics` calls.
fn start(
    panics: u64,
) -> (
    sentry::ClientInitGuard,
    RuntimeMetricsIntegration,
    Arc<TestTransport>,
    Arc<AtomicU64>,
) {
    silence_hook_panics();
    let integration = RuntimeMetricsIntegration::new(RuntimeMetricsConfig {
        collection_interval: Duration::from_millis(10),
        collect_memory: false,
        collect_process: true,
        custom_collectors: vec![Box::new(QueueMetrics::default())],
        ..Default::default()
    });
    let calls = Arc::new(AtomicU64::new(0));
    let hook_calls = calls.clone();
    let transport = TestTransport::new();
    let mut options =
        common::options_with(&integration, &transport).before_send_metric(move |metric| {
            if hook_calls.fetch_add(1, Ordering::SeqCst) < panics {
                panic!("{}", HOOK_BUG);
            }
            Some(metric)
        });
    // Without sentry-panic (enabled in this test build), which would report each panic.
    options.default_integrations = false;
    let guard = sentry::init(options);
    (guard, integration, transport, calls)
}

#[test]
fn collection_goes_on_after_the_hook_panicked() {
    let (guard, integration, transport, calls) = start(3);
    wait_for(Duration::from_secs(30), "metrics after the panics", || {
        calls.load(Ordering::SeqCst) >= 40
    });
    let rounds = integration.stats().rounds;
    wait_for(Duration::from_secs(30), "more rounds", || {
        integration.stats().rounds >= rounds + 3
    });
    drop(guard);
    let names: Vec<String> = common::metrics_in(&transport.fetch_and_clear_envelopes())
        .into_iter()
        .map(|m| m.name.to_string())
        .collect();
    // From the sampler thread and from a worker; the lost ones are counted.
    assert!(
        names.iter().any(|n| n == "process.threads.count"),
        "{names:?}"
    );
    assert!(names.iter().any(|n| n == "app.queue.depth"), "{names:?}");
    assert!(integration.stats().metrics_dropped >= 3);
}

#[test]
fn a_hook_that_always_panics_is_called_a_few_times_not_every_metric_of_every_round() {
    let (guard, integration, _transport, calls) = start(u64::MAX);
    wait_for(Duration::from_secs(30), "40 rounds", || {
        integration.stats().rounds >= 40
    });
    drop(guard);
    // 40 rounds of ~10 metrics each. After the k-th panic sending pauses 2^(k-1) rounds, so it
    // is tried in about 6 of the 40 rounds, by at most the sampler and one worker at once.
    let calls = calls.load(Ordering::SeqCst);
    println!(
        "hook called {calls} times in {} rounds",
        integration.stats().rounds
    );
    assert!(calls <= 20, "the hook was called {calls} times");
    assert!(calls >= 3, "the hook was called {calls} times");
}
