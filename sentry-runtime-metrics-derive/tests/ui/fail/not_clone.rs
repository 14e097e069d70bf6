use sentry_runtime_metrics::MetricCollector;

#[derive(MetricCollector)]
struct Metrics {
    #[gauge(name = "app.queue.depth")]
    depth: u64,
}

impl Metrics {
    fn sample(&mut self) {}
}

fn main() {}
