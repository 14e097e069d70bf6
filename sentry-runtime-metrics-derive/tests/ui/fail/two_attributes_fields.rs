use sentry_runtime_metrics::{MetricCollector, Tags};

#[derive(Clone, MetricCollector)]
struct Metrics {
    #[gauge(name = "app.pool.size")]
    size: u64,
    #[attributes]
    labels: Tags,
    #[attributes(extra)]
    more: Tags,
}

fn main() {}
