//! A misbehaving Sentry endpoint, through the SDK's real HTTP transport on 127.0.0.1: it answers
//! 500, answers 429 with `Retry-After` / `X-Sentry-Rate-Limits` for `trace_metric`, accepts the
//! connection and never answers, or is not listening. In every case the sampler keeps its
//! schedule, memory stays bounded, and shutdown completes.
//!
//! Timing bounds here are generous (several times the expected value): they catch a sampler
//! that stalls behind the transport, not a slow machine.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::print_stderr
)] // Tests fail loudly and report.

mod common;

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use common::{QueueMetrics, library_threads, metrics_in, rss_kib, wait_for};
use sentry_runtime_metrics::{RuntimeMetricsConfig, RuntimeMetricsIntegration};
use sentry_runtime_metrics_examples::TimeoutTransport;
use sentry_runtime_metrics_tests::loopback::{self, Answer, Received};

const INTERVAL: Duration = Duration::from_millis(5);
/// Rounds before memory is first measured: enough for the SDK's transport queue (30 envelopes of
/// up to 100 metrics) to fill when the endpoint does not take them, so that what is measured
/// afterwards is growth, not the queue filling up.
const WARM_UP: u64 = 400;
/// Rounds measured.
const ROUNDS: u64 = 400;
/// The client's shutdown timeout (how long the guard waits for the transport to flush).
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(1);
/// The request timeout of the transport the tests configure.
const HTTP_TIMEOUT: Duration = Duration::from_secs(1);

/// One fault at a time: the thread and memory measurements are per process.
static SERIAL: Mutex<()> = Mutex::new(());

/// What a run against an endpoint measured.
#[derive(Debug)]
struct Outcome {
    /// Time for [`ROUNDS`] rounds after the warm-up.
    elapsed: Duration,
    /// RSS growth over those rounds, in KiB.
    rss_growth_kib: i64,
    /// Time from dropping the guard until the library's threads were gone.
    threads_gone: Duration,
    /// Time from dropping the guard until it returned; `None` if it had not returned when the
    /// test stopped waiting (the SDK's transport thread can block on a silent endpoint).
    guard_drop: Option<Duration>,
    /// Metrics the integration handed to the SDK.
    sent: u64,
}

/// The SDK's transport: its default one, or ureq with a request timeout.
#[derive(Clone, Copy, Debug)]
enum Transport {
    Default,
    WithTimeout,
}

/// Runs the integration (built-in collectors and a custom one) against `dsn` for
/// [`WARM_UP`] + [`ROUNDS`] rounds, then drops the guard on another thread and measures how
/// long the library's threads and the guard drop take.
fn run_against(fault: &str, dsn: &str, transport: Transport) -> Outcome {
    let threads_before = library_threads();
    let integration = RuntimeMetricsIntegration::new(RuntimeMetricsConfig {
        collection_interval: INTERVAL,
        custom_collectors: vec![Box::new(QueueMetrics::default())],
        ..Default::default()
    });
    let mut options = sentry::ClientOptions::new().add_integration(integration.clone());
    options.dsn = Some(dsn.parse().unwrap());
    options.shutdown_timeout = SHUTDOWN_TIMEOUT;
    if let Transport::WithTimeout = transport {
        options.transport = Some(Arc::new(TimeoutTransport(HTTP_TIMEOUT)));
    }
    let guard = sentry::init(options);
    wait_for(Duration::from_secs(60), "the warm-up rounds", || {
        integration.stats().rounds >= WARM_UP
    });
    let rss_before = rss_kib();
    let start = Instant::now();
    wait_for(Duration::from_secs(60), "the measured rounds", || {
        integration.stats().rounds >= WARM_UP + ROUNDS
    });
    let elapsed = start.elapsed();
    let rss_growth_kib = rss_kib() - rss_before;

    let stopping = Instant::now();
    let (dropped, guard_dropped) = mpsc::channel();
    thread::spawn(move || {
        drop(guard);
        let _ = dropped.send(stopping.elapsed());
    });
    wait_for(
        Duration::from_secs(30),
        "the library's threads to exit",
        || library_threads() <= threads_before,
    );
    let threads_gone = stopping.elapsed();
    let limit = SHUTDOWN_TIMEOUT + HTTP_TIMEOUT + Duration::from_secs(5);
    let outcome = Outcome {
        elapsed,
        rss_growth_kib,
        threads_gone,
        guard_drop: guard_dropped.recv_timeout(limit).ok(),
        sent: integration.stats().metrics_handed_to_sdk,
    };
    println!("{fault} ({transport:?} transport): {outcome:?}");
    outcome
}

/// The bounds every fault must stay within.
fn assert_unharmed(outcome: &Outcome) {
    let expected = INTERVAL * ROUNDS as u32;
    assert!(
        outcome.elapsed < expected * 5,
        "{ROUNDS} rounds of {INTERVAL:?} took {:?}",
        outcome.elapsed
    );
    assert!(
        outcome.rss_growth_kib < 1024,
        "RSS grew {} KiB",
        outcome.rss_growth_kib
    );
    // The library's threads end within a few liveness ticks of the client closing, whatever
    // the transport is doing.
    assert!(
        outcome.threads_gone < Duration::from_secs(3),
        "the library's threads took {:?} to exit",
        outcome.threads_gone
    );
    assert!(outcome.sent > 0);
}

/// With a request timeout, the guard drop is bounded by the shutdown and request timeouts
/// (generously: plus 3 s).
fn assert_guard_drop_bounded(outcome: &Outcome) {
    let guard_drop = outcome.guard_drop.expect("the guard drop returned");
    assert!(
        guard_drop < SHUTDOWN_TIMEOUT + HTTP_TIMEOUT + Duration::from_secs(3),
        "guard drop took {guard_drop:?}"
    );
}

fn requests(received: &Received) -> u64 {
    received.envelopes.load(Ordering::Relaxed)
}

#[test]
fn endpoint_answering_500() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (dsn, received) = loopback::start_answering(Answer::Status(500), false).unwrap();
    let outcome = run_against("500", &dsn, Transport::WithTimeout);
    assert_unharmed(&outcome);
    assert_guard_drop_bounded(&outcome);
    // Every batch is still tried (and lost at the endpoint; the SDK does not retry).
    assert!(requests(&received) >= 2, "{} requests", requests(&received));
}

#[test]
fn endpoint_rate_limiting_trace_metrics() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (dsn, received) =
        loopback::start_answering(Answer::RateLimited { seconds: 60 }, true).unwrap();
    let outcome = run_against("429", &dsn, Transport::WithTimeout);
    assert_unharmed(&outcome);
    assert_guard_drop_bounded(&outcome);
    // After the first 429 the SDK holds `trace_metric` items back for 60 s: the endpoint sees
    // the first batch (and at most one already in flight), not one per batch. (The SDK still
    // sends its client reports about the discarded items.)
    let envelopes = common::received_envelopes(&received);
    let with_metrics = envelopes
        .iter()
        .filter(|envelope| !metrics_in(std::slice::from_ref(*envelope)).is_empty())
        .count();
    assert!(
        (1..=2).contains(&with_metrics),
        "{with_metrics} metric batches despite the rate limit ({} requests)",
        envelopes.len()
    );
}

#[test]
fn endpoint_that_never_answers() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (dsn, received) = loopback::start_answering(Answer::Never, false).unwrap();
    let outcome = run_against("never answers", &dsn, Transport::WithTimeout);
    assert_unharmed(&outcome);
    assert_guard_drop_bounded(&outcome);
    assert!(requests(&received) >= 1);
}

/// With the SDK's default transport (no request timeout), a silent endpoint blocks the SDK's
/// transport thread, and with it the guard drop, indefinitely; the library still keeps its
/// schedule and its threads still exit at once.
#[test]
fn endpoint_that_never_answers_default_transport() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (dsn, _received) = loopback::start_answering(Answer::Never, false).unwrap();
    let outcome = run_against("never answers", &dsn, Transport::Default);
    assert_unharmed(&outcome);
    // Not asserted: whether the guard drop returned (that is the SDK's transport).
    println!("guard drop returned: {:?}", outcome.guard_drop);
}

#[test]
fn endpoint_not_listening() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dsn = loopback::not_listening().unwrap();
    let outcome = run_against("not listening", &dsn, Transport::WithTimeout);
    assert_unharmed(&outcome);
    assert_guard_drop_bounded(&outcome);
}
