//! Tokio runtime health next to the process metrics: `cargo run --example tokio_app`.
//!
//! `sentry::init` runs before the runtime starts (as Sentry recommends); the runtime registers
//! itself first thing in `main`. A background task blocks its worker now and then, which shows
//! up as scheduling delay and a busy worker. Without `SENTRY_DSN` the metrics are printed.
#![allow(clippy::print_stdout, clippy::print_stderr)] // A demo prints.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sentry::ClientOptions;
use sentry::protocol::Metric;
use sentry_runtime_metrics::{RuntimeMetricsConfig, RuntimeMetricsIntegration};
use sentry_runtime_metrics_examples::{options_showing_metrics, print_dsn_hint, print_round};

const ROUNDS: u64 = 5;

fn main() {
    let integration = RuntimeMetricsIntegration::new(RuntimeMetricsConfig {
        collection_interval: Duration::from_secs(2),
        ..Default::default()
    });
    let seen: Arc<Mutex<Vec<Metric>>> = Arc::default();
    let (options, sending) = options_showing_metrics(
        ClientOptions::new().add_integration(integration.clone()),
        seen.clone(),
    );
    let guard = sentry::init(options);
    println!(
        "{}; 5 rounds of 2 s (Ctrl-C to stop early).\n",
        if sending {
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
    let stop = Arc::new(AtomicBool::new(false));
    let stop_on_signal = stop.clone();
    if let Err(err) = ctrlc::set_handler(move || stop_on_signal.store(true, Ordering::Relaxed)) {
        eprintln!("(Ctrl-C handler not installed: {err})");
    }

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
            let rounds = integration.stats().rounds;
            if rounds > printed {
                printed = rounds;
                let metrics = seen
                    .lock()
                    .map(|mut seen| std::mem::take(&mut *seen))
                    .unwrap_or_default();
                print_round(rounds, &metrics);
            }
        }
    });
    drop(runtime);
    drop(guard);
    if !sending {
        print_dsn_hint("tokio_app");
    }
}
