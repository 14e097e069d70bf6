//! Shared pieces of the examples in `examples/`; run them with `cargo run --example NAME`.
#![allow(clippy::print_stdout, clippy::print_stderr)] // The examples print tables.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sentry::protocol::{Envelope, Metric, MetricType};
use sentry::{ClientOptions, Transport, TransportOptions};
use sentry_runtime_metrics::RuntimeMetricsIntegration;

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

/// A stand-in for Sentry's ingestion on 127.0.0.1: accepts envelopes over HTTP/1.1 (keep-alive)
/// and counts them. For soak runs, demos and fault tests (it can also answer like a failing or
/// rate-limiting Sentry, or not at all); it never leaves the machine.
pub mod loopback {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Arc, Mutex};

    /// How the receiver answers each request.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub enum Answer {
        /// `200 OK`, like a healthy Sentry.
        #[default]
        Ok,
        /// This status with an empty JSON body (e.g. 500).
        Status(u16),
        /// `429` with `Retry-After` and `X-Sentry-Rate-Limits` for the `trace_metric` category,
        /// both saying `seconds`.
        RateLimited {
            /// Seconds the client is told to wait.
            seconds: u32,
        },
        /// Reads the request and never answers (the connection stays open).
        Never,
    }

    /// Envelopes and bytes received so far.
    #[derive(Debug, Default)]
    pub struct Received {
        /// Requests received.
        pub envelopes: AtomicU64,
        /// Body bytes received.
        pub bytes: AtomicU64,
        /// The request bodies, when kept (tests parse them; long runs would not fit).
        pub bodies: Option<Mutex<Vec<Vec<u8>>>>,
    }

    /// Starts a receiver that answers `200 OK` on an ephemeral port; returns the DSN to use and
    /// what arrived.
    pub fn start(keep_bodies: bool) -> std::io::Result<(String, Arc<Received>)> {
        start_answering(Answer::Ok, keep_bodies)
    }

    /// Starts a receiver that answers every request with `answer`.
    pub fn start_answering(
        answer: Answer,
        keep_bodies: bool,
    ) -> std::io::Result<(String, Arc<Received>)> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let received = Arc::new(Received {
            bodies: keep_bodies.then(Mutex::default),
            ..Received::default()
        });
        let counts = received.clone();
        std::thread::Builder::new()
            .name("loopback-sentry".into())
            .spawn(move || {
                for stream in listener.incoming().flatten() {
                    let counts = counts.clone();
                    let _ = std::thread::Builder::new()
                        .name("loopback-conn".into())
                        .spawn(move || serve(stream, &counts, answer));
                }
            })?;
        Ok((dsn(port), received))
    }

    /// A DSN for a port on 127.0.0.1 that nothing listens on (connections are refused).
    pub fn not_listening() -> std::io::Result<String> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        drop(listener);
        Ok(dsn(port))
    }

    fn dsn(port: u16) -> String {
        format!("http://public@127.0.0.1:{port}/1")
    }

    fn response(answer: Answer) -> Option<String> {
        let (status, headers) = match answer {
            Answer::Ok => ("200 OK".to_owned(), String::new()),
            Answer::Status(code) => (format!("{code} Error"), String::new()),
            Answer::RateLimited { seconds } => (
                "429 Too Many Requests".to_owned(),
                format!(
                    "retry-after: {seconds}\r\n\
                     x-sentry-rate-limits: {seconds}:trace_metric:organization\r\n"
                ),
            ),
            Answer::Never => return None,
        };
        Some(format!(
            "HTTP/1.1 {status}\r\n{headers}content-length: 2\r\n\r\n{{}}"
        ))
    }

    fn serve(stream: TcpStream, received: &Received, answer: Answer) {
        let Ok(mut writer) = stream.try_clone() else {
            return;
        };
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        loop {
            let mut length = 0usize;
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            loop {
                line.clear();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                let header = line.trim_end();
                if header.is_empty() {
                    break;
                }
                if let Some((name, value)) = header.split_once(':')
                    && name.eq_ignore_ascii_case("content-length")
                {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_err() {
                return;
            }
            received.bytes.fetch_add(length as u64, Ordering::Relaxed);
            if let Some(bodies) = &received.bodies
                && let Ok(mut bodies) = bodies.lock()
            {
                bodies.push(body);
            }
            // Counted last: once the count moves, the body is there.
            received.envelopes.fetch_add(1, Ordering::Relaxed);
            let Some(response) = response(answer) else {
                // Never answer: wait for a next request that will not come until the client
                // gives up and closes the connection.
                continue;
            };
            if writer.write_all(response.as_bytes()).is_err() {
                return;
            }
        }
    }
}
