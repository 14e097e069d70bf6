//! A custom collector that blocks: neither `sentry::init` nor `collect_now()` on an application
//! thread waits for it, and a stuck run is not started again while it lasts.
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

/// Blocks in its run number `block_at` (0-based) until released.
#[derive(Clone, MetricCollector)]
#[collector(name = "stuck")]
struct Stuck {
    #[gauge(name = "stuck.runs")]
    runs: u64,
    block_at: u64,
    entered: Sender<()>,
    release: Arc<Mutex<Receiver<()>>>,
    started: Arc<AtomicU64>,
}

impl Stuck {
    fn sample(&mut self) {
        if self.started.fetch_add(1, Ordering::SeqCst) == self.block_at {
            let _ = self.entered.send(());
            let _ = self.release.lock().unwrap().recv();
        }
        self.runs += 1;
    }
}

/// An integration (10 ms interval) whose only collector is a [`Stuck`] blocking in run
/// `block_at`, with what controls it.
struct StuckSetup {
    integration: RuntimeMetricsIntegration,
    /// Receives once the collector is blocked.
    stuck: Receiver<()>,
    /// Releases the blocked run.
    release: Sender<()>,
    /// Runs started so far.
    started: Arc<AtomicU64>,
}

fn stuck_at(block_at: u64) -> StuckSetup {
    let (entered, stuck) = mpsc::channel();
    let (release, released) = mpsc::channel();
    let started = Arc::new(AtomicU64::new(0));
    let integration = RuntimeMetricsIntegration::new(RuntimeMetricsConfig {
        collection_interval: Duration::from_millis(10),
        collect_memory: false,
        collect_process: false,
        custom_collectors: vec![Box::new(Stuck {
            runs: 0,
            block_at,
            entered,
            release: Arc::new(Mutex::new(released)),
            started: started.clone(),
        })],
        ..Default::default()
    });
    StuckSetup {
        integration,
        stuck,
        release,
        started,
    }
}

/// Calls `collect_now` on another thread (so a blocking one fails the test instead of hanging
/// it) and waits for it to return.
fn collect_now_returns(integration: &RuntimeMetricsIntegration, what: &str) {
    let (done, returned) = mpsc::channel();
    let handle = integration.clone();
    std::thread::spawn(move || {
        handle.collect_now();
        let _ = done.send(());
    });
    returned.recv_timeout(Duration::from_secs(30)).expect(what);
}

#[test]
fn collect_now_skips_a_collector_stuck_in_the_background() {
    let StuckSetup {
        integration,
        stuck,
        release,
        started,
    } = stuck_at(0);
    let transport = TestTransport::new();
    let guard = sentry::init(common::options_with(&integration, &transport));
    stuck
        .recv_timeout(Duration::from_secs(30))
        .expect("the collector's background run started");

    collect_now_returns(
        &integration,
        "collect_now returned while the collector is stuck",
    );
    // Background rounds go on and skip it too; it is never started a second time meanwhile.
    wait_for(Duration::from_secs(30), "rounds skipping it", || {
        integration.stats().collector_skips >= 3
    });
    assert_eq!(started.load(Ordering::SeqCst), 1, "the stuck run only");

    release.send(()).unwrap();
    wait_for(
        Duration::from_secs(30),
        "the collector to run again",
        || started.load(Ordering::SeqCst) >= 2,
    );
    drop(guard);
}

#[test]
fn collect_now_skips_a_collector_stuck_in_another_collect_now() {
    // No client: `collect_now` still samples (and sends nothing), which is all this needs.
    let StuckSetup {
        integration,
        stuck,
        release,
        started,
    } = stuck_at(0);
    let first = integration.clone();
    let first = std::thread::spawn(move || first.collect_now());
    stuck
        .recv_timeout(Duration::from_secs(30))
        .expect("the first collect_now entered the collector");

    collect_now_returns(
        &integration,
        "the second collect_now returned while the first is stuck",
    );
    assert_eq!(integration.stats().collector_skips, 1);
    assert_eq!(started.load(Ordering::SeqCst), 1, "not run a second time");

    release.send(()).unwrap();
    first.join().unwrap();
    assert_eq!(integration.stats().rounds, 2);
}

/// Reads a value behind a lock that the application may hold.
#[derive(Clone, MetricCollector)]
#[collector(name = "locking")]
struct Locking {
    #[gauge(name = "locking.value")]
    value: u64,
    shared: Arc<Mutex<u64>>,
    runs: Arc<AtomicU64>,
}

impl Locking {
    fn sample(&mut self) {
        self.value = *self.shared.lock().unwrap();
        self.runs.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn sentry_init_does_not_wait_for_a_collector_blocked_on_the_callers_lock() {
    let shared = Arc::new(Mutex::new(7));
    let runs = Arc::new(AtomicU64::new(0));
    let integration = RuntimeMetricsIntegration::new(RuntimeMetricsConfig {
        collection_interval: Duration::from_millis(10),
        collect_memory: false,
        collect_process: false,
        custom_collectors: vec![Box::new(Locking {
            value: 0,
            shared: shared.clone(),
            runs: runs.clone(),
        })],
        ..Default::default()
    });
    let transport = TestTransport::new();
    let options = common::options_with(&integration, &transport);
    let (done, returned) = mpsc::channel();
    let (finish, finished) = mpsc::channel::<()>();
    let (handle, lock) = (integration.clone(), shared.clone());
    // Its own thread (and hub), so a hang fails the test instead of hanging it.
    let app = std::thread::spawn(move || {
        let held = lock.lock().unwrap();
        let guard = sentry::init(options);
        let _ = done.send(());
        drop(held);
        wait_for(Duration::from_secs(30), "rounds with the lock free", || {
            handle.stats().rounds >= 3 && runs.load(Ordering::SeqCst) >= 3
        });
        let _ = finished.recv();
        drop(guard);
    });
    returned
        .recv_timeout(Duration::from_secs(30))
        .expect("sentry::init returned while the collector waits for the caller's lock");
    finish.send(()).unwrap();
    app.join().unwrap();
    let metrics = common::metrics_in(&transport.fetch_and_clear_envelopes());
    let values = common::values(&metrics, "locking.value");
    assert!(
        !values.is_empty() && values.iter().all(|v| *v == 7.0),
        "{values:?}"
    );
}

/// Sleeps a second in every sample.
#[derive(Clone, MetricCollector)]
#[collector(name = "sleepy")]
struct Sleepy {
    #[gauge(name = "sleepy.runs")]
    runs: u64,
    started: Arc<AtomicU64>,
}

impl Sleepy {
    fn sample(&mut self) {
        self.started.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(Duration::from_secs(1));
        self.runs += 1;
    }
}

#[test]
fn sentry_init_and_add_collector_run_no_collector() {
    let started = Arc::new(AtomicU64::new(0));
    let sleepy = || Sleepy {
        runs: 0,
        started: started.clone(),
    };
    let integration = RuntimeMetricsIntegration::new(RuntimeMetricsConfig {
        custom_collectors: vec![Box::new(sleepy())],
        ..Default::default()
    });
    let transport = TestTransport::new();
    let options = common::options_with(&integration, &transport);
    let init = std::time::Instant::now();
    let guard = sentry::init(options);
    let init = init.elapsed();
    let add = std::time::Instant::now();
    integration.add_collector(Box::new(sleepy()));
    let add = add.elapsed();
    println!("sentry::init took {init:?}, add_collector {add:?}");
    // Nothing of a collector runs until the first round, an interval (10 s) away: neither call
    // waited for the second each sample sleeps.
    assert_eq!(started.load(Ordering::SeqCst), 0);
    assert!(init < Duration::from_secs(1) && add < Duration::from_secs(1));
    drop(guard);
}
