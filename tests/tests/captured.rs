//! What the integration sends, read back from captured envelopes (sentry's `test` feature).
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
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use common::with_captured_envelopes_options;
use common::{Panicking, QueueMetrics, attribute, is, metrics_in, named, values};
use sentry::ClientOptions;
use sentry::protocol::{MetricType as Sent, Unit};
use sentry_runtime_metrics::{
    CollectError, Collected, MetricCollector, MetricType, MetricValue, RuntimeMetric,
    RuntimeMetricsConfig, RuntimeMetricsIntegration, Tags,
};

/// Captures `rounds` calls of `collect_now()` for an integration with `config` (and no built-in
/// collector). Nothing runs at init: the rounds are the collectors' only runs.
fn capture(
    config: RuntimeMetricsConfig,
    rounds: usize,
) -> (Vec<sentry::protocol::Metric>, RuntimeMetricsIntegration) {
    let integration = RuntimeMetricsIntegration::new(RuntimeMetricsConfig {
        collect_memory: false,
        collect_process: false,
        collect_async_runtime: false,
        ..config
    });
    let options = ClientOptions::new().add_integration(integration.clone());
    let envelopes = with_captured_envelopes_options(
        || {
            for _ in 0..rounds {
                integration.collect_now();
            }
        },
        options,
    );
    (metrics_in(&envelopes), integration)
}

#[test]
fn derived_collector_metrics_arrive_with_names_types_units_and_attributes() {
    let source = Arc::new(AtomicU64::new(3));
    let queue = QueueMetrics {
        source: source.clone(),
        ..Default::default()
    };
    let (metrics, integration) = capture(
        RuntimeMetricsConfig {
            custom_collectors: vec![Box::new(queue)],
            attributes: Tags::from([(Cow::Borrowed("service"), Cow::Borrowed("api"))]),
            ..Default::default()
        },
        1,
    );
    let depth = named(&metrics, "app.queue.depth");
    assert_eq!(depth.len(), 1, "{metrics:#?}");
    assert!(is(depth[0], Sent::Gauge));
    assert_eq!(depth[0].value, 3.0);
    assert_eq!(depth[0].unit, None);

    let bytes = named(&metrics, "app.queue.bytes");
    assert!(is(bytes[0], Sent::Gauge));
    assert_eq!(bytes[0].value, 3.0 * 512.0);
    assert_eq!(bytes[0].unit, Some(Unit::Byte));

    let processed = named(&metrics, "app.queue.processed");
    assert!(is(processed[0], Sent::Counter));
    assert_eq!(processed[0].unit, None);
    // Its first round: the total (1, counted since the collector started) is all new.
    assert_eq!(processed[0].value, 1.0);

    for metric in &metrics {
        assert_eq!(
            attribute(metric, "sentry.origin"),
            Some("auto.runtime_metrics")
        );
        assert_eq!(attribute(metric, "service"), Some("api"));
    }
    assert_eq!(metrics.len(), 3);
    assert_eq!(integration.stats().metrics_handed_to_sdk, 3);
    assert_eq!(integration.stats().rounds, 1);
}

/// Reports the totals it is given, one per round.
#[derive(Clone, Default, MetricCollector)]
struct Totals {
    #[counter(name = "app.total")]
    total: u64,
    #[counter(name = "app.per_round", delta)]
    per_round: u64,
    #[gauge(name = "app.level", unit = "percent")]
    level: f64,
    #[totals]
    totals: sentry_runtime_metrics::RunningTotals,
    script: Arc<std::sync::Mutex<Vec<u64>>>,
}

impl Totals {
    fn sample(&mut self) {
        let mut script = self.script.lock().unwrap();
        if !script.is_empty() {
            self.total = script.remove(0);
        }
        self.per_round = 4;
        self.level = 50.0;
    }
}

#[test]
fn counters_send_increases_over_rounds_including_a_reset() {
    // 100 counted since the collector started, then 130, 180, then a reset to 25.
    let script = Arc::new(std::sync::Mutex::new(vec![100, 130, 180, 25]));
    let (metrics, _) = capture(
        RuntimeMetricsConfig {
            custom_collectors: vec![Box::new(Totals {
                script,
                ..Default::default()
            })],
            ..Default::default()
        },
        4,
    );
    let totals = values(&metrics, "app.total");
    assert_eq!(totals, [100.0, 30.0, 50.0, 25.0]);
    // A `delta` counter is sent as it is, every round.
    let per_round = values(&metrics, "app.per_round");
    assert_eq!(per_round, [4.0; 4]);
    // Gauges are sent every round.
    let levels = values(&metrics, "app.level");
    assert_eq!(levels, [50.0; 4]);
    assert!(
        named(&metrics, "app.level")
            .iter()
            .all(|m| m.unit == Some(Unit::Percent))
    );
}

/// Fails its first sample, then reports the totals it is given: a host's total, counting long
/// before the collector.
#[derive(Clone, Default, MetricCollector)]
struct FailsFirst {
    #[counter(name = "app.lifetime", began_earlier)]
    total: u64,
    #[gauge(name = "app.alive")]
    alive: u8,
    #[totals]
    totals: sentry_runtime_metrics::RunningTotals,
    script: Arc<std::sync::Mutex<Vec<u64>>>,
    runs: u64,
}

impl FailsFirst {
    fn sample(&mut self) -> Result<(), String> {
        self.runs += 1;
        if self.runs == 1 {
            return Err("source not ready".into());
        }
        self.total = self.script.lock().unwrap().remove(0);
        self.alive = 1;
        Ok(())
    }
}

#[test]
fn a_total_that_began_earlier_never_sends_its_lifetime_even_after_a_failed_round() {
    // The first round fails; the first good one sees a lifetime total of 1000, which is not an
    // increase: it is recorded, not sent. The next rounds send the increases.
    let script = Arc::new(std::sync::Mutex::new(vec![1000, 1010, 1015]));
    let (metrics, integration) = capture(
        RuntimeMetricsConfig {
            custom_collectors: vec![Box::new(FailsFirst {
                script,
                ..Default::default()
            })],
            ..Default::default()
        },
        4,
    );
    let totals = values(&metrics, "app.lifetime");
    assert_eq!(totals, [10.0, 5.0]);
    // Its gauges are sent from the first good run on.
    assert_eq!(named(&metrics, "app.alive").len(), 3);
    assert_eq!(integration.stats().collector_failures, 1);
}

/// A hand-written collector that returns every bad shape at once.
struct Hostile;

impl MetricCollector for Hostile {
    fn collect(&self) -> Vec<RuntimeMetric> {
        let metric = |name: &str, value: MetricValue| RuntimeMetric {
            name: Cow::Owned(name.to_owned()),
            metric_type: MetricType::Gauge,
            value,
            unit: Some("count".into()),
            tags: Tags::new(),
        };
        vec![
            metric("", MetricValue::Int(1)),
            metric("app.nan", MetricValue::Float(f64::NAN)),
            metric("app.inf", MetricValue::Float(f64::INFINITY)),
            metric("app.bad name", MetricValue::Int(2)),
            metric("app.good", MetricValue::Int(3)),
        ]
    }

    fn name(&self) -> &'static str {
        "hostile"
    }
}

#[test]
fn bad_metrics_are_fixed_or_dropped_and_a_panicking_collector_does_not_stop_the_others() {
    let previous_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {})); // Keep the expected panic out of the test output.
    let queue = QueueMetrics::default();
    let panicking_runs = Arc::new(AtomicU64::new(0));
    let (metrics, integration) = capture(
        RuntimeMetricsConfig {
            custom_collectors: vec![
                Box::new(Panicking(panicking_runs.clone())),
                Box::new(Hostile),
                Box::new(queue),
            ],
            ..Default::default()
        },
        4,
    );
    std::panic::set_hook(previous_hook);

    // The panicking collector ran in rounds 1 and 3: after a panic it rests one round, after
    // the next two, and so on.
    assert_eq!(panicking_runs.load(Ordering::Relaxed), 2);
    // Dropped: the empty name, NaN and infinity (3 per round). Sentry would drop them too.
    assert!(
        metrics
            .iter()
            .all(|m| !m.name.is_empty() && m.value.is_finite())
    );
    assert!(named(&metrics, "app.nan").is_empty() && named(&metrics, "app.inf").is_empty());
    // Rewritten as Sentry would, and sent; the unknown unit `count` is stripped.
    let renamed = named(&metrics, "app.bad_name");
    assert_eq!(renamed.len(), 4);
    assert!(renamed.iter().all(|m| m.unit.is_none()));
    assert_eq!(named(&metrics, "app.good").len(), 4);
    // The collector after the panicking one still reports every round.
    assert_eq!(named(&metrics, "app.queue.depth").len(), 4);
    // Drops are counted and sent, by reason.
    let dropped = named(&metrics, "runtime_metrics.dropped");
    let mut reasons: Vec<(&str, &str, f64)> = dropped
        .iter()
        .map(|m| {
            let collector = attribute(m, "collector").unwrap();
            (collector, attribute(m, "reason").unwrap(), m.value)
        })
        .collect();
    reasons.sort_by(|a, b| a.partial_cmp(b).unwrap());
    reasons.dedup();
    // Each round: one empty name, two non-finite values, and the panicking collector's round
    // (it never sent anything, so each lost round counts as one metric).
    assert_eq!(
        reasons,
        [
            ("hostile", "empty_name", 1.0),
            ("hostile", "non_finite_value", 2.0),
            ("panicking", "collector_panicked", 1.0)
        ]
    );
    assert_eq!(dropped.len(), 12, "three reasons, four rounds");
    let stats = integration.stats();
    assert_eq!(stats.metrics_dropped, 16);
    assert_eq!(stats.collector_failures, 2);
    assert_eq!(
        stats.metrics_corrected, 8,
        "bad name and unknown unit, four times each"
    );
}

#[test]
fn a_collector_over_the_cap_is_truncated_and_counted() {
    struct Flood(Arc<AtomicU64>);
    impl MetricCollector for Flood {
        fn collect(&self) -> Vec<RuntimeMetric> {
            self.0.fetch_add(1, Ordering::SeqCst);
            numbered("app.flood", MetricType::Gauge, 100_000, MetricValue::Int)
        }
        fn name(&self) -> &'static str {
            "flood"
        }
    }
    let runs = Arc::new(AtomicU64::new(0));
    let (metrics, integration) = capture(
        RuntimeMetricsConfig {
            custom_collectors: vec![Box::new(Flood(runs.clone()))],
            ..Default::default()
        },
        1,
    );
    let cap = sentry_runtime_metrics::MAX_METRICS_PER_COLLECTOR;
    assert_eq!(named(&metrics, "app.flood").len(), cap);
    let dropped = named(&metrics, "runtime_metrics.dropped");
    assert_eq!(dropped.len(), 1);
    assert_eq!(attribute(dropped[0], "reason"), Some("over_cap"));
    assert_eq!(dropped[0].value, (100_000 - cap) as f64);
    assert_eq!(integration.stats().metrics_dropped, (100_000 - cap) as u64);
    assert_eq!(runs.load(Ordering::SeqCst), 1, "one round, nothing at init");
}

/// A collector that bounds its own output and drops past limits of its own (a bridge from
/// another metrics API) says so with what it returns: its bound instead of the integration's,
/// its own drops counted.
#[test]
fn a_collector_sends_within_its_own_bound_and_its_own_drops_are_counted() {
    struct Bridge(Arc<AtomicU64>);
    impl MetricCollector for Bridge {
        fn collect(&self) -> Vec<RuntimeMetric> {
            self.0.fetch_add(1, Ordering::SeqCst);
            numbered("app.bridged", MetricType::Counter, 1500, |_| {
                MetricValue::Int(2)
            })
        }
        fn name(&self) -> &'static str {
            "bridge"
        }
        fn collect_mut(&mut self) -> Result<Collected, CollectError> {
            Ok(Collected::new(self.collect())
                .with_max_metrics(2000)
                .with_dropped(7))
        }
    }
    let runs = Arc::new(AtomicU64::new(0));
    let (metrics, integration) = capture(
        RuntimeMetricsConfig {
            custom_collectors: vec![Box::new(Bridge(runs.clone()))],
            ..Default::default()
        },
        2,
    );
    assert_eq!(
        runs.load(Ordering::SeqCst),
        2,
        "two rounds, nothing at init"
    );
    let bridged = named(&metrics, "app.bridged");
    assert_eq!(
        bridged.len(),
        3000,
        "past the default cap of 1000, within its own"
    );
    assert!(
        bridged.iter().all(|m| m.value == 2.0),
        "sent as they are, from the first run"
    );
    let dropped = named(&metrics, "runtime_metrics.dropped");
    assert_eq!(dropped.len(), 2, "{dropped:#?}");
    assert!(dropped.iter().all(|m| {
        attribute(m, "reason") == Some("collector_limit")
            && attribute(m, "collector") == Some("bridge")
            && m.value == 7.0
    }));
    assert_eq!(integration.stats().metrics_dropped, 14);
    assert_eq!(integration.stats().metrics_handed_to_sdk, 3000);
}

/// The application's `name` and `descriptors`, asked when the collector is registered, may
/// panic: the collector is still registered, named `unnamed`, and the host sees nothing.
#[test]
fn a_collector_whose_registration_questions_panic_still_runs() {
    let previous_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    struct Confused;
    impl MetricCollector for Confused {
        fn collect(&self) -> Vec<RuntimeMetric> {
            numbered("app.confused", MetricType::Gauge, 1200, MetricValue::Int)
        }
        fn name(&self) -> &'static str {
            panic!("name")
        }
        fn descriptors(&self) -> Vec<sentry_runtime_metrics::MetricDescriptor> {
            panic!("descriptors")
        }
    }
    let (metrics, integration) = capture(
        RuntimeMetricsConfig {
            custom_collectors: vec![Box::new(Confused)],
            ..Default::default()
        },
        1,
    );
    std::panic::set_hook(previous_hook);
    let cap = sentry_runtime_metrics::MAX_METRICS_PER_COLLECTOR;
    assert_eq!(named(&metrics, "app.confused").len(), cap);
    assert_eq!(integration.stats().metrics_dropped, (1200 - cap) as u64);
    let dropped = named(&metrics, "runtime_metrics.dropped");
    assert_eq!(attribute(dropped[0], "collector"), Some("unnamed"));
}

/// `count` series of `name`, told apart by the attribute `i` = 0, 1 ..; series `i` has
/// `value(i)`.
fn numbered(
    name: &'static str,
    metric_type: MetricType,
    count: i64,
    value: impl Fn(i64) -> MetricValue,
) -> Vec<RuntimeMetric> {
    (0..count)
        .map(|i| RuntimeMetric {
            name: name.into(),
            metric_type,
            value: value(i),
            unit: None,
            tags: Tags::from([(Cow::Borrowed("i"), Cow::Owned(i.to_string()))]),
        })
        .collect()
}

/// A hand-written collector returning every bad shape a metric can have.
struct EveryBadShape {
    rounds: AtomicU64,
}

impl MetricCollector for EveryBadShape {
    fn collect(&self) -> Vec<RuntimeMetric> {
        let round = self.rounds.fetch_add(1, Ordering::Relaxed) + 1;
        let gauge = |name: String, value: MetricValue, unit: Option<&'static str>| RuntimeMetric {
            name: Cow::Owned(name),
            metric_type: MetricType::Gauge,
            value,
            unit: unit.map(Cow::Borrowed),
            tags: Tags::new(),
        };
        let mut wide = gauge("app.wide".into(), MetricValue::Int(1), None);
        wide.tags = (0..1000)
            .map(|i| (Cow::Owned(format!("key{i:04}")), Cow::Owned(i.to_string())))
            .collect();
        let mut odd_attributes = gauge("app.odd_attributes".into(), MetricValue::Int(1), None);
        odd_attributes.tags = Tags::from([
            (Cow::Borrowed("bad key!"), Cow::Borrowed("dropped")),
            (Cow::Borrowed(""), Cow::Borrowed("dropped")),
            (Cow::Borrowed("long"), Cow::Owned("ä".repeat(5 * 1024))),
            (Cow::Borrowed("unicode"), Cow::Borrowed("größe ✓")),
        ]);
        vec![
            gauge(String::new(), MetricValue::Int(1), None),
            gauge("a".repeat(10 * 1024), MetricValue::Int(1), None),
            gauge("app.größe".into(), MetricValue::Int(2), Some("byte")),
            gauge(
                "app.line\nbreak and space".into(),
                MetricValue::Int(3),
                None,
            ),
            gauge("app.nan".into(), MetricValue::Float(f64::NAN), None),
            gauge("app.inf".into(), MetricValue::Float(f64::INFINITY), None),
            gauge(
                "app.neg_inf".into(),
                MetricValue::Float(f64::NEG_INFINITY),
                None,
            ),
            gauge("app.widgets".into(), MetricValue::Int(4), Some("widgets")),
            wide,
            odd_attributes,
            // A counter that goes down: a negative increase, which Sentry cannot sum.
            RuntimeMetric {
                name: Cow::Borrowed("app.shrinking"),
                metric_type: MetricType::Counter,
                value: MetricValue::Int(-5 * round as i64),
                unit: None,
                tags: Tags::new(),
            },
            gauge("app.fine".into(), MetricValue::Float(-1.5), Some("second")),
        ]
    }

    fn name(&self) -> &'static str {
        "every-bad-shape"
    }
}

/// What Sentry's ingestion accepts unchanged: the same rules, written out independently.
fn assert_well_formed(metric: &sentry::protocol::Metric) {
    let name = metric.name.as_ref();
    assert!(!name.is_empty() && name.len() <= 256, "name {name:?}");
    assert!(
        name.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.'),
        "name {name:?}"
    );
    assert!(metric.value.is_finite(), "{name}: {}", metric.value);
    if is(metric, Sent::Counter) {
        assert!(metric.value >= 0.0, "{name}: negative counter");
        assert_eq!(metric.unit, None);
    }
    if let Some(unit) = &metric.unit {
        assert!(!matches!(unit, Unit::Other(_)), "{name}: unit {unit:?}");
    }
    for (key, value) in &metric.attributes {
        assert!(
            !key.is_empty()
                && key
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.'),
            "{name}: attribute key {key:?}"
        );
        if let sentry::protocol::Value::String(value) = &value.0 {
            assert!(value.len() <= 200, "{name}: {key} is {} bytes", value.len());
        }
    }
}

#[test]
fn every_bad_shape_is_fixed_or_dropped_before_it_reaches_sentry() {
    let (metrics, integration) = capture(
        RuntimeMetricsConfig {
            custom_collectors: vec![Box::new(EveryBadShape {
                rounds: AtomicU64::new(0),
            })],
            ..Default::default()
        },
        2,
    );
    metrics.iter().for_each(assert_well_formed);

    // Sent as collected, but fixed the way Sentry would fix them.
    // A run of characters outside the rules is one `_` (as in Sentry's ingestion): "öß".
    let renamed = named(&metrics, "app.gr_e");
    assert_eq!(renamed.len(), 2, "{metrics:#?}");
    assert_eq!(renamed[0].unit, Some(Unit::Byte));
    assert_eq!(named(&metrics, "app.line_break_and_space").len(), 2);
    let widgets = named(&metrics, "app.widgets");
    assert_eq!((widgets.len(), widgets[0].unit.clone()), (2, None));
    let wide = named(&metrics, "app.wide");
    let collected_keys =
        |m: &sentry::protocol::Metric| m.attributes.keys().filter(|k| k.starts_with("key")).count();
    assert_eq!(collected_keys(wide[0]), 32, "the first 32 of 1000");
    assert!(wide[0].attributes.contains_key("key0000"));
    let odd = named(&metrics, "app.odd_attributes")[0];
    assert!(!odd.attributes.contains_key("bad key!") && !odd.attributes.contains_key(""));
    assert_eq!(attribute(odd, "unicode"), Some("größe ✓"));
    assert!(attribute(odd, "long").unwrap().len() <= 200);
    assert_eq!(named(&metrics, "app.fine").len(), 2);

    // Dropped, and counted by reason each round.
    for gone in ["app.nan", "app.inf", "app.neg_inf", "app.shrinking"] {
        assert!(named(&metrics, gone).is_empty(), "{gone} was sent");
    }
    let mut dropped: BTreeMap<&str, f64> = BTreeMap::new();
    for metric in named(&metrics, "runtime_metrics.dropped") {
        assert_eq!(attribute(metric, "collector"), Some("every-bad-shape"));
        *dropped
            .entry(attribute(metric, "reason").unwrap())
            .or_default() += metric.value;
    }
    assert_eq!(
        dropped,
        BTreeMap::from([
            ("empty_name", 2.0),
            ("long_name", 2.0),
            ("negative_counter", 2.0),
            ("non_finite_value", 6.0),
        ])
    );
    let stats = integration.stats();
    assert_eq!(stats.metrics_dropped, 12);
    // Per round: two rewritten names, the unknown unit, two attribute sets.
    assert_eq!(stats.metrics_corrected, 10);

    // And what is sent survives the SDK's serialization as a valid envelope.
    let mut envelope = sentry::Envelope::new();
    envelope.add_item(sentry::protocol::EnvelopeItem::ItemContainer(
        sentry::protocol::ItemContainer::Metrics(metrics.clone()),
    ));
    let mut bytes = Vec::new();
    envelope.to_writer(&mut bytes).unwrap();
    let parsed = sentry::Envelope::from_slice(&bytes).expect("a valid envelope");
    assert_eq!(common::metrics_in(&[parsed]).len(), metrics.len());
}

/// One gauge whose name has runs of characters Sentry's ingestion rewrites.
struct Spaced;

impl MetricCollector for Spaced {
    fn collect(&self) -> Vec<RuntimeMetric> {
        vec![RuntimeMetric {
            name: Cow::Borrowed("probe rough/space ø"),
            metric_type: MetricType::Gauge,
            value: MetricValue::Int(1),
            unit: None,
            tags: Tags::new(),
        }]
    }

    fn name(&self) -> &'static str {
        "spaced"
    }
}

#[test]
fn a_run_of_characters_outside_the_name_rules_becomes_one_underscore_as_in_sentry() {
    let (metrics, integration) = capture(
        RuntimeMetricsConfig {
            custom_collectors: vec![Box::new(Spaced)],
            ..Default::default()
        },
        1,
    );
    let names: Vec<&str> = metrics.iter().map(|m| m.name.as_ref()).collect();
    // Sentry's ingestion: `[^A-Za-z0-9_.]+` -> `_`, so " ø" (two characters) is one `_`.
    assert_eq!(names, ["probe_rough_space_"]);
    assert_eq!(integration.stats().metrics_corrected, 1);
}

/// Says it is finished after its second run (what it reads went away).
struct Ends(u64);

impl MetricCollector for Ends {
    fn collect(&self) -> Vec<RuntimeMetric> {
        vec![RuntimeMetric {
            name: Cow::Borrowed("app.ending"),
            metric_type: MetricType::Gauge,
            value: MetricValue::Int(1),
            unit: None,
            tags: Tags::new(),
        }]
    }

    fn name(&self) -> &'static str {
        "ends"
    }

    fn collect_mut(&mut self) -> Result<Collected, CollectError> {
        self.0 += 1;
        Ok(Collected::new(self.collect()).with_finished(self.0 == 2))
    }
}

#[test]
fn a_finished_collector_sends_its_last_metrics_and_is_removed() {
    let (metrics, integration) = capture(
        RuntimeMetricsConfig {
            custom_collectors: vec![Box::new(Ends(0))],
            ..Default::default()
        },
        4,
    );
    assert_eq!(values(&metrics, "app.ending"), [1.0, 1.0]);
    assert_eq!(integration.stats().collectors, 0);
}

/// A series with 32 attributes of its own.
struct Wide;

impl MetricCollector for Wide {
    fn collect(&self) -> Vec<RuntimeMetric> {
        vec![RuntimeMetric {
            name: Cow::Borrowed("app.wide_enough"),
            metric_type: MetricType::Gauge,
            value: MetricValue::Int(1),
            unit: None,
            tags: (0..32)
                .map(|i| (Cow::Owned(format!("own{i:02}")), Cow::Borrowed("v")))
                .collect(),
        }]
    }

    fn name(&self) -> &'static str {
        "wide"
    }
}

#[test]
fn configured_attributes_count_towards_the_attribute_limit() {
    let configured: Tags = (0..5)
        .map(|i| (Cow::Owned(format!("conf{i}")), Cow::Borrowed("c")))
        .collect();
    let (metrics, integration) = capture(
        RuntimeMetricsConfig {
            custom_collectors: vec![Box::new(Wide)],
            attributes: configured,
            ..Default::default()
        },
        1,
    );
    let wide = named(&metrics, "app.wide_enough")[0];
    let ours = |prefix: &str| {
        wide.attributes
            .keys()
            .filter(|k| k.starts_with(prefix))
            .count()
    };
    // 32 attributes in all: the 5 configured and 27 of the series' own (besides Sentry's
    // own `sentry.*` ones, `sentry.origin` included).
    assert_eq!((ours("conf"), ours("own")), (5, 27));
    assert!(wide.attributes.contains_key("sentry.origin"));
    assert_eq!(integration.stats().metrics_corrected, 1);
}
