use sentry_runtime_metrics::MetricCollector;

#[derive(Clone, MetricCollector)]
struct Metrics {
    #[gauge]
    depth: u64,
    #[counter(unit = "byte")]
    processed: u64,
}

fn main() {}
