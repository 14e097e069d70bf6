use sentry_runtime_metrics::MetricCollector;

#[derive(Clone, MetricCollector)]
struct Metrics {
    #[gauge(name = "app.worker.load", attribute = "worker")]
    load: f64,
    #[distribution(name = "app.job.size")]
    size: u64,
}

impl Metrics {
    fn sample(&mut self) {}
}

fn main() {}
