//! Tokio runtime health next to the process metrics: `cargo run --example tokio_app`.
//!
//! `sentry::init` runs before the runtime starts (as Sentry recommends); the runtime registers
//! itself first thing in `main`. A background task blocks its worker now and then, which shows
//! up as scheduling delay and a busy worker. Without `SENTRY_DSN` the metrics are printed.
#![allow(clippy::print_stdout, clippy::print_stderr)] // A demo prints.

use std::sync::atomic::Ordering;
use std::time::Duration;

use sentry::ClientOptions;
use sentry_runtime_metrics::{RuntimeMetricsConfig, RuntimeMetricsIntegration};
use sentry_runtime_metrics_examples::{LocalView, print_dsn_hint, stop_on_ctrl_c};

const ROUNDS: u64 = 5;

fn main() {
    let integration = RuntimeMetricsIntegration::new(RuntimeMetricsConfig {
        collection_interval: Duration::from_secs(2),
        ..Default::default()
    });
    let (options, mut view) =
        LocalView::options(ClientOptions::new().add_integration(integration.clone()));
    let guard = sentry::init(options);
    let last_round = integration.last_round_guard();
    println!(
        "{}; 5 rounds of 2 s (Ctrl-C to stop early).\n",
        if view.sending {
            "Sending to SENTRY_DSN"
        } else {
            "SENTRY_DSN is not set: printing"
        }
    );

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("could not start a Tokio runtime: {err}");
            return;
        }
    };
    let stop = stop_on_ctrl_c();

    runtime.block_on(async {
        integration.register_tokio_runtime("app", tokio::runtime::Handle::current());
        // Work: many short tasks, and a badly behaved one that blocks a worker for 150 ms.
        tokio::spawn(async {
            loop {
                for _ in 0..100 {
                    tokio::spawn(async { tokio::time::sleep(Duration::from_millis(5)).await });
                }
                std::thread::sleep(Duration::from_millis(150));
                tokio::time::sleep(Duration::from_millis(350)).await;
            }
        });
        let mut printed = 0;
        while printed < ROUNDS && !stop.load(Ordering::Relaxed) {
            tokio::time::sleep(Duration::from_millis(100)).await;
            printed = view.print_new_round(&integration);
        }
    });
    // The runtime's last round is sent before the runtime shuts down, then the client closes.
    drop(last_round);
    drop(runtime);
    drop(guard);
    if !view.sending {
        print_dsn_hint("tokio_app");
    }
}
