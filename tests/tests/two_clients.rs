//! Two clients alive at once, each initialized on its own thread: each gets only the metrics of
//! its own integration, and closing both leaves none of their threads behind.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Tests fail loudly.

mod common;

use std::sync::{Arc, Barrier};
use std::time::Duration;

use common::{metrics_in, wait_for};
use sentry_runtime_metrics::{MetricCollector, RuntimeMetricsConfig, RuntimeMetricsIntegration};

#[derive(Clone, Default, MetricCollector)]
struct First {
    #[gauge(name = "first.value")]
    value: u8,
}

impl First {
    fn sample(&mut self) {}
}

#[derive(Clone, Default, MetricCollector)]
struct Second {
    #[gauge(name = "second.value")]
    value: u8,
}

impl Second {
    fn sample(&mut self) {}
}

fn run(collector: Box<dyn MetricCollector>, both_started: Arc<Barrier>) -> Vec<String> {
    let transport = sentry::test::TestTransport::new();
    let integration = RuntimeMetricsIntegration::new(RuntimeMetricsConfig {
        collection_interval: Duration::from_millis(10),
        collect_memory: false,
        collect_process: false,
        custom_collectors: vec![collector],
        ..Default::default()
    });
    let guard = sentry::init(common::options_with(&integration, &transport));
    both_started.wait();
    wait_for(Duration::from_secs(30), "three rounds that sent", || {
        integration.stats().rounds >= 3 && integration.stats().metrics_handed_to_sdk > 0
    });
    both_started.wait(); // Both clients are still alive here.
    drop(guard);
    let mut names: Vec<String> = metrics_in(&transport.fetch_and_clear_envelopes())
        .into_iter()
        .map(|m| m.name.to_string())
        .collect();
    names.sort();
    names.dedup();
    names
}

#[test]
fn two_clients_at_once_each_get_only_their_own_metrics() {
    let threads_before = common::thread_names().len();
    let barrier = Arc::new(Barrier::new(2));
    let (b1, b2) = (barrier.clone(), barrier);
    let first = std::thread::spawn(move || run(Box::new(First::default()), b1));
    let second = std::thread::spawn(move || run(Box::new(Second::default()), b2));
    assert_eq!(first.join().unwrap(), ["first.value"]);
    assert_eq!(second.join().unwrap(), ["second.value"]);
    // Both clients closed: none of their threads (ours or the SDK's) is left.
    wait_for(Duration::from_secs(30), "no thread left behind", || {
        common::library_threads() == 0 && common::thread_names().len() <= threads_before
    });
}
