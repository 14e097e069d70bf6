//! Shared pieces of the examples in `examples/`; run them with `cargo run --example NAME`.
#![allow(clippy::print_stderr)] // A demo says when Ctrl-C cannot be handled.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sentry::{Transport, TransportOptions};

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

/// A flag set on Ctrl-C, so a demo ends cleanly (flushing what it collected).
pub fn stop_on_ctrl_c() -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    if let Err(err) = ctrlc::set_handler(move || flag.store(true, Ordering::Relaxed)) {
        eprintln!("(Ctrl-C handler not installed: {err})");
    }
    stop
}

/// Prints a line to stdout; a closed stdout (piped into `head`, which exited) is not an error.
pub fn say(line: impl std::fmt::Display) {
    let _ = writeln!(std::io::stdout(), "{line}");
}

/// Whether `SENTRY_DSN` is set, so `sentry::init` sends to it.
pub fn dsn_is_set() -> bool {
    std::env::var("SENTRY_DSN").is_ok_and(|dsn| !dsn.is_empty())
}

/// The last lines of a demo: what the integration did, and how to send or see this elsewhere.
pub fn say_done(stats: sentry_runtime_metrics::RuntimeMetricsStats, example: &str) {
    say(format_args!(
        "\nDone: {} rounds, {} metrics handed to the SDK, {} dropped.",
        stats.rounds, stats.metrics_handed_to_sdk, stats.metrics_dropped
    ));
    if !dsn_is_set() {
        say(format_args!(
            "To send them to Sentry, set your project's DSN (Settings > Client Keys):\n  \
             SENTRY_DSN=https://<key>@<org>.ingest.sentry.io/<project> cargo run --example \
             {example}"
        ));
    }
    say("To see this view in your own app: \
         RuntimeMetricsIntegration::new(config).with_local_view(LocalView::stderr())");
}
