//! A custom collector stuck in a background run: `collect_now()` on an application thread skips
//! it instead of waiting, and the stuck run is not started again while it lasts.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::print_stderr
)] // Tests fail loudly and report.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::wait_for;
use sentry::test::TestTransport;
use sentry_runtime_metrics::{MetricCollector, RuntimeMetricsConfig, RuntimeMetricsIntegration};

/// Blocks in its second run (the first is the baseline at init) until released.
#[derive(Clone, MetricCollector)]
#[collector(name = "stuck")]
struct Stuck {
    #[gauge(name = "stuck.runs")]
    runs: u64,
    entered: Sender<()>,
    release: Arc<Mutex<Receiver<()>>>,
    started: Arc<AtomicU64>,
}

impl Stuck {
    fn sample(&mut self) {
        if self.started.fetch_add(1, Ordering::SeqCst) == 1 {
            let _ = self.entered.send(());
            let _ = self.release.lock().unwrap().recv();
        }
        self.runs += 1;
    }
}

#[test]
fn collect_now_skips_a_collector_stuck_in_the_background() {
    let (entered, stuck) = mpsc::channel();
    let (release, released) = mpsc::channel();
    let started = Arc::new(AtomicU64::new(0));
    let integration = RuntimeMetricsIntegration::new(RuntimeMetricsConfig {
        collection_interval: Duration::from_millis(10),
        collect_memory: false,
        collect_process: false,
        custom_collectors: vec![Box::new(Stuck {
            runs: 0,
            entered,
            release: Arc::new(Mutex::new(released)),
            started: started.clone(),
        })],
        ..Default::default()
    });
    let transport = TestTransport::new();
    let guard = sentry::init(common::options_with(&integration, &transport));
    stuck
        .recv_timeout(Duration::from_secs(30))
        .expect("the collector's background run started");

    // From another thread, so a blocking collect_now fails the test instead of hanging it.
    let (done, returned) = mpsc::channel();
    let handle = integration.clone();
    std::thread::spawn(move || {
        handle.collect_now();
        let _ = done.send(());
    });
    returned
        .recv_timeout(Duration::from_secs(30))
        .expect("collect_now returned while the collector is stuck");
    // Background rounds go on and skip it too; it is never started a second time meanwhile.
    wait_for(Duration::from_secs(30), "rounds skipping it", || {
        integration.stats().collector_skips >= 3
    });
    assert_eq!(
        started.load(Ordering::SeqCst),
        2,
        "baseline + the stuck run"
    );

    release.send(()).unwrap();
    wait_for(
        Duration::from_secs(30),
        "the collector to run again",
        || started.load(Ordering::SeqCst) >= 3,
    );
    drop(guard);
}
