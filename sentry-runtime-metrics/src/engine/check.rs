//! One collector's output made ready to send: capped, each metric judged by the [rules], counter
//! totals turned into increases (keyed by the series as collected, before the rules change it).
//! The result is a value: what to send, what was lost and why, what was corrected.
//!
//! [rules]: crate::rules

use crate::engine::entry::{Note, State};
use crate::losses::{DROPPED_METRIC, Loss, Tally};
use crate::metric::{MetricType, MetricValue, RuntimeMetric};
use crate::rules;

/// What the checks made of one collector's output.
#[derive(Debug, Default)]
pub(crate) struct Checked {
    /// Ready to send.
    pub(crate) metrics: Vec<RuntimeMetric>,
    /// What could not be sent, by reason.
    pub(crate) losses: Tally,
    /// Metrics sent in a corrected form.
    pub(crate) corrected: u64,
    /// Problems worth a line in the debug log (each kind once per collector).
    pub(crate) notes: Vec<String>,
}

/// Checks what the collector of `state` (named `name`) returned. While `state.baselined` is
/// false this is its first good run, whose running-total counters are recorded, not sent.
/// `attribute_room`: how many attributes of its own a metric may keep. `note`: whether problems
/// may be noted for the debug log (not in a baseline, which is not sent, so that the first real
/// round still reports them).
pub(crate) fn check(
    name: &'static str,
    state: &mut State,
    mut collected: Vec<RuntimeMetric>,
    attribute_room: usize,
    note: bool,
) -> Checked {
    let mut checked = Checked::default();
    let cap = state.cap;
    if collected.len() > cap {
        let over = collected.len() - cap;
        collected.truncate(cap);
        checked.losses.add(name, Loss::OverCap, over as u64);
        if note && state.first(Note::OverCap) {
            checked.notes.push(format!(
                "collector `{name}` sent {} metrics in one round; only the first \
                 {cap} are kept (reported once)",
                over + cap
            ));
        }
    }
    let first_run = !std::mem::replace(&mut state.baselined, true);
    state.series.begin_run();
    let mut first_bad = None;
    for mut metric in collected {
        let sendable = rules::sendable(&metric);
        let running_total =
            metric.metric_type == MetricType::Counter && !state.deltas.contains(&metric.name);
        // Every running total takes its place among the series of its name and attributes, sent
        // or not, so that those after it in the round keep theirs.
        let increase = running_total.then(|| {
            let total = sendable.is_ok().then(|| metric.value.as_f64());
            state.series.increase(&metric.name, &metric.tags, total)
        });
        if let Err(unsendable) = sendable {
            checked.losses.add(name, Loss::Unsendable(unsendable), 1);
            first_bad.get_or_insert_with(|| {
                (
                    metric.name.to_string(),
                    Loss::Unsendable(unsendable).reason(),
                )
            });
            continue;
        }
        if metric.metric_type == MetricType::Counter {
            let increase = match increase.flatten() {
                // The first good run records running totals: a lifetime is not an increase.
                Some(_) if first_run => continue,
                Some(increase) => increase,
                None => metric.value.as_f64(),
            };
            if increase < 0.0 {
                checked.losses.add(name, Loss::NegativeCounter, 1);
                first_bad.get_or_insert_with(|| {
                    (metric.name.to_string(), Loss::NegativeCounter.reason())
                });
                continue;
            }
            metric.value = MetricValue::Float(increase);
        }
        let fixes = rules::fix(&mut metric, attribute_room);
        if fixes.any() {
            checked.corrected += 1;
            first_bad.get_or_insert_with(|| {
                (
                    metric.name.to_string(),
                    fixes.names().next().unwrap_or_default(),
                )
            });
        }
        checked.metrics.push(metric);
    }
    if let Some((metric, problem)) = first_bad
        && note
        && state.first(Note::BadMetric)
    {
        checked.notes.push(format!(
            "collector `{name}` sent metric `{metric}` with problem `{problem}`; such metrics \
             are fixed or dropped and counted in `{DROPPED_METRIC}` (reported once)"
        ));
    }
    checked
}
