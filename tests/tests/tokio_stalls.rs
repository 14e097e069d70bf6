//! `TokioMetrics` stall detection and probes, against known load on a real 2-worker runtime:
//! idle workers and saturated workers that yield are not blocked, a task that sleeps in a poll
//! blocks its worker (and only it) until it returns; probes spawned from inside a worker measure
//! the scheduler, not their caller.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Tests fail loudly.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, mpsc};
use std::time::{Duration, Instant};

use sentry_runtime_metrics::collectors::TokioMetrics;
use sentry_runtime_metrics::{
    MetricCollector, RuntimeMetric, RuntimeMetricsConfig, RuntimeMetricsIntegration,
};
use sentry_runtime_metrics_tests::child;
use tokio::runtime::{Builder, Runtime};

/// Timing-sensitive on a 2-core machine: one test at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A 2-worker runtime whose workers have started and parked once (published a park count), as
/// a runtime looks after startup.
fn runtime() -> Runtime {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let metrics = rt.metrics();
    let deadline = Instant::now() + Duration::from_secs(10);
    while (0..2).any(|w| metrics.worker_park_count(w) == 0) {
        assert!(Instant::now() < deadline, "the workers never parked");
        std::thread::sleep(Duration::from_millis(1));
    }
    rt
}

fn get(metrics: &[RuntimeMetric], name: &str) -> Option<f64> {
    metrics
        .iter()
        .find(|m| m.name == name)
        .map(|m| m.value.as_f64())
}

/// One sample's blocked metrics.
#[derive(Debug)]
struct Sample {
    at: Instant,
    blocked: f64,
    blocked_time: f64,
    /// `async.worker.blocked` by worker (with `per_worker`).
    per_worker: Vec<(String, f64)>,
}

fn sample(collector: &mut TokioMetrics) -> Sample {
    let metrics = collector.collect_mut().unwrap().metrics;
    let mut per_worker: Vec<(String, f64)> = metrics
        .iter()
        .filter(|m| m.name == "async.worker.blocked")
        .map(|m| (m.tags["worker"].to_string(), m.value.as_f64()))
        .collect();
    per_worker.sort_by(|a, b| a.0.cmp(&b.0));
    Sample {
        at: Instant::now(),
        blocked: get(&metrics, "async.workers.blocked").expect("blocked sent after the first"),
        blocked_time: get(&metrics, "async.workers.blocked_time.max").expect("blocked time"),
        per_worker,
    }
}

/// Samples every `every` for `total`, after a first sample (nothing to compare with yet).
fn watch(collector: &mut TokioMetrics, total: Duration, every: Duration) -> Vec<Sample> {
    let first = collector.collect_mut().unwrap().metrics;
    assert_eq!(get(&first, "async.workers.blocked"), None, "first sample");
    let end = Instant::now() + total;
    let mut samples = Vec::new();
    while Instant::now() < end {
        std::thread::sleep(every);
        samples.push(sample(collector));
    }
    samples
}

fn collectors(rt: &Runtime) -> [(&'static str, TokioMetrics); 2] {
    [
        ("totals", TokioMetrics::new(rt.handle().clone())),
        (
            "per worker",
            TokioMetrics::new(rt.handle().clone()).per_worker(true),
        ),
    ]
}

fn assert_none_blocked(case: &str, samples: &[Sample]) {
    assert!(samples.len() >= 5, "{case}: {} samples", samples.len());
    for s in samples {
        assert_eq!(
            (s.blocked, s.blocked_time),
            (0.0, 0.0),
            "{case}: {samples:?}"
        );
        assert!(s.per_worker.iter().all(|(_, b)| *b == 0.0), "{case}: {s:?}");
    }
}

#[test]
fn an_idle_runtime_has_no_blocked_worker() {
    let _serial = serial();
    let rt = runtime();
    for (case, mut collector) in collectors(&rt) {
        let samples = watch(
            &mut collector,
            Duration::from_millis(600),
            Duration::from_millis(100),
        );
        assert_none_blocked(&format!("idle, {case}"), &samples);
        if case == "per worker" {
            assert_eq!(samples[0].per_worker.len(), 2, "{samples:?}");
        }
    }
}

#[test]
fn saturated_workers_whose_tasks_yield_are_not_blocked() {
    let _serial = serial();
    let rt = runtime();
    for (case, mut collector) in collectors(&rt) {
        // Two tasks that spin 300 µs and yield, on the two workers, for the whole watch.
        let running = Arc::new(AtomicBool::new(true));
        let tasks: Vec<_> = (0..2)
            .map(|_| {
                rt.spawn(common::spin_and_yield(
                    running.clone(),
                    Duration::from_micros(300),
                ))
            })
            .collect();
        let samples = watch(
            &mut collector,
            Duration::from_millis(800),
            Duration::from_millis(100),
        );
        running.store(false, Ordering::Relaxed);
        for task in tasks {
            rt.block_on(task).unwrap();
        }
        // The load was real: tokio's own busy time grew on both workers.
        let metrics = rt.metrics();
        assert!(
            (0..2).all(|w| metrics.worker_total_busy_duration(w) > Duration::from_millis(100)),
            "{case}: the spinners did not run"
        );
        assert_none_blocked(&format!("yielding spinners, {case}"), &samples);
    }
}

#[test]
fn a_task_sleeping_in_its_poll_blocks_its_worker_until_it_returns() {
    let _serial = serial();
    let rt = runtime();
    for (case, mut collector) in collectors(&rt) {
        let (started_tx, started_rx) = mpsc::channel();
        let done = Arc::new(Mutex::new(None::<Instant>));
        let done_at = done.clone();
        let sleeper = rt.spawn(async move {
            started_tx.send(Instant::now()).unwrap();
            std::thread::sleep(Duration::from_millis(1500));
            *done_at.lock().unwrap() = Some(Instant::now());
        });
        let started = started_rx.recv().unwrap();
        let mut samples = watch(
            &mut collector,
            Duration::from_millis(1800),
            Duration::from_millis(100),
        );
        rt.block_on(sleeper).unwrap();
        let done = done.lock().unwrap().expect("the sleeper returned");
        // Once it returned, its worker moves again.
        std::thread::sleep(Duration::from_millis(100));
        samples.push(sample(&mut collector));

        let during: Vec<&Sample> = samples.iter().filter(|s| s.at < done).collect();
        let after = samples.last().unwrap();
        println!(
            "{case}: {:?}",
            samples
                .iter()
                .map(|s| (
                    (s.at - started).as_millis(),
                    s.blocked,
                    s.blocked_time,
                    s.per_worker.iter().map(|(_, b)| *b).collect::<Vec<_>>()
                ))
                .collect::<Vec<_>>()
        );
        // The other worker is free: never more than one blocked.
        assert!(
            samples.iter().all(|s| s.blocked <= 1.0),
            "{case}: {samples:?}"
        );
        let seen = during
            .iter()
            .find(|s| s.blocked == 1.0 && s.blocked_time >= 0.8)
            .unwrap_or_else(|| panic!("{case}: no round inside the sleep saw it: {samples:?}"));
        // Never more than it slept, counted from its start (which came before the first sample
        // that saw the worker stop).
        assert!(
            during
                .iter()
                .all(|s| s.blocked_time <= (s.at - started).as_secs_f64()),
            "{case}: {samples:?}"
        );
        if case == "per worker" {
            let blocked: Vec<f64> = seen.per_worker.iter().map(|(_, b)| *b).collect();
            assert!(
                blocked == [0.0, 1.0] || blocked == [1.0, 0.0],
                "{case}: one worker of two: {seen:?}"
            );
        } else {
            assert!(seen.per_worker.is_empty(), "{case}: no per-worker series");
        }
        assert_eq!(
            (after.blocked, after.blocked_time),
            (0.0, 0.0),
            "{case}: {after:?}"
        );
        assert!(
            after.per_worker.iter().all(|(_, b)| *b == 0.0),
            "{case}: {after:?}"
        );
    }
}

#[test]
fn probes_spawned_inside_a_worker_measure_the_scheduler_not_their_caller() {
    let _serial = serial();
    let rt = runtime();
    let collector = TokioMetrics::new(rt.handle().clone());
    let delays_of = |metrics: &[RuntimeMetric]| -> Vec<f64> {
        metrics
            .iter()
            .filter(|m| m.name == "async.scheduling_delay")
            .map(|m| m.value.as_f64())
            .collect()
    };
    // From inside a task: sample (spawning probes), keep this worker 200 ms, sample again. The
    // other worker is idle: the probes must run on it at once, not wait for this one (a probe
    // left in this worker's LIFO slot would run only after the task, 200 ms late).
    let (mut collector, inside) = rt.block_on(async move {
        tokio::spawn(async move {
            let mut collector = collector;
            collector.collect_mut().unwrap();
            std::thread::sleep(Duration::from_millis(200));
            let metrics = collector.collect_mut().unwrap().metrics;
            (collector, metrics)
        })
        .await
        .unwrap()
    });
    // Then from outside, once the task is done: whatever was still waiting is measured now.
    std::thread::sleep(Duration::from_millis(50));
    let outside = collector.collect_mut().unwrap().metrics;
    let (first, rest) = (delays_of(&inside), delays_of(&outside));
    println!("probes from inside a worker that then held it 200 ms: {first:?}, then {rest:?}");
    assert_eq!(
        first.len(),
        3,
        "every probe ran while the caller held its worker"
    );
    assert_eq!(rest.len(), 3, "and those of the second sample too");
    let all: Vec<f64> = first.iter().chain(&rest).copied().collect();
    assert!(
        all.iter().all(|d| *d < 0.100),
        "the caller's 200 ms is not the scheduler's delay: {all:?}"
    );
    assert_eq!(
        get(&inside, "async.scheduling_delay.max"),
        first.iter().copied().reduce(f64::max)
    );
}

#[test]
fn a_current_thread_runtime_is_not_judged() {
    // Its one worker runs only inside `block_on`: a runtime nobody drives would look stuck.
    let _serial = serial();
    let rt = Builder::new_current_thread().build().unwrap();
    let mut collector = TokioMetrics::new(rt.handle().clone()).per_worker(true);
    collector.collect_mut().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let metrics = collector.collect_mut().unwrap().metrics;
    assert_eq!(get(&metrics, "async.workers.count"), Some(1.0));
    for name in [
        "async.workers.blocked",
        "async.workers.blocked_time.max",
        "async.worker.blocked",
    ] {
        assert_eq!(get(&metrics, name), None, "{name}");
    }
}

/// Through the integration, with `debug: true`: the blocked worker is logged once when first
/// seen and once when it moves again, however many rounds see it (the debug log is the
/// client's stderr: read from a child process running this test).
#[test]
fn a_blocked_worker_is_logged_once_per_episode() {
    const TEST: &str = "a_blocked_worker_is_logged_once_per_episode";
    if !child::is_child() {
        let _serial = serial();
        let output = child::rerun(TEST).unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "child failed\n{stderr}");
        let count = |needle: &str| stderr.lines().filter(|l| l.contains(needle)).count();
        let (blocked, moving) = (
            count("tokio runtime \"app\": worker "),
            count("moving again after"),
        );
        assert_eq!(blocked - moving, 1, "one start\n{stderr}");
        assert_eq!(moving, 1, "one end\n{stderr}");
        assert_eq!(count("blocked: inside one poll"), 1, "{stderr}");
        return;
    }
    let rt = runtime();
    let integration = RuntimeMetricsIntegration::new(RuntimeMetricsConfig {
        collect_memory: false,
        collect_process: false,
        collect_container: false,
        ..Default::default()
    });
    let mut options = sentry::ClientOptions::new().add_integration(integration.clone());
    options.debug = true;
    let handle = rt.handle().clone();
    common::with_captured_envelopes_options(
        || {
            integration.register_tokio_runtime("app", handle);
            integration.collect_now();
            let sleeper = rt.spawn(async {
                std::thread::sleep(Duration::from_millis(900));
            });
            // Rounds every 50 ms through the sleep and after it.
            let end = Instant::now() + Duration::from_millis(1300);
            while Instant::now() < end {
                std::thread::sleep(Duration::from_millis(50));
                integration.collect_now();
            }
            assert!(sleeper.is_finished());
        },
        options,
    );
}
