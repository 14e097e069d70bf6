//! Faulty custom collectors on the background thread: one that sleeps longer than the interval,
//! one that panics every time, one that returns 100 000 metrics. The built-in collectors and a
//! well-behaved custom one still report every round, the slow one never runs twice at once, the
//! panicking one is rested, the flood is capped, and each fault is reported once in the SDK's
//! debug log.
//!
//! The debug log is the client's stderr, so this binary (no test harness) runs the scenario in a
//! child process of itself and reads the child's stderr.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::print_stderr
)] // Tests fail loudly and report.

mod common;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::{Panicking, library_threads, wait_for};
use sentry::protocol::{Metric, Value};
use sentry::test::TestTransport;
use sentry_runtime_metrics::{
    MAX_METRICS_PER_COLLECTOR, MetricCollector, MetricType, MetricValue, RuntimeMetric,
    RuntimeMetricsConfig, RuntimeMetricsIntegration, Tags,
};

/// Set in the child process that runs the scenario.
const CHILD: &str = "FAULTY_COLLECTORS_CHILD";

const INTERVAL: Duration = Duration::from_millis(20);
/// Background rounds the scenario waits for.
const ROUNDS: u64 = 50;
/// How long the slow collector takes: several intervals.
const SLOW: Duration = Duration::from_millis(130);
const FLOOD: usize = 100_000;

fn main() {
    if std::env::var_os(CHILD).is_some() {
        scenario();
        return;
    }
    let output = Command::new(std::env::current_exe().unwrap())
        .env(CHILD, "1")
        .output()
        .expect("run the scenario");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "scenario failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    print!("{stdout}");
    // Each fault is logged once, however many rounds it happened in.
    for (fault, line) in [
        ("panic", "collector `panicking` panicked: collector bug"),
        (
            "slow",
            "collector `slow` is still running from an earlier round",
        ),
        (
            "flood",
            "collector `flood` sent 100000 metrics in one round",
        ),
    ] {
        let count = stderr.lines().filter(|l| l.contains(line)).count();
        assert_eq!(count, 1, "{fault} logged {count} times\n{stderr}");
    }
    println!("faulty_collectors: 1 passed; 0 failed");
}

/// Counts its runs, as `steady.runs`.
#[derive(Clone, Default, MetricCollector)]
#[collector(name = "steady")]
struct Steady {
    #[gauge(name = "steady.runs")]
    runs: u64,
}

impl Steady {
    fn sample(&mut self) {
        self.runs += 1;
    }
}

/// Sleeps several intervals per run and records how many of its runs overlap.
#[derive(Clone, Default, MetricCollector)]
#[collector(name = "slow")]
struct Slow {
    #[gauge(name = "slow.runs")]
    runs: u64,
    running: Arc<AtomicU64>,
    most_at_once: Arc<AtomicU64>,
}

impl Slow {
    fn sample(&mut self) {
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_at_once.fetch_max(now, Ordering::SeqCst);
        thread::sleep(SLOW);
        self.running.fetch_sub(1, Ordering::SeqCst);
        self.runs += 1;
    }
}

/// Returns 100 000 gauges every time.
struct Flood(Arc<AtomicU64>);

impl MetricCollector for Flood {
    fn collect(&self) -> Vec<RuntimeMetric> {
        self.0.fetch_add(1, Ordering::SeqCst);
        (0..FLOOD)
            .map(|i| RuntimeMetric {
                name: Cow::Borrowed("flood.value"),
                metric_type: MetricType::Gauge,
                value: MetricValue::Int(i as i64),
                unit: None,
                tags: Tags::new(),
            })
            .collect()
    }

    fn name(&self) -> &'static str {
        "flood"
    }
}

/// What reached the SDK: metrics per name, and `runtime_metrics.dropped` per collector/reason.
#[derive(Default)]
struct Seen {
    by_name: BTreeMap<String, u64>,
    dropped: BTreeMap<(String, String), f64>,
}

fn text(metric: &Metric, key: &str) -> String {
    match metric.attributes.get(key).map(|v| &v.0) {
        Some(Value::String(value)) => value.clone(),
        _ => String::new(),
    }
}

fn scenario() {
    // Panics of the panicking collector cost nothing here (no message, no backtrace), so its
    // retry schedule does not depend on how fast the machine symbolizes backtraces.
    std::panic::set_hook(Box::new(|_| {}));
    let slow = Slow::default();
    let (running, most_at_once) = (slow.running.clone(), slow.most_at_once.clone());
    let panics = Arc::new(AtomicU64::new(0));
    let floods = Arc::new(AtomicU64::new(0));
    let integration = RuntimeMetricsIntegration::new(RuntimeMetricsConfig {
        collection_interval: INTERVAL,
        custom_collectors: vec![
            Box::new(Panicking(panics.clone())),
            Box::new(slow),
            Box::new(Flood(floods.clone())),
            Box::new(Steady::default()),
        ],
        ..Default::default()
    });
    let seen = Arc::new(Mutex::new(Seen::default()));
    let record = seen.clone();
    let transport = TestTransport::new();
    let mut options =
        common::options_with(&integration, &transport).before_send_metric(move |metric| {
            let mut seen = record.lock().unwrap();
            if metric.name == "runtime_metrics.dropped" {
                let key = (text(&metric, "collector"), text(&metric, "reason"));
                *seen.dropped.entry(key).or_default() += metric.value;
            }
            *seen.by_name.entry(metric.name.to_string()).or_default() += 1;
            // Keep the transport's memory small: the flood is counted, not kept.
            (metric.name != "flood.value").then_some(metric)
        });
    options.debug = true;
    // Without sentry-panic (the examples crate enables it in this test build), which would
    // turn every collector panic into an error event with a symbolized backtrace.
    options.default_integrations = false;

    let threads_before = library_threads();
    let start = Instant::now();
    let guard = sentry::init(options);
    wait_for(Duration::from_secs(60), "50 background rounds", || {
        integration.stats().rounds >= ROUNDS
    });
    let elapsed = start.elapsed();
    // Give the runs handed to workers in the last round time to report before closing.
    thread::sleep(INTERVAL * 2);
    let stopping = Instant::now();
    drop(guard);
    wait_for(
        Duration::from_secs(30),
        "every library thread to exit",
        || library_threads() <= threads_before,
    );
    let shutdown = stopping.elapsed();
    let stats = integration.stats();
    let seen = seen.lock().unwrap();
    let count = |name: &str| seen.by_name.get(name).copied().unwrap_or(0);
    let dropped = |collector: &str, reason: &str| {
        seen.dropped
            .get(&(collector.to_owned(), reason.to_owned()))
            .copied()
            .unwrap_or(0.0)
    };
    println!(
        "{} rounds in {elapsed:?} (interval {INTERVAL:?}); shutdown {shutdown:?}; {stats:?}",
        stats.rounds
    );
    println!("metrics per name: {:?}", seen.by_name);
    println!("dropped: {:?}", seen.dropped);

    // Rounds keep their schedule despite the slow collector (generous bound: 5x).
    assert!(
        elapsed < INTERVAL * (ROUNDS as u32) * 5,
        "{ROUNDS} rounds took {elapsed:?}"
    );
    // Built-in collectors run on the sampler thread: exactly once per round.
    let rounds = stats.rounds;
    let builtin = count("process.threads.count");
    assert!(
        builtin + 1 >= rounds && builtin <= rounds,
        "{builtin} of {rounds}"
    );
    // The well-behaved custom collector reports every round it is not still running; on an
    // idle machine that is every round.
    let steady = count("steady.runs");
    let steady_busy = dropped("steady", "collector_busy") as u64;
    assert!(
        steady + steady_busy + 2 >= rounds,
        "steady sent {steady}, skipped {steady_busy}, of {rounds}"
    );
    assert!(steady * 4 >= rounds * 3, "steady sent {steady} of {rounds}");

    // The slow collector: never twice at once, skipped while running, skips counted.
    assert_eq!(most_at_once.load(Ordering::SeqCst), 1, "ran concurrently");
    assert_eq!(running.load(Ordering::SeqCst), 0);
    let slow_runs = count("slow.runs");
    assert!(slow_runs >= 2, "slow reported {slow_runs} times");
    assert!(
        slow_runs * 3 <= rounds,
        "slow reported {slow_runs} times in {rounds} rounds; it takes {SLOW:?}"
    );
    assert!(stats.collector_skips >= rounds / 2, "{stats:?}");
    assert!(dropped("slow", "collector_busy") >= 1.0);

    // The panicking collector: rested 1, 2, 4 .. rounds after each panic, so in 50 rounds it
    // ran in rounds 1, 3, 6, 11, 20 and 37, not 50 times. (The bound allows a round or two
    // more than 50.)
    let panicked = panics.load(Ordering::SeqCst);
    assert!((6..=7).contains(&panicked), "ran {panicked} times");
    assert_eq!(stats.collector_failures, panicked, "{stats:?}");

    // The flood: every run capped at the limit, the rest counted as dropped.
    let flood_sent = count("flood.value");
    let cap = MAX_METRICS_PER_COLLECTOR as u64;
    assert!(flood_sent >= cap && flood_sent % cap == 0, "{flood_sent}");
    let flood_rounds = flood_sent / cap;
    assert_eq!(
        dropped("flood", "over_cap"),
        (flood_rounds * (FLOOD as u64 - cap)) as f64
    );
    assert!(floods.load(Ordering::SeqCst) >= flood_rounds);
}
