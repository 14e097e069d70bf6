use sentry_runtime_metrics::MetricCollector;

#[derive(Clone, MetricCollector)]
struct Metrics {
    #[gauge(name = "app.version")]
    version: String,
}

impl Metrics {
    fn sample(&mut self) {}
}

fn main() {}
