use sentry_runtime_metrics::MetricCollector;

#[derive(Clone, MetricCollector)]
struct Metrics {
    #[counter(name = "app.bytes_sent", unit = "byte", delta)]
    bytes_sent: u64,
}

fn main() {}
