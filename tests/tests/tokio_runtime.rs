//! `TokioMetrics` against tokio's own metrics, tokio-metrics' `RuntimeMonitor`, and known load.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Tests fail loudly.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sentry_runtime_metrics::collectors::TokioMetrics;
use sentry_runtime_metrics::{MetricCollector, RuntimeMetric};
use tokio::runtime::{Builder, Runtime};

/// These tests measure timing-sensitive behaviour on a small machine: they run one at a time so
/// one test's spinning workers do not delay another's probes.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn runtime(workers: usize) -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(workers)
        .build()
        .unwrap()
}

fn get(metrics: &[RuntimeMetric], name: &str) -> Option<f64> {
    metrics
        .iter()
        .find(|m| m.name == name)
        .map(|m| m.value.as_f64())
}

fn all(metrics: &[RuntimeMetric], name: &str) -> Vec<f64> {
    metrics
        .iter()
        .filter(|m| m.name == name)
        .map(|m| m.value.as_f64())
        .collect()
}

/// Keeps every worker of `runtime` busy until the returned flag is cleared.
fn spin_all_workers(runtime: &Runtime, workers: usize) -> Arc<AtomicBool> {
    let running = Arc::new(AtomicBool::new(true));
    for _ in 0..workers {
        let running = running.clone();
        runtime.spawn(common::spin_and_yield(running, Duration::from_micros(200)));
    }
    running
}

#[test]
fn workers_and_alive_tasks_match_tokio() {
    let _serial = serial();
    let rt = runtime(3);
    let mut collector = TokioMetrics::new(rt.handle().clone());
    let metrics = collector.collect_mut().unwrap().metrics;
    assert_eq!(get(&metrics, "async.workers.count"), Some(3.0));

    let (tx, _) = tokio::sync::broadcast::channel::<()>(1);
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let mut rx = tx.subscribe();
            rt.spawn(async move {
                let _ = rx.recv().await;
            })
        })
        .collect();
    let metrics = collector.collect_mut().unwrap().metrics;
    let alive = get(&metrics, "async.tasks.alive").unwrap();
    assert!(alive >= 50.0, "alive tasks {alive}");
    assert!(
        alive <= rt.metrics().num_alive_tasks() as f64 + 3.0 + 3.0,
        "probes at most add a few"
    );
    tx.send(()).unwrap();
    for task in tasks {
        rt.block_on(task).unwrap();
    }
}

#[test]
fn busy_ratio_is_near_one_when_spinning_and_near_zero_when_idle() {
    let _serial = serial();
    let rt = runtime(2);
    let mut collector = TokioMetrics::new(rt.handle().clone()).per_worker(true);
    collector.collect_mut().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let idle = collector.collect_mut().unwrap().metrics;
    let idle_ratio = get(&idle, "async.workers.busy_ratio").unwrap();
    assert!(idle_ratio < 0.1, "idle busy ratio {idle_ratio}");

    let running = spin_all_workers(&rt, 2);
    std::thread::sleep(Duration::from_millis(50));
    collector.collect_mut().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let busy = collector.collect_mut().unwrap().metrics;
    running.store(false, Ordering::Relaxed);
    let busy_ratio = get(&busy, "async.workers.busy_ratio").unwrap();
    assert!(busy_ratio > 0.8, "spinning busy ratio {busy_ratio}");
    assert!(get(&busy, "async.workers.busy_ratio.max").unwrap() >= busy_ratio);
    // Per-worker series, labelled by worker.
    let per_worker = all(&busy, "async.worker.busy_ratio");
    assert_eq!(per_worker.len(), 2);
    assert!(per_worker.iter().all(|r| *r > 0.7), "{per_worker:?}");
}

#[test]
fn per_round_arithmetic_agrees_with_tokio_metrics() {
    let _serial = serial();
    let rt = runtime(2);
    let monitor = tokio_metrics::RuntimeMonitor::new(rt.handle());
    let mut intervals = monitor.intervals();
    let mut collector = TokioMetrics::new(rt.handle().clone());
    // tokio-metrics reads first, ours after, at both ends: a sample of ours spawns its probe
    // tasks after reading, and the parks they cause must fall inside both intervals or neither.
    intervals.next().unwrap();
    let ours_before = collector.collect_mut().unwrap().metrics;

    // A workload with parks: one worker spins, tasks come and go.
    let running = spin_all_workers(&rt, 1);
    for _ in 0..20 {
        rt.block_on(rt.spawn(async { std::thread::sleep(Duration::from_millis(5)) }))
            .unwrap();
    }
    let theirs = intervals.next().unwrap();
    let ours = collector.collect_mut().unwrap().metrics;
    running.store(false, Ordering::Relaxed);

    let workers = 2.0;
    let ours_mean = get(&ours, "async.workers.busy_ratio").unwrap();
    assert!(
        (ours_mean * workers - theirs.busy_ratio()).abs() < 0.2,
        "ours {ours_mean} x {workers} vs tokio-metrics {}",
        theirs.busy_ratio()
    );
    let theirs_max = theirs.max_busy_duration.as_secs_f64() / theirs.elapsed.as_secs_f64();
    let ours_max = get(&ours, "async.workers.busy_ratio.max").unwrap();
    assert!(
        (ours_max - theirs_max).abs() < 0.2,
        "busiest: ours {ours_max} vs {theirs_max}"
    );
    let ours_parks = get(&ours, "async.workers.park_count").unwrap()
        - get(&ours_before, "async.workers.park_count").unwrap();
    let theirs_parks = theirs.total_park_count as f64;
    assert!(
        (ours_parks - theirs_parks).abs() <= 4.0,
        "parks: ours {ours_parks} vs {theirs_parks}"
    );
}

/// Waits, then collects: the probes spawned by the previous collection are harvested.
fn delays_after(collector: &mut TokioMetrics, wait_for_probes: Duration) -> Vec<f64> {
    std::thread::sleep(wait_for_probes);
    let metrics = collector.collect_mut().unwrap().metrics;
    let delays = all(&metrics, "async.scheduling_delay");
    let max = get(&metrics, "async.scheduling_delay.max");
    assert_eq!(
        max,
        delays.iter().copied().reduce(f64::max),
        "the max gauge is the round's max"
    );
    delays
}

#[test]
fn scheduling_delay_shows_a_blocked_worker_and_stays_low_when_idle() {
    let _serial = serial();
    let rt = runtime(1);
    let mut collector = TokioMetrics::new(rt.handle().clone());
    collector.collect_mut().unwrap(); // Spawns the first probes.
    let idle = delays_after(&mut collector, Duration::from_millis(50));
    assert_eq!(idle.len(), 3, "three probes per round");
    let idle_max = idle.iter().copied().fold(0.0, f64::max);
    assert!(idle_max < 0.050, "idle scheduling delay {idle_max} s");

    // Block the only worker for 300 ms; the probes spawned meanwhile wait for it.
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    rt.spawn(async move {
        started_tx.send(()).unwrap();
        std::thread::sleep(Duration::from_millis(300));
    });
    started_rx.recv().unwrap();
    let blocked_at = Instant::now();
    collector.collect_mut().unwrap(); // Spawns probes that cannot run yet; returns at once.
    assert!(
        blocked_at.elapsed() < Duration::from_millis(100),
        "the collector never waits"
    );
    let blocked = delays_after(&mut collector, Duration::from_millis(400));
    let blocked_max = blocked.iter().copied().fold(0.0, f64::max);
    assert!(
        blocked_max >= 0.200,
        "blocked scheduling delay {blocked_max} s"
    );
}

#[test]
fn a_probe_that_never_runs_reports_the_timeout() {
    let _serial = serial();
    let rt = runtime(1);
    let mut collector =
        TokioMetrics::new(rt.handle().clone()).probe_timeout(Duration::from_millis(100));
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let release = Arc::new(AtomicBool::new(false));
    let held = release.clone();
    rt.spawn(async move {
        started_tx.send(()).unwrap();
        while !held.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(5));
        }
    });
    started_rx.recv().unwrap();
    collector.collect_mut().unwrap();
    let delays = delays_after(&mut collector, Duration::from_millis(150));
    release.store(true, Ordering::Relaxed);
    assert_eq!(delays, [0.1, 0.1, 0.1], "the bound, as seconds");
}

#[test]
fn a_runtime_that_shut_down_is_dropped_quietly() {
    let _serial = serial();
    let rt = runtime(1);
    let mut collector = TokioMetrics::new(rt.handle().clone());
    collector.collect_mut().unwrap();
    drop(rt);
    // The probes of the last round were dropped unpolled: the runtime is gone.
    let metrics = collector.collect_mut().unwrap().metrics;
    assert!(metrics.is_empty(), "{metrics:?}");
    assert!(!collector.is_alive());
    assert!(collector.collect_mut().unwrap().metrics.is_empty());
}

#[test]
fn unstable_metrics_only_with_tokio_unstable() {
    let _serial = serial();
    let rt = runtime(2);
    let metrics = TokioMetrics::new(rt.handle().clone()).collect();
    let unstable = [
        "async.blocking.threads",
        "async.blocking.idle_threads",
        "async.blocking.queue_depth",
        "async.polls.total",
        "async.tasks.spawned",
        "async.poll_time.mean",
        "async.steals",
        "async.forced_yields",
    ];
    for name in unstable {
        assert_eq!(
            get(&metrics, name).is_some(),
            cfg!(tokio_unstable),
            "{name}"
        );
    }
}

#[test]
fn init_inside_a_runtime_picks_it_up_and_more_can_be_registered() {
    let _serial = serial();
    let rt = runtime(2);
    let other = runtime(1);
    let other_handle = other.handle().clone();
    let metrics = rt.block_on(async move {
        let integration = sentry_runtime_metrics::RuntimeMetricsIntegration::default();
        let options = sentry::ClientOptions::new().add_integration(integration.clone());
        let envelopes = common::with_captured_envelopes_options(
            || {
                integration.register_tokio_runtime("background", other_handle);
                integration.collect_now();
            },
            options,
        );
        common::metrics_in(&envelopes)
    });
    let workers: Vec<(Option<&str>, f64)> = metrics
        .iter()
        .filter(|m| m.name == "async.workers.count")
        .map(|m| (common::attribute(m, "runtime"), m.value))
        .collect();
    assert!(workers.contains(&(Some("main"), 2.0)), "{workers:?}");
    assert!(workers.contains(&(Some("background"), 1.0)), "{workers:?}");
    drop(other);
}

/// The `async.workers.count` series of one `collect_now` round, by `runtime` attribute.
fn workers_by_runtime(
    integration: &sentry_runtime_metrics::RuntimeMetricsIntegration,
    register: impl FnOnce(),
) -> Vec<(String, f64)> {
    let options = sentry::ClientOptions::new().add_integration(integration.clone());
    let envelopes = common::with_captured_envelopes_options(
        || {
            register();
            integration.collect_now();
        },
        options,
    );
    let mut workers: Vec<(String, f64)> = common::metrics_in(&envelopes)
        .iter()
        .filter(|m| m.name == "async.workers.count")
        .map(|m| (common::attribute(m, "runtime").unwrap().to_owned(), m.value))
        .collect();
    workers.sort_by(|a, b| a.partial_cmp(b).unwrap());
    workers
}

#[test]
fn a_name_registered_again_replaces_the_first_registration() {
    let _serial = serial();
    let (first, second) = (runtime(1), runtime(2));
    let integration = sentry_runtime_metrics::RuntimeMetricsIntegration::default();
    let workers = workers_by_runtime(&integration, || {
        integration.register_tokio_runtime("app", first.handle().clone());
        integration.register_tokio_runtime("app", first.handle().clone());
        integration.register_tokio_runtime("other", second.handle().clone());
        integration.register_tokio_runtime("other", first.handle().clone());
    });
    // One series per name; "other" is now the one-worker runtime, which "app" was too: the
    // newest registration of a runtime wins, so "app" is gone.
    assert_eq!(workers, [("other".to_owned(), 1.0)]);
}

#[test]
fn a_runtime_picked_up_at_init_and_registered_by_name_is_sent_once() {
    let _serial = serial();
    let rt = runtime(2);
    let workers = rt.block_on(async {
        let integration = sentry_runtime_metrics::RuntimeMetricsIntegration::default();
        // `sentry::init` inside the runtime registers it as "main"; the README then registers
        // it by name from inside: the same runtime, sent once, under the name given.
        workers_by_runtime(&integration, || {
            integration.register_tokio_runtime("app", tokio::runtime::Handle::current());
        })
    });
    assert_eq!(workers, [("app".to_owned(), 2.0)]);
}

#[test]
fn runtimes_that_shut_down_are_removed() {
    let _serial = serial();
    let integration = sentry_runtime_metrics::RuntimeMetricsIntegration::new(
        sentry_runtime_metrics::RuntimeMetricsConfig {
            collect_memory: false,
            collect_process: false,
            ..Default::default()
        },
    );
    let lasting = runtime(1);
    integration.register_tokio_runtime("lasting", lasting.handle().clone());
    // Short-lived runtimes in a loop: each is removed in the first round after it shut down.
    for i in 0..20 {
        let short_lived = runtime(1);
        integration.register_tokio_runtime(format!("short-{i}"), short_lived.handle().clone());
        integration.collect_now();
        assert!(
            integration.stats().collectors <= 2,
            "{:?}",
            integration.stats()
        );
    }
    integration.collect_now();
    assert_eq!(integration.stats().collectors, 1);
    // Twenty alive at once, then all shut down.
    let runtimes: Vec<Runtime> = (0..20).map(|_| runtime(1)).collect();
    for (i, rt) in runtimes.iter().enumerate() {
        integration.register_tokio_runtime(format!("batch-{i}"), rt.handle().clone());
    }
    integration.collect_now();
    assert_eq!(integration.stats().collectors, 21);
    drop(runtimes);
    // The first round after a shutdown finds the runtime gone (its probes were dropped unpolled).
    integration.collect_now();
    assert_eq!(
        integration.stats().collectors,
        1,
        "only the lasting runtime is left"
    );
    drop(lasting);
}

#[test]
fn a_re_init_inside_the_runtime_keeps_the_name_it_was_registered_under() {
    let _serial = serial();
    let rt = runtime(2);
    let (first, second) = rt.block_on(async {
        let integration = sentry_runtime_metrics::RuntimeMetricsIntegration::default();
        let first = workers_by_runtime(&integration, || {
            integration.register_tokio_runtime("app", tokio::runtime::Handle::current());
        });
        // A second client with the same handle, created inside the same runtime.
        let second = workers_by_runtime(&integration, || {});
        (first, second)
    });
    assert_eq!(first, [("app".to_owned(), 2.0)]);
    assert_eq!(
        second,
        [("app".to_owned(), 2.0)],
        "not renamed back to main"
    );
}

/// Tokio's own park count, summed over workers.
fn parks(rt: &Runtime) -> u64 {
    let metrics = rt.handle().metrics();
    (0..metrics.num_workers())
        .map(|worker| metrics.worker_park_count(worker))
        .sum()
}

/// Wakes every worker of `rt` a few times, so that they park again.
fn wake_workers(rt: &Runtime) {
    for _ in 0..20 {
        rt.block_on(async {
            let tasks: Vec<_> = (0..8).map(|_| tokio::spawn(async {})).collect();
            for task in tasks {
                task.await.unwrap();
            }
        });
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn a_runtime_registered_twice_never_sends_a_park_twice() {
    let _serial = serial();
    let rt = runtime(2);
    let integration = common::integration_of(Vec::new());
    let options = sentry::ClientOptions::new().add_integration(integration.clone());
    let mut counted = 0;
    let envelopes = common::with_captured_envelopes_options(
        || {
            let before = parks(&rt);
            integration.register_tokio_runtime("app", rt.handle().clone());
            wake_workers(&rt);
            integration.collect_now();
            // Registered again: its counts start from now, not from the runtime's start.
            integration.register_tokio_runtime("app", rt.handle().clone());
            wake_workers(&rt);
            integration.collect_now();
            counted = parks(&rt) - before;
        },
        options,
    );
    let sent: f64 = common::values(&common::metrics_in(&envelopes), "async.workers.park_count")
        .iter()
        .sum();
    println!("parks sent {sent}, tokio counted {counted} since the first registration");
    assert!(sent > 0.0, "the parks of both registrations are sent");
    assert!(
        sent <= counted as f64,
        "sent {sent} parks, tokio counted {counted}: none twice, none from before"
    );
}
