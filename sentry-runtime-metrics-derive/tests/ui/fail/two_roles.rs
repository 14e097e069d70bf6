use sentry_runtime_metrics::MetricCollector;

#[derive(Clone, MetricCollector)]
#[gauge(name = "app.struct")]
struct Metrics {
    #[gauge(name = "app.depth")]
    #[counter(name = "app.depth_total")]
    depth: u64,
    #[collector(name = "field")]
    other: u64,
}

fn main() {}
