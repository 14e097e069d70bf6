use sentry_runtime_metrics::MetricCollector;

#[derive(Clone, MetricCollector)]
enum Metrics {
    Idle,
    Busy(u64),
}

fn main() {}
