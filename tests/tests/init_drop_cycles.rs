//! 200 init/drop cycles in one process, each with a background round (so the sampler and its
//! worker threads run), leave no thread behind (counted in /proc/self/task) and no memory.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::print_stderr
)] // Tests fail loudly and report.

mod common;

use std::time::Duration;

use common::{QueueMetrics, library_threads, rss_kib, wait_for};
use sentry::test::TestTransport;
use sentry_runtime_metrics::{RuntimeMetricsConfig, RuntimeMetricsIntegration};

const CYCLES: usize = 200;
/// Cycles run before memory is first measured (allocator and SDK caches settle).
const WARM_UP: usize = 100;

/// One init, at least one background round, one guard drop.
fn cycle() {
    let integration = RuntimeMetricsIntegration::new(RuntimeMetricsConfig {
        collection_interval: Duration::from_millis(1),
        custom_collectors: vec![Box::new(QueueMetrics::default())],
        ..Default::default()
    });
    let guard = sentry::init(common::options_with(&integration, &TestTransport::new()));
    wait_for(Duration::from_secs(30), "a background round", || {
        integration.stats().rounds >= 1
    });
    drop(guard);
}

#[test]
fn two_hundred_init_drop_cycles_leave_no_thread_or_memory_behind() {
    let before = library_threads();
    let threads_before = common::thread_names().len();
    for _ in 0..WARM_UP {
        cycle();
    }
    let rss_before = rss_kib();
    for _ in 0..CYCLES {
        cycle();
    }
    wait_for(
        Duration::from_secs(30),
        "every sampler and worker thread to exit",
        || library_threads() == before,
    );
    // Nor any other thread (the SDK's own batcher and transport threads included).
    wait_for(Duration::from_secs(30), "no thread left behind", || {
        common::thread_names().len() <= threads_before
    });
    let growth = rss_kib() - rss_before;
    println!("RSS growth over {CYCLES} cycles: {growth} KiB");
    // A leak of one client, integration or thread stack per cycle would be far above this.
    assert!(growth < 1024, "RSS grew {growth} KiB over {CYCLES} cycles");
}
