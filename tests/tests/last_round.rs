//! The last round: a program that counts N events and ends (drops the last-round guard, then the
//! guard of `sentry::init`) has sent exactly N, through the SDK's real HTTP transport, whether
//! the interval is longer than the program (only the last round sends) or short (background
//! rounds run while it counts, and one may be under way when it ends). Counted twice: by a
//! derived collector over an atomic, and by the `metrics` facade.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::print_stderr
)] // Tests fail loudly and report.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use common::{named, wait_for};
use sentry_runtime_metrics::metrics_rs::Builder;
use sentry_runtime_metrics::{
    MetricCollector, RunningTotals, RuntimeMetricsConfig, RuntimeMetricsIntegration,
};
use sentry_runtime_metrics_examples::TimeoutTransport;
use sentry_runtime_metrics_tests::loopback;

/// Events counted by the program: a running total in an atomic, as services keep them.
#[derive(Clone, Default, MetricCollector)]
#[collector(name = "jobs")]
struct Jobs {
    #[counter(name = "app.jobs")]
    done: u64,
    #[totals]
    totals: RunningTotals,
    counter: Arc<AtomicU64>,
}

impl Jobs {
    fn sample(&mut self) {
        self.done = self.counter.load(Ordering::Relaxed);
    }
}

const EVENTS: u64 = 20_000;

/// Runs a program that counts [`EVENTS`] with `interval` and ends; returns what the endpoint
/// received of each counter: (derived, facade).
fn program(interval: Duration) -> (f64, f64) {
    let (dsn, received) = loopback::start(true).unwrap();
    let counter = Arc::new(AtomicU64::new(0));
    let (recorder, recorded) = Builder::new().build();
    let integration = RuntimeMetricsIntegration::new(RuntimeMetricsConfig {
        collection_interval: interval,
        collect_memory: false,
        collect_process: false,
        custom_collectors: vec![
            Box::new(Jobs {
                counter: counter.clone(),
                ..Jobs::default()
            }),
            Box::new(recorded),
        ],
        ..Default::default()
    });
    let mut options = sentry::ClientOptions::new().add_integration(integration.clone());
    options.dsn = Some(dsn.parse().unwrap());
    options.transport = Some(Arc::new(TimeoutTransport(Duration::from_secs(5))));
    let sentry = sentry::init(options);
    let last_round = integration.last_round_guard();

    metrics::with_local_recorder(&recorder, || {
        for event in 0..EVENTS {
            counter.fetch_add(1, Ordering::Relaxed);
            metrics::counter!("app.facade.jobs").increment(1);
            if event % 1000 == 0 {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
    });
    let rounds = integration.stats().rounds;

    drop(last_round);
    drop(sentry);
    let metrics = || common::received_metrics(&received);
    let sum = |name: &str| named(&metrics(), name).iter().map(|m| m.value).sum::<f64>();
    wait_for(
        Duration::from_secs(30),
        "every event at the endpoint",
        || sum("app.jobs") >= EVENTS as f64 && sum("app.facade.jobs") >= EVENTS as f64,
    );
    println!(
        "interval {interval:?}: {rounds} background rounds before the end, {:?}",
        integration.stats()
    );
    assert_eq!(integration.stats().metrics_dropped, 0);
    (sum("app.jobs"), sum("app.facade.jobs"))
}

#[test]
fn a_program_shorter_than_the_interval_sends_every_event() {
    let (derived, facade) = program(Duration::from_secs(10));
    assert_eq!((derived, facade), (EVENTS as f64, EVENTS as f64));
}

#[test]
fn a_program_with_rounds_under_way_sends_every_event_once() {
    let (derived, facade) = program(Duration::from_millis(3));
    assert_eq!((derived, facade), (EVENTS as f64, EVENTS as f64));
}

#[test]
fn a_guard_dropped_after_the_client_closed_runs_nothing() {
    let integration = common::integration_of(vec![Box::new(Jobs {
        counter: Arc::new(AtomicU64::new(5)),
        ..Jobs::default()
    })]);
    let transport = sentry::test::TestTransport::new();
    let last_round = integration.last_round_guard();
    let sentry = sentry::init(common::options_with(&integration, &transport));
    // The wrong order: the client closes first.
    drop(sentry);
    drop(last_round);
    // No round: nothing to send to, so nothing is collected (the debug log says why).
    let stats = integration.stats();
    assert_eq!(
        (
            stats.rounds,
            stats.metrics_handed_to_sdk,
            stats.metrics_dropped
        ),
        (0, 0, 0)
    );
}

/// Sleeps three seconds in every sample.
#[derive(Clone, Default, MetricCollector)]
#[collector(name = "slow")]
struct Slow {
    #[gauge(name = "app.slow")]
    runs: u64,
}

impl Slow {
    fn sample(&mut self) {
        std::thread::sleep(Duration::from_secs(3));
        self.runs += 1;
    }
}

#[test]
fn the_last_round_does_not_wait_for_a_slow_collector_past_its_limit() {
    let integration = common::integration_of(vec![Box::new(Slow::default())]);
    let transport = sentry::test::TestTransport::new();
    let sentry = sentry::init(common::options_with(&integration, &transport));
    let last_round = integration.last_round_guard();
    let started = std::time::Instant::now();
    drop(last_round);
    let took = started.elapsed();
    let limit = sentry_runtime_metrics::LAST_ROUND_WAIT;
    println!("the last round took {took:?} (LAST_ROUND_WAIT is {limit:?})");
    // Its collector sleeps 3 s: the guard gave up on it at its limit, well before.
    assert!(took < Duration::from_secs(3), "{took:?}");
    drop(sentry);
}
