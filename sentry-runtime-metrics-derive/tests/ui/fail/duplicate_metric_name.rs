use sentry_runtime_metrics::MetricCollector;

#[derive(Clone, MetricCollector)]
struct Metrics {
    #[gauge(name = "app.queue.depth")]
    depth: u64,
    #[counter(name = "app.queue.depth", delta)]
    processed: u64,
}

fn main() {}
