//! The sampler thread only keeps time: it runs no collector and never the SDK's capture path,
//! so the application's `before_send_metric` hook (which may be slow, or call back into the
//! integration) never runs on it, even in rounds in which every collector sits out (resting
//! after a panic, or still running) and only that is reported.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Tests fail loudly.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Panicking, wait_for};
use sentry::test::TestTransport;
use sentry_runtime_metrics::{RuntimeMetricsConfig, RuntimeMetricsIntegration};

#[test]
fn the_hook_never_runs_on_the_sampler_thread() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {})); // The collector's panics are expected.
    let runs = Arc::new(AtomicU64::new(0));
    let integration = RuntimeMetricsIntegration::new(RuntimeMetricsConfig {
        collection_interval: Duration::from_millis(5),
        collect_memory: false,
        collect_process: false,
        // Panics every run, then rests: most rounds have nothing to run, only losses to report.
        custom_collectors: vec![Box::new(Panicking(runs.clone()))],
        ..Default::default()
    });
    let threads: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = threads.clone();
    let transport = TestTransport::new();
    let options =
        common::options_with(&integration, &transport).before_send_metric(move |metric| {
            let name = std::thread::current().name().unwrap_or("?").to_owned();
            seen.lock().unwrap().push(name);
            Some(metric)
        });
    let guard = sentry::init(options);
    // Runs in rounds 1, 3, 6, 11, 20 and 37 at the soonest: 60 rounds are mostly rests.
    wait_for(Duration::from_secs(30), "60 rounds and 6 runs", || {
        integration.stats().rounds >= 60 && runs.load(Ordering::SeqCst) >= 6
    });
    drop(guard);
    std::panic::set_hook(default_hook);
    let threads = threads.lock().unwrap();
    assert!(
        threads.len() >= 30,
        "losses were reported: {}",
        threads.len()
    );
    assert!(
        threads.iter().all(|name| name == "sentry-rtm-collector"),
        "captured on {:?}",
        threads
            .iter()
            .filter(|name| *name != "sentry-rtm-collector")
            .collect::<Vec<_>>()
    );
}
