//! Already using the `metrics` crate? Everything recorded with `metrics::counter!`, `gauge!` and
//! `histogram!`, here and in any crate (metrics-process below), goes to Sentry. Every second,
//! for 3 rounds.
//!
//! ```sh
//! cargo run --example metrics_facade                     # no account needed: shows the metrics
//! SENTRY_DSN=https://key@o0.ingest.sentry.io/0 cargo run --example metrics_facade   # also sends
//! ```
#![allow(clippy::print_stderr)] // A demo that cannot start says why.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use metrics::{Unit, counter, describe_gauge, describe_histogram, gauge, histogram};
use sentry::ClientOptions;
use sentry_runtime_metrics::{
    LocalView, RuntimeMetricsConfig, RuntimeMetricsIntegration, metrics_rs,
};
use sentry_runtime_metrics_examples::{dsn_is_set, say, say_done, stop_on_ctrl_c};

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
    let view = LocalView::stdout();
    let integration = RuntimeMetricsIntegration::new(RuntimeMetricsConfig {
        collection_interval: INTERVAL,
        // Only what the facade records, to keep the view short.
        collect_memory: false,
        collect_process: false,
        collect_container: false,
        custom_collectors: vec![Box::new(recorded)],
        ..Default::default()
    })
    .with_local_view(view.clone());
    say(if dsn_is_set() {
        "Sending what the `metrics` facade records to the Sentry project of SENTRY_DSN."
    } else {
        "SENTRY_DSN is not set: nothing is sent, the local view shows what would be."
    });
    say(format_args!(
        "A round every {INTERVAL:?}, {ROUNDS} rounds (Ctrl-C ends it early).\n"
    ));
    let sentry = sentry::init(ClientOptions::new().add_integration(integration.clone()));
    let last_round = integration.last_round_guard();
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
    let mut request = 0u64;
    while integration.stats().rounds < ROUNDS - 1
        && !stop.load(Ordering::Relaxed)
        && !view.is_closed()
    {
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
    }

    drop(last_round);
    let stats = integration.stats();
    drop(sentry);
    say_done(stats, "metrics_facade");
}
