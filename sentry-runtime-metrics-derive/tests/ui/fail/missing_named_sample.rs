use sentry_runtime_metrics::MetricCollector;

#[derive(Clone, MetricCollector)]
#[collector(sample = "refresh")]
struct Metrics {
    #[gauge(name = "app.queue.depth")]
    depth: u64,
}

impl Metrics {
    fn sample(&mut self) {
        self.depth = 1;
    }
}

fn main() {}
