//! Behaviour of `#[derive(MetricCollector)]`: names, types, units and values of what it collects.
#![allow(clippy::panic, clippy::expect_used)] // Test helpers panic with context on purpose.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sentry_runtime_metrics::{
    DescribeMetrics, MetricCollector, MetricType, MetricValue, RunningTotals, RuntimeMetric,
};

/// Health of the work queue.
#[derive(Clone, Default, MetricCollector)]
#[collector(name = "work-queue")]
struct QueueMetrics {
    /// Jobs waiting to run.
    #[gauge(name = "app.queue.depth")]
    depth: u64,
    /// Bytes held by waiting jobs.
    #[gauge(name = "app.queue.bytes", unit = "byte")]
    bytes: u64,
    /// Jobs finished since start: a running total, sent as what it grew by.
    #[counter(name = "app.queue.processed")]
    processed: u64,
    /// Where the derive keeps the last total of each counter.
    #[totals]
    totals: RunningTotals,
    /// Not a metric: unannotated fields are state the sample method may use.
    source: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl QueueMetrics {
    fn sample(&mut self) {
        self.depth = self.source.load(std::sync::atomic::Ordering::Relaxed);
        self.bytes = self.depth * 512;
        self.processed += 1;
    }
}

fn find<'a>(metrics: &'a [RuntimeMetric], name: &str) -> &'a RuntimeMetric {
    metrics
        .iter()
        .find(|metric| metric.name == name)
        .unwrap_or_else(|| panic!("no metric `{name}` in {metrics:#?}"))
}

fn values(metrics: &[RuntimeMetric], name: &str) -> Vec<(Option<String>, MetricValue)> {
    metrics
        .iter()
        .filter(|metric| metric.name == name)
        .map(|metric| {
            let label = metric.tags.values().next().map(|label| label.to_string());
            (label, metric.value)
        })
        .collect()
}

#[test]
fn queue_example_collects_names_types_units_and_values() {
    let source = Arc::new(AtomicU64::new(7));
    let collector = QueueMetrics {
        source: source.clone(),
        ..Default::default()
    };
    assert_eq!(collector.name(), "work-queue");

    let metrics = collector.collect();
    assert_eq!(
        metrics.len(),
        3,
        "one metric per annotated field: {metrics:#?}"
    );
    let depth = find(&metrics, "app.queue.depth");
    assert_eq!(
        (depth.metric_type, depth.value, depth.unit.as_deref()),
        (MetricType::Gauge, MetricValue::Int(7), None)
    );
    let bytes = find(&metrics, "app.queue.bytes");
    assert_eq!(
        (bytes.metric_type, bytes.value, bytes.unit.as_deref()),
        (MetricType::Gauge, MetricValue::Int(7 * 512), Some("byte"))
    );
    let processed = find(&metrics, "app.queue.processed");
    assert_eq!(
        (
            processed.metric_type,
            processed.value,
            processed.unit.as_deref()
        ),
        (MetricType::Counter, MetricValue::Int(1), None)
    );
    assert!(metrics.iter().all(|metric| metric.tags.is_empty()));

    // Freshly sampled every time: the source changes, so does the gauge.
    source.store(9, Ordering::Relaxed);
    assert_eq!(
        find(&collector.collect(), "app.queue.depth").value,
        MetricValue::Int(9)
    );
}

#[test]
fn collect_samples_a_clone_and_collect_mut_keeps_state() {
    let mut collector = QueueMetrics::default();
    // `collect(&self)` leaves the collector untouched: the same increase each time.
    assert_eq!(
        find(&collector.collect(), "app.queue.processed").value,
        MetricValue::Int(1)
    );
    assert_eq!(
        find(&collector.collect(), "app.queue.processed").value,
        MetricValue::Int(1)
    );
    assert_eq!(collector.processed, 0);
    // `collect_mut` (what the integration calls) samples in place: the total advances by one
    // each time, and that is what is sent.
    for total in 1..=3 {
        let metrics = collector.collect_mut().expect("infallible sample").metrics;
        assert_eq!(collector.processed, total);
        assert_eq!(
            find(&metrics, "app.queue.processed").value,
            MetricValue::Int(1)
        );
    }
}

#[test]
fn descriptors_come_from_attributes_and_doc_comments() {
    let descriptors = QueueMetrics::describe();
    let summary: Vec<_> = descriptors
        .iter()
        .map(|d| {
            (
                d.name.as_ref(),
                d.metric_type,
                d.unit,
                d.description.as_ref(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "app.queue.depth",
                MetricType::Gauge,
                None,
                "Jobs waiting to run.",
            ),
            (
                "app.queue.bytes",
                MetricType::Gauge,
                Some("byte"),
                "Bytes held by waiting jobs.",
            ),
            (
                "app.queue.processed",
                MetricType::Counter,
                None,
                "Jobs finished since start: a running total, sent as what it grew by.",
            ),
        ]
    );
    assert_eq!(QueueMetrics::default().descriptors(), descriptors);
}

#[derive(Clone, Default, MetricCollector)]
struct EveryScalar {
    #[gauge(name = "t.i8")]
    i8: i8,
    #[gauge(name = "t.i16")]
    i16: i16,
    #[gauge(name = "t.i32")]
    i32: i32,
    #[gauge(name = "t.i64")]
    i64: i64,
    #[gauge(name = "t.i128")]
    i128: i128,
    #[gauge(name = "t.isize")]
    isize: isize,
    #[gauge(name = "t.u8")]
    u8: u8,
    #[gauge(name = "t.u16")]
    u16: u16,
    #[gauge(name = "t.u32")]
    u32: u32,
    #[gauge(name = "t.u64")]
    u64: u64,
    #[gauge(name = "t.u128")]
    u128: u128,
    #[gauge(name = "t.usize")]
    usize: usize,
    #[gauge(name = "t.f32")]
    f32: f32,
    #[gauge(name = "t.f64", unit = "ratio")]
    f64: f64,
    #[gauge(name = "t.bool")]
    flag: bool,
    #[gauge(name = "t.uptime", unit = "ms")]
    uptime: Duration,
    #[gauge(name = "t.wait", unit = "second")]
    wait: Option<Duration>,
    #[gauge(name = "t.present")]
    present: Option<u32>,
    #[gauge(name = "t.absent")]
    absent: Option<u32>,
}

impl EveryScalar {
    fn sample(&mut self) {
        *self = EveryScalar {
            i8: -8,
            i16: -16,
            i32: -32,
            i64: -64,
            i128: -128,
            isize: -1,
            u8: 8,
            u16: 16,
            u32: 32,
            u64: u64::MAX,
            u128: 128,
            usize: 1,
            f32: 0.5,
            f64: 0.25,
            flag: true,
            uptime: Duration::from_micros(2_500),
            wait: Some(Duration::from_millis(1_500)),
            present: Some(3),
            absent: None,
        };
    }
}

#[test]
fn every_scalar_type_converts_exactly() {
    let metrics = EveryScalar::default().collect();
    let get = |name: &str| find(&metrics, name).value;
    assert_eq!(get("t.i8"), MetricValue::Int(-8));
    assert_eq!(get("t.i16"), MetricValue::Int(-16));
    assert_eq!(get("t.i32"), MetricValue::Int(-32));
    assert_eq!(get("t.i64"), MetricValue::Int(-64));
    assert_eq!(get("t.i128"), MetricValue::Int(-128));
    assert_eq!(get("t.isize"), MetricValue::Int(-1));
    assert_eq!(get("t.u8"), MetricValue::Int(8));
    assert_eq!(get("t.u16"), MetricValue::Int(16));
    assert_eq!(get("t.u32"), MetricValue::Int(32));
    assert_eq!(
        get("t.u64"),
        MetricValue::Float(18_446_744_073_709_551_615.0)
    );
    assert_eq!(get("t.u128"), MetricValue::Int(128));
    assert_eq!(get("t.usize"), MetricValue::Int(1));
    assert_eq!(get("t.f32"), MetricValue::Float(0.5));
    assert_eq!(get("t.f64"), MetricValue::Float(0.25));
    assert_eq!(get("t.bool"), MetricValue::Int(1));
    // Durations arrive in the field's unit, fractions kept; aliases become canonical names.
    assert_eq!(get("t.uptime"), MetricValue::Float(2.5));
    assert_eq!(
        find(&metrics, "t.uptime").unit.as_deref(),
        Some("millisecond")
    );
    assert_eq!(get("t.wait"), MetricValue::Float(1.5));
    assert_eq!(get("t.present"), MetricValue::Int(3));
    // `None` is not sent at all, rather than sent as 0.
    assert!(metrics.iter().all(|metric| metric.name != "t.absent"));
    assert_eq!(metrics.len(), 18);
}

#[derive(Clone, Default, MetricCollector)]
struct Labelled {
    /// Load per worker.
    #[gauge(name = "app.worker.load", unit = "ratio", attribute = "worker")]
    load: Vec<f64>,
    /// Polls per worker.
    #[counter(name = "app.worker.polls", attribute = "worker")]
    polls: [u64; 2],
    #[totals]
    totals: RunningTotals,
    /// Connections per pool.
    #[gauge(name = "app.pool.connections", attribute = "pool")]
    pools: BTreeMap<&'static str, Option<u32>>,
    /// Busy time per shard.
    #[gauge(name = "app.shard.busy", unit = "millisecond", attribute = "shard")]
    shards: HashMap<u8, Duration>,
    /// Job sizes seen this round.
    #[distribution(name = "app.job.size", unit = "byte")]
    sizes: Vec<u32>,
    /// Job waits seen this round.
    #[distribution(name = "app.job.wait", unit = "microsecond")]
    waits: Vec<Duration>,
}

impl Labelled {
    fn sample(&mut self) {
        self.load = vec![0.5, 1.0, 0.0];
        self.polls = [10, 20];
        self.pools = BTreeMap::from([("main", Some(4)), ("replica", None)]);
        self.shards = HashMap::from([(7, Duration::from_micros(1_250))]);
        self.sizes = vec![100, 200, 300];
        self.waits = vec![Duration::from_nanos(1_500), Duration::from_micros(3)];
    }
}

#[test]
fn labelled_series_carry_their_attribute() {
    let metrics = Labelled::default().collect();
    let load = values(&metrics, "app.worker.load");
    assert_eq!(
        load,
        [
            (Some("0".into()), MetricValue::Float(0.5)),
            (Some("1".into()), MetricValue::Float(1.0)),
            (Some("2".into()), MetricValue::Float(0.0)),
        ]
    );
    assert!(
        metrics
            .iter()
            .filter(|m| m.name == "app.worker.load")
            .all(|m| m.tags.keys().eq(["worker"]) && m.unit.as_deref() == Some("ratio"))
    );
    assert_eq!(
        values(&metrics, "app.worker.polls"),
        [
            (Some("0".into()), MetricValue::Int(10)),
            (Some("1".into()), MetricValue::Int(20))
        ]
    );
    // A `None` entry is not sent; the map key is the attribute value.
    assert_eq!(
        values(&metrics, "app.pool.connections"),
        [(Some("main".into()), MetricValue::Int(4))]
    );
    assert_eq!(
        values(&metrics, "app.shard.busy"),
        [(Some("7".into()), MetricValue::Float(1.25))]
    );
}

#[test]
fn distributions_send_each_value() {
    let metrics = Labelled::default().collect();
    let sizes: Vec<_> = values(&metrics, "app.job.size")
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    assert_eq!(
        sizes,
        [
            MetricValue::Int(100),
            MetricValue::Int(200),
            MetricValue::Int(300)
        ]
    );
    let waits: Vec<_> = values(&metrics, "app.job.wait")
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    assert_eq!(waits, [MetricValue::Float(1.5), MetricValue::Float(3.0)]);
    assert!(
        metrics
            .iter()
            .filter(|m| m.metric_type == MetricType::Distribution)
            .all(|m| m.tags.is_empty())
    );
    let descriptors = Labelled::describe();
    assert_eq!(descriptors[0].attribute, Some("worker"));
    assert_eq!(descriptors[5].metric_type, MetricType::Distribution);
    assert_eq!(descriptors[5].unit, Some("microsecond"));
}

#[derive(Clone, Default, MetricCollector)]
#[collector(name = "pool")]
struct PoolMetrics {
    /// Open connections.
    #[gauge(name = "connections")]
    connections: u32,
    /// Connections created since the last round.
    #[counter(name = "created", delta)]
    created: u32,
}

impl PoolMetrics {
    fn sample(&mut self) {
        self.connections += 2;
        self.created = 1;
    }
}

#[derive(Clone, Default, MetricCollector)]
struct ServiceMetrics {
    /// Requests in flight.
    #[gauge(name = "app.inflight")]
    inflight: u32,
    #[flatten(prefix = "app.db.")]
    database: PoolMetrics,
    #[flatten]
    cache: CacheMetrics,
}

#[derive(Clone, Default, MetricCollector)]
struct CacheMetrics {
    /// Entries in the cache.
    #[gauge(name = "app.cache.entries")]
    entries: u32,
}

impl CacheMetrics {
    fn sample(&mut self) {
        self.entries = 11;
    }
}

impl ServiceMetrics {
    fn sample(&mut self) {
        self.inflight = 5;
    }
}

#[test]
fn nested_collectors_are_flattened_with_their_prefix() {
    let mut collector = ServiceMetrics::default();
    assert_eq!(collector.name(), "service-metrics");
    let metrics = collector.collect_mut().expect("infallible").metrics;
    let names: Vec<_> = metrics.iter().map(|m| m.name.as_ref()).collect();
    assert_eq!(
        names,
        [
            "app.inflight",
            "app.db.connections",
            "app.db.created",
            "app.cache.entries"
        ]
    );
    assert_eq!(
        find(&metrics, "app.db.connections").value,
        MetricValue::Int(2)
    );
    // The nested collector sampled itself, in place.
    let metrics = collector.collect_mut().expect("infallible").metrics;
    assert_eq!(
        find(&metrics, "app.db.connections").value,
        MetricValue::Int(4)
    );
    assert_eq!(
        find(&metrics, "app.cache.entries").value,
        MetricValue::Int(11)
    );

    let descriptors = ServiceMetrics::describe();
    let described: Vec<_> = descriptors
        .iter()
        .map(|d| (d.name.as_ref(), d.metric_type))
        .collect();
    assert_eq!(
        described,
        [
            ("app.inflight", MetricType::Gauge),
            ("app.db.connections", MetricType::Gauge),
            ("app.db.created", MetricType::Counter),
            ("app.cache.entries", MetricType::Gauge)
        ]
    );
}

#[derive(Clone, Default, MetricCollector)]
struct Fallible {
    #[gauge(name = "app.fallible")]
    value: u32,
    fail: bool,
}

#[derive(Debug)]
struct ReadError(&'static str);

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "could not read {}", self.0)
    }
}

impl Fallible {
    fn sample(&mut self) -> Result<(), ReadError> {
        if self.fail {
            return Err(ReadError("/proc/self/stat"));
        }
        self.value = 1;
        Ok(())
    }
}

#[test]
fn a_failed_sample_sends_nothing_and_returns_the_error() {
    let mut ok = Fallible::default();
    assert_eq!(ok.collect_mut().expect("sample succeeds").metrics.len(), 1);

    let mut failing = Fallible {
        fail: true,
        ..Default::default()
    };
    let err = failing.collect_mut().expect_err("sample fails");
    assert_eq!(err.collector(), "fallible");
    assert_eq!(err.message(), "could not read /proc/self/stat");
    assert_eq!(
        err.to_string(),
        "collector `fallible` failed to sample: could not read /proc/self/stat"
    );
    // `collect(&self)` cannot return the error: it logs it and returns no metrics.
    assert!(failing.collect().is_empty());
}

#[derive(Clone, Default, MetricCollector)]
struct Gated {
    #[gauge(name = "app.always")]
    always: u32,
    #[cfg(any())]
    #[gauge(name = "app.never")]
    never: u32,
    #[cfg_attr(all(), gauge(name = "app.enabled_by_cfg_attr"))]
    enabled: u32,
}

impl Gated {
    fn sample(&mut self) {
        self.always = 1;
        self.enabled = 2;
    }
}

#[test]
fn cfg_on_fields_is_honoured() {
    let names: Vec<_> = Gated::default()
        .collect()
        .into_iter()
        .map(|m| m.name)
        .collect();
    assert_eq!(names, ["app.always", "app.enabled_by_cfg_attr"]);
    assert_eq!(Gated::describe().len(), 2);
}

#[derive(Clone, MetricCollector)]
#[collector(sample = "refresh")]
struct Generic<T: Clone + Send + Into<f64>> {
    #[gauge(name = "app.generic")]
    value: f64,
    source: T,
}

impl<T: Clone + Send + Into<f64>> Generic<T> {
    fn refresh(&mut self) {
        self.value = self.source.clone().into();
    }
}

#[test]
fn generic_structs_and_custom_sample_method_names_work() {
    let metrics = Generic {
        value: 0.0,
        source: 3u8,
    }
    .collect();
    assert_eq!(find(&metrics, "app.generic").value, MetricValue::Float(3.0));
}

#[derive(Clone, Default, MetricCollector)]
struct SampleTakesSharedRef {
    #[gauge(name = "app.shared")]
    value: u8,
}

impl SampleTakesSharedRef {
    // A `&self` sample method is found too (it can only read, e.g. atomics).
    fn sample(&self) {}
}

#[test]
fn a_shared_ref_sample_method_is_called() {
    assert_eq!(SampleTakesSharedRef::default().collect().len(), 1);
}

#[test]
fn boxed_derived_collectors_work_as_trait_objects() {
    let collectors: Vec<Box<dyn MetricCollector>> = vec![
        Box::new(QueueMetrics::default()),
        Box::new(Labelled::default()),
    ];
    let names: Vec<_> = collectors.iter().map(|c| c.name()).collect();
    assert_eq!(names, ["work-queue", "labelled"]);
    assert_eq!(collectors[0].descriptors().len(), 3);
}

#[derive(Clone, Default, MetricCollector)]
struct PerInstance {
    #[gauge(name = "app.pool.size")]
    size: u32,
    #[gauge(name = "app.pool.load", attribute = "shard")]
    load: Vec<u32>,
    #[attributes]
    labels: sentry_runtime_metrics::Tags,
}

impl PerInstance {
    fn sample(&mut self) {
        self.size = 4;
        self.load = vec![1];
    }
}

#[test]
fn the_attributes_field_labels_every_metric_of_the_instance() {
    let mut labels = sentry_runtime_metrics::Tags::new();
    labels.insert("pool".into(), "primary".into());
    labels.insert("shard".into(), "not-overriding".into());
    let metrics = PerInstance {
        labels,
        ..Default::default()
    }
    .collect();
    assert_eq!(metrics.len(), 2);
    assert!(
        metrics
            .iter()
            .all(|m| m.tags.get("pool").map(|v| v.as_ref()) == Some("primary"))
    );
    // A series' own attribute wins over the instance's.
    assert_eq!(
        find(&metrics, "app.pool.load")
            .tags
            .get("shard")
            .map(|v| v.as_ref()),
        Some("0")
    );
    assert_eq!(PerInstance::describe().len(), 2);
}

/// A source that goes away after two samples.
#[derive(Clone, Default, MetricCollector)]
struct Ending {
    #[gauge(name = "app.left")]
    left: u8,
    #[finished]
    gone: bool,
    samples: u8,
}

impl Ending {
    fn sample(&mut self) {
        self.samples += 1;
        self.gone = self.samples >= 2;
        self.left = 2u8.saturating_sub(self.samples);
    }
}

#[test]
fn the_finished_field_is_what_a_collection_says() {
    let mut ending = Ending::default();
    let first = ending.collect_mut().unwrap();
    assert!(!first.finished);
    let last = ending.collect_mut().unwrap();
    assert!(last.finished, "its last metrics come with it");
    assert_eq!(last.metrics.len(), 1);
    // Not a metric.
    assert_eq!(Ending::describe().len(), 1);
}

/// Generic over a nested collector, with no bounds saying it is one: the derive adds them.
#[derive(Clone, MetricCollector)]
struct Wrapping<Inner: Clone + Send> {
    #[gauge(name = "app.outer")]
    outer: u8,
    #[flatten(prefix = "app.inner.")]
    inner: Inner,
}

impl<Inner: Clone + Send> Wrapping<Inner> {
    fn sample(&mut self) {
        self.outer = 1;
    }
}

#[test]
fn a_generic_flattened_field_needs_no_bounds_of_its_own() {
    let metrics = Wrapping {
        outer: 0,
        inner: Ending::default(),
    }
    .collect();
    let names: Vec<&str> = metrics.iter().map(|m| m.name.as_ref()).collect();
    assert_eq!(names, ["app.outer", "app.inner.app.left"]);
}

/// Counters of every kind, whose totals the test sets before each collection.
#[derive(Clone, Default, MetricCollector)]
struct Counts {
    /// A count kept since the collector started.
    #[counter(name = "app.jobs")]
    jobs: u64,
    /// A total the host kept long before.
    #[counter(name = "app.host.stalls", began_earlier)]
    host_stalls: Option<u64>,
    /// Requests by route, running totals.
    #[counter(name = "app.requests", attribute = "route")]
    requests: BTreeMap<&'static str, u64>,
    /// Counted by the sample method itself.
    #[counter(name = "app.retries", delta)]
    retries: u32,
    #[totals]
    totals: RunningTotals,
    /// Whether the next sample fails.
    fail: bool,
}

impl Counts {
    fn sample(&mut self) -> Result<(), &'static str> {
        if self.fail { Err("unreadable") } else { Ok(()) }
    }

    /// What one collection sends, by name and label.
    fn round(&mut self) -> Vec<(String, f64)> {
        let collected = self.collect_mut().expect("sample succeeds");
        collected
            .metrics
            .into_iter()
            .map(|m| {
                let label = m.tags.values().next().map(|v| format!("/{v}"));
                (
                    format!("{}{}", m.name, label.unwrap_or_default()),
                    m.value.as_f64(),
                )
            })
            .collect()
    }
}

fn sent(pairs: &[(&str, f64)]) -> Vec<(String, f64)> {
    pairs.iter().map(|(n, v)| (n.to_string(), *v)).collect()
}

#[test]
fn counters_send_what_their_running_totals_grew_by() {
    let mut counts = Counts {
        jobs: 40,
        host_stalls: Some(9_000),
        requests: BTreeMap::from([("/a", 5)]),
        retries: 2,
        ..Counts::default()
    };
    // First round: the collector's own count whole, the host's total only recorded.
    assert_eq!(
        counts.round(),
        sent(&[
            ("app.jobs", 40.0),
            ("app.requests//a", 5.0),
            ("app.retries", 2.0)
        ])
    );
    counts.jobs = 45;
    counts.host_stalls = Some(9_010);
    counts.requests = BTreeMap::from([("/a", 5), ("/b", 3)]);
    counts.retries = 0;
    // Increases; a route first seen now sends its whole total; nothing moved: 0 (the
    // integration does not send it).
    assert_eq!(
        counts.round(),
        sent(&[
            ("app.jobs", 5.0),
            ("app.host.stalls", 10.0),
            ("app.requests//a", 0.0),
            ("app.requests//b", 3.0),
            ("app.retries", 0.0),
        ])
    );
    // No reading of the host this round: nothing for it, and its last total is kept.
    counts.host_stalls = None;
    counts.jobs = 2; // Reset: all of it is new.
    let round = counts.round();
    assert!(round.iter().all(|(name, _)| name != "app.host.stalls"));
    assert!(round.contains(&("app.jobs".into(), 2.0)));
    counts.host_stalls = Some(9_015);
    assert!(counts.round().contains(&("app.host.stalls".into(), 5.0)));
}

#[test]
fn a_failed_sample_leaves_the_totals_for_the_next_good_one() {
    let mut counts = Counts {
        jobs: 10,
        ..Counts::default()
    };
    counts.round();
    counts.fail = true;
    counts.jobs = 15;
    assert!(counts.collect_mut().is_err());
    counts.fail = false;
    counts.jobs = 17;
    assert!(counts.round().contains(&("app.jobs".into(), 7.0)));
}

#[test]
fn a_snapshot_shows_the_next_increase_and_changes_nothing() {
    let mut counts = Counts {
        jobs: 10,
        ..Counts::default()
    };
    counts.round();
    counts.jobs = 12;
    let snapshot = counts.collect();
    assert_eq!(find(&snapshot, "app.jobs").value, MetricValue::Int(2));
    assert_eq!(counts.collect().len(), snapshot.len());
    assert!(counts.round().contains(&("app.jobs".into(), 2.0)));
}

/// A nested collector keeps its own totals, and its drops are the parent's.
#[derive(Clone, Default, MetricCollector)]
struct Outer {
    #[flatten(prefix = "outer.")]
    inner: Counts,
}

impl Outer {
    fn sample(&mut self) {
        self.inner.jobs += 4;
    }
}

#[test]
fn a_nested_collector_sends_its_own_increases() {
    let mut outer = Outer::default();
    for _ in 0..3 {
        let collected = outer.collect_mut().expect("infallible");
        assert_eq!(
            find(&collected.metrics, "outer.app.jobs").value,
            MetricValue::Int(4)
        );
        assert_eq!((collected.dropped, collected.finished), (0, false));
    }
}

/// A nested collector whose sample fails when told to.
#[derive(Clone, Default, MetricCollector)]
struct Flaky {
    #[gauge(name = "flaky.up")]
    up: u8,
    fail: bool,
}

impl Flaky {
    fn sample(&mut self) -> Result<(), &'static str> {
        self.up = 1;
        if self.fail { Err("flaky") } else { Ok(()) }
    }
}

/// A running total beside a nested collector that may fail.
#[derive(Clone, Default, MetricCollector)]
struct CountsBesideFlaky {
    #[counter(name = "app.done")]
    done: u64,
    #[flatten(prefix = "app.")]
    flaky: Flaky,
    #[totals]
    totals: RunningTotals,
}

impl CountsBesideFlaky {
    fn sample(&mut self) {}
}

#[test]
fn a_failing_nested_collector_leaves_the_running_totals_for_the_next_round() {
    let mut collector = CountsBesideFlaky::default();
    let mut sent = 0.0;
    for (done, fail) in [(10, false), (15, true), (20, false)] {
        collector.done = done;
        collector.flaky.fail = fail;
        match collector.collect_mut() {
            Ok(collected) => sent += find(&collected.metrics, "app.done").value.as_f64(),
            Err(err) => assert_eq!(err.message(), "flaky"),
        }
    }
    // Every increase arrives: 10, then (the failed round's 5 carried over) 10.
    assert_eq!(sent, 20.0);
}

/// Counts kept the way services keep them: atomics, shared with the code that updates them.
/// (A bare atomic is accepted as well, but is not `Clone`, which the derive needs.)
#[derive(Clone, Default, MetricCollector)]
struct AtomicCounts {
    #[counter(name = "app.requests")]
    requests: Arc<AtomicU64>,
    #[counter(name = "app.errors")]
    errors: Arc<std::sync::atomic::AtomicUsize>,
    #[gauge(name = "app.balance")]
    balance: Arc<std::sync::atomic::AtomicI64>,
    #[gauge(name = "app.ready")]
    ready: Arc<std::sync::atomic::AtomicBool>,
    #[gauge(name = "app.wait", unit = "millisecond")]
    wait_ms: Arc<std::sync::atomic::AtomicU32>,
    #[totals]
    totals: RunningTotals,
}

impl AtomicCounts {
    fn sample(&mut self) {}
}

#[test]
fn atomic_fields_are_read_with_a_load_and_sent_as_their_numbers() {
    let mut counts = AtomicCounts::default();
    let requests = Arc::clone(&counts.requests);
    requests.fetch_add(7, Ordering::Relaxed);
    counts.errors.store(2, Ordering::Relaxed);
    counts.balance.store(-5, Ordering::Relaxed);
    counts.ready.store(true, Ordering::Relaxed);
    counts.wait_ms.store(12, Ordering::Relaxed);
    let first = counts.collect_mut().expect("sample succeeds").metrics;
    assert_eq!(
        values(&first, "app.requests"),
        [(None, MetricValue::Int(7))]
    );
    assert_eq!(values(&first, "app.errors"), [(None, MetricValue::Int(2))]);
    assert_eq!(
        values(&first, "app.balance"),
        [(None, MetricValue::Int(-5))]
    );
    assert_eq!(values(&first, "app.ready"), [(None, MetricValue::Int(1))]);
    assert_eq!(
        find(&first, "app.wait").unit.as_deref(),
        Some("millisecond")
    );
    assert_eq!(values(&first, "app.wait"), [(None, MetricValue::Int(12))]);

    // Counters send what the shared total grew by since the last round.
    requests.fetch_add(3, Ordering::Relaxed);
    let second = counts.collect_mut().expect("sample succeeds").metrics;
    assert_eq!(
        values(&second, "app.requests"),
        [(None, MetricValue::Int(3))]
    );
    assert_eq!(values(&second, "app.errors"), [(None, MetricValue::Int(0))]);
}
