//! Tokio's own latency histograms (`--cfg tokio_unstable`, both builder options on), sent as
//! distributions: tasks delayed by a worker blocked for 50 ms show a schedule-latency p99 within
//! one bucket of what Tokio's own histogram says, the count is exact, and a round sends at most
//! the bound of values.
#![cfg(tokio_unstable)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)] // Tests fail loudly and report.

use std::time::Duration;

use sentry_runtime_metrics::collectors::{DEFAULT_HISTOGRAM_VALUES, TokioMetrics};
use sentry_runtime_metrics::{MetricCollector, RuntimeMetric};
use tokio::runtime::{HistogramConfiguration, LogHistogram, RuntimeMetrics};

/// Tokio's schedule-latency bucket counts, summed over workers.
fn tokio_counts(metrics: &RuntimeMetrics) -> Vec<u64> {
    (0..metrics.schedule_latency_histogram_num_buckets())
        .map(|b| {
            (0..metrics.num_workers())
                .map(|w| metrics.schedule_latency_histogram_bucket_count(w, b))
                .sum()
        })
        .collect()
}

/// The bucket of `metrics`' schedule-latency histogram that holds `value`.
fn bucket_of(metrics: &RuntimeMetrics, value: Duration) -> usize {
    let buckets = metrics.schedule_latency_histogram_num_buckets();
    (0..buckets)
        .find(|b| {
            metrics
                .schedule_latency_histogram_bucket_range(*b)
                .contains(&value)
        })
        .unwrap_or(buckets - 1)
}

/// The bucket of the `q` quantile (nearest rank) of bucket `counts`.
fn quantile_bucket(counts: &[u64], q: f64) -> usize {
    let total: u64 = counts.iter().sum();
    let rank = ((q * total as f64).ceil() as u64).max(1);
    let mut seen = 0;
    counts
        .iter()
        .position(|n| {
            seen += n;
            seen >= rank
        })
        .unwrap()
}

fn seconds(metrics: &[RuntimeMetric], name: &str) -> Vec<f64> {
    metrics
        .iter()
        .filter(|m| m.name == name)
        .map(|m| m.value.as_f64())
        .collect()
}

#[test]
fn schedule_latency_p99_is_within_one_bucket_of_tokios_own() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_metrics_poll_time_histogram()
        .enable_metrics_schedule_latency_histogram()
        .metrics_schedule_latency_histogram_configuration(HistogramConfiguration::log(
            LogHistogram::builder()
                .min_value(Duration::from_micros(10))
                .max_value(Duration::from_secs(1))
                .max_error(0.25),
        ))
        .build()
        .unwrap();
    let metrics = runtime.handle().metrics();
    assert!(metrics.schedule_latency_histogram_enabled());
    let mut collector = TokioMetrics::new(runtime.handle().clone());
    let before = tokio_counts(&metrics);

    // Quick tasks, then a task that blocks the only worker for 50 ms while 40 more are
    // scheduled: they wait for it.
    runtime.block_on(async {
        for _ in 0..300 {
            tokio::spawn(async {}).await.unwrap();
        }
        let blocker = tokio::spawn(async { std::thread::sleep(Duration::from_millis(50)) });
        std::thread::sleep(Duration::from_millis(5));
        let delayed: Vec<_> = (0..40).map(|_| tokio::spawn(async {})).collect();
        blocker.await.unwrap();
        for task in delayed {
            task.await.unwrap();
        }
    });

    // Read before the collection, which spawns its scheduling-delay probes at its end.
    let after = tokio_counts(&metrics);
    let sent = collector.collect_mut().unwrap().metrics;
    let grew: Vec<u64> = after.iter().zip(&before).map(|(a, b)| a - b).collect();
    let total: u64 = grew.iter().sum();
    let values = seconds(&sent, "async.tasks.schedule_latency");
    let count = seconds(&sent, "async.tasks.schedule_latency.count");
    assert_eq!(count, [total as f64], "the count is exact");
    assert!(values.len() <= DEFAULT_HISTOGRAM_VALUES && !values.is_empty());

    let mut sorted: Vec<Duration> = values.iter().map(|s| Duration::from_secs_f64(*s)).collect();
    sorted.sort();
    let rank = ((0.99 * sorted.len() as f64).ceil() as usize).max(1);
    let ours = bucket_of(&metrics, sorted[rank - 1]);
    let tokios = quantile_bucket(&grew, 0.99);
    println!(
        "{total} samples, {} values sent; p99: ours {:?} (bucket {ours}), Tokio's bucket {tokios} \
         ({:?})",
        values.len(),
        sorted[rank - 1],
        metrics.schedule_latency_histogram_bucket_range(tokios)
    );
    assert!(ours.abs_diff(tokios) <= 1, "ours {ours}, Tokio's {tokios}");
    // The delayed tasks waited for the blocked worker: the p99 is tens of milliseconds.
    assert!(
        sorted[rank - 1] >= Duration::from_millis(20),
        "{:?}",
        sorted[rank - 1]
    );

    // Poll times too, within the same bound.
    let polls = seconds(&sent, "async.tasks.poll_time");
    assert!(
        !polls.is_empty() && polls.len() <= DEFAULT_HISTOGRAM_VALUES,
        "{}",
        polls.len()
    );
}

#[test]
fn without_the_builder_options_nothing_is_sent() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let mut collector = TokioMetrics::new(runtime.handle().clone());
    runtime.block_on(async {
        for _ in 0..50 {
            tokio::spawn(async {}).await.unwrap();
        }
    });
    let sent = collector.collect_mut().unwrap().metrics;
    assert!(
        sent.iter()
            .all(|m| !m.name.starts_with("async.tasks.schedule_latency")
                && m.name != "async.tasks.poll_time"),
        "{sent:?}"
    );
}
