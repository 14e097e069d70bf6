use sentry_runtime_metrics::MetricCollector;

#[derive(Clone, MetricCollector)]
struct Metrics {
    #[gauge(name = "app.queue.bytes", unit = "bytes_")]
    bytes: u64,
    #[distribution(name = "app.wait", unit = "secs")]
    wait: Vec<f64>,
}

fn main() {}
