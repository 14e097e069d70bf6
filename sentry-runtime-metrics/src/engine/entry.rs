//! One registered collector: the collector itself with the state kept between its runs (counter
//! baselines, how it has been doing), and the claim that makes sure it never runs twice at once.
//!
//! Whoever runs a collector claims it first ([`Entry::claim`], one atomic swap, never a wait),
//! so its state behind the mutex is only ever locked by the holder of the claim and the lock is
//! never contended. The few facts read without the claim (how many metrics a lost round costs,
//! whether "still running" was reported, whether it was removed) are atomics.

use std::borrow::Cow;
use std::collections::HashSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::backoff;
use crate::collector::{MAX_METRICS_PER_COLLECTOR, MetricCollector};
use crate::engine::series::Series;
use crate::metric::MetricType;
use crate::sync::lock;

/// Most rounds a collector that keeps panicking is rested between attempts (the rest doubles
/// from one round with every consecutive panic; see [`backoff`]).
pub(crate) const MAX_PANIC_REST_ROUNDS: u32 = 64;

/// Where a collector's runs happen in background rounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    /// Ours (memory, process, jemalloc, Tokio): microseconds each, run one after the other on
    /// one worker.
    BuiltIn,
    /// The application's: each on a worker of its own, so a slow one delays only itself.
    Application,
}

/// A problem reported once per collector in the debug log, not every round.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Note {
    Panic = 1,
    Error = 2,
    OverCap = 4,
    BadMetric = 8,
}

/// Which of a collector's counters hold per-round increases already.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Deltas {
    /// All of them ([`MetricCollector::counters_are_deltas`]).
    All,
    /// Those its descriptors mark [`delta`](crate::MetricDescriptor::delta).
    Named(HashSet<Cow<'static, str>>),
}

impl Deltas {
    pub(crate) fn contains(&self, name: &str) -> bool {
        match self {
            Deltas::All => true,
            Deltas::Named(names) => names.contains(name),
        }
    }
}

/// A registered collector.
pub(crate) struct Entry {
    pub(crate) name: &'static str,
    pub(crate) origin: Origin,
    /// What it is registered as (a Tokio runtime's name and id): a later registration with one
    /// of these keys replaces it.
    pub(crate) keys: Vec<String>,
    claimed: AtomicBool,
    /// Metrics it sent in its last good run (at first, the metrics it declares): what a round in
    /// which it could not run costs.
    last_sent: AtomicUsize,
    busy_reported: AtomicBool,
    removed: AtomicBool,
    state: Mutex<State>,
}

/// What is kept between runs of a collector; only the holder of its claim touches it.
pub(crate) struct State {
    pub(crate) collector: Box<dyn MetricCollector>,
    /// Which counters hold per-round increases already (the others are running totals).
    pub(crate) deltas: Deltas,
    /// Most metrics kept of one run ([`MetricCollector::max_metrics_per_round`]).
    pub(crate) cap: usize,
    pub(crate) series: Series,
    /// Whether its counter totals have been recorded once, so that counters can send increases.
    /// Until then a run records them without sending them (a first total is a lifetime, not an
    /// increase). True from the start for a collector whose counters are all increases.
    pub(crate) baselined: bool,
    /// Consecutive runs that panicked.
    panics: u32,
    /// Rounds left to skip after a panic.
    rest: u32,
    noted: u8,
}

impl Entry {
    pub(crate) fn new(
        collector: Box<dyn MetricCollector>,
        origin: Origin,
        keys: Vec<String>,
    ) -> Arc<Self> {
        // The application's code: a panic in it must not reach `sentry::init`.
        let descriptors =
            catch_unwind(AssertUnwindSafe(|| collector.descriptors())).unwrap_or_default();
        let all_deltas =
            catch_unwind(AssertUnwindSafe(|| collector.counters_are_deltas())).unwrap_or(false);
        let cap = catch_unwind(AssertUnwindSafe(|| collector.max_metrics_per_round()))
            .unwrap_or(MAX_METRICS_PER_COLLECTOR);
        let deltas = if all_deltas {
            Deltas::All
        } else {
            Deltas::Named(
                descriptors
                    .iter()
                    .filter(|d| d.delta && d.metric_type == MetricType::Counter)
                    .map(|d| d.name.clone())
                    .collect(),
            )
        };
        // Nothing to record before its first round: its first run may send.
        let baselined = deltas == Deltas::All;
        let name = catch_unwind(AssertUnwindSafe(|| collector.name())).unwrap_or("unnamed");
        Arc::new(Entry {
            name,
            origin,
            keys,
            claimed: AtomicBool::new(false),
            last_sent: AtomicUsize::new(descriptors.len()),
            busy_reported: AtomicBool::new(false),
            removed: AtomicBool::new(false),
            state: Mutex::new(State {
                collector,
                deltas,
                cap,
                series: Series::default(),
                baselined,
                panics: 0,
                rest: 0,
                noted: 0,
            }),
        })
    }

    /// The right to run this collector now, unless someone else holds it.
    pub(crate) fn claim(self: &Arc<Self>) -> Option<Claim> {
        (!self.claimed.swap(true, Ordering::AcqRel)).then(|| Claim(Arc::clone(self)))
    }

    /// What a round in which it could not run costs: as many metrics as it sent last time, at
    /// least one (a collector that never worked still lost its round).
    pub(crate) fn round_cost(&self) -> u64 {
        self.last_sent.load(Ordering::Relaxed).max(1) as u64
    }

    /// Remembers how many metrics a good run sent, for [`round_cost`](Self::round_cost).
    pub(crate) fn sent(&self, metrics: usize) {
        self.last_sent.store(metrics, Ordering::Relaxed);
    }

    /// True the first time it is found still running.
    pub(crate) fn first_busy(&self) -> bool {
        !self.busy_reported.swap(true, Ordering::Relaxed)
    }

    pub(crate) fn mark_removed(&self) {
        self.removed.store(true, Ordering::Relaxed);
    }

    pub(crate) fn is_removed(&self) -> bool {
        self.removed.load(Ordering::Relaxed)
    }
}

/// The right to run one collector; released when dropped.
pub(crate) struct Claim(Arc<Entry>);

impl Claim {
    pub(crate) fn entry(&self) -> &Arc<Entry> {
        &self.0
    }

    /// The collector's state. Never waits: only the holder of the claim locks it.
    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.0.state)
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        self.0.claimed.store(false, Ordering::Release);
    }
}

impl State {
    /// Whether this round is one of the rests after a panic (uses it up).
    pub(crate) fn resting(&mut self) -> bool {
        let resting = self.rest > 0;
        self.rest = self.rest.saturating_sub(1);
        resting
    }

    /// Records how a run ended; after a panic the collector rests 1, 2, 4 .. rounds.
    pub(crate) fn ran(&mut self, panicked: bool) {
        if panicked {
            self.panics = self.panics.saturating_add(1);
            self.rest = backoff::rest_rounds(self.panics, MAX_PANIC_REST_ROUNDS);
        } else {
            self.panics = 0;
        }
    }

    /// True the first time `note` happens for this collector.
    pub(crate) fn first(&mut self, note: Note) -> bool {
        let first = self.noted & note as u8 == 0;
        self.noted |= note as u8;
        first
    }
}
