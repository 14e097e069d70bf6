use std::time::Duration;

use sentry_runtime_metrics::MetricCollector;

// Four unrelated mistakes: all four are reported by one compile.
#[derive(Clone, MetricCollector)]
struct Metrics {
    #[gauge(name = "app queue")]
    depth: u64,
    #[gauge(name = "app.bytes", unit = "bytez")]
    bytes: u64,
    #[counter(name = "app.done", unit = "second", delta)]
    done: u64,
    #[gauge(name = "app.uptime")]
    uptime: Duration,
}

fn main() {}
