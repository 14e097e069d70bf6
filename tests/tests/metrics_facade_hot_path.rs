//! The `metrics` facade bridge's hot path allocates nothing: updates of registered handles, and
//! macro calls with literal names and labels that find an existing series. Counted by the
//! `TrackingAllocator` as the global allocator (a binary with one test, so nothing else
//! allocates meanwhile).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Tests fail loudly.

use std::alloc::System;
use std::hint::black_box;

use metrics::{counter, gauge, histogram};
use sentry_runtime_metrics::metrics_rs::Builder;
use sentry_runtime_metrics::{MetricCollector, TrackingAllocator};

#[global_allocator]
static ALLOCATOR: TrackingAllocator<System> = TrackingAllocator::new(System);

fn allocations() -> u64 {
    TrackingAllocator::<System>::allocations().unwrap()
}

#[test]
fn updates_and_lookups_of_existing_series_do_not_allocate() {
    let (recorder, mut recorded) = Builder::new().max_series(3).build();
    metrics::with_local_recorder(&recorder, || {
        let requests = counter!("http.requests", "route" => "/users");
        let in_flight = gauge!("http.in_flight");
        let latency = histogram!("http.duration", "route" => "/users");
        // Past the limit: a refused series' handle counts its updates, also without allocating.
        let refused = counter!("refused");

        let before = allocations();
        for i in 0..10_000u32 {
            requests.increment(1);
            requests.absolute(u64::from(i));
            in_flight.set(f64::from(i));
            in_flight.increment(1.0);
            latency.record(f64::from(i));
            latency.record_many(1.0, 3);
            refused.increment(1);
            // The macros find the series again by its static key.
            counter!("http.requests", "route" => "/users").increment(1);
            let _found = black_box(histogram!("http.duration", "route" => "/users"));
        }
        let made = allocations() - before;
        assert_eq!(made, 0, "{made} allocations in 10 000 rounds of updates");
    });
    // The updates arrived (the handles were real).
    let collected = recorded.collect_mut().unwrap();
    let counted = collected
        .metrics
        .iter()
        .find(|m| m.name == "http.duration.count")
        .unwrap();
    assert_eq!(counted.value.as_f64(), 40_000.0);
    assert_eq!(collected.dropped, 10_000);
}
