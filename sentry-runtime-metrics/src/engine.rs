//! One collection round: sample every collector, check what it returned, turn counter totals
//! into increases, and hand the result to a sink. Shared by the sampler thread and
//! `collect_now()`; collectors are locked one at a time, so a slow one never runs twice at once.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use sentry_core::Hub;

use crate::counters::CounterState;
use crate::emit;
use crate::sanitize::{self, Problem};
use crate::sync::lock;
use crate::{MetricCollector, MetricType, MetricValue, RuntimeMetric, Tags};

/// Most metrics one collector may send per round; the rest are dropped and counted. Generous
/// for real collectors (a 64-worker Tokio runtime with per-worker series sends ~700), small
/// enough that a runaway collector cannot flood the SDK's queue.
pub const MAX_METRICS_PER_COLLECTOR: usize = 1_000;

/// Name of the counter that reports metrics dropped by this integration, by `reason`.
pub(crate) const DROPPED_METRIC: &str = "runtime_metrics.dropped";

/// What the integration has done so far, for users who want to see that nothing is lost.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RuntimeMetricsStats {
    /// Completed collection rounds (background and `collect_now`).
    pub rounds: u64,
    /// Metrics handed to the SDK.
    pub metrics_sent: u64,
    /// Metrics dropped: empty or over-long name, NaN or infinite value, negative counter
    /// increase, or over the per-collector cap. Each drop is also sent, by reason, as the
    /// `runtime_metrics.dropped` counter. (A collector that panics or fails sends nothing that
    /// round; that is counted in `collector_failures`.)
    pub metrics_dropped: u64,
    /// Metrics sent in a corrected form (name rewritten, unknown unit stripped, attributes cut).
    pub metrics_corrected: u64,
    /// Collector rounds that panicked or returned an error.
    pub collector_failures: u64,
}

/// A problem that is logged once per collector, not every round.
#[derive(Clone, Copy)]
enum Once {
    Panic = 1,
    Error = 2,
    OverCap = 4,
    BadMetric = 8,
}

struct Slot {
    name: &'static str,
    collector: Mutex<Box<dyn MetricCollector>>,
    /// Counters whose values are already per-round increases.
    deltas: HashSet<Cow<'static, str>>,
    reported: AtomicU8,
}

impl Slot {
    fn new(collector: Box<dyn MetricCollector>) -> Arc<Self> {
        Arc::new(Slot {
            name: collector.name(),
            deltas: collector
                .descriptors()
                .into_iter()
                .filter(|d| d.delta && d.metric_type == MetricType::Counter)
                .map(|d| d.name)
                .collect(),
            collector: Mutex::new(collector),
            reported: AtomicU8::new(0),
        })
    }

    /// True the first time `what` happens for this collector.
    fn first(&self, what: Once) -> bool {
        self.reported.fetch_or(what as u8, Ordering::Relaxed) & what as u8 == 0
    }
}

/// The collectors, counter state and statistics of one integration.
pub(crate) struct Engine {
    /// Only ever appended to (runtimes register later), so an index names one collector.
    slots: RwLock<Vec<Arc<Slot>>>,
    common: Tags,
    counters: Mutex<CounterState>,
    rounds: AtomicU64,
    sent: AtomicU64,
    dropped: AtomicU64,
    corrected: AtomicU64,
    failures: AtomicU64,
}

impl Engine {
    pub(crate) fn new(collectors: Vec<Box<dyn MetricCollector>>, attributes: Tags) -> Self {
        let slots = collectors.into_iter().map(Slot::new).collect();
        let mut common = attributes;
        common.insert(Cow::Borrowed("sentry.origin"), Cow::Borrowed(emit::ORIGIN));
        Engine {
            slots: RwLock::new(slots),
            common,
            counters: Mutex::new(CounterState::default()),
            rounds: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            corrected: AtomicU64::new(0),
            failures: AtomicU64::new(0),
        }
    }

    /// Samples every collector once and records counter totals without sending anything, so
    /// the first real round sends the increase since this moment.
    pub(crate) fn take_baseline(&self, hub: &Hub) {
        self.run(hub, false);
    }

    /// One round: sample, check, send on `hub`.
    pub(crate) fn round(&self, hub: &Hub) {
        self.run(hub, true);
        self.rounds.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn stats(&self) -> RuntimeMetricsStats {
        RuntimeMetricsStats {
            rounds: self.rounds.load(Ordering::Relaxed),
            metrics_sent: self.sent.load(Ordering::Relaxed),
            metrics_dropped: self.dropped.load(Ordering::Relaxed),
            metrics_corrected: self.corrected.load(Ordering::Relaxed),
            collector_failures: self.failures.load(Ordering::Relaxed),
        }
    }

    /// Adds a collector (e.g. a runtime registered after init), taking its counter baseline now
    /// so its first round sends increases since registration.
    pub(crate) fn add(&self, hub: &Hub, collector: Box<dyn MetricCollector>) {
        let slot = Slot::new(collector);
        // Locked before it becomes visible, so no round samples it before its baseline exists.
        let collector = lock(&slot.collector);
        let index = {
            let mut slots = self.slots.write().unwrap_or_else(PoisonError::into_inner);
            slots.push(Arc::clone(&slot));
            slots.len() - 1
        };
        let mut problems = BTreeMap::new();
        self.run_locked(hub, index, &slot, collector, false, &mut problems);
    }

    fn run(&self, hub: &Hub, send: bool) {
        lock(&self.counters).begin_round();
        let slots = self
            .slots
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let mut problems: BTreeMap<Problem, u64> = BTreeMap::new();
        for (index, slot) in slots.iter().enumerate() {
            self.run_slot(hub, index, slot, send, &mut problems);
        }
        if send {
            self.send_drops(hub, &problems);
        }
    }

    fn run_slot(
        &self,
        hub: &Hub,
        index: usize,
        slot: &Slot,
        send: bool,
        problems: &mut BTreeMap<Problem, u64>,
    ) {
        self.run_locked(hub, index, slot, lock(&slot.collector), send, problems);
    }

    /// One collector's part of a round. The collector stays locked until its counters are
    /// recorded, so a concurrent `collect_now` cannot record an older total after a newer one.
    fn run_locked(
        &self,
        hub: &Hub,
        index: usize,
        slot: &Slot,
        mut collector: MutexGuard<'_, Box<dyn MetricCollector>>,
        send: bool,
        problems: &mut BTreeMap<Problem, u64>,
    ) {
        let Some(metrics) = self.sample(hub, slot, &mut **collector, send) else {
            // Keep the failed collector's series so a recovery does not look like new series
            // (which would send whole lifetime totals).
            lock(&self.counters).keep_collector(index);
            return;
        };
        let mut outgoing = Vec::new();
        self.check(hub, index, slot, metrics, send, problems, &mut outgoing);
        drop(collector);
        // No lock of ours is held while the SDK runs (its `before_send_metric` hook may call
        // back into `collect_now`).
        if send {
            for metric in outgoing {
                emit::capture(hub, metric, &self.common);
                self.sent.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Checks one collector's output, turning counter totals into increases; what may be sent
    /// goes to `outgoing`, problems are counted in `problems`.
    #[allow(clippy::too_many_arguments)] // One call site; a struct would only rename them.
    fn check(
        &self,
        hub: &Hub,
        index: usize,
        slot: &Slot,
        mut metrics: Vec<RuntimeMetric>,
        send: bool,
        problems: &mut BTreeMap<Problem, u64>,
        outgoing: &mut Vec<RuntimeMetric>,
    ) {
        if metrics.len() > MAX_METRICS_PER_COLLECTOR {
            let over = metrics.len() - MAX_METRICS_PER_COLLECTOR;
            metrics.truncate(MAX_METRICS_PER_COLLECTOR);
            *problems.entry(Problem::OverCap).or_default() += over as u64;
            if send && slot.first(Once::OverCap) {
                emit::debug(
                    hub,
                    format_args!(
                        "collector `{}` sent {} metrics in one round; only the first {} are \
                         kept (reported once)",
                        slot.name,
                        over + MAX_METRICS_PER_COLLECTOR,
                        MAX_METRICS_PER_COLLECTOR
                    ),
                );
            }
        }
        let mut counters = lock(&self.counters);
        let mut found = Vec::new();
        for mut metric in metrics {
            found.clear();
            // Series are keyed by the name as collected, so two names that only differ in
            // characters the check rewrites stay two series.
            let collected_name = metric.name.clone();
            sanitize::sanitize(&mut metric, &mut found);
            if metric.metric_type == MetricType::Counter && !found.iter().any(|p| p.drops_metric())
            {
                let total = metric.value.as_f64();
                let increase = if slot.deltas.contains(&collected_name) {
                    total
                } else {
                    counters.increase(index, &collected_name, &metric.tags, total)
                };
                if increase < 0.0 {
                    found.push(Problem::NegativeCounter);
                } else {
                    metric.value = MetricValue::Float(increase);
                }
            }
            for problem in &found {
                *problems.entry(*problem).or_default() += 1;
            }
            if !found.is_empty() && send && slot.first(Once::BadMetric) {
                emit::debug(
                    hub,
                    format_args!(
                        "collector `{}` sent metric `{}` with problems {:?}; such metrics are \
                         fixed or dropped and counted in `{DROPPED_METRIC}` (reported once)",
                        slot.name,
                        metric.name,
                        found.iter().map(|p| p.as_str()).collect::<Vec<_>>()
                    ),
                );
            }
            if found.iter().any(|p| p.drops_metric()) {
                continue;
            }
            if send && !found.is_empty() {
                self.corrected.fetch_add(1, Ordering::Relaxed);
            }
            outgoing.push(metric);
        }
    }

    /// Runs one collector, containing panics and errors (counted in real rounds only, not in
    /// the baseline).
    fn sample(
        &self,
        hub: &Hub,
        slot: &Slot,
        collector: &mut dyn MetricCollector,
        count: bool,
    ) -> Option<Vec<RuntimeMetric>> {
        let result = catch_unwind(AssertUnwindSafe(|| collector.collect_mut()));
        if count && !matches!(result, Ok(Ok(_))) {
            self.failures.fetch_add(1, Ordering::Relaxed);
        }
        match result {
            Ok(Ok(metrics)) => Some(metrics),
            Ok(Err(err)) => {
                if slot.first(Once::Error) {
                    emit::debug(hub, format_args!("{err} (reported once)"));
                }
                None
            }
            Err(payload) => {
                if slot.first(Once::Panic) {
                    let message = payload
                        .downcast_ref::<&str>()
                        .copied()
                        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
                        .unwrap_or("non-string panic payload");
                    emit::debug(
                        hub,
                        format_args!(
                            "collector `{}` panicked: {message}; its metrics are skipped, the \
                             other collectors still send (reported once)",
                            slot.name
                        ),
                    );
                }
                None
            }
        }
    }

    /// Sends `runtime_metrics.dropped` for the metrics lost this round, by reason.
    fn send_drops(&self, hub: &Hub, problems: &BTreeMap<Problem, u64>) {
        for (problem, count) in problems {
            if !problem.drops_metric() {
                continue;
            }
            self.dropped.fetch_add(*count, Ordering::Relaxed);
            #[allow(clippy::cast_precision_loss)] // Counts far below 2^53.
            let metric = RuntimeMetric {
                name: Cow::Borrowed(DROPPED_METRIC),
                metric_type: MetricType::Counter,
                value: MetricValue::Float(*count as f64),
                unit: None,
                tags: Tags::from([(Cow::Borrowed("reason"), Cow::Borrowed(problem.as_str()))]),
            };
            emit::capture(hub, metric, &self.common);
        }
    }
}
