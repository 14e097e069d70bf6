use sentry_runtime_metrics::{MetricCollector, RunningTotals};

// A `#[totals]` field of another type, a second one, and a counter flagged both ways.
#[derive(Clone, MetricCollector)]
struct Metrics {
    #[counter(name = "app.processed")]
    processed: u64,
    #[counter(name = "app.stalls", delta, began_earlier)]
    stalls: u64,
    #[totals]
    totals: u64,
    #[totals]
    more: RunningTotals,
}

impl Metrics {
    fn sample(&mut self) {}
}

fn main() {}
