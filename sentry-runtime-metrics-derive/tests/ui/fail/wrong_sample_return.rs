use sentry_runtime_metrics::MetricCollector;

#[derive(Clone, MetricCollector)]
struct Metrics {
    #[gauge(name = "app.queue.depth")]
    depth: u64,
}

impl Metrics {
    fn sample(&mut self) -> u64 {
        self.depth
    }
}

fn main() {}
