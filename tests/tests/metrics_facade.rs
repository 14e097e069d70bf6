//! The `metrics` facade bridge (`metrics_rs`), with the facade's real macros, read back from
//! captured envelopes. Each test uses a recorder of its own on its own thread
//! (`metrics::with_local_recorder`); the global one is tested in `metrics_facade_global.rs`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::float_cmp
)] // Tests fail loudly and report; the values compared are exact.

mod common;

use std::collections::BTreeMap;

use common::with_captured_envelopes_options;
use common::{attribute, is, metrics_in, named, values};
use metrics::{
    Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram,
};
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use metrics_util::layers::FanoutBuilder;
use sentry::ClientOptions;
use sentry::protocol::{Metric, MetricType as Sent, Unit as SentUnit};
use sentry_runtime_metrics::metrics_rs::{Builder, RecordedMetrics};
use sentry_runtime_metrics::{MetricCollector, MetricType, RuntimeMetricsIntegration};

/// Runs `rounds` rounds: each first records with `record(round)`, under `recorder` on this
/// thread, then runs `collect_now()`. Returns what was sent.
fn rounds(
    recorder: &dyn metrics::Recorder,
    recorded: RecordedMetrics,
    rounds: usize,
    mut record: impl FnMut(usize),
) -> (Vec<Metric>, RuntimeMetricsIntegration) {
    let integration = common::integration_of(vec![Box::new(recorded)]);
    let options = ClientOptions::new().add_integration(integration.clone());
    let envelopes = with_captured_envelopes_options(
        || {
            for round in 0..rounds {
                metrics::with_local_recorder(recorder, || record(round));
                integration.collect_now();
            }
        },
        options,
    );
    (metrics_in(&envelopes), integration)
}

/// The values sent for `name` with `key` = `value`, in order.
fn values_where(metrics: &[Metric], name: &str, key: &str, value: &str) -> Vec<f64> {
    named(metrics, name)
        .into_iter()
        .filter(|m| attribute(m, key) == Some(value))
        .map(|m| m.value)
        .collect()
}

#[test]
fn counters_with_labels_send_exact_increases_over_three_rounds() {
    let (recorder, recorded) = Builder::new().build();
    let (metrics, integration) = rounds(&recorder, recorded, 3, |round| match round {
        0 => {
            counter!("http.requests", "route" => "/a").increment(3);
            counter!("http.requests", "route" => "/b").increment(1);
        }
        1 => counter!("http.requests", "route" => "/a").increment(2),
        _ => {
            // `absolute` sets a total: 5 -> 10 is an increase of 5.
            counter!("http.requests", "route" => "/a").absolute(10);
            counter!("http.requests", "route" => "/b").increment(4);
        }
    });
    assert_eq!(
        values_where(&metrics, "http.requests", "route", "/a"),
        [3.0, 2.0, 5.0]
    );
    // Round 2 did not move /b: nothing is sent for it then.
    assert_eq!(
        values_where(&metrics, "http.requests", "route", "/b"),
        [1.0, 4.0]
    );
    let sent = named(&metrics, "http.requests");
    assert!(
        sent.iter()
            .all(|m| is(m, Sent::Counter) && m.unit.is_none())
    );
    assert!(
        sent.iter()
            .all(|m| attribute(m, "sentry.origin") == Some("auto.runtime_metrics"))
    );
    assert_eq!(integration.stats().metrics_dropped, 0);
}

#[test]
fn a_gauge_sends_its_last_value_with_its_unit_and_an_unset_gauge_nothing() {
    let (recorder, recorded) = Builder::new().build();
    let (metrics, _) = rounds(&recorder, recorded, 3, |round| match round {
        0 => {
            describe_gauge!("queue.bytes", Unit::Bytes, "Bytes waiting in the queue.");
            gauge!("queue.bytes").set(100.0);
            gauge!("queue.bytes").increment(28.0);
            let _registered_only = gauge!("queue.never_set");
        }
        1 => gauge!("queue.bytes").decrement(64.0),
        _ => {}
    });
    assert_eq!(values(&metrics, "queue.bytes"), [128.0, 64.0, 64.0]);
    let bytes = named(&metrics, "queue.bytes");
    assert!(bytes.iter().all(|m| is(m, Sent::Gauge)));
    assert!(
        bytes.iter().all(|m| m.unit == Some(SentUnit::Byte)),
        "{bytes:#?}"
    );
    assert!(named(&metrics, "queue.never_set").is_empty());
}

#[test]
fn histogram_values_arrive_as_a_distribution_with_their_label_unit_and_count() {
    let (recorder, recorded) = Builder::new().build();
    let (metrics, _) = rounds(&recorder, recorded, 2, |round| {
        if round == 0 {
            describe_histogram!("http.duration", Unit::Seconds, "Request duration.");
            for value in [0.125, 0.25, 0.5] {
                histogram!("http.duration", "route" => "/users").record(value);
            }
            histogram!("http.duration", "route" => "/items").record(2.0);
        } else {
            histogram!("http.duration", "route" => "/users").record(1.0);
        }
    });
    assert_eq!(
        values_where(&metrics, "http.duration", "route", "/users"),
        [0.125, 0.25, 0.5, 1.0]
    );
    assert_eq!(
        values_where(&metrics, "http.duration", "route", "/items"),
        [2.0]
    );
    let durations = named(&metrics, "http.duration");
    assert!(durations.iter().all(|m| is(m, Sent::Distribution)));
    assert!(durations.iter().all(|m| m.unit == Some(SentUnit::Second)));
    assert_eq!(
        values_where(&metrics, "http.duration.count", "route", "/users"),
        [3.0, 1.0]
    );
    assert!(
        named(&metrics, "http.duration.count")
            .iter()
            .all(|m| is(m, Sent::Counter))
    );
}

#[test]
fn a_histogram_over_its_sample_size_sends_a_uniform_sample_and_the_exact_count() {
    let (recorder, recorded) = Builder::new().histogram_samples(50).build();
    let (metrics, _) = rounds(&recorder, recorded, 2, |round| {
        let offset = round as u32 * 10_000;
        for value in 0..10_000 {
            histogram!("batch.size").record(f64::from(offset + value));
        }
    });
    let sent = values(&metrics, "batch.size");
    assert_eq!(sent.len(), 100, "50 per round");
    let (first, second) = sent.split_at(50);
    assert!(first.iter().all(|v| (0.0..10_000.0).contains(v)));
    assert!(second.iter().all(|v| (10_000.0..20_000.0).contains(v)));
    // A uniform sample, not the first 50 recorded.
    assert!(
        first.iter().filter(|v| **v >= 5_000.0).count() >= 10,
        "{first:?}"
    );
    let mut distinct = first.to_vec();
    distinct.sort_by(f64::total_cmp);
    distinct.dedup();
    assert_eq!(distinct.len(), 50);
    assert_eq!(values(&metrics, "batch.size.count"), [10_000.0, 10_000.0]);
}

#[test]
fn histograms_share_the_rounds_value_budget_and_keep_exact_counts() {
    let (recorder, recorded) = Builder::new().max_histogram_values(300).build();
    let (metrics, _) = rounds(&recorder, recorded, 1, |_| {
        for route in 0..4 {
            for value in 0..100 {
                histogram!("latency", "route" => route.to_string()).record(f64::from(value));
            }
        }
        histogram!("latency", "route" => "rare").record(7.0);
    });
    // 401 values kept, 300 to send: "rare" keeps its one, the others 299 / 4 or so each.
    let per_route: BTreeMap<String, usize> =
        named(&metrics, "latency")
            .iter()
            .fold(BTreeMap::new(), |mut counts, m| {
                *counts
                    .entry(attribute(m, "route").unwrap().to_owned())
                    .or_default() += 1;
                counts
            });
    assert_eq!(per_route.values().sum::<usize>(), 300, "{per_route:?}");
    assert_eq!(per_route["rare"], 1);
    assert!(
        (0..4).all(|r| (74..=75).contains(&per_route[&r.to_string()])),
        "{per_route:?}"
    );
    for route in 0..4 {
        assert_eq!(
            values_where(&metrics, "latency.count", "route", &route.to_string()),
            [100.0]
        );
    }
}

#[test]
fn series_past_the_limit_are_dropped_and_their_updates_counted() {
    let (recorder, recorded) = Builder::new().max_series(3).build();
    let (metrics, integration) = rounds(&recorder, recorded, 2, |_| {
        for route in ["/a", "/b", "/c", "/d", "/e"] {
            counter!("requests", "route" => route).increment(1);
        }
        gauge!("refused.gauge").set(1.0);
        histogram!("refused.histogram").record_many(1.0, 5);
    });
    let sent: Vec<_> = named(&metrics, "requests")
        .iter()
        .map(|m| attribute(m, "route").unwrap().to_owned())
        .collect();
    assert_eq!(sent, ["/a", "/b", "/c", "/a", "/b", "/c"]);
    assert!(named(&metrics, "refused.gauge").is_empty());
    // Per round: 2 counter updates, 1 gauge update and 5 histogram values refused.
    let dropped = named(&metrics, "runtime_metrics.dropped");
    assert_eq!(dropped.len(), 2, "{dropped:#?}");
    assert!(dropped.iter().all(|m| {
        m.value == 8.0
            && attribute(m, "reason") == Some("collector_limit")
            && attribute(m, "collector") == Some("metrics-rs")
    }));
    assert_eq!(integration.stats().metrics_dropped, 16);
}

#[test]
fn a_round_at_every_limit_is_not_cut_by_the_per_collector_cap() {
    let (recorder, recorded) = Builder::new().build();
    let (metrics, integration) = rounds(&recorder, recorded, 1, |_| {
        for i in 0..1400 {
            counter!("jobs.done", "job" => i.to_string()).increment(1);
        }
        for i in 0..500 {
            gauge!("jobs.queued", "queue" => i.to_string()).set(f64::from(i));
        }
        for i in 0..100 {
            for value in 0..10 {
                histogram!("jobs.wait", "queue" => i.to_string()).record(f64::from(value));
            }
        }
    });
    // 2 000 series and 500 of the 1 000 values: 2 500 metrics, past the integration's cap of
    // 1 000 for other collectors.
    assert_eq!(named(&metrics, "jobs.done").len(), 1400);
    assert_eq!(named(&metrics, "jobs.queued").len(), 500);
    assert_eq!(named(&metrics, "jobs.wait.count").len(), 100);
    assert_eq!(named(&metrics, "jobs.wait").len(), 500);
    assert_eq!(integration.stats().metrics_dropped, 0);
    assert_eq!(integration.stats().metrics_handed_to_sdk, 2500);
    const { assert!(sentry_runtime_metrics::MAX_METRICS_PER_COLLECTOR < 2500) };
}

#[test]
fn names_sentry_would_rewrite_are_fixed_and_empty_ones_dropped_and_counted() {
    let (recorder, recorded) = Builder::new().build();
    let (metrics, integration) = rounds(&recorder, recorded, 1, |_| {
        counter!("http requests/total").increment(2);
        counter!("").increment(1);
        gauge!("queue depth", "shard id" => "1").set(3.0);
    });
    assert_eq!(values(&metrics, "http_requests_total"), [2.0]);
    assert_eq!(values(&metrics, "queue_depth"), [3.0]);
    let stats = integration.stats();
    assert_eq!(stats.metrics_corrected, 2);
    assert_eq!(stats.metrics_dropped, 1);
    let dropped = named(&metrics, "runtime_metrics.dropped");
    assert_eq!(dropped.len(), 1);
    assert_eq!(attribute(dropped[0], "reason"), Some("empty_name"));
}

#[test]
fn what_was_recorded_before_init_is_sent_in_the_first_round() {
    let (recorder, recorded) = Builder::new().build();
    metrics::with_local_recorder(&recorder, || {
        counter!("boot.steps").increment(4);
        histogram!("boot.duration").record(0.5);
    });
    let (metrics, _) = rounds(&recorder, recorded, 1, |_| {});
    assert_eq!(values(&metrics, "boot.steps"), [4.0]);
    assert_eq!(values(&metrics, "boot.duration"), [0.5]);
    assert_eq!(values(&metrics, "boot.duration.count"), [1.0]);
}

/// Composed with metrics-util's `DebuggingRecorder` in a fanout: what arrives in Sentry sums
/// to what that recorder counted, series by series.
#[test]
fn composed_with_another_recorder_the_sums_match_its_counts() {
    let (ours, recorded) = Builder::new().build();
    let debugging = DebuggingRecorder::new();
    let snapshotter = debugging.snapshotter();
    let fanout = FanoutBuilder::default()
        .add_recorder(ours)
        .add_recorder(debugging)
        .build();
    let (metrics, _) = rounds(&fanout, recorded, 5, |round| {
        for i in 0..=round {
            counter!("work.items", "kind" => format!("k{i}")).increment(i as u64 + 1);
        }
        histogram!("work.size").record_many(1.0, round + 1);
    });
    let mut sums: BTreeMap<String, f64> = BTreeMap::new();
    for m in named(&metrics, "work.items") {
        *sums
            .entry(attribute(m, "kind").unwrap().to_owned())
            .or_default() += m.value;
    }
    let mut counted: BTreeMap<String, f64> = BTreeMap::new();
    let mut histogram_values = 0;
    for (key, _, _, value) in snapshotter.snapshot().into_vec() {
        match value {
            DebugValue::Counter(total) => {
                let kind = key.key().labels().next().unwrap().value().to_owned();
                counted.insert(kind, total as f64);
            }
            DebugValue::Histogram(values) => histogram_values += values.len(),
            DebugValue::Gauge(_) => {}
        }
    }
    assert_eq!(sums, counted);
    assert_eq!(counted.len(), 5);
    let counts: f64 = values(&metrics, "work.size.count").iter().sum();
    assert_eq!(counts, histogram_values as f64);
    assert_eq!(histogram_values, 15);
}

#[test]
fn a_description_given_after_the_series_exists_applies_from_the_next_round() {
    let (recorder, recorded) = Builder::new().build();
    let (metrics, _) = rounds(&recorder, recorded, 2, |round| {
        if round == 1 {
            describe_gauge!("pool.idle_bytes", Unit::Kibibytes, "Idle memory.");
            describe_histogram!("pool.wait", Unit::Microseconds, "Wait for a connection.");
        }
        gauge!("pool.idle_bytes").set(4.0);
        histogram!("pool.wait").record(9.0);
    });
    let units = |name| {
        named(&metrics, name)
            .iter()
            .map(|m| m.unit.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(units("pool.idle_bytes"), [None, Some(SentUnit::Kibibyte)]);
    assert_eq!(units("pool.wait"), [None, Some(SentUnit::Microsecond)]);
}

#[test]
fn collect_shows_what_the_next_round_would_send_without_taking_it() {
    let (recorder, mut recorded) = Builder::new().build();
    metrics::with_local_recorder(&recorder, || {
        counter!("snapshot.count").increment(3);
        gauge!("snapshot.level").set(2.0);
    });
    // Series not taken by a round yet are shown too, and showing takes nothing.
    for _ in 0..2 {
        let shown = recorded.collect();
        let summary: Vec<_> = shown
            .iter()
            .map(|m| (m.name.as_ref(), m.value.as_f64()))
            .collect();
        assert_eq!(
            summary,
            [("snapshot.count", 3.0), ("snapshot.level", 2.0)],
            "{shown:?}"
        );
    }
    let sent = recorded.collect_mut().unwrap().metrics;
    assert_eq!(sent.len(), 2);
    metrics::with_local_recorder(&recorder, || counter!("snapshot.count").increment(1));
    let shown = recorded.collect();
    let summary: Vec<_> = shown
        .iter()
        .map(|m| (m.name.as_ref(), m.value.as_f64()))
        .collect();
    assert_eq!(summary, [("snapshot.count", 1.0), ("snapshot.level", 2.0)]);
}

/// The series limit is reported once in the debug log, however many rounds refuse updates.
#[test]
fn the_series_limit_is_reported_once_in_the_debug_log() {
    const TEST: &str = "the_series_limit_is_reported_once_in_the_debug_log";
    if sentry_runtime_metrics_tests::child::is_child() {
        let (recorder, recorded) = Builder::new().max_series(1).build();
        let integration = common::integration_of(vec![Box::new(recorded)]);
        let mut options = ClientOptions::new().add_integration(integration.clone());
        options.debug = true;
        with_captured_envelopes_options(
            || {
                for round in 0..3 {
                    metrics::with_local_recorder(&recorder, || {
                        counter!("kept").increment(1);
                        counter!("refused", "round" => round.to_string()).increment(1);
                    });
                    integration.collect_now();
                }
            },
            options,
        );
        assert_eq!(integration.stats().metrics_dropped, 3);
        return;
    }
    let output = sentry_runtime_metrics_tests::child::rerun(TEST).unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let reports = stderr
        .lines()
        .filter(|line| line.contains("recorded more than 1 series"))
        .count();
    assert_eq!(reports, 1, "{stderr}");
}

#[test]
fn a_counter_described_with_a_unit_is_sent_without_one_and_descriptors_list_what_was_described() {
    let (recorder, recorded) = Builder::new().build();
    metrics::with_local_recorder(&recorder, || {
        describe_counter!("io.read", Unit::Bytes, "Bytes read.");
        describe_histogram!("io.latency", Unit::Nanoseconds, "Read latency.");
        describe_gauge!("io.queue", "Reads waiting.");
    });
    let descriptors: Vec<_> = recorded
        .descriptors()
        .into_iter()
        .map(|d| {
            (
                d.name.into_owned(),
                d.metric_type,
                d.unit,
                d.description.into_owned(),
            )
        })
        .collect();
    assert_eq!(
        descriptors,
        [
            (
                "io.latency".to_owned(),
                MetricType::Distribution,
                Some("nanosecond"),
                "Read latency.".to_owned(),
            ),
            (
                "io.latency.count".to_owned(),
                MetricType::Counter,
                None,
                "Values recorded into `io.latency`.".to_owned(),
            ),
            (
                "io.queue".to_owned(),
                MetricType::Gauge,
                None,
                "Reads waiting.".to_owned(),
            ),
            (
                "io.read".to_owned(),
                MetricType::Counter,
                None,
                "Bytes read.".to_owned(),
            ),
        ]
    );
    let (metrics, _) = rounds(&recorder, recorded, 1, |_| {
        counter!("io.read").increment(512)
    });
    let read = named(&metrics, "io.read");
    assert_eq!(read.len(), 1);
    assert_eq!(read[0].unit, None, "Sentry counters carry no unit");
}

#[test]
fn nan_and_infinite_values_are_dropped_and_counted() {
    let (recorder, recorded) = Builder::new().build();
    let (metrics, integration) = rounds(&recorder, recorded, 1, |_| {
        gauge!("bad.level").set(f64::NAN);
        histogram!("bad.latency").record(f64::INFINITY);
        histogram!("bad.latency").record(1.0);
    });
    assert!(named(&metrics, "bad.level").is_empty());
    assert_eq!(values(&metrics, "bad.latency"), [1.0]);
    assert_eq!(
        values(&metrics, "bad.latency.count"),
        [2.0],
        "both were recorded"
    );
    assert_eq!(integration.stats().metrics_dropped, 2);
    let dropped = named(&metrics, "runtime_metrics.dropped");
    assert_eq!(dropped.len(), 1);
    assert_eq!(attribute(dropped[0], "reason"), Some("non_finite_value"));
    assert_eq!(dropped[0].value, 2.0);
}

#[test]
fn a_sample_size_of_zero_sends_only_counts_and_a_huge_one_is_bounded() {
    let (recorder, recorded) = Builder::new().histogram_samples(0).build();
    let (metrics, _) = rounds(&recorder, recorded, 1, |_| {
        histogram!("only.counted").record_many(3.0, 7);
    });
    assert!(named(&metrics, "only.counted").is_empty());
    assert_eq!(values(&metrics, "only.counted.count"), [7.0]);

    let (recorder, recorded) = Builder::new().histogram_samples(usize::MAX).build();
    let (metrics, _) = rounds(&recorder, recorded, 1, |_| {
        for value in 0..20_000 {
            histogram!("big.sample").record(f64::from(value));
        }
    });
    // At most MAX_HISTOGRAM_SAMPLES kept, and the round's budget of 500 sent.
    assert_eq!(named(&metrics, "big.sample").len(), 500);
    assert_eq!(values(&metrics, "big.sample.count"), [20_000.0]);
    const { assert!(sentry_runtime_metrics::metrics_rs::MAX_HISTOGRAM_SAMPLES < 20_000) };
}

/// The collector added after init, and the integration moved to a second client: nothing
/// recorded is lost or sent twice.
#[test]
fn added_after_init_and_moved_to_a_new_client_every_increase_is_sent_once() {
    let (recorder, recorded) = Builder::new().build();
    metrics::with_local_recorder(&recorder, || counter!("moved.count").increment(5));
    let integration = common::integration_of(Vec::new());
    let mut recorded = Some(recorded);
    let mut sent = Vec::new();
    for client in 0..2 {
        let options = ClientOptions::new().add_integration(integration.clone());
        let envelopes = with_captured_envelopes_options(
            || {
                if let Some(recorded) = recorded.take() {
                    integration.add_collector(Box::new(recorded));
                }
                for round in 0..2 {
                    metrics::with_local_recorder(&recorder, || {
                        counter!("moved.count").increment(10 * (client + 1) + round);
                    });
                    integration.collect_now();
                }
            },
            options,
        );
        sent.push(values(&metrics_in(&envelopes), "moved.count"));
    }
    // 5 recorded before it was added: sent with the first round's 10.
    assert_eq!(sent, [vec![15.0, 11.0], vec![20.0, 21.0]]);
}

#[test]
fn absurd_refused_counts_saturate_instead_of_wrapping_or_panicking() {
    let (recorder, recorded) = Builder::new().max_series(0).build();
    let (metrics, integration) = rounds(&recorder, recorded, 1, |_| {
        histogram!("refused").record_many(1.0, usize::MAX);
        histogram!("refused").record_many(1.0, usize::MAX);
    });
    assert_eq!(integration.stats().metrics_dropped, u64::MAX);
    assert_eq!(
        values(&metrics, "runtime_metrics.dropped"),
        [u64::MAX as f64]
    );
}
