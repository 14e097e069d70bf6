use std::time::Duration;

use sentry_runtime_metrics::MetricCollector;

#[derive(Clone, MetricCollector)]
struct Metrics {
    #[gauge(name = "app.uptime", unit = "byte")]
    uptime: Option<Duration>,
}

fn main() {}
