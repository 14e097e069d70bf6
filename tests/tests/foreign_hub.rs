//! `collect_now()` called inside a hub that is not the one `sentry::init` bound: a request hub
//! (as sentry-tower or actix make, with the request's user and transaction on its scope) or a
//! hub without a client. The metrics go to the integration's own client, without the request's
//! data, through the SDK's real HTTP transport.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Tests fail loudly.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{QueueMetrics, attribute, metrics_in, named, wait_for};
use sentry::protocol::User;
use sentry::{Hub, TransactionContext};
use sentry_runtime_metrics::{RuntimeMetricsConfig, RuntimeMetricsIntegration};
use sentry_runtime_metrics_examples::TimeoutTransport;
use sentry_runtime_metrics_tests::loopback;

#[test]
fn collect_now_in_another_hub_sends_to_our_client_without_the_request_scope() {
    let (dsn, received) = loopback::start(true).unwrap();
    let integration = RuntimeMetricsIntegration::new(RuntimeMetricsConfig {
        // No background round during the test: only the two `collect_now` rounds send.
        collection_interval: Duration::from_secs(3600),
        collect_memory: false,
        collect_process: false,
        custom_collectors: vec![Box::new(QueueMetrics::default())],
        ..Default::default()
    });
    let mut options = sentry::ClientOptions::new()
        .add_integration(integration.clone())
        .traces_sample_rate(1.0);
    options.dsn = Some(dsn.parse().unwrap());
    options.transport = Some(Arc::new(TimeoutTransport(Duration::from_secs(5))));
    // With PII on, the SDK copies a scope's user into every metric captured with that scope.
    options.send_default_pii = true;
    let guard = sentry::init(options);

    // A request hub: the client of the current hub, the request's user and transaction.
    let request = Arc::new(Hub::new_from_top(Hub::current()));
    let transaction = request.start_transaction(TransactionContext::new("GET /", "http.server"));
    let request_trace = transaction.get_trace_context();
    request.configure_scope(|scope| {
        scope.set_user(Some(User {
            id: Some("request-user".into()),
            ..Default::default()
        }));
        scope.set_span(Some(transaction.clone().into()));
    });
    Hub::run(request, || integration.collect_now());
    // A hub without a client (a fresh hub of a background job, a test harness).
    Hub::run(Arc::new(Hub::new(None, Arc::default())), || {
        integration.collect_now();
    });
    // A hub bound to another client altogether.
    let other = sentry::test::TestTransport::new();
    let mut other_options = sentry::ClientOptions::new();
    other_options.dsn = Some("https://public@sentry.invalid/2".parse().unwrap());
    other_options.transport = Some(Arc::new(other.clone()));
    let other_client = Arc::new(sentry::Client::from(other_options));
    Hub::run(
        Arc::new(Hub::new(Some(other_client.clone()), Arc::default())),
        || integration.collect_now(),
    );
    other_client.close(None);
    assert!(
        metrics_in(&other.fetch_and_clear_envelopes()).is_empty(),
        "nothing for the other client"
    );
    transaction.finish();
    drop(guard);

    let metrics = || common::received_metrics(&received);
    wait_for(
        Duration::from_secs(30),
        "both rounds at the endpoint",
        || named(&metrics(), "app.queue.depth").len() >= 2,
    );
    let metrics = metrics();
    let depth = named(&metrics, "app.queue.depth");
    assert_eq!(
        depth.len(),
        3,
        "one per round, all three rounds: {metrics:#?}"
    );
    let processed: Vec<f64> = named(&metrics, "app.queue.processed")
        .iter()
        .map(|m| m.value)
        .collect();
    assert_eq!(processed, [1.0, 1.0, 1.0], "no increase lost");
    for metric in &metrics {
        assert_eq!(attribute(metric, "user.id"), None, "{metric:?}");
        assert_eq!(metric.span_id, None, "{metric:?}");
        assert_ne!(metric.trace_id, request_trace.trace_id, "{metric:?}");
    }
}

/// Right after `sentry::init` returns, before the sampler thread has looked for the client, a
/// thread running its own hub without a client (a request hub of sentry-tower or actix, a
/// background job's) calls `collect_now`: the round reaches the client `sentry::init` bound,
/// every time.
#[test]
fn collect_now_in_a_fresh_hub_right_after_init_finds_the_client() {
    const RUNS: usize = 200;
    let mut reached = 0;
    for _ in 0..RUNS {
        let integration = common::integration_of(vec![Box::new(QueueMetrics::default())]);
        let transport = sentry::test::TestTransport::new();
        let guard = sentry::init(common::options_with(&integration, &transport));
        let handle = integration.clone();
        std::thread::spawn(move || {
            Hub::run(Arc::new(Hub::new(None, Arc::default())), || {
                handle.collect_now();
            });
        })
        .join()
        .unwrap();
        let stats = integration.stats();
        drop(guard);
        let sent = named(
            &metrics_in(&transport.fetch_and_clear_envelopes()),
            "app.queue.depth",
        )
        .len();
        if stats.metrics_dropped == 0 && stats.metrics_handed_to_sdk == 3 && sent == 1 {
            reached += 1;
        } else {
            println!("missed: {stats:?}, {sent} sent");
        }
    }
    assert_eq!(reached, RUNS, "rounds that reached the client");
}
