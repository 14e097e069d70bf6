use sentry_runtime_metrics::MetricCollector;

#[derive(Clone, MetricCollector)]
struct Metrics {
    #[gauge(name = "app.pool.size")]
    size: u64,
    #[finished]
    closed: bool,
    #[finished]
    gone: bool,
    #[finished(soon)]
    later: bool,
}

impl Metrics {
    fn sample(&mut self) {}
}

#[derive(Clone, MetricCollector)]
struct NotABool {
    #[gauge(name = "app.pool.size")]
    size: u64,
    #[finished]
    closed: u8,
}

impl NotABool {
    fn sample(&mut self) {}
}

fn main() {}
