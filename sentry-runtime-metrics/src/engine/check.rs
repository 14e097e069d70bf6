//! The second step of a round: each collector's output made ready to send. Capped at its bound,
//! each metric judged by the [rules] (refused, or fixed and counted), counters that did not move
//! left out (a 0 adds nothing to Sentry's sum, and every value sent is stored and billed).
//! The result is a value: what to send per collector, what was lost and why, what was corrected.
//!
//! [rules]: crate::rules

use crate::engine::collect::Run;
use crate::engine::entry::Note;
use crate::losses::{DROPPED_METRIC, Loss, Tally};
use crate::metric::MetricType;
use crate::rules;

/// What the checks made of the collectors' output.
#[derive(Default)]
pub(crate) struct Checked {
    /// The runs, each with its metrics ready to send.
    pub(crate) runs: Vec<Run>,
    /// What could not be sent, by reason.
    pub(crate) losses: Tally,
    /// Metrics sent in a corrected form.
    pub(crate) corrected: u64,
    /// Problems worth a line in the debug log (each kind once per collector).
    pub(crate) notes: Vec<String>,
}

/// Checks what each run returned. `attribute_room`: how many attributes of its own a metric may
/// keep.
pub(crate) fn check(mut runs: Vec<Run>, attribute_room: usize) -> Checked {
    let mut checked = Checked::default();
    for run in &mut runs {
        check_run(run, attribute_room, &mut checked);
    }
    checked.runs = runs;
    checked
}

/// Checks the metrics of `run` in place.
fn check_run(run: &mut Run, attribute_room: usize, checked: &mut Checked) {
    let (entry, collected) = (&run.entry, &mut run.collected);
    let name = entry.name;
    checked
        .losses
        .add(name, Loss::CollectorLimit, collected.dropped);
    let metrics = &mut collected.metrics;
    let cap = collected.max_metrics;
    if metrics.len() > cap {
        let over = metrics.len() - cap;
        metrics.truncate(cap);
        checked.losses.add(name, Loss::OverCap, over as u64);
        if entry.first(Note::OverCap) {
            checked.notes.push(format!(
                "collector `{name}` sent {} metrics in one round; only the first {cap} are kept \
                 (reported once)",
                over + cap
            ));
        }
    }
    entry.sent(metrics.len());
    // The first problem of the round, in words, for the debug log.
    let mut first_problem: Option<String> = None;
    metrics.retain_mut(|metric| {
        let problem = match rules::sendable(metric) {
            Err(unsendable) => Some(Loss::Unsendable(unsendable)),
            Ok(()) if metric.metric_type == MetricType::Counter => {
                let increase = metric.value.as_f64();
                if increase == 0.0 {
                    // Did not move: nothing to add, nothing lost.
                    return false;
                }
                (increase < 0.0).then_some(Loss::NegativeCounter)
            }
            Ok(()) => None,
        };
        if let Some(loss) = problem {
            checked.losses.add(name, loss, 1);
            first_problem.get_or_insert_with(|| {
                format!(
                    "metric `{}` was not sent ({}); such metrics are counted in \
                     `{DROPPED_METRIC}`",
                    metric.name,
                    loss.reason()
                )
            });
            return false;
        }
        let fixes = rules::fix(metric, attribute_room);
        if fixes.any() {
            checked.corrected += 1;
            first_problem.get_or_insert_with(|| {
                format!(
                    "metric `{}` was sent corrected: {}; such corrections are counted in \
                     `stats().metrics_corrected`",
                    metric.name,
                    fixes.describe(&metric.name)
                )
            });
        }
        true
    });
    if let Some(problem) = first_problem
        && entry.first(Note::BadMetric)
    {
        checked.notes.push(format!(
            "collector `{name}`: {problem} (reported once per collector)"
        ));
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;
    use crate::collector::{CollectError, Collected, MetricCollector};
    use crate::engine::entry::{Entry, Origin};
    use crate::metric::{MetricValue, RuntimeMetric, Tags};

    struct Nothing;

    impl MetricCollector for Nothing {
        fn collect(&self) -> Vec<RuntimeMetric> {
            Vec::new()
        }

        fn name(&self) -> &'static str {
            "queue"
        }

        fn collect_mut(&mut self) -> Result<Collected, CollectError> {
            Ok(Collected::new(Vec::new()))
        }
    }

    fn gauge(name: &'static str, unit: Option<&'static str>, value: MetricValue) -> RuntimeMetric {
        RuntimeMetric {
            name: Cow::Borrowed(name),
            metric_type: MetricType::Gauge,
            value,
            unit: unit.map(Cow::Borrowed),
            tags: Tags::new(),
        }
    }

    fn checked(metrics: Vec<RuntimeMetric>) -> Checked {
        let run = Run {
            entry: Entry::new(Box::new(Nothing), Origin::Application, Vec::new()),
            collected: Collected::from(metrics),
        };
        check(vec![run], rules::MAX_ATTRIBUTES)
    }

    #[test]
    fn the_debug_log_says_what_was_done_to_a_metric() {
        let checked = checked(vec![
            gauge("app.queue.depth", Some("count"), MetricValue::Int(3)),
            gauge("app.ok", Some("byte"), MetricValue::Int(1)),
        ]);
        assert_eq!(checked.corrected, 1);
        assert_eq!(checked.runs[0].collected.metrics.len(), 2);
        assert_eq!(checked.runs[0].collected.metrics[0].unit, None);
        assert_eq!(
            checked.notes,
            [
                "collector `queue`: metric `app.queue.depth` was sent corrected: unit `count` \
              stripped (not a unit Sentry knows; a number of things takes none); such \
              corrections are counted in `stats().metrics_corrected` (reported once per \
              collector)"
            ]
        );
    }

    #[test]
    fn the_debug_log_says_why_a_metric_was_not_sent() {
        let checked = checked(vec![gauge("app.ratio", None, MetricValue::Float(f64::NAN))]);
        assert!(checked.runs[0].collected.metrics.is_empty());
        assert_eq!(
            checked.notes,
            [
                "collector `queue`: metric `app.ratio` was not sent (non_finite_value); such \
              metrics are counted in `runtime_metrics.dropped` (reported once per collector)"
            ]
        );
    }
}
