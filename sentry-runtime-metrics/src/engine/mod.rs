//! What one integration owns, each part with one job: the collectors ([`registry`]), the threads
//! that run them ([`workers`]), sending ([`send`]) and the counts of what was done and lost
//! ([`Stats`]). A round ([`round`]) drives a collector from claim to SDK; [`check`] and
//! [`series`] are its steps.

mod check;
mod entry;
mod registry;
mod round;
mod send;
mod series;
mod workers;

use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use check::MAX_METRICS_PER_COLLECTOR;
pub(crate) use entry::Origin;

use crate::binding::ClientBinding;
use crate::collector::MetricCollector;
use crate::debug_log::DebugLog;
use crate::losses::{RuntimeMetricsStats, Stats};
use crate::metric::Tags;
use crate::rules::{self, FixedAttributes};
use crate::sync::lock;
use entry::Entry;
use registry::Registry;
use round::Round;
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
        let fixed = rules::fix_attributes(attributes);
        let stats = Stats::default();
        stats.attributes_corrected((fixed.dropped.len() + fixed.cut.len()) as u64);
        let attribute_problems = describe_attribute_fixes(&fixed);
        Engine {
            registry,
            workers: Workers::default(),
            sender: Sender::new(fixed.kept),
            stats,
            log: DebugLog::default(),
            attribute_problems: Mutex::new(attribute_problems),
        }
    }

    /// Prepares for a new client: its debug log, how long idle workers stay, the baselines of
    /// collectors that have none yet.
    pub(crate) fn set_up(self: &Arc<Self>, debug: bool, interval: Duration) {
        self.log.enable(debug);
        if debug && let Some(problems) = lock(&self.attribute_problems).take() {
            self.log.write(format_args!("{problems}"));
        }
        // Idle workers stay for two rounds (so steady collection reuses them), within limits.
        let idle_exit = interval
            .saturating_mul(2)
            .clamp(Duration::from_secs(1), Duration::from_secs(60));
        self.workers.set_idle_exit(idle_exit);
        self.round(Round::Baseline, self.registry.snapshot(), None);
    }

    /// Adds a collector (a runtime registered after init, a collector added later), replacing
    /// any registered under one of `keys`, and takes its baseline, so its first round sends
    /// increases since now.
    pub(crate) fn add(
        self: &Arc<Self>,
        collector: Box<dyn MetricCollector>,
        origin: Origin,
        keys: Vec<String>,
    ) {
        let entry = Entry::new(collector, origin, keys);
        self.registry.add(Arc::clone(&entry));
        // Should a round claim it first, that round's run is its baseline, and this one sits out.
        self.round(Round::Baseline, vec![entry], None);
    }

    /// One round on the calling thread, sending to the client of `to`.
    pub(crate) fn collect_now(self: &Arc<Self>, to: Option<&Arc<ClientBinding>>) {
        self.round(Round::Now, self.registry.snapshot(), to);
    }

    /// One round of the sampler: every collector on the workers, sending to the client of `to`.
    pub(crate) fn background_round(self: &Arc<Self>, to: &Arc<ClientBinding>) {
        self.round(Round::Background, self.registry.snapshot(), Some(to));
    }

    /// Lets idle workers exit now (the client closed).
    pub(crate) fn release_threads(&self) {
        self.workers.release();
    }

    pub(crate) fn stats(&self) -> RuntimeMetricsStats {
        self.stats.snapshot(self.registry.len())
    }

    /// The names of the registered collectors, for `Debug`.
    pub(crate) fn collector_names(&self) -> Vec<&'static str> {
        self.registry.names()
    }

    pub(crate) fn log(&self) -> &DebugLog {
        &self.log
    }
}

/// One line on what the rules changed in the configured attributes, if anything.
fn describe_attribute_fixes(fixed: &FixedAttributes) -> Option<String> {
    if fixed.dropped.is_empty() && fixed.cut.is_empty() {
        return None;
    }
    let list = |keys: &[std::borrow::Cow<'static, str>]| {
        keys.iter()
            .map(|key| format!("`{key}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut parts = Vec::new();
    if !fixed.dropped.is_empty() {
        parts.push(format!(
            "dropped {} (keys must be non-empty `[A-Za-z0-9_.]`, at most {})",
            list(&fixed.dropped),
            rules::MAX_ATTRIBUTES
        ));
    }
    if !fixed.cut.is_empty() {
        parts.push(format!(
            "cut {} to {} bytes",
            list(&fixed.cut),
            rules::MAX_ATTRIBUTE_VALUE_LEN
        ));
    }
    Some(format!(
        "configured attributes: {} (reported once)",
        parts.join("; ")
    ))
}
