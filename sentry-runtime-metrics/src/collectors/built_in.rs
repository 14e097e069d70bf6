//! [`BuiltIns`]: the built-in collectors the configuration enables, sampled together as one
//! collector of the integration. One [`Sources`] serves them all (each file opened once), and
//! each round the sources more than one of them needs are read once, here, and handed to each.

use std::sync::Arc;

use crate::collector::{CollectError, Collected, MetricCollector};
use crate::descriptor::MetricDescriptor;
use crate::metric::RuntimeMetric;
use crate::sys::{Needs, Platform, Shared, Sources};

/// A built-in collector that takes its share of a round's readings from [`BuiltIns`].
pub(crate) trait SharesReadings: MetricCollector {
    /// What it reads of the shared sources.
    fn needs(&self) -> Needs {
        Needs::default()
    }

    /// Whether the process is to be followed to another cgroup each round (the container
    /// collector's signals are the cgroup's).
    fn follows_moves(&self) -> bool {
        false
    }

    /// Hands over this round's shared readings, for its next sample.
    fn hand(&mut self, _shared: Shared) {}
}

/// The built-in collectors that are on, and the sources they read.
pub(crate) struct BuiltIns {
    sources: Arc<Sources>,
    collectors: Vec<Box<dyn SharesReadings>>,
    /// What the collectors read of the shared sources.
    needs: Needs,
    follows_moves: bool,
}

impl BuiltIns {
    /// No collector yet, and the sources of this process, opened as they are first read.
    pub(crate) fn new() -> Self {
        BuiltIns {
            sources: Arc::new(Sources::open()),
            collectors: Vec::new(),
            needs: Needs::default(),
            follows_moves: false,
        }
    }

    /// The sources the collectors are to read.
    pub(crate) fn sources(&self) -> Arc<Sources> {
        Arc::clone(&self.sources)
    }

    /// Adds a collector (made with [`sources`](Self::sources)).
    pub(crate) fn add(&mut self, collector: impl SharesReadings + 'static) {
        self.needs = self.needs.or(collector.needs());
        self.follows_moves |= collector.follows_moves();
        self.collectors.push(Box::new(collector));
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.collectors.is_empty()
    }
}

impl MetricCollector for BuiltIns {
    fn collect(&self) -> Vec<RuntimeMetric> {
        self.collectors.iter().flat_map(|c| c.collect()).collect()
    }

    fn name(&self) -> &'static str {
        "built-in"
    }

    /// One round: the shared sources read once (after looking whether the process moved to
    /// another cgroup, when the container collector is on), handed to each collector, which
    /// then samples.
    fn collect_mut(&mut self) -> Result<Collected, CollectError> {
        if self.follows_moves {
            self.sources.look_for_moves();
        }
        let shared = Shared::read(&self.sources, self.needs);
        let mut metrics = Vec::new();
        for collector in &mut self.collectors {
            collector.hand(shared);
            metrics.extend(collector.collect_mut()?.metrics);
        }
        Ok(Collected::new(metrics))
    }

    fn descriptors(&self) -> Vec<MetricDescriptor> {
        self.collectors
            .iter()
            .flat_map(|c| c.descriptors())
            .collect()
    }
}
