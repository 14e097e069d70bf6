//! Counter increases are kept per series by the collector that owns them, so series that the
//! checks make look alike (attribute values that differ past the 200-byte cut, attribute sets
//! that differ past the 32-attribute cut, one series sent twice in a round) each send their own
//! increases, and what arrives in Sentry sums to each series' total: route A (+10 per round) and
//! route B (+1) add up to their own totals, not to their totals' jitter.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Tests fail loudly.

mod common;

use std::borrow::Cow;
use std::sync::Mutex;

use common::with_captured_envelopes_options;
use common::{metrics_in, values};
use sentry::ClientOptions;
use sentry_runtime_metrics::{
    Began, MetricCollector, MetricType, MetricValue, RunningTotals, RuntimeMetric, Tags,
};

/// Two series per metric whose running totals grow by 10 (A) and 1 (B) per round, sent as
/// increases computed with [`RunningTotals`], keyed by what tells the series apart here.
struct Routes {
    state: Mutex<(u64, RouteTotals)>,
}

/// The last total of each route of each metric.
type RouteTotals = RunningTotals<(&'static str, char), u64>;

fn counter(name: &'static str, increase: Option<u64>, tags: Tags) -> Option<RuntimeMetric> {
    Some(RuntimeMetric {
        name: Cow::Borrowed(name),
        metric_type: MetricType::Counter,
        value: MetricValue::Int(increase? as i64),
        unit: None,
        tags,
    })
}

impl MetricCollector for Routes {
    fn collect(&self) -> Vec<RuntimeMetric> {
        let mut state = self.state.lock().unwrap();
        let (round, totals) = &mut *state;
        *round += 1;
        let (a, b) = (1000 + 10 * *round, 20 + *round);
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
        let mut sample = totals.sample();
        let mut grew = |name, series, total| sample.increase((name, series), total, Began::AtZero);
        [
            counter(
                "app.requests",
                grew("app.requests", 'A', a),
                long_route("A"),
            ),
            counter(
                "app.requests",
                grew("app.requests", 'B', b),
                long_route("B"),
            ),
            counter("app.fanout", grew("app.fanout", 'A', a), wide("A")),
            counter("app.fanout", grew("app.fanout", 'B', b), wide("B")),
            counter("app.twice", grew("app.twice", 'A', a), Tags::new()),
            counter("app.twice", grew("app.twice", 'B', b), Tags::new()),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    fn name(&self) -> &'static str {
        "routes"
    }
}

/// What three `collect_now` rounds of `collector` sent.
fn three_rounds(collector: Box<dyn MetricCollector>) -> Vec<sentry::protocol::Metric> {
    let integration = common::integration_of(vec![collector]);
    let options = ClientOptions::new().add_integration(integration.clone());
    let envelopes = with_captured_envelopes_options(
        || {
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
        state: Mutex::new((0, RunningTotals::new())),
    }));
    for name in ["app.requests", "app.fanout", "app.twice"] {
        let sent = values(&metrics, name);
        // The first round sends each whole total (counted from zero), then +10 and +1.
        assert_eq!(sent, [1010.0, 21.0, 10.0, 1.0, 10.0, 1.0], "{name}");
        // What Sentry sums is each series' total: 1030 and 23.
        let (a, b): (Vec<f64>, Vec<f64>) = sent.chunks(2).map(|p| (p[0], p[1])).unzip();
        assert_eq!(
            (a.iter().sum::<f64>(), b.iter().sum::<f64>()),
            (1030.0, 23.0)
        );
    }
}

/// One series sent twice a round whose first copy cannot be sent in round 2 (NaN).
struct TwiceWithAGap {
    state: Mutex<(u64, RunningTotals<usize, MetricValue>)>,
}

impl MetricCollector for TwiceWithAGap {
    fn collect(&self) -> Vec<RuntimeMetric> {
        let mut state = self.state.lock().unwrap();
        let (round, totals) = &mut *state;
        *round += 1;
        let a = if *round == 2 {
            MetricValue::Float(f64::NAN)
        } else {
            MetricValue::Int(1000 + 10 * *round as i64)
        };
        let b = MetricValue::Int(20 + *round as i64);
        let mut sample = totals.sample();
        [a, b]
            .into_iter()
            .enumerate()
            .filter_map(|(copy, total)| {
                Some(RuntimeMetric {
                    name: Cow::Borrowed("app.twice"),
                    metric_type: MetricType::Counter,
                    value: sample.increase(copy, total, Began::AtZero)?,
                    unit: None,
                    tags: Tags::new(),
                })
            })
            .collect()
    }

    fn name(&self) -> &'static str {
        "twice-with-a-gap"
    }
}

#[test]
fn a_copy_that_cannot_be_sent_does_not_move_the_others() {
    let metrics = three_rounds(Box::new(TwiceWithAGap {
        state: Mutex::new((0, RunningTotals::new())),
    }));
    // Round 1 sends both totals; round 2 only the second copy's increase (the NaN is dropped
    // and counted); in round 3 the first copy's total is compared with round 1's.
    assert_eq!(
        values(&metrics, "app.twice"),
        [1010.0, 21.0, 1.0, 20.0, 1.0]
    );
}
