//! The `metrics` facade bridge forgets series nobody records into any more, as
//! metrics-exporter-prometheus' `idle_timeout` does: labels that churn (per connection, per
//! tenant) neither fill the series limit for the life of the process nor replay idle gauges
//! for ever, and what is sent stays exact. Each test drives rounds with `collect_mut` on a
//! recorder of its own, with an idle timeout of zero (forgotten in the second idle round).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::float_cmp
)] // Tests fail loudly.

use std::time::Duration;

use metrics::{counter, gauge, histogram};
use sentry_runtime_metrics::metrics_rs::{Builder, RecordedMetrics, SentryRecorder};
use sentry_runtime_metrics::{MetricCollector, RuntimeMetric};

/// A recorder and its collector with at most `max_series` series, forgetting at once.
fn forgetful(max_series: usize) -> (SentryRecorder, RecordedMetrics) {
    Builder::new()
        .max_series(max_series)
        .idle_timeout(Some(Duration::ZERO))
        .build()
}

/// One round: what `record` records under `recorder`, then what the collector sends, with
/// what it dropped.
fn round(
    recorder: &SentryRecorder,
    recorded: &mut RecordedMetrics,
    record: impl FnOnce(),
) -> (Vec<RuntimeMetric>, u64) {
    metrics::with_local_recorder(recorder, record);
    let collected = recorded.collect_mut().unwrap();
    (collected.metrics, collected.dropped)
}

/// `(name, label value, value)` of each metric sent.
fn sent(metrics: &[RuntimeMetric]) -> Vec<(String, String, f64)> {
    metrics
        .iter()
        .map(|m| {
            let label = m.tags.values().next().map(|v| v.to_string());
            (
                m.name.to_string(),
                label.unwrap_or_default(),
                m.value.as_f64(),
            )
        })
        .collect()
}

#[test]
fn churning_labels_do_not_fill_the_series_limit() {
    let (recorder, mut recorded) = forgetful(3);
    // 100 connections, one at a time: each counts its requests once and is gone.
    let mut total = 0.0;
    for connection in 0..100 {
        let (metrics, dropped) = round(&recorder, &mut recorded, || {
            counter!("conn.requests", "conn" => connection.to_string()).increment(2);
        });
        assert_eq!(dropped, 0, "connection {connection} was refused");
        total += sent(&metrics).iter().map(|(_, _, v)| v).sum::<f64>();
        // Idle rounds: the series is forgotten, and its place freed.
        round(&recorder, &mut recorded, || {});
        round(&recorder, &mut recorded, || {});
    }
    assert_eq!(total, 200.0, "every increase sent exactly once");
}

#[test]
fn a_counter_recorded_into_again_after_it_was_forgotten_counts_from_zero() {
    let (recorder, mut recorded) = forgetful(10);
    let requests = || counter!("http.requests", "route" => "/a").increment(5);
    let (first, _) = round(&recorder, &mut recorded, requests);
    for _ in 0..3 {
        let (idle, _) = round(&recorder, &mut recorded, || {});
        assert!(idle.is_empty(), "an idle counter sends nothing: {idle:?}");
    }
    let (again, _) = round(&recorder, &mut recorded, requests);
    assert_eq!(sent(&first), [("http.requests".into(), "/a".into(), 5.0)]);
    assert_eq!(sent(&again), [("http.requests".into(), "/a".into(), 5.0)]);
}

#[test]
fn an_idle_gauge_is_forgotten_unless_its_handle_is_held() {
    let (recorder, mut recorded) = forgetful(10);
    let held = metrics::with_local_recorder(&recorder, || {
        let held = gauge!("pool.size");
        held.set(8.0);
        gauge!("build.info").set(1.0);
        held
    });
    let mut rounds = Vec::new();
    for _ in 0..4 {
        rounds.push(sent(&round(&recorder, &mut recorded, || {}).0));
    }
    // Sent while it may change: twice (the round that saw it set, and the first idle one).
    let info = |round: &Vec<(String, String, f64)>| round.iter().any(|m| m.0 == "build.info");
    assert_eq!(rounds.iter().filter(|r| info(r)).count(), 2, "{rounds:?}");
    // The held gauge is sent every round: its holder may set it at any time.
    assert!(rounds.iter().all(|r| r.iter().any(|m| m.0 == "pool.size")));
    drop(held);
}

#[test]
fn absolute_counters_and_moved_gauges_are_never_forgotten() {
    let (recorder, mut recorded) = forgetful(10);
    round(&recorder, &mut recorded, || {
        counter!("copied.total").absolute(1000);
        gauge!("in_flight").increment(3.0);
    });
    for _ in 0..5 {
        round(&recorder, &mut recorded, || {});
    }
    // Forgotten and made anew, the total would be sent whole again, and the level start at 0.
    let (metrics, _) = round(&recorder, &mut recorded, || {
        counter!("copied.total").absolute(1001);
        gauge!("in_flight").decrement(1.0);
    });
    let mut sent = sent(&metrics);
    sent.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        sent,
        [
            ("copied.total".into(), String::new(), 1.0),
            ("in_flight".into(), String::new(), 2.0)
        ]
    );
}

#[test]
fn a_histogram_with_no_values_is_forgotten_and_a_held_one_is_not() {
    let (recorder, mut recorded) = forgetful(3);
    let held = metrics::with_local_recorder(&recorder, || {
        histogram!("once").record(1.0);
        histogram!("held")
    });
    for _ in 0..3 {
        round(&recorder, &mut recorded, || {});
    }
    // `once` is gone: two new series fit under the limit of 3 (`held` still holds one).
    let (metrics, dropped) = round(&recorder, &mut recorded, || {
        histogram!("new.a").record(2.0);
        histogram!("new.b").record(3.0);
        held.record(4.0);
    });
    assert_eq!(dropped, 0);
    let names: Vec<String> = sent(&metrics).into_iter().map(|m| m.0).collect();
    assert!(names.contains(&"new.b.count".to_owned()), "{names:?}");
    assert!(names.contains(&"held.count".to_owned()), "{names:?}");
}

#[test]
fn without_an_idle_timeout_series_are_kept() {
    let (recorder, mut recorded) = Builder::new().max_series(1).idle_timeout(None).build();
    round(&recorder, &mut recorded, || counter!("a").increment(1));
    for _ in 0..3 {
        round(&recorder, &mut recorded, || {});
    }
    let (_, dropped) = round(&recorder, &mut recorded, || counter!("b").increment(1));
    assert_eq!(dropped, 1, "`a` keeps the only place");
}

#[test]
fn increments_racing_with_forgetting_are_all_sent_once() {
    let (recorder, mut recorded) = forgetful(100);
    let recorder = std::sync::Arc::new(recorder);
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    const BURSTS: u64 = 2_000;
    let writer = {
        let (recorder, done) = (recorder.clone(), done.clone());
        std::thread::spawn(move || {
            metrics::with_local_recorder(&*recorder, || {
                for burst in 0..BURSTS {
                    counter!("raced", "key" => "k").increment(1);
                    if burst.is_multiple_of(50) {
                        // Long enough for a round or two to find it idle.
                        std::thread::sleep(Duration::from_micros(200));
                    }
                }
            });
            done.store(true, std::sync::atomic::Ordering::SeqCst);
        })
    };
    let mut total = 0.0;
    let mut last = false;
    while !last {
        last = done.load(std::sync::atomic::Ordering::SeqCst);
        let (metrics, _) = round(&recorder, &mut recorded, || {});
        total += sent(&metrics).iter().map(|(_, _, v)| v).sum::<f64>();
    }
    writer.join().unwrap();
    assert_eq!(total, BURSTS as f64);
}
