//! What one integration owns, each part with one job: the collectors ([`registry`]), the threads
//! that run them ([`workers`]), sending ([`send`]) and the counts of what was done and lost
//! ([`Stats`]). A [`round`] takes collectors through four steps: [`collect`], [`check`], send,
//! account. The engine's entry points (setup, registration, the three kinds of rounds) are here.

mod check;
mod collect;
mod entry;
mod registry;
mod round;
mod send;
mod workers;

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

pub(crate) use entry::Origin;

use crate::binding::ClientBinding;
use crate::collector::MetricCollector;
use crate::debug_log::DebugLog;
use crate::local_view::{Destination, LocalView};
use crate::losses::{RuntimeMetricsStats, Stats};
use crate::metric::{RuntimeMetric, Tags};
use crate::rules;
use crate::sync::lock;
use collect::Claiming;
use entry::Entry;
use registry::Registry;
use send::Sender;
use workers::Workers;

/// The collectors, threads, sending and statistics of one integration.
pub(crate) struct Engine {
    registry: Registry,
    workers: Workers,
    sender: Sender,
    stats: Stats,
    log: DebugLog,
    /// What the rules changed in the configured attributes, for the debug log of the first
    /// client that has one.
    attribute_problems: Mutex<Option<String>>,
    /// Where each round is shown, if the application asked for it.
    view: OnceLock<LocalView>,
}

impl Engine {
    /// An engine for the built-in collectors and the application's `custom` ones, adding the
    /// configured `attributes` (checked by the rules) to every metric.
    pub(crate) fn new(
        built_in: Vec<Box<dyn MetricCollector>>,
        custom: Vec<Box<dyn MetricCollector>>,
        attributes: Tags,
    ) -> Self {
        let registry = Registry::default();
        for collector in built_in {
            registry.add(Entry::new(collector, Origin::BuiltIn, Vec::new()));
        }
        for collector in custom {
            registry.add(Entry::new(collector, Origin::Application, Vec::new()));
        }
        let fixed = rules::fix_attributes(attributes, rules::MAX_ATTRIBUTES);
        let stats = Stats::default();
        stats.attributes_corrected((fixed.dropped.len() + fixed.cut.len()) as u64);
        let attribute_problems = fixed.describe("configured attributes");
        Engine {
            registry,
            workers: Workers::default(),
            sender: Sender::new(fixed.kept),
            stats,
            log: DebugLog::default(),
            attribute_problems: Mutex::new(attribute_problems),
            view: OnceLock::new(),
        }
    }

    /// Shows every round in `view` from now on, unless a view was given before (it stays).
    pub(crate) fn set_local_view(&self, view: LocalView) {
        let _ = self.view.set(view);
    }

    /// Whether rounds are shown in a local view.
    pub(crate) fn has_local_view(&self) -> bool {
        self.view.get().is_some()
    }

    /// Prepares for a new client: its debug log, and how long idle workers stay. Runs nothing:
    /// a collector's first run is the first round's.
    pub(crate) fn set_up(&self, debug: bool, interval: Duration, destination: Destination) {
        self.log.enable(debug);
        if let Some(view) = self.view.get() {
            view.start(destination);
        }
        if debug && let Some(problems) = lock(&self.attribute_problems).take() {
            self.log.write(format_args!("{problems}"));
        }
        // Idle workers stay for two rounds (so steady collection reuses them), within limits.
        let idle_exit = interval
            .saturating_mul(2)
            .clamp(Duration::from_secs(1), Duration::from_secs(60));
        self.workers.set_idle_exit(idle_exit);
    }

    /// Adds a collector (a runtime registered after init, a collector added later), replacing
    /// any registered under one of `keys`. It runs from the next round on.
    pub(crate) fn add(
        &self,
        collector: Box<dyn MetricCollector>,
        origin: Origin,
        keys: Vec<String>,
    ) {
        self.registry.add(Entry::new(collector, origin, keys));
    }

    /// One round on the calling thread, sending to the client of `to`; a collector another run
    /// holds is skipped.
    pub(crate) fn collect_now(&self, to: Option<&ClientBinding>) {
        round::run_here(self, &self.registry.snapshot(), to);
    }

    /// The last round, on the workers: waits for the background round under way, then runs a
    /// round whose jobs wait for collectors another run still holds, so that every increase
    /// counted before this call reaches the client of `to`. Returns when that round is done,
    /// or at `deadline`, whichever comes first (what is not done by then goes on, and is lost
    /// if the client closes first).
    pub(crate) fn last_round(self: &Arc<Self>, to: &Arc<ClientBinding>, deadline: Instant) {
        self.workers.wait_idle(deadline);
        round::dispatch(self, to, Claiming::WaitUntil(deadline));
        self.workers.wait_idle(deadline);
    }

    /// One round of the sampler: every collector on the workers, sending to the client of `to`.
    pub(crate) fn background_round(self: &Arc<Self>, to: &Arc<ClientBinding>) {
        round::dispatch(self, to, Claiming::Skip);
    }

    /// Sends `metrics`; returns how many the SDK took. A pause after a panic of the SDK's
    /// capture path is counted in rounds as completed when the metric is sent.
    fn send(&self, client: &sentry_core::Client, metrics: Vec<RuntimeMetric>) -> usize {
        self.sender
            .send(client, metrics, self.stats.rounds(), &self.log)
    }

    /// Sends `metrics` and shows in the local view those the SDK took; returns how many.
    fn send_and_show(&self, client: &sentry_core::Client, metrics: Vec<RuntimeMetric>) -> usize {
        let Some(view) = self.view.get() else {
            return self.send(client, metrics);
        };
        let copy = metrics.clone();
        let captured = self.send(client, metrics);
        view.add(&copy[..captured.min(copy.len())]);
        captured
    }

    /// Shows `metrics`, handed over in the round under way, in the local view.
    fn show(&self, metrics: &[RuntimeMetric]) {
        if let Some(view) = self.view.get() {
            view.add(metrics);
        }
    }

    /// Counts a round whose metrics are all handed over, and shows it in the local view.
    fn round_completed(&self) {
        let round = self.stats.round_completed();
        if let Some(view) = self.view.get() {
            view.round_done(round);
        }
    }

    /// Lets idle workers exit now (the client closed).
    pub(crate) fn release_threads(&self) {
        self.workers.release();
    }

    pub(crate) fn stats(&self) -> RuntimeMetricsStats {
        self.stats.snapshot(self.registry.len())
    }

    /// Whether a collector is registered under `key`.
    #[cfg(feature = "tokio-runtime")] // Only runtimes are registered by key.
    pub(crate) fn is_registered(&self, key: &str) -> bool {
        self.registry.has_key(key)
    }

    /// The names of the registered collectors, for `Debug`.
    pub(crate) fn collector_names(&self) -> Vec<&'static str> {
        self.registry.names()
    }

    pub(crate) fn log(&self) -> &DebugLog {
        &self.log
    }
}
