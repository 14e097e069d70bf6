use sentry_runtime_metrics::MetricCollector;

#[derive(Clone, MetricCollector)]
struct Metrics {
    #[gauge]
    depth: u64,
    #[counter(unit = "byte", delta)]
    processed: u64,
}

fn main() {}
