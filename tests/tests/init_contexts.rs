//! The background sampler sends on the hub `sentry::init` bound its client to, whether init runs
//! on a spawned thread or inside a Tokio runtime.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::print_stderr
)] // Tests fail loudly and report.

mod common;

use std::time::Duration;

use common::{init_with_queue as init, metrics_in, named, wait_for};

fn runs_two_rounds_and_sends_them() {
    let (guard, integration, transport) = init(Duration::from_millis(20));
    wait_for(Duration::from_secs(30), "two background rounds", || {
        integration.stats().rounds >= 2
    });
    drop(guard);
    let metrics = metrics_in(&transport.fetch_and_clear_envelopes());
    assert!(
        named(&metrics, "app.queue.depth").len() >= 2,
        "{metrics:#?}"
    );
}

#[test]
fn init_on_a_spawned_thread() {
    std::thread::spawn(runs_two_rounds_and_sends_them)
        .join()
        .expect("no panic");
}

#[test]
fn init_inside_a_tokio_runtime() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    runtime.block_on(async { runs_two_rounds_and_sends_them() });
}
