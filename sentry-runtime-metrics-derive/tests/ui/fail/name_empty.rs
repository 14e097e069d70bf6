use sentry_runtime_metrics::MetricCollector;

#[derive(Clone, MetricCollector)]
struct Metrics {
    #[gauge(name = "")]
    depth: u64,
}

fn main() {}
