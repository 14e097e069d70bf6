use sentry_runtime_metrics::MetricCollector;

#[derive(Clone, Default, MetricCollector)]
struct Queue {
    #[gauge(name = "depth.max")]
    depth: u64,
}

impl Queue {
    fn sample(&mut self) {}
}

#[derive(Clone, Default, MetricCollector)]
struct Depth {
    #[gauge(name = "max")]
    max: u64,
}

impl Depth {
    fn sample(&mut self) {}
}

/// `app.` + `depth.max` and `app.depth.` + `max` are both `app.depth.max`.
#[derive(Clone, Default, MetricCollector)]
struct Service {
    #[gauge(name = "app.workers")]
    workers: u64,
    #[flatten(prefix = "app.")]
    queue: Queue,
    #[flatten(prefix = "app.depth.")]
    depth: Depth,
}

impl Service {
    fn sample(&mut self) {}
}

/// A flattened name that is one of the struct's own metric names.
#[derive(Clone, Default, MetricCollector)]
struct Shadowing {
    #[gauge(name = "pool.max")]
    max: u64,
    #[flatten(prefix = "pool.")]
    depth: Depth,
}

impl Shadowing {
    fn sample(&mut self) {}
}

fn main() {}
