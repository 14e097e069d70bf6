use sentry_runtime_metrics::MetricCollector;

#[derive(Clone, MetricCollector)]
struct Metrics {
    #[gauge(name = "app.queue.depth")]
    depth: u64,
}

impl Metrics {
    fn sampel(&mut self) {
        self.depth = 1;
    }
}

fn main() {}
