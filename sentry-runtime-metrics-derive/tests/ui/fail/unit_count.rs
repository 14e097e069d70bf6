use sentry_runtime_metrics::MetricCollector;

#[derive(Clone, MetricCollector)]
struct Metrics {
    #[gauge(name = "app.queue.depth", unit = "count")]
    depth: u64,
    #[gauge(name = "app.queue.jobs", unit = "items")]
    jobs: u64,
    #[distribution(name = "app.batch.size", unit = "counts")]
    batch: Vec<u64>,
}

impl Metrics {
    fn sample(&mut self) {}
}

fn main() {}
