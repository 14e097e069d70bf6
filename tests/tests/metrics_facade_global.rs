//! The `metrics` facade bridge installed as the global recorder, end to end through the SDK's
//! real HTTP transport to the tests crate's loopback receiver. A file of its own: the global
//! recorder can be installed once per process.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::float_cmp
)] // Tests fail loudly and report; the values compared are exact.

mod common;

use std::time::Duration;

use common::{attribute, is, named, wait_for};
use metrics::{Unit, counter, describe_histogram, gauge, histogram};
use sentry::protocol::{MetricType as Sent, Unit as SentUnit};
use sentry_runtime_metrics::metrics_rs;
use sentry_runtime_metrics::{RuntimeMetricsConfig, RuntimeMetricsIntegration};
use sentry_runtime_metrics_tests::loopback;

#[test]
fn the_global_recorder_reaches_a_real_http_endpoint() {
    let recorded = metrics_rs::install().expect("the first global recorder");
    let again = metrics_rs::install().expect_err("a second global recorder");
    assert!(again.to_string().contains("already installed"), "{again}");

    let (dsn, received) = loopback::start(true).expect("a loopback receiver");
    let integration = RuntimeMetricsIntegration::new(RuntimeMetricsConfig {
        collection_interval: Duration::from_millis(50),
        collect_memory: false,
        collect_process: false,
        custom_collectors: vec![Box::new(recorded)],
        ..Default::default()
    });
    let mut options = sentry::ClientOptions::new().add_integration(integration.clone());
    options.dsn = Some(dsn.parse().expect("dsn"));
    let guard = sentry::init(options);
    assert!(guard.is_enabled());

    // From another thread than the test's, as an application's workers would.
    std::thread::spawn(|| {
        describe_histogram!("checkout.duration", Unit::Milliseconds, "Checkout time.");
        let orders = counter!("checkout.orders", "region" => "eu");
        for _ in 0..40 {
            orders.increment(1);
        }
        gauge!("checkout.carts.open").set(12.0);
        for value in [3.0, 5.0, 8.0] {
            histogram!("checkout.duration").record(value);
        }
    })
    .join()
    .unwrap();
    let rounds = integration.stats().rounds;
    wait_for(Duration::from_secs(30), "two background rounds", || {
        integration.stats().rounds >= rounds + 2
    });
    // Dropping the guard flushes the SDK's metric batch through the transport and waits for it.
    drop(guard);
    let received_metrics = || common::received_metrics(&received);
    wait_for(Duration::from_secs(30), "the rounds at the server", || {
        named(&received_metrics(), "checkout.carts.open").len() >= 2
    });
    let metrics = received_metrics();
    let orders = named(&metrics, "checkout.orders");
    assert_eq!(
        orders.len(),
        1,
        "sent once, in the round after: {orders:#?}"
    );
    assert_eq!(orders[0].value, 40.0);
    assert!(is(orders[0], Sent::Counter));
    assert_eq!(attribute(orders[0], "region"), Some("eu"));
    let durations = named(&metrics, "checkout.duration");
    assert_eq!(
        durations.iter().map(|m| m.value).collect::<Vec<_>>(),
        [3.0, 5.0, 8.0]
    );
    assert!(
        durations
            .iter()
            .all(|m| is(m, Sent::Distribution) && m.unit == Some(SentUnit::Millisecond))
    );
    assert_eq!(
        named(&metrics, "checkout.duration.count")
            .iter()
            .map(|m| m.value)
            .sum::<f64>(),
        3.0
    );
    assert!(
        named(&metrics, "checkout.carts.open")
            .iter()
            .all(|m| m.value == 12.0 && is(m, Sent::Gauge))
    );
    assert!(
        metrics
            .iter()
            .all(|m| attribute(m, "sentry.origin") == Some("auto.runtime_metrics"))
    );
}
