//! The integration finds its client wherever it is bound. A client bound only with
//! `Hub::new(Some(client))` + `Hub::run` (never to a hub the sampler can see) is found by the
//! first `collect_now` inside that hub, and background rounds then go to it. Until a client is
//! found, the sampler thread sleeps instead of polling: its voluntary context switches, read
//! from `/proc/self/task/<tid>/status`, stay flat.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Tests fail loudly.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{QueueMetrics, metrics_in, named, wait_for};
use sentry::test::TestTransport;
use sentry::{Client, Hub};
use sentry_runtime_metrics::{RuntimeMetricsConfig, RuntimeMetricsIntegration};

/// This process's sampler threads (`sentry-runtime-metrics`, cut to 15 bytes by the kernel).
fn sampler_tids() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .flatten()
        .filter(|task| {
            std::fs::read_to_string(task.path().join("comm"))
                .is_ok_and(|comm| comm.trim_end() == "sentry-runtime-")
        })
        .map(|task| task.file_name().to_string_lossy().into_owned())
        .collect()
}

/// Voluntary context switches of thread `tid`: one per sleep it woke from.
fn wake_ups(tid: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/self/task/{tid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("voluntary_ctxt_switches:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

fn options(
    integration: &RuntimeMetricsIntegration,
    transport: &Arc<TestTransport>,
) -> sentry::ClientOptions {
    common::options_with(integration, transport)
}

#[test]
fn a_client_bound_only_in_its_own_hub_is_found_and_unfound_ones_cost_no_wake_ups() {
    let integration = RuntimeMetricsIntegration::new(RuntimeMetricsConfig {
        collection_interval: Duration::from_millis(20),
        collect_memory: false,
        collect_process: false,
        custom_collectors: vec![Box::new(QueueMetrics::default())],
        ..Default::default()
    });
    let transport = TestTransport::new();
    // Created by hand and bound to no hub the sampler can see.
    let client = Arc::new(Client::from(options(&integration, &transport)));
    let hub = Arc::new(Hub::new(Some(client.clone()), Arc::default()));
    // (A thread not yet scheduled still has its parent's name.)
    wait_for(Duration::from_secs(30), "the sampler thread", || {
        sampler_tids().len() == 1
    });
    let tid = &sampler_tids()[0];

    // It looks for the client for about two seconds, then sleeps until something finds it.
    std::thread::sleep(Duration::from_secs(3));
    let before = wake_ups(tid);
    std::thread::sleep(Duration::from_secs(1));
    let idle = wake_ups(tid) - before;
    // Polling every 50 ms would be 20; the interval (20 ms) would be 50.
    assert!(
        idle <= 2,
        "{idle} wake-ups in a second with no client found"
    );
    assert_eq!(
        integration.stats().rounds,
        0,
        "nothing to send to, nothing collected"
    );

    // A `collect_now` inside the client's hub finds it; background rounds follow.
    Hub::run(hub.clone(), || integration.collect_now());
    wait_for(Duration::from_secs(30), "background rounds", || {
        integration.stats().rounds >= 4
    });
    client.close(None);
    let metrics = metrics_in(&transport.fetch_and_clear_envelopes());
    assert!(
        named(&metrics, "app.queue.depth").len() >= 4,
        "the collect_now round and the background ones: {metrics:#?}"
    );
    drop(hub);
}
