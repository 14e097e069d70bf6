//! The runtime's counts (parks, and with `tokio_unstable` polls, spawns, steals, forced yields):
//! totals since the runtime started, sent as what they grew by since the previous sample. As in
//! tokio-metrics, the first totals are read when the collector is created: a runtime registered
//! late, or registered again, sends what happened since, never what it counted before.

use std::collections::BTreeMap;

use tokio::runtime::RuntimeMetrics;

use crate::running_totals::{Began, RunningTotals};

/// One of the runtime's totals.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Count {
    Parks,
    WorkerParks(usize),
    #[cfg(tokio_unstable)]
    Polls,
    #[cfg(tokio_unstable)]
    Spawned,
    #[cfg(tokio_unstable)]
    Steals,
    #[cfg(tokio_unstable)]
    ForcedYields,
}

/// What the counts grew by since the previous sample.
#[derive(Debug, Default)]
pub(super) struct Grew {
    pub(super) parks: Option<u64>,
    /// By worker index.
    pub(super) worker_parks: BTreeMap<usize, u64>,
    #[cfg(tokio_unstable)]
    pub(super) polls: Option<u64>,
    #[cfg(tokio_unstable)]
    pub(super) spawned: Option<u64>,
    #[cfg(tokio_unstable)]
    pub(super) steals: Option<u64>,
    #[cfg(tokio_unstable)]
    pub(super) forced_yields: Option<u64>,
}

/// The last totals of one runtime.
#[derive(Clone, Debug, Default)]
pub(super) struct Counts {
    totals: RunningTotals<Count, u64>,
}

impl Counts {
    /// The counts of a runtime as they are now: the baseline of its first sample.
    pub(super) fn new(metrics: &RuntimeMetrics) -> Self {
        let mut counts = Counts::default();
        counts.grew(metrics);
        counts
    }

    /// What the counts grew by since the previous call.
    pub(super) fn grew(&mut self, metrics: &RuntimeMetrics) -> Grew {
        let mut totals = self.totals.sample();
        let mut grew = |count, total| totals.increase(count, total, Began::Earlier);
        let workers = 0..metrics.num_workers();
        let parks: Vec<u64> = workers
            .clone()
            .map(|worker| metrics.worker_park_count(worker))
            .collect();
        Grew {
            parks: grew(Count::Parks, parks.iter().sum()),
            worker_parks: parks
                .iter()
                .enumerate()
                .filter_map(|(worker, total)| {
                    Some((worker, grew(Count::WorkerParks(worker), *total)?))
                })
                .collect(),
            #[cfg(tokio_unstable)]
            polls: grew(
                Count::Polls,
                workers.clone().map(|w| metrics.worker_poll_count(w)).sum(),
            ),
            #[cfg(tokio_unstable)]
            spawned: grew(Count::Spawned, metrics.spawned_tasks_count()),
            #[cfg(tokio_unstable)]
            steals: grew(
                Count::Steals,
                workers.clone().map(|w| metrics.worker_steal_count(w)).sum(),
            ),
            #[cfg(tokio_unstable)]
            forced_yields: grew(Count::ForcedYields, metrics.budget_forced_yield_count()),
        }
    }
}
