//! Shared pieces of the examples in `examples/`; run them with `cargo run --example NAME`.
#![allow(clippy::print_stdout)] // The examples print tables.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use sentry::protocol::{Envelope, Metric, MetricType};
use sentry::{ClientOptions, Transport};

/// Without a DSN the SDK would send nothing (and call no hook), so a demo without `SENTRY_DSN`
/// gets a DSN that is never contacted and a transport that discards: exactly what would be sent
/// is shown.
struct LocalOnly;

impl Transport for LocalOnly {
    fn send_envelope(&self, _envelope: Envelope) {}
}

/// Client options that keep a copy of every metric the SDK is about to send, and send to
/// `SENTRY_DSN` when it is set. Returns whether a DSN was given.
pub fn options_showing_metrics(
    options: ClientOptions,
    seen: Arc<Mutex<Vec<Metric>>>,
) -> (ClientOptions, bool) {
    let mut options = options.before_send_metric(move |metric| {
        if let Ok(mut seen) = seen.lock() {
            seen.push(metric.clone());
        }
        Some(metric)
    });
    match std::env::var("SENTRY_DSN")
        .ok()
        .filter(|dsn| !dsn.is_empty())
    {
        Some(dsn) => {
            options.dsn = dsn.parse().ok();
            (options, true)
        }
        None => {
            options.dsn = "https://public@sentry.invalid/1".parse().ok();
            options.transport = Some(Arc::new(|_: &ClientOptions| {
                Arc::new(LocalOnly) as Arc<dyn Transport>
            }));
            (options, false)
        }
    }
}

/// Prints one round as a table: name (with attributes), type, value, unit.
pub fn print_round(round: u64, metrics: &[Metric]) {
    println!("Round {round}");
    println!("  {:<52} {:<13} {:>16}  unit", "name", "type", "value");
    let mut rows: BTreeMap<String, (&str, f64, String)> = BTreeMap::new();
    for metric in metrics {
        let kind = match metric.r#type {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Distribution => "distribution",
        };
        let labels: Vec<String> = metric
            .attributes
            .iter()
            .filter(|(key, _)| !key.starts_with("sentry.") && !key.starts_with("server."))
            .map(|(key, value)| format!("{key}={}", value.0))
            .collect();
        let name = if labels.is_empty() {
            metric.name.to_string()
        } else {
            format!("{}{{{}}}", metric.name, labels.join(","))
        };
        let unit = metric
            .unit
            .as_ref()
            .map(|unit| format!("{unit:?}").to_lowercase())
            .unwrap_or_default();
        // Distributions send several values per round: show the largest.
        let entry = rows.entry(name).or_insert((kind, metric.value, unit));
        entry.1 = entry.1.max(metric.value);
    }
    for (name, (kind, value, unit)) in rows {
        println!("  {name:<52} {kind:<13} {value:>16.3}  {unit}");
    }
    println!();
}

/// How to send to Sentry, printed at the end of a local run.
pub fn print_dsn_hint(example: &str) {
    println!(
        "\nTo send these to Sentry, set your project's DSN (Settings > Client Keys):\n  \
         SENTRY_DSN=https://<key>@<org>.ingest.sentry.io/<project> cargo run --example {example}"
    );
}
