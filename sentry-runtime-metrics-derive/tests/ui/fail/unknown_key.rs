use sentry_runtime_metrics::MetricCollector;

#[derive(Clone, MetricCollector)]
#[collector(title = "queue")]
struct Metrics {
    #[gauge(nmae = "app.depth")]
    depth: u64,
    #[distribution(name = "app.sizes", attribute = "worker")]
    sizes: Vec<u64>,
    #[gauge(name = "app.delta", delta)]
    delta: u64,
    #[flatten(prefx = "app.")]
    nested: u64,
}

fn main() {}
