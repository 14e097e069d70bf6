//! What one series of the `metrics` facade bridge holds in memory, by kind:
//! `cargo run --release -p sentry-runtime-metrics-tests --example facade_memory`.
//!
//! Registers 1 000 series of each kind with a recorder of its own, records into them, runs the
//! collector's round twice (so its own lists and buffers exist), and prints the live heap that
//! grew, per series, from the tracking allocator (the handles' own memory not included).
#![allow(clippy::print_stdout, clippy::unwrap_used)] // A measurement prints; setup fails loudly.

use std::alloc::System;

use metrics::{counter, gauge, histogram};
use sentry_runtime_metrics::metrics_rs::Builder;
use sentry_runtime_metrics::{MetricCollector, TrackingAllocator};

#[global_allocator]
static ALLOCATOR: TrackingAllocator<System> = TrackingAllocator::new(System);

const SERIES: u64 = 1_000;

fn heap() -> u64 {
    TrackingAllocator::<System>::heap_allocated().unwrap()
}

fn main() {
    println!("{:<32} bytes per series", "kind");
    for kind in [
        "counter",
        "counter, 2 labels",
        "gauge, 2 labels",
        "histogram, 2 labels",
    ] {
        let (recorder, mut recorded) = Builder::new().build();
        let mut counters = Vec::new();
        let mut gauges = Vec::new();
        let mut histograms = Vec::new();
        counters.reserve(SERIES as usize);
        gauges.reserve(SERIES as usize);
        histograms.reserve(SERIES as usize);
        let before = heap();
        metrics::with_local_recorder(&recorder, || {
            for i in 0..SERIES {
                let name = format!("app.metric.{i:04}");
                match kind {
                    "counter" => counters.push(counter!(name)),
                    "counter, 2 labels" => {
                        counters.push(counter!(name, "route" => "/users", "status" => "200"))
                    }
                    "gauge, 2 labels" => {
                        gauges.push(gauge!(name, "route" => "/users", "status" => "200"))
                    }
                    _ => histograms.push(histogram!(name, "route" => "/users", "status" => "200")),
                }
            }
        });
        for _ in 0..2 {
            for counter in &counters {
                counter.increment(1);
            }
            for gauge in &gauges {
                gauge.set(1.0);
            }
            for histogram in &histograms {
                for value in 0..200 {
                    histogram.record(f64::from(value));
                }
            }
            // The round's metrics are handed to the SDK and dropped; only state remains.
            drop(recorded.collect_mut().unwrap());
        }
        let grown = heap().saturating_sub(before);
        println!("{kind:<32} {}", grown / SERIES);
    }
}
