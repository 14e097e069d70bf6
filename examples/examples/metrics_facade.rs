//! Already using the `metrics` crate? Everything recorded with `metrics::counter!`, `gauge!` and
//! `histogram!`, here and in any crate (metrics-process below), goes to Sentry. Every second,
//! for 3 rounds.
//!
//! ```sh
//! cargo run --example metrics_facade                     # no account needed: prints the metrics
//! SENTRY_DSN=https://key@o0.ingest.sentry.io/0 cargo run --example metrics_facade   # also sends
//! ```
#![allow(clippy::print_stdout, clippy::print_stderr)] // A demo prints.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use metrics::{Unit, counter, describe_gauge, describe_histogram, gauge, histogram};
use sentry::ClientOptions;
use sentry_runtime_metrics::{RuntimeMetricsConfig, RuntimeMetricsIntegration, metrics_rs};
use sentry_runtime_metrics_examples::{LocalView, stop_on_ctrl_c};

const ROUNDS: u64 = 3;
const INTERVAL: Duration = Duration::from_secs(1);
const ROUTES: [&str; 3] = ["/users", "/orders", "/health"];

fn main() {
    // The global `metrics` recorder, and the collector that sends what it records.
    let recorded = match metrics_rs::install() {
        Ok(recorded) => recorded,
        Err(err) => {
            eprintln!("{err}");
            std::process::exit(1);
        }
    };
    let integration = RuntimeMetricsIntegration::new(RuntimeMetricsConfig {
        collection_interval: INTERVAL,
        // Only what the facade records, to keep the table short.
        collect_memory: false,
        collect_process: false,
        collect_container: false,
        custom_collectors: vec![Box::new(recorded)],
        ..Default::default()
    });
    let (options, mut view) =
        LocalView::options(ClientOptions::new().add_integration(integration.clone()));
    let guard = sentry::init(options);
    let last_round = integration.last_round_guard();
    view.announce("what the `metrics` facade records", INTERVAL, ROUNDS);
    let stop = stop_on_ctrl_c();

    describe_histogram!(
        "http.server.duration",
        Unit::Seconds,
        "Time to answer a request."
    );
    describe_gauge!("http.server.in_flight", "Requests being answered.");
    // A third-party crate that records through the facade.
    let process = metrics_process::Collector::default();
    process.describe();

    let started = Instant::now();
    let mut printed = 0;
    let mut request = 0u64;
    while printed < ROUNDS && !stop.load(Ordering::Relaxed) {
        // Simulated traffic: a request every 10 ms, on one of three routes.
        request += 1;
        let route = ROUTES[(request % 3) as usize];
        let status = if request.is_multiple_of(17) {
            "500"
        } else {
            "200"
        };
        counter!("http.server.requests", "route" => route, "status" => status).increment(1);
        let seconds = 0.002 + (request % 10) as f64 * 0.001;
        histogram!("http.server.duration", "route" => route).record(seconds);
        gauge!("http.server.in_flight").set((started.elapsed().as_millis() % 7) as f64);
        process.collect();
        std::thread::sleep(Duration::from_millis(10));
        printed = view.print_new_round(&integration);
    }

    view.finish(&integration, last_round, guard, "metrics_facade");
}
