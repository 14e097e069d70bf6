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
    let mut first_bad = None;
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
            first_bad.get_or_insert_with(|| (metric.name.to_string(), loss.reason()));
            return false;
        }
        let fixes = rules::fix(metric, attribute_room);
        if fixes.any() {
            checked.corrected += 1;
            first_bad.get_or_insert_with(|| {
                (
                    metric.name.to_string(),
                    fixes.names().next().unwrap_or_default(),
                )
            });
        }
        true
    });
    if let Some((metric, problem)) = first_bad
        && entry.first(Note::BadMetric)
    {
        checked.notes.push(format!(
            "collector `{name}` sent metric `{metric}` with problem `{problem}`; such metrics \
             are fixed or dropped and counted in `{DROPPED_METRIC}` (reported once)"
        ));
    }
}
