//! One collection round: sample every collector, check what it returned, turn counter totals
//! into increases, and hand the result to the SDK. Shared by the sampler thread and
//! `collect_now()`. Each collector has its own lock, so none ever runs twice at once; in the
//! sampler's rounds the application's collectors run on worker threads, so a slow one delays
//! only itself.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use sentry_core::Hub;

use crate::backoff;
use crate::counters::CounterState;
use crate::emit;
use crate::sanitize::{self, Problem};
use crate::sync::lock;
use crate::workers::{self, Workers};
use crate::{MetricCollector, MetricType, MetricValue, RuntimeMetric, Tags};

/// Most metrics one collector may send per round; the rest are dropped and counted. Generous
/// for real collectors (a 64-worker Tokio runtime with per-worker series sends ~700), small
/// enough that a runaway collector cannot flood the SDK's queue.
pub const MAX_METRICS_PER_COLLECTOR: usize = 1_000;

/// Name of the counter that reports metrics dropped by this integration, by `collector` and
/// `reason`.
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
    /// increase, over the per-collector cap, lost with a collector round that panicked,
    /// failed or was skipped (counted as the metrics that collector sent in its last good
    /// round), or not sent because the SDK's capture path (a `before_send_metric` hook)
    /// panicked or sending was paused after such a panic. Each drop is also sent, by collector
    /// and reason, as the `runtime_metrics.dropped` counter, except while sending is paused:
    /// those are only counted here (and counter increases of paused rounds are lost).
    pub metrics_dropped: u64,
    /// Metrics sent in a corrected form (name rewritten, unknown unit stripped, attributes cut).
    pub metrics_corrected: u64,
    /// Collector rounds that panicked or returned an error.
    pub collector_failures: u64,
    /// Times a round skipped one of the application's collectors because it was still running:
    /// its previous background run had not returned (it is slower than the collection interval,
    /// or, with more than 8 custom collectors, waited for a free worker), its baseline at init
    /// was still running, or another `collect_now` was running it. That run sends when it
    /// returns.
    pub collector_skips: u64,
}

/// A problem that is logged once per collector, not every round.
#[derive(Clone, Copy)]
enum Once {
    Panic = 1,
    Error = 2,
    OverCap = 4,
    BadMetric = 8,
    Busy = 16,
}

/// Most rounds a collector that keeps panicking is rested between attempts (the rest doubles
/// from one round with every consecutive panic; see [`backoff`]).
const MAX_PANIC_REST_ROUNDS: u32 = 64;

/// Metrics lost in one round, by collector and reason.
type Drops = BTreeMap<(&'static str, Problem), u64>;

/// How long `sentry::init` and `add_collector` wait for the first sample of the application's
/// collectors (their counter baseline). Real collectors take microseconds; a slower one
/// finishes its baseline in the background and is skipped by rounds until then.
const BASELINE_WAIT: Duration = Duration::from_millis(100);

/// Whether a background run may still send: false once the client it was started for is closed
/// or replaced (a slow collector can finish after that).
pub(crate) type Gate = Arc<dyn Fn(&Hub) -> bool + Send + Sync>;

struct Slot {
    name: &'static str,
    collector: Mutex<Box<dyn MetricCollector>>,
    /// Counters whose values are already per-round increases.
    deltas: HashSet<Cow<'static, str>>,
    reported: AtomicU8,
    /// The application's own collector: in background rounds it runs on a worker thread, so a
    /// slow one cannot delay the round. (The built-in ones are ours and take microseconds.)
    isolated: bool,
    /// A background run of this collector is queued or running.
    busy: AtomicBool,
    /// What a lost round costs: the metrics sent in the last good round (at first, the metrics
    /// the collector declares).
    expected: AtomicUsize,
    /// Consecutive rounds that panicked.
    panics: AtomicU32,
    /// Rounds left to skip after a panic.
    rest: AtomicU32,
    /// Its counter totals have been recorded once, so counters can send increases. Until then
    /// a run records them without sending them (a first total is a lifetime, not an
    /// increase). Written with `collector` locked; read without it only as a hint (it never
    /// goes back to false).
    baselined: AtomicBool,
}

impl Slot {
    fn new(collector: Box<dyn MetricCollector>, isolated: bool) -> Arc<Self> {
        let descriptors = collector.descriptors();
        Arc::new(Slot {
            name: collector.name(),
            expected: AtomicUsize::new(descriptors.len()),
            deltas: descriptors
                .into_iter()
                .filter(|d| d.delta && d.metric_type == MetricType::Counter)
                .map(|d| d.name)
                .collect(),
            collector: Mutex::new(collector),
            reported: AtomicU8::new(0),
            isolated,
            busy: AtomicBool::new(false),
            panics: AtomicU32::new(0),
            rest: AtomicU32::new(0),
            baselined: AtomicBool::new(false),
        })
    }

    /// True the first time `what` happens for this collector.
    fn first(&self, what: Once) -> bool {
        self.reported.fetch_or(what as u8, Ordering::Relaxed) & what as u8 == 0
    }

    /// Whether this round is skipped because the collector panicked recently (uses up one
    /// round of the rest).
    fn resting(&self) -> bool {
        self.rest
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |rest| {
                rest.checked_sub(1)
            })
            .is_ok()
    }

    /// Records how a real round of the collector ended.
    fn record_outcome(&self, panicked: bool) {
        if panicked {
            let panics = self
                .panics
                .fetch_add(1, Ordering::Relaxed)
                .saturating_add(1);
            let rest = backoff::rest_rounds(panics, MAX_PANIC_REST_ROUNDS);
            self.rest.store(rest, Ordering::Relaxed);
        } else {
            self.panics.store(0, Ordering::Relaxed);
        }
    }

    /// Counts a round in which this collector sent nothing: as many metrics as it sent last
    /// time, at least one (a collector that never worked still lost its round).
    fn lost(&self, problem: Problem, drops: &mut Drops) {
        let expected = self.expected.load(Ordering::Relaxed).max(1) as u64;
        *drops.entry((self.name, problem)).or_default() += expected;
    }
}

/// Clears a slot's `busy` flag when its background run ends or is dropped unrun.
struct BusyGuard(Arc<Slot>);

impl Drop for BusyGuard {
    fn drop(&mut self) {
        self.0.busy.store(false, Ordering::Release);
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
    skips: AtomicU64,
    capture: emit::Capture,
}

impl Engine {
    /// An engine for the built-in collectors (run on the sampler thread) and the application's
    /// `custom` ones (run on worker threads in background rounds).
    pub(crate) fn new(
        builtin: Vec<Box<dyn MetricCollector>>,
        custom: Vec<Box<dyn MetricCollector>>,
        attributes: Tags,
    ) -> Self {
        let slots = builtin
            .into_iter()
            .map(|collector| Slot::new(collector, false))
            .chain(
                custom
                    .into_iter()
                    .map(|collector| Slot::new(collector, true)),
            )
            .collect();
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
            skips: AtomicU64::new(0),
            capture: emit::Capture::default(),
        }
    }

    /// Samples every collector once and records counter totals without sending anything, so
    /// the first real round sends the increase since this moment. Built-in collectors (ours,
    /// microseconds) are sampled here; the application's on a thread of their own, waited for at
    /// most [`BASELINE_WAIT`], since one could be slow or wait on a lock the caller of
    /// `sentry::init` holds. A collector that already has a baseline (a second client) keeps it.
    pub(crate) fn take_baseline(self: &Arc<Self>, hub: &Hub) {
        self.begin_round();
        let mut drops = Drops::new();
        let mut claimed = Vec::new();
        for (index, slot) in self.slots().into_iter().enumerate() {
            if slot.isolated {
                // One that has its baseline (a second client) is left alone: claiming it would
                // make the first client's rounds skip it meanwhile.
                if !slot.baselined.load(Ordering::Relaxed)
                    && !slot.busy.swap(true, Ordering::AcqRel)
                {
                    claimed.push((index, BusyGuard(slot)));
                }
                continue;
            }
            let collector = lock(&slot.collector);
            if !slot.baselined.load(Ordering::Relaxed) {
                self.run_locked(hub, index, &slot, collector, false, &mut drops);
            }
        }
        self.baseline_elsewhere(claimed);
    }

    /// Takes the baseline of the application's collectors `claimed` (marked busy, so rounds
    /// skip them meanwhile) on threads of their own, one per collector up to
    /// [`workers::MAX_THREADS`] (so a slow one delays no other), and waits for them at most
    /// [`BASELINE_WAIT`]. A collector whose baseline is not taken (no thread could be started,
    /// or it panicked) gets it from its first successful run, which then sends no counters.
    fn baseline_elsewhere(self: &Arc<Self>, claimed: Vec<(usize, BusyGuard)>) {
        let wanted = claimed.len();
        let threads = wanted.min(workers::MAX_THREADS);
        let mut shares: Vec<Vec<(usize, BusyGuard)>> = (0..threads).map(|_| Vec::new()).collect();
        for (i, claim) in claimed.into_iter().enumerate() {
            shares[i % threads].push(claim);
        }
        let (done, finished) = mpsc::channel::<()>();
        let mut started = 0;
        for share in shares {
            let (engine, done) = (Arc::clone(self), done.clone());
            let count = share.len();
            let spawned = thread::Builder::new()
                .name(workers::THREAD_NAME.to_owned())
                .spawn(move || {
                    // The baseline logs and sends nothing: a hub without client, so that a
                    // stuck collector keeps no client alive.
                    let quiet = Hub::new(None, Arc::default());
                    for (index, busy) in share {
                        let slot = Arc::clone(&busy.0);
                        let collector = lock(&slot.collector);
                        if slot.baselined.load(Ordering::Relaxed) {
                            drop(collector);
                        } else {
                            let mut drops = Drops::new();
                            engine.run_locked(&quiet, index, &slot, collector, false, &mut drops);
                        }
                        // Released before telling the caller, so a round right after
                        // `sentry::init` returns finds the collector free.
                        drop(busy);
                        let _ = done.send(());
                    }
                });
            if spawned.is_ok() {
                started += count;
            }
        }
        let deadline = Instant::now() + BASELINE_WAIT;
        for _ in 0..started {
            let left = deadline.saturating_duration_since(Instant::now());
            if finished.recv_timeout(left).is_err() {
                break;
            }
        }
    }

    /// One round on the calling thread (`collect_now`): every collector, the application's
    /// included, is sampled here, except one still running in the background.
    pub(crate) fn round(&self, hub: &Hub) {
        self.begin_round();
        let mut drops = Drops::new();
        for (index, slot) in self.slots().into_iter().enumerate() {
            // The application's collectors are claimed like a background run claims them: one
            // already running elsewhere is skipped, not waited for, since the caller is an
            // application thread. (That run sends when it returns.)
            let _claim = if slot.isolated {
                if slot.busy.swap(true, Ordering::AcqRel) {
                    self.skip_busy(hub, index, &slot, &mut drops);
                    continue;
                }
                Some(BusyGuard(Arc::clone(&slot)))
            } else {
                None
            };
            let outgoing = self.run_slot(hub, index, &slot, &mut drops);
            self.emit(hub, slot.name, outgoing, &mut drops);
        }
        self.send_drops(hub, &drops);
        self.rounds.fetch_add(1, Ordering::Relaxed);
    }

    /// One round of the sampler thread: built-in collectors run here, the application's are
    /// handed to `workers` and send when they finish; one whose previous run is still going is
    /// skipped (counted, reported once), so no collector ever runs twice at once and none
    /// delays the others.
    pub(crate) fn background_round(
        self: &Arc<Self>,
        hub: &Arc<Hub>,
        workers: &Workers,
        gate: &Gate,
    ) {
        self.begin_round();
        let mut drops = Drops::new();
        let slots = self.slots();
        workers.ensure(slots.iter().filter(|slot| slot.isolated).count());
        for (index, slot) in slots.into_iter().enumerate() {
            if !slot.isolated {
                let outgoing = self.run_slot(hub, index, &slot, &mut drops);
                self.emit(hub, slot.name, outgoing, &mut drops);
            } else if slot.busy.swap(true, Ordering::AcqRel) {
                self.skip_busy(hub, index, &slot, &mut drops);
            } else if slot.resting() {
                // Decided here rather than on the worker, so a panicking collector's rest is
                // counted in rounds whatever the workers are doing.
                slot.busy.store(false, Ordering::Release);
                self.rest_round(index, &slot, &mut drops);
            } else {
                let busy = BusyGuard(slot);
                // A weak hub, like the sampler's: a collector stuck in a run must not keep the
                // hub, its client and this integration alive.
                let (engine, hub, gate) = (Arc::clone(self), Arc::downgrade(hub), Arc::clone(gate));
                workers.submit(Box::new(move || {
                    let slot = &busy.0;
                    let Some(hub) = hub.upgrade().filter(|hub| gate(hub)) else {
                        return;
                    };
                    let mut drops = Drops::new();
                    let collector = lock(&slot.collector);
                    let outgoing =
                        engine.run_locked(&hub, index, slot, collector, true, &mut drops);
                    // Checked again: the client may have closed while the collector ran. (It
                    // can still close between this check and the capture; the SDK then drops
                    // the metrics, as it does for any capture on a closed client.)
                    if gate(&hub) {
                        engine.emit(&hub, slot.name, outgoing, &mut drops);
                        engine.send_drops(&hub, &drops);
                    }
                }));
            }
        }
        self.send_drops(hub, &drops);
        self.rounds.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn stats(&self) -> RuntimeMetricsStats {
        RuntimeMetricsStats {
            rounds: self.rounds.load(Ordering::Relaxed),
            metrics_sent: self.sent.load(Ordering::Relaxed),
            metrics_dropped: self.dropped.load(Ordering::Relaxed),
            metrics_corrected: self.corrected.load(Ordering::Relaxed),
            collector_failures: self.failures.load(Ordering::Relaxed),
            collector_skips: self.skips.load(Ordering::Relaxed),
        }
    }

    /// Adds a collector (e.g. a runtime registered after init), taking its counter baseline now
    /// so its first round sends increases since registration. `isolated`: the application's
    /// own collector (see [`Slot::isolated`]), whose baseline is taken like at init.
    pub(crate) fn add(
        self: &Arc<Self>,
        hub: &Hub,
        collector: Box<dyn MetricCollector>,
        isolated: bool,
    ) {
        let slot = Slot::new(collector, isolated);
        if isolated {
            // Busy before it becomes visible, so rounds skip it until its baseline exists.
            slot.busy.store(true, Ordering::Release);
            let claimed = BusyGuard(Arc::clone(&slot));
            let index = {
                let mut slots = self.slots.write().unwrap_or_else(PoisonError::into_inner);
                slots.push(slot);
                slots.len() - 1
            };
            self.baseline_elsewhere(vec![(index, claimed)]);
            return;
        }
        // Locked before it becomes visible, so no round samples it before its baseline exists.
        let collector = lock(&slot.collector);
        let index = {
            let mut slots = self.slots.write().unwrap_or_else(PoisonError::into_inner);
            slots.push(Arc::clone(&slot));
            slots.len() - 1
        };
        self.run_locked(hub, index, &slot, collector, false, &mut Drops::new());
    }

    fn slots(&self) -> Vec<Arc<Slot>> {
        self.slots
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn begin_round(&self) {
        lock(&self.counters).begin_round();
    }

    /// A background round found the collector still running from an earlier one.
    fn skip_busy(&self, hub: &Hub, index: usize, slot: &Slot, drops: &mut Drops) {
        self.skips.fetch_add(1, Ordering::Relaxed);
        // Its series are alive, just late: they must not be forgotten meanwhile.
        lock(&self.counters).keep_collector(index);
        slot.lost(Problem::CollectorBusy, drops);
        if slot.first(Once::Busy) {
            emit::debug(
                hub,
                format_args!(
                    "collector `{}` is still running from an earlier round, its baseline at \
                     init or another `collect_now` (it takes longer than the collection \
                     interval, or waits for a free worker); rounds skip it until it returns \
                     (reported once)",
                    slot.name
                ),
            );
        }
    }

    /// A round in which a collector that panicked recently is not run.
    fn rest_round(&self, index: usize, slot: &Slot, drops: &mut Drops) {
        lock(&self.counters).keep_collector(index);
        slot.lost(Problem::CollectorPanicked, drops);
    }

    /// One real run of a collector on the calling thread, unless it is resting after a panic.
    fn run_slot(
        &self,
        hub: &Hub,
        index: usize,
        slot: &Slot,
        drops: &mut Drops,
    ) -> Vec<RuntimeMetric> {
        if slot.resting() {
            self.rest_round(index, slot, drops);
            return Vec::new();
        }
        self.run_locked(hub, index, slot, lock(&slot.collector), true, drops)
    }

    /// One collector's part of a round: what to send. The collector stays locked until its
    /// counters are recorded, so a concurrent `collect_now` cannot record an older total after
    /// a newer one.
    fn run_locked(
        &self,
        hub: &Hub,
        index: usize,
        slot: &Slot,
        mut collector: MutexGuard<'_, Box<dyn MetricCollector>>,
        send: bool,
        drops: &mut Drops,
    ) -> Vec<RuntimeMetric> {
        let Some(metrics) = self.sample(hub, slot, &mut **collector, send, drops) else {
            // Keep the failed collector's series so a recovery does not look like new series
            // (which would send whole lifetime totals).
            lock(&self.counters).keep_collector(index);
            return Vec::new();
        };
        let mut outgoing = Vec::new();
        self.check(hub, index, slot, metrics, send, drops, &mut outgoing);
        outgoing
    }

    /// Hands `collector`'s checked metrics to the SDK; those it could not take (its capture
    /// path panicked, or sending is paused after such a panic) are counted in `drops`. No lock
    /// of ours may be held: the SDK's `before_send_metric` hook may call back into
    /// `collect_now`.
    fn emit(
        &self,
        hub: &Hub,
        collector: &'static str,
        outgoing: Vec<RuntimeMetric>,
        drops: &mut Drops,
    ) {
        let round = self.rounds.load(Ordering::Relaxed);
        let mut metrics = outgoing.into_iter();
        while let Some(metric) = metrics.next() {
            if !self.capture.capture(hub, metric, &self.common, round) {
                let lost = 1 + metrics.len() as u64;
                *drops
                    .entry((collector, Problem::CaptureFailed))
                    .or_default() += lost;
                return;
            }
            self.sent.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Checks one collector's output, turning counter totals into increases; what may be sent
    /// goes to `outgoing`, problems are counted in `drops`.
    #[allow(clippy::too_many_arguments)] // One call site; a struct would only rename them.
    fn check(
        &self,
        hub: &Hub,
        index: usize,
        slot: &Slot,
        mut metrics: Vec<RuntimeMetric>,
        send: bool,
        drops: &mut Drops,
        outgoing: &mut Vec<RuntimeMetric>,
    ) {
        if metrics.len() > MAX_METRICS_PER_COLLECTOR {
            let over = metrics.len() - MAX_METRICS_PER_COLLECTOR;
            metrics.truncate(MAX_METRICS_PER_COLLECTOR);
            *drops.entry((slot.name, Problem::OverCap)).or_default() += over as u64;
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
        // A collector's first successful run records its counter totals without sending them.
        let baseline = !slot.baselined.swap(true, Ordering::Relaxed);
        let mut counters = lock(&self.counters);
        let mut found = Vec::new();
        // Logged after the counters are unlocked: stderr can block.
        let mut first_bad = None;
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
                    let increase = counters.increase(index, &collected_name, &metric.tags, total);
                    if baseline {
                        continue;
                    }
                    increase
                };
                if increase < 0.0 {
                    found.push(Problem::NegativeCounter);
                } else {
                    metric.value = MetricValue::Float(increase);
                }
            }
            for problem in &found {
                *drops.entry((slot.name, *problem)).or_default() += 1;
            }
            if !found.is_empty() && send && first_bad.is_none() && slot.first(Once::BadMetric) {
                first_bad = Some(format!(
                    "collector `{}` sent metric `{}` with problems {:?}; such metrics are fixed \
                     or dropped and counted in `{DROPPED_METRIC}` (reported once)",
                    slot.name,
                    metric.name,
                    found.iter().map(|p| p.as_str()).collect::<Vec<_>>()
                ));
            }
            if found.iter().any(|p| p.drops_metric()) {
                continue;
            }
            if send && !found.is_empty() {
                self.corrected.fetch_add(1, Ordering::Relaxed);
            }
            outgoing.push(metric);
        }
        drop(counters);
        if let Some(message) = first_bad {
            emit::debug(hub, format_args!("{message}"));
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
        drops: &mut Drops,
    ) -> Option<Vec<RuntimeMetric>> {
        let result = catch_unwind(AssertUnwindSafe(|| collector.collect_mut()));
        if count {
            slot.record_outcome(result.is_err());
        }
        let problem = match result {
            Ok(Ok(metrics)) => {
                let sent = metrics.len().min(MAX_METRICS_PER_COLLECTOR);
                slot.expected.store(sent, Ordering::Relaxed);
                return Some(metrics);
            }
            Ok(Err(err)) => {
                if count && slot.first(Once::Error) {
                    emit::debug(
                        hub,
                        format_args!("{err}; its metrics are skipped this round (reported once)"),
                    );
                }
                Problem::CollectorFailed
            }
            Err(payload) => {
                if count && slot.first(Once::Panic) {
                    let message = emit::panic_message(payload.as_ref());
                    emit::debug(
                        hub,
                        format_args!(
                            "collector `{}` panicked: {message}; its metrics are skipped, the \
                             other collectors still send; while it keeps panicking it is retried \
                             after 1, 2, 4 .. {MAX_PANIC_REST_ROUNDS} rounds (reported once)",
                            slot.name
                        ),
                    );
                }
                Problem::CollectorPanicked
            }
        };
        if count {
            self.failures.fetch_add(1, Ordering::Relaxed);
            slot.lost(problem, drops);
        }
        None
    }

    /// Counts the metrics lost this round and sends them as `runtime_metrics.dropped`, by
    /// collector and reason (unless sending is paused).
    fn send_drops(&self, hub: &Hub, drops: &Drops) {
        let round = self.rounds.load(Ordering::Relaxed);
        for ((collector, problem), count) in drops {
            if !problem.drops_metric() || *count == 0 {
                continue;
            }
            self.dropped.fetch_add(*count, Ordering::Relaxed);
            #[allow(clippy::cast_precision_loss)] // Counts far below 2^53.
            let metric = RuntimeMetric {
                name: Cow::Borrowed(DROPPED_METRIC),
                metric_type: MetricType::Counter,
                value: MetricValue::Float(*count as f64),
                unit: None,
                tags: Tags::from([
                    (Cow::Borrowed("collector"), Cow::Borrowed(*collector)),
                    (Cow::Borrowed("reason"), Cow::Borrowed(problem.as_str())),
                ]),
            };
            self.capture.capture(hub, metric, &self.common, round);
        }
    }
}
