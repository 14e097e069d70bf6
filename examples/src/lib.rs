//! Shared pieces of the examples in `examples/`; run them with `cargo run --example NAME`.
#![allow(clippy::print_stdout, clippy::print_stderr)] // The examples print tables.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sentry::protocol::{Envelope, Metric, MetricType};
use sentry::{ClientOptions, Transport, TransportOptions};
use sentry_runtime_metrics::{LastRoundGuard, RuntimeMetricsIntegration};

/// Without a DSN the SDK would send nothing (and call no hook), so a demo without `SENTRY_DSN`
/// gets a DSN that is never contacted and a transport that discards: exactly what would be sent
/// is shown.
struct LocalOnly;

impl Transport for LocalOnly {
    fn send_envelope(&self, _envelope: Envelope) {}
}

/// The SDK's ureq transport with a time limit on every request (a `TransportFactory` for
/// `ClientOptions::transport`).
///
/// With the default transport, a Sentry endpoint that accepts the connection and never answers
/// blocks the SDK's transport thread indefinitely, and dropping the guard (which joins that
/// thread after the shutdown timeout) never returns. A request timeout bounds the guard drop by
/// `shutdown_timeout + timeout`. (The SDK's own agent also applies `http_proxy` /
/// `https_proxy` and `accept_invalid_certs`, and picks the TLS provider of sentry's `native-tls`
/// feature; this one uses ureq's defaults, which is rustls here. Copy it with that in mind.)
#[derive(Clone, Copy, Debug)]
pub struct TimeoutTransport(pub Duration);

impl sentry::TransportFactory for TimeoutTransport {
    fn create_transport_with_options(&self, options: TransportOptions) -> Arc<dyn Transport> {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(self.0))
            .build()
            .new_agent();
        Arc::new(
            sentry::transports::UreqHttpTransportOptions::from(options)
                .with_agent(agent)
                .build(),
        )
    }
}

/// How long the demos let one request to Sentry take.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// What a demo shows locally: a copy of every metric the SDK is about to send, printed one table
/// per collection round.
#[derive(Debug)]
pub struct LocalView {
    seen: Arc<Mutex<Vec<Metric>>>,
    printed: u64,
    /// Whether `SENTRY_DSN` was set, so the metrics are also sent.
    pub sending: bool,
}

impl LocalView {
    /// Client options that keep a copy of every metric the SDK is about to send, and send to
    /// `SENTRY_DSN` when it is set.
    pub fn options(options: ClientOptions) -> (ClientOptions, LocalView) {
        let seen: Arc<Mutex<Vec<Metric>>> = Arc::default();
        let copy = seen.clone();
        let mut options = options.before_send_metric(move |metric| {
            if let Ok(mut copy) = copy.lock() {
                copy.push(metric.clone());
            }
            Some(metric)
        });
        let sending = match std::env::var("SENTRY_DSN")
            .ok()
            .filter(|dsn| !dsn.is_empty())
        {
            Some(dsn) => {
                options.dsn = dsn.parse().ok();
                options.transport = Some(Arc::new(TimeoutTransport(HTTP_TIMEOUT)));
                true
            }
            None => {
                options.dsn = "https://public@sentry.invalid/1".parse().ok();
                options.transport = Some(Arc::new(|_: &ClientOptions| {
                    Arc::new(LocalOnly) as Arc<dyn Transport>
                }));
                false
            }
        };
        let view = LocalView {
            seen,
            printed: 0,
            sending,
        };
        (options, view)
    }

    /// Says where `what` goes (sent to SENTRY_DSN, or shown here) and how long the demo runs.
    pub fn announce(&self, what: &str, interval: Duration, rounds: u64) {
        if self.sending {
            println!("Sending {what} to the Sentry project of SENTRY_DSN.");
        } else {
            println!("SENTRY_DSN is not set: showing the metrics here instead of sending them.");
        }
        println!("Collecting every {interval:?} for {rounds} rounds (Ctrl-C to stop early).\n");
    }

    /// Ends the demo `example` as a program should: the last-round guard dropped first (a last
    /// round, flushed to the client), then the guard of `sentry::init`; prints what
    /// `integration` did and, when nothing was sent, how to send.
    pub fn finish(
        &self,
        integration: &RuntimeMetricsIntegration,
        last_round: LastRoundGuard,
        guard: sentry::ClientInitGuard,
        example: &str,
    ) {
        drop(last_round);
        let stats = integration.stats();
        drop(guard);
        println!(
            "Done: {} rounds, {} metrics sent, {} dropped.",
            stats.rounds, stats.metrics_handed_to_sdk, stats.metrics_dropped
        );
        if !self.sending {
            print_dsn_hint(example);
        }
    }

    /// Prints the metrics seen since the last table if `integration` finished a round since;
    /// returns how many rounds have been printed.
    pub fn print_new_round(&mut self, integration: &RuntimeMetricsIntegration) -> u64 {
        let rounds = integration.stats().rounds;
        if rounds > self.printed {
            self.printed = rounds;
            let metrics = self
                .seen
                .lock()
                .map(|mut seen| std::mem::take(&mut *seen))
                .unwrap_or_default();
            print_round(rounds, &metrics);
        }
        self.printed
    }
}

/// A flag set on Ctrl-C, so a demo ends cleanly (flushing what it collected).
pub fn stop_on_ctrl_c() -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    if let Err(err) = ctrlc::set_handler(move || flag.store(true, Ordering::Relaxed)) {
        eprintln!("(Ctrl-C handler not installed: {err})");
    }
    stop
}

/// Prints one round as a table, read like `htop`: name (with attributes), type, the value as a
/// person reads it (bytes in KiB/MiB/GiB, ratios in %, times in ms/s), and the raw value Sentry
/// receives with its unit.
pub fn print_round(round: u64, metrics: &[Metric]) {
    println!("Round {round}");
    println!(
        "  {:<58} {:<12} {:>12}   sent as",
        "name", "type", "reads as"
    );
    let mut rows: BTreeMap<String, (&str, f64, String, usize)> = BTreeMap::new();
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
        // Distributions send several values per round: show the largest, and how many.
        let entry = rows.entry(name).or_insert((kind, metric.value, unit, 0));
        entry.1 = entry.1.max(metric.value);
        entry.3 += 1;
    }
    for (name, (kind, value, unit, count)) in rows {
        let readable = readable(&name, value, &unit);
        if count > 1 {
            println!("  {name:<58} {kind:<12} {readable:>12}   {count} values, max {value} {unit}");
        } else {
            println!("  {name:<58} {kind:<12} {readable:>12}   {value} {unit}");
        }
    }
    println!();
}

/// `value` as a person reads it: bytes in binary units, ratios as a percentage, seconds and the
/// millisecond counters (`*_time`) in ms or s; other numbers as they are.
pub fn readable(name: &str, value: f64, unit: &str) -> String {
    let millis = |ms: f64| {
        if ms.abs() < 1000.0 {
            format!("{ms:.1} ms")
        } else {
            format!("{:.2} s", ms / 1000.0)
        }
    };
    match unit {
        "byte" => {
            let mut scaled = value;
            let mut unit = 0;
            const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
            while scaled.abs() >= 1024.0 && unit < UNITS.len() - 1 {
                scaled /= 1024.0;
                unit += 1;
            }
            if unit == 0 {
                format!("{scaled} B")
            } else {
                format!("{scaled:.1} {}", UNITS[unit])
            }
        }
        "ratio" => format!("{:.1} %", value * 100.0),
        "percent" => format!("{value:.1} %"),
        "second" if value.abs() < 120.0 => millis(value * 1000.0),
        "second" => format!("{:.1} min", value / 60.0),
        "millisecond" => millis(value),
        _ if name.contains("_time") => millis(value),
        _ => format!("{value}"),
    }
}

/// How to send to Sentry, printed at the end of a local run.
pub fn print_dsn_hint(example: &str) {
    println!(
        "\nTo send these to Sentry, set your project's DSN (Settings > Client Keys):\n  \
         SENTRY_DSN=https://<key>@<org>.ingest.sentry.io/<project> cargo run --example {example}"
    );
}

#[cfg(test)]
mod tests {
    use super::readable;

    #[test]
    fn values_read_like_htop() {
        assert_eq!(
            readable("runtime.memory.rss", 9_261_056.0, "byte"),
            "8.8 MiB"
        );
        assert_eq!(readable("x", 512.0, "byte"), "512 B");
        assert_eq!(
            readable("x", 3.0 * 1024.0 * 1024.0 * 1024.0, "byte"),
            "3.0 GiB"
        );
        assert_eq!(
            readable("process.cpu.utilization", 0.4213, "ratio"),
            "42.1 %"
        );
        assert_eq!(readable("process.uptime", 0.25, "second"), "250.0 ms");
        assert_eq!(readable("process.uptime", 93.0, "second"), "93.00 s");
        assert_eq!(readable("process.uptime", 7200.0, "second"), "120.0 min");
        assert_eq!(readable("process.cpu.user_time", 37.4, ""), "37.4 ms");
        assert_eq!(readable("process.threads.count", 9.0, ""), "9");
    }
}
