use sentry_runtime_metrics::MetricCollector;

#[derive(Clone, MetricCollector)]
struct Metrics {
    #[counter(name = "app.processed")]
    processed: u64,
    #[totals]
    totals: u64,
}

impl Metrics {
    fn sample(&mut self) {}
}

fn main() {}
