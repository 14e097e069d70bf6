//! [`BuiltIns`]: the built-in collectors the configuration enables, sampled together as one
//! collector of the integration. One [`Sources`] serves them all (each file opened once), and
//! each round the sources more than one of them needs are read once, here, and handed to each.
//! Each member is run on its own as the integration runs a collector: its error or panic loses
//! only its own round (reported under its own name), and one that keeps panicking rests 1, 2, 4
//! .. rounds while the others go on.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use crate::backoff::PanicRest;
use crate::collector::{CollectError, Collected, FailedPart, Failure, MetricCollector};
use crate::debug_log::panic_message;
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
    members: Vec<Member>,
    /// What the collectors read of the shared sources.
    needs: Needs,
    follows_moves: bool,
}

/// One built-in collector and how it has been doing.
struct Member {
    collector: Box<dyn SharesReadings>,
    rest: PanicRest,
    /// Metrics it sent in its last good run: what a round it loses costs.
    last_sent: u64,
    error_noted: bool,
    panic_noted: bool,
}

impl Member {
    /// Runs it once with this round's `shared` readings: its metrics, or why there are none.
    fn run(&mut self, shared: Shared) -> Result<Collected, FailedPart> {
        let failure = if self.rest.resting() {
            Failure::Resting
        } else {
            let collector = &mut self.collector;
            let result = catch_unwind(AssertUnwindSafe(|| {
                collector.hand(shared);
                collector.collect_mut()
            }));
            self.rest.ran(result.is_err());
            match result {
                Ok(Ok(collected)) => {
                    self.last_sent = collected.metrics.len() as u64;
                    return Ok(collected);
                }
                Ok(Err(err)) => Failure::Error(err.to_string()),
                Err(payload) => Failure::Panic(panic_message(payload.as_ref()).to_owned()),
            }
        };
        let note = match failure {
            Failure::Error(_) => !std::mem::replace(&mut self.error_noted, true),
            Failure::Panic(_) => !std::mem::replace(&mut self.panic_noted, true),
            Failure::Resting => false,
        };
        Err(FailedPart {
            name: self.collector.name(),
            failure,
            metrics: self.last_sent.max(1),
            note,
        })
    }
}

impl BuiltIns {
    /// No collector yet, and the sources of this process, opened as they are first read.
    pub(crate) fn new() -> Self {
        BuiltIns {
            sources: Arc::new(Sources::open()),
            members: Vec::new(),
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
        self.members.push(Member {
            last_sent: collector.descriptors().len() as u64,
            collector: Box::new(collector),
            rest: PanicRest::default(),
            error_noted: false,
            panic_noted: false,
        });
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.members.is_empty()
    }
}

impl MetricCollector for BuiltIns {
    fn collect(&self) -> Vec<RuntimeMetric> {
        let members = self.members.iter();
        members
            .flat_map(|member| member.collector.collect())
            .collect()
    }

    fn name(&self) -> &'static str {
        "built-in"
    }

    /// One round: the shared sources read once (after looking whether the process moved to
    /// another cgroup, when the container collector is on), handed to each member, which then
    /// samples; a member that fails is reported as a failed part, under its own name.
    fn collect_mut(&mut self) -> Result<Collected, CollectError> {
        if self.follows_moves {
            self.sources.look_for_moves();
        }
        let shared = Shared::read(&self.sources, self.needs);
        let mut collected = Collected::new(Vec::new());
        for member in &mut self.members {
            match member.run(shared) {
                Ok(part) => {
                    collected.metrics.extend(part.metrics);
                    collected.dropped = collected.dropped.saturating_add(part.dropped);
                }
                Err(failed) => collected.failed_parts.push(failed),
            }
        }
        Ok(collected)
    }

    fn descriptors(&self) -> Vec<MetricDescriptor> {
        let members = self.members.iter();
        members.flat_map(|m| m.collector.descriptors()).collect()
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;
    use crate::metric::{MetricType, MetricValue, Tags};

    /// A member that sends one gauge, or panics every time.
    struct Fake {
        name: &'static str,
        panics: bool,
    }

    impl MetricCollector for Fake {
        fn collect(&self) -> Vec<RuntimeMetric> {
            assert!(!self.panics, "member bug");
            vec![RuntimeMetric {
                name: Cow::Borrowed(self.name),
                metric_type: MetricType::Gauge,
                value: MetricValue::Int(1),
                unit: None,
                tags: Tags::new(),
            }]
        }

        fn name(&self) -> &'static str {
            self.name
        }
    }

    impl SharesReadings for Fake {}

    #[test]
    fn a_member_that_panics_loses_only_its_own_rounds_and_rests() {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let mut built_in = BuiltIns::new();
        built_in.add(Fake {
            name: "fine",
            panics: false,
        });
        built_in.add(Fake {
            name: "broken",
            panics: true,
        });
        let rounds: Vec<Collected> = (0..4).map(|_| built_in.collect_mut().unwrap()).collect();
        std::panic::set_hook(previous);
        // The other member sends every round.
        assert!(rounds.iter().all(|round| round.metrics.len() == 1));
        // The broken one panics in rounds 1 and 3 and rests in 2 and 4, reported under its name,
        // with one line for the debug log.
        let failures: Vec<(&str, bool, bool)> = rounds
            .iter()
            .map(|round| {
                let part = &round.failed_parts[0];
                let panicked = matches!(part.failure, Failure::Panic(_));
                (part.name, panicked, part.note)
            })
            .collect();
        assert_eq!(
            failures,
            [
                ("broken", true, true),
                ("broken", false, false),
                ("broken", true, false),
                ("broken", false, false)
            ]
        );
    }
}
