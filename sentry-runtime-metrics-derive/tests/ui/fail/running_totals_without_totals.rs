use std::collections::BTreeMap;

use sentry_runtime_metrics::MetricCollector;

// Two counters hold running totals, and nowhere to keep their last values: one error, at the
// first, naming both.
#[derive(Clone, MetricCollector)]
struct Metrics {
    #[gauge(name = "app.depth")]
    depth: u64,
    #[counter(name = "app.processed")]
    processed: u64,
    #[counter(name = "app.retries", delta)]
    retries: u64,
    #[counter(name = "app.requests", attribute = "route")]
    requests: BTreeMap<String, u64>,
}

impl Metrics {
    fn sample(&mut self) {}
}

fn main() {}
