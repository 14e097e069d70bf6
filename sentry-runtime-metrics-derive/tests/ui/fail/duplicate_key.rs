use sentry_runtime_metrics::MetricCollector;

#[derive(Clone, MetricCollector)]
#[collector(name = "a", name = "b")]
struct Metrics {
    #[gauge(name = "app.depth", unit = "byte", name = "app.depth2")]
    depth: u64,
    #[counter(name = "app.done", delta, delta)]
    done: u64,
}

fn main() {}
