use std::time::Duration;

use sentry_runtime_metrics::MetricCollector;

#[derive(Clone, MetricCollector)]
struct Metrics {
    #[gauge(name = "app.uptime")]
    uptime: Duration,
    #[distribution(name = "app.waits")]
    waits: Vec<std::time::Duration>,
}

fn main() {}
