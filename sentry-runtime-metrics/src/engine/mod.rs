//! What one integration owns, each part with one job: the collectors ([`registry`]), the threads
//! that run them ([`workers`]), sending ([`send`]) and the counts of what was done and lost
//! ([`Stats`]). A round ([`round`]) claims the collectors and hands each to a run ([`run`]),
//! which takes it from collecting to the SDK; [`check`] and [`series`] are its steps.

mod check;
mod entry;
mod registry;
mod round;
mod run;
mod send;
mod series;
mod workers;

use std::sync::Mutex;

pub(crate) use entry::Origin;

use crate::collector::MetricCollector;
use crate::debug_log::DebugLog;
use crate::losses::{RuntimeMetricsStats, Stats};
use crate::metric::Tags;
use crate::rules;
use entry::Entry;
use registry::Registry;
use send::Sender;
use workers::Workers;

/// What kind of round, which decides where collectors run and whether anything is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Round {
    /// The first run of collectors, at setup or registration: records counter totals so the
    /// first real round sends increases since then; sends nothing. Runs on the workers; the
    /// caller waits for it a short while.
    Baseline,
    /// `collect_now()`: every collector on the calling thread.
    Now,
    /// The sampler's: every collector on the workers (the built-in ones together, each of the
    /// application's on its own), each sending when it is done.
    Background,
}

impl Round {
    /// Whether the round sends, and counts what it loses.
    fn sends(self) -> bool {
        self != Round::Baseline
    }
}

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
