//! What the local view prints for a round: the first round as a table of every series, each
//! later one as what changed since the round before (counters' increases, gauges that moved,
//! distributions), so a round of thirty metrics that mostly hold still reads in a few lines.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use crate::local_view::readable::{exact, readable};
use crate::metric::{MetricType, MetricValue, RuntimeMetric};

/// One series in a round: a counter's increase or a gauge's value; a distribution's values
/// summed up.
#[derive(Clone, Debug, PartialEq)]
struct Reading {
    kind: MetricType,
    unit: Option<String>,
    name: String,
    value: Value,
}

#[derive(Clone, Debug, PartialEq)]
enum Value {
    One(MetricValue),
    Many { count: usize, min: f64, max: f64 },
}

/// What the view remembers between rounds: the last value of each gauge, with the round it
/// was last shown in (a gauge not seen for [`FORGET_AFTER_ROUNDS`] rounds shown is forgotten,
/// so this is bounded by what rounds send).
#[derive(Debug, Default)]
pub(crate) struct Board {
    last_gauges: BTreeMap<String, (MetricValue, u64)>,
    shown: u64,
}

/// Rounds shown after which a gauge not seen again is forgotten (then shown as new).
const FORGET_AFTER_ROUNDS: u64 = 60;

/// Where a round's metrics went, for the header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Destination {
    /// Handed to the SDK, to be sent to Sentry.
    Sdk,
    /// Nothing is sent: the client has no DSN.
    NowhereNoDsn,
}

impl Board {
    /// The text of round `round`, `at` after the view started, of `metrics` (as sent; those
    /// of rounds not printed yet are in it too) and `not_shown` more that were not kept;
    /// `None` when there is nothing to show.
    pub(crate) fn render(
        &mut self,
        round: u64,
        at: Duration,
        metrics: &[RuntimeMetric],
        not_shown: u64,
        destination: Destination,
    ) -> Option<String> {
        if metrics.is_empty() && not_shown == 0 {
            return None;
        }
        let readings = readings(metrics);
        let where_to = match destination {
            Destination::Sdk => "handed to the SDK",
            Destination::NowhereNoDsn => "not sent: no DSN",
        };
        let mut out = String::new();
        let first = self.shown == 0;
        let _ = write!(
            out,
            "runtime metrics, round {round} at {}: {} metrics ({where_to})",
            secs(at),
            metrics.len() as u64 + not_shown
        );
        if not_shown > 0 {
            let _ = write!(out, " ({not_shown} not shown: the view fell behind)");
        }
        if first {
            out.push('\n');
            table(&mut out, &readings);
        } else {
            self.changes(&mut out, &readings);
        }
        self.shown += 1;
        for (key, reading) in &readings {
            if let (MetricType::Gauge, Value::One(value)) = (reading.kind, &reading.value) {
                self.last_gauges.insert(key.clone(), (*value, self.shown));
            }
        }
        let shown = self.shown;
        self.last_gauges
            .retain(|_, (_, seen)| shown - *seen < FORGET_AFTER_ROUNDS);
        Some(out)
    }

    /// What changed since the round shown last: every counter (sent only when it moved), every
    /// distribution, gauges that are new or moved; then how many gauges held still.
    fn changes(&self, out: &mut String, readings: &BTreeMap<String, Reading>) {
        let mut rows = Vec::new();
        let mut unchanged = 0;
        for (key, reading) in readings {
            let unit = reading.unit.as_deref();
            let now = shown(reading);
            let change = match (reading.kind, &reading.value) {
                (MetricType::Gauge, Value::One(value)) => match self.last_gauges.get(key) {
                    Some((before, _)) if before == value => {
                        unchanged += 1;
                        continue;
                    }
                    Some((before, _)) => {
                        let was = readable(&reading.name, reading.kind, before.as_f64(), unit);
                        if was == now {
                            // Moved less than the digits shown: say by how much.
                            let by = value.as_f64() - before.as_f64();
                            let sign = if by < 0.0 { "-" } else { "+" };
                            let by = readable(&reading.name, reading.kind, by.abs(), unit);
                            format!("{was} -> {now} ({sign}{by})")
                        } else {
                            format!("{was} -> {now}")
                        }
                    }
                    None => format!("{now} (new)"),
                },
                (MetricType::Counter, _) => format!("+{now}"),
                _ => now,
            };
            rows.push([key.clone(), reading.kind.to_string(), change]);
        }
        if rows.is_empty() {
            out.push_str(", nothing changed\n");
        } else {
            out.push_str(", changed:\n");
            columns(out, &rows);
        }
        match unchanged {
            0 => {}
            1 => out.push_str("  (1 gauge unchanged)\n"),
            _ => {
                let _ = writeln!(out, "  ({unchanged} gauges unchanged)");
            }
        }
    }
}

/// The first round: every series, its value as read and as sent.
fn table(out: &mut String, readings: &BTreeMap<String, Reading>) {
    let mut rows = vec![[
        "name".to_owned(),
        "type".to_owned(),
        "value".to_owned(),
        "sent as".to_owned(),
    ]];
    for (key, reading) in readings {
        let sent = match reading.value {
            Value::One(value) => exact(value, reading.unit.as_deref()),
            Value::Many { count, .. } => format!("{count} values"),
        };
        rows.push([key.clone(), reading.kind.to_string(), shown(reading), sent]);
    }
    columns(out, &rows);
}

/// Rows in left-aligned columns, two spaces in.
fn columns<const N: usize>(out: &mut String, rows: &[[String; N]]) {
    let mut widths = [0; N];
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for row in rows {
        out.push(' ');
        for (index, (width, cell)) in widths.iter().zip(row).enumerate() {
            out.push(' ');
            out.push_str(cell);
            if index + 1 < N {
                let pad = width - cell.chars().count() + 1;
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push('\n');
    }
}

/// A reading's value as a person reads it.
fn shown(reading: &Reading) -> String {
    let unit = reading.unit.as_deref();
    match reading.value {
        Value::One(value) => readable(&reading.name, reading.kind, value.as_f64(), unit),
        Value::Many { count, min, max } => format!(
            "{count} values, {} .. {}",
            readable(&reading.name, reading.kind, min, unit),
            readable(&reading.name, reading.kind, max, unit)
        ),
    }
}

/// A round's metrics by series (`name{key=value,..}`): a distribution's values together, and,
/// when rounds are printed together, a counter's increases summed and a gauge's last value.
fn readings(metrics: &[RuntimeMetric]) -> BTreeMap<String, Reading> {
    let mut readings: BTreeMap<String, Reading> = BTreeMap::new();
    for metric in metrics {
        let key = series_key(metric);
        let value = metric.value.as_f64();
        match readings.get_mut(&key) {
            Some(reading) => {
                reading.value = match (reading.kind, &reading.value) {
                    (MetricType::Counter, Value::One(sum)) => {
                        Value::One(sum_of(*sum, metric.value))
                    }
                    (MetricType::Gauge, _) => Value::One(metric.value),
                    (_, Value::One(first)) => Value::Many {
                        count: 2,
                        min: first.as_f64().min(value),
                        max: first.as_f64().max(value),
                    },
                    (_, Value::Many { count, min, max }) => Value::Many {
                        count: count + 1,
                        min: min.min(value),
                        max: max.max(value),
                    },
                };
            }
            None => {
                let reading = Reading {
                    kind: metric.metric_type,
                    unit: metric.unit.as_deref().map(str::to_owned),
                    name: metric.name.to_string(),
                    value: match metric.metric_type {
                        MetricType::Distribution => Value::Many {
                            count: 1,
                            min: value,
                            max: value,
                        },
                        _ => Value::One(metric.value),
                    },
                };
                readings.insert(key, reading);
            }
        }
    }
    readings
}

/// Two increases of a counter as one: integers stay exact.
fn sum_of(a: MetricValue, b: MetricValue) -> MetricValue {
    match (a, b) {
        (MetricValue::Int(a), MetricValue::Int(b)) => a
            .checked_add(b)
            .map_or_else(|| MetricValue::Float(a as f64 + b as f64), MetricValue::Int),
        (a, b) => MetricValue::Float(a.as_f64() + b.as_f64()),
    }
}

fn series_key(metric: &RuntimeMetric) -> String {
    if metric.tags.is_empty() {
        return metric.name.to_string();
    }
    let attributes: Vec<String> = metric
        .tags
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect();
    format!("{}{{{}}}", metric.name, attributes.join(","))
}

/// Time since the view started, to a tenth of a second.
fn secs(at: Duration) -> String {
    format!("{:.1} s", at.as_secs_f64())
}

#[cfg(test)]
mod tests;
