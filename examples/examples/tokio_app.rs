//! Tokio runtime health next to the process metrics: `cargo run --example tokio_app`.
//!
//! `sentry::init` runs before the runtime starts (as Sentry recommends); the runtime registers
//! itself first thing in `main`. A background task blocks its worker now and then, which shows
//! up as scheduling delay and a busy worker. The local view shows each round; with
//! `SENTRY_DSN` set they are sent too.
#![allow(clippy::print_stderr)] // A demo that cannot start says why.

use std::sync::atomic::Ordering;
use std::time::Duration;

use sentry::ClientOptions;
use sentry_runtime_metrics::{LocalView, RuntimeMetricsConfig, RuntimeMetricsIntegration};
use sentry_runtime_metrics_examples::{dsn_is_set, say, say_done, stop_on_ctrl_c};

const ROUNDS: u64 = 5;

fn main() {
    let view = LocalView::stdout();
    let integration = RuntimeMetricsIntegration::new(RuntimeMetricsConfig {
        collection_interval: Duration::from_secs(2),
        ..Default::default()
    })
    .with_local_view(view.clone());
    say(if dsn_is_set() {
        "Sending to the Sentry project of SENTRY_DSN, and showing each round here."
    } else {
        "SENTRY_DSN is not set: nothing is sent, the local view shows what would be."
    });
    say("A round every 2 s, 5 rounds (Ctrl-C ends it early).\n");
    let guard = sentry::init(ClientOptions::new().add_integration(integration.clone()));
    let last_round = integration.last_round_guard();

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
        while integration.stats().rounds < ROUNDS - 1
            && !stop.load(Ordering::Relaxed)
            && !view.is_closed()
        {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    // The runtime's last round is sent before the runtime shuts down, then the client closes.
    drop(last_round);
    drop(runtime);
    let stats = integration.stats();
    drop(guard);
    say_done(stats, "tokio_app");
}
