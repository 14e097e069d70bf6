//! Counter increases are kept per series as collected, so series that the checks make look alike
//! (attribute values that differ past the 200-byte cut, attribute sets that differ past the
//! 32-attribute cut, one series sent twice in a round) each keep their own baseline: route A
//! (+10 per round) and route B (+1) send 11 per round between them, not their totals' jitter.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Tests fail loudly.

mod common;

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};

use common::with_captured_envelopes_options;
use common::{metrics_in, values};
use sentry::ClientOptions;
use sentry_runtime_metrics::{MetricCollector, MetricType, MetricValue, RuntimeMetric, Tags};

/// Two series per metric whose running totals grow by 10 (A) and 1 (B) per round.
struct Routes {
    rounds: AtomicU64,
}

fn counter(name: &'static str, total: u64, tags: Tags) -> RuntimeMetric {
    RuntimeMetric {
        name: Cow::Borrowed(name),
        metric_type: MetricType::Counter,
        value: MetricValue::Int(total as i64),
        unit: None,
        tags,
    }
}

impl MetricCollector for Routes {
    fn collect(&self) -> Vec<RuntimeMetric> {
        let round = self.rounds.fetch_add(1, Ordering::SeqCst) + 1;
        let (a, b) = (1000 + 10 * round, 20 + round);
        let long_route = |last: &str| {
            Tags::from([(
                Cow::Borrowed("route"),
                Cow::Owned(format!("/{}{last}", "x".repeat(200))),
            )])
        };
        let wide = |last: &'static str| {
            let mut tags: Tags = (0..32)
                .map(|i| (Cow::Owned(format!("k{i:02}")), Cow::Borrowed("v")))
                .collect();
            tags.insert(Cow::Borrowed("zz"), Cow::Borrowed(last));
            tags
        };
        vec![
            counter("app.requests", a, long_route("A")),
            counter("app.requests", b, long_route("B")),
            counter("app.fanout", a, wide("A")),
            counter("app.fanout", b, wide("B")),
            counter("app.twice", a, Tags::new()),
            counter("app.twice", b, Tags::new()),
        ]
    }

    fn name(&self) -> &'static str {
        "routes"
    }
}

/// What three `collect_now` rounds of `collector` (after its baseline) sent.
fn three_rounds(collector: Box<dyn MetricCollector>) -> Vec<sentry::protocol::Metric> {
    let integration = common::integration_of(vec![collector]);
    let options = ClientOptions::new().add_integration(integration.clone());
    let envelopes = with_captured_envelopes_options(
        || {
            common::wait_for_collector_threads_to_finish();
            for _ in 0..3 {
                integration.collect_now();
            }
        },
        options,
    );
    metrics_in(&envelopes)
}

#[test]
fn series_that_look_alike_after_the_checks_keep_their_own_counters() {
    let metrics = three_rounds(Box::new(Routes {
        rounds: AtomicU64::new(0),
    }));
    for name in ["app.requests", "app.fanout", "app.twice"] {
        let sent = values(&metrics, name);
        // Three rounds, two series each: +10 and +1 every round (the baseline sent nothing).
        assert_eq!(sent, [10.0, 1.0, 10.0, 1.0, 10.0, 1.0], "{name}");
    }
}

/// One series sent twice a round whose first copy cannot be sent in round 2 (NaN).
struct TwiceWithAGap {
    rounds: AtomicU64,
}

impl MetricCollector for TwiceWithAGap {
    fn collect(&self) -> Vec<RuntimeMetric> {
        let round = self.rounds.fetch_add(1, Ordering::SeqCst);
        let a = if round == 2 {
            MetricValue::Float(f64::NAN)
        } else {
            MetricValue::Int(1000 + 10 * round as i64)
        };
        let twice = |value| RuntimeMetric {
            name: Cow::Borrowed("app.twice"),
            metric_type: MetricType::Counter,
            value,
            unit: None,
            tags: Tags::new(),
        };
        vec![twice(a), twice(MetricValue::Int(20 + round as i64))]
    }

    fn name(&self) -> &'static str {
        "twice-with-a-gap"
    }
}

#[test]
fn a_copy_that_cannot_be_sent_does_not_move_the_others() {
    let metrics = three_rounds(Box::new(TwiceWithAGap {
        rounds: AtomicU64::new(0),
    }));
    // Rounds 1 and 3 send both copies; round 2 only the second (the NaN is dropped). The first
    // copy's total of round 3 is compared with round 1's.
    assert_eq!(values(&metrics, "app.twice"), [10.0, 1.0, 1.0, 20.0, 1.0]);
}
