//! 200 init/drop cycles in one process leave no thread behind (counted in /proc/self/task).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::print_stderr
)] // Tests fail loudly and report.

mod common;

use std::time::Duration;

use common::{QueueMetrics, library_threads, wait_for};
use sentry::test::TestTransport;
use sentry_runtime_metrics::{RuntimeMetricsConfig, RuntimeMetricsIntegration};

#[test]
fn two_hundred_init_drop_cycles_leave_no_thread_behind() {
    let before = library_threads();
    let threads_before = common::thread_names().len();
    for _ in 0..200 {
        let integration = RuntimeMetricsIntegration::new(RuntimeMetricsConfig {
            collection_interval: Duration::from_millis(1),
            custom_collectors: vec![Box::new(QueueMetrics::default())],
            ..Default::default()
        });
        let guard = sentry::init(common::options_with(&integration, &TestTransport::new()));
        drop(guard);
    }
    wait_for(
        Duration::from_secs(30),
        "every sampler thread to exit",
        || library_threads() == before,
    );
    // Nor any other thread (the SDK's own batcher and transport threads included).
    wait_for(Duration::from_secs(30), "no thread left behind", || {
        common::thread_names().len() <= threads_before
    });
}
