//! One registered collector: the collector with how it has been doing (its panics), and the
//! claim that makes sure it never runs twice at once. It keeps no numbers of the collector's:
//! what a collector sends is what it returns.
//!
//! Whoever runs a collector claims it first ([`Entry::claim`], one atomic swap, never a wait),
//! so its state behind the mutex is only ever locked by the holder of the claim and the lock is
//! never contended. The few facts read without the claim (how many metrics a lost round costs,
//! which problems were reported, whether it was removed) are atomics.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::backoff::PanicRest;
use crate::collector::MetricCollector;
use crate::sync::lock;

/// How often a claim is tried again while a round waits for it (the last round only).
const CLAIM_RETRY: Duration = Duration::from_millis(1);

/// Where a collector's runs happen in background rounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    /// Ours (memory, process, container, jemalloc, Tokio): microseconds each, run one after the
    /// other on one worker.
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
    Busy = 16,
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
    /// The [`Note`]s reported so far.
    noted: AtomicU8,
    removed: AtomicBool,
    state: Mutex<State>,
}

/// What is kept between runs of a collector; only the holder of its claim touches it.
pub(crate) struct State {
    pub(crate) collector: Box<dyn MetricCollector>,
    /// Its rests after panics.
    pub(crate) rest: PanicRest,
}

impl Entry {
    pub(crate) fn new(
        collector: Box<dyn MetricCollector>,
        origin: Origin,
        keys: Vec<String>,
    ) -> Arc<Self> {
        // The application's code: a panic in it must not reach `sentry::init`.
        let declared = catch_unwind(AssertUnwindSafe(|| collector.descriptors().len()));
        let name = catch_unwind(AssertUnwindSafe(|| collector.name())).unwrap_or("unnamed");
        Arc::new(Entry {
            name,
            origin,
            keys,
            claimed: AtomicBool::new(false),
            last_sent: AtomicUsize::new(declared.unwrap_or(0)),
            noted: AtomicU8::new(0),
            removed: AtomicBool::new(false),
            state: Mutex::new(State {
                collector,
                rest: PanicRest::default(),
            }),
        })
    }

    /// The right to run this collector now, unless someone else holds it.
    pub(crate) fn claim(self: &Arc<Self>) -> Option<Claim> {
        (!self.claimed.swap(true, Ordering::AcqRel)).then(|| Claim(Arc::clone(self)))
    }

    /// The right to run this collector, waiting for whoever holds it until `deadline`.
    pub(crate) fn claim_by(self: &Arc<Self>, deadline: Instant) -> Option<Claim> {
        loop {
            if let Some(claim) = self.claim() {
                return Some(claim);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(CLAIM_RETRY);
        }
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

    /// True the first time `note` happens for this collector.
    pub(crate) fn first(&self, note: Note) -> bool {
        self.noted.fetch_or(note as u8, Ordering::Relaxed) & note as u8 == 0
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
