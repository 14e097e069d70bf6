//! With the `jemalloc` feature and `TrackingAllocator<Jemalloc>` as the global allocator, both
//! the memory and the jemalloc collector could send `runtime.memory.heap_allocated`: one series,
//! two values a round. jemalloc's own figure wins; the memory collector leaves it out.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Tests fail loudly.

mod common;

use common::with_captured_envelopes_options;
use sentry::ClientOptions;
use sentry_runtime_metrics::collectors::JemallocMetrics;
use sentry_runtime_metrics::{RuntimeMetricsConfig, RuntimeMetricsIntegration, TrackingAllocator};
use tikv_jemallocator::Jemalloc;

#[global_allocator]
static ALLOCATOR: TrackingAllocator<Jemalloc> = TrackingAllocator::new(Jemalloc);

#[test]
fn one_heap_series_a_round_from_jemalloc() {
    assert!(JemallocMetrics::jemalloc_is_global(), "behind the tracker");
    assert!(
        TrackingAllocator::<Jemalloc>::heap_allocated().is_some(),
        "the tracker counts"
    );
    let integration = RuntimeMetricsIntegration::new(RuntimeMetricsConfig {
        collect_process: false,
        collect_async_runtime: false,
        ..Default::default()
    });
    let options = ClientOptions::new().add_integration(integration.clone());
    let envelopes = with_captured_envelopes_options(
        || {
            integration.collect_now();
            integration.collect_now();
        },
        options,
    );
    let metrics = common::metrics_in(&envelopes);
    let heap = common::named(&metrics, "runtime.memory.heap_allocated");
    assert_eq!(heap.len(), 2, "one per round: {heap:#?}");
    // jemalloc's figure (its `stats.active` is at least what it allocated), not the tracker's.
    let active = common::values(&metrics, "runtime.memory.jemalloc.active");
    assert!(
        heap.iter().zip(&active).all(|(h, a)| h.value <= *a),
        "{heap:?} {active:?}"
    );
    // The tracker's allocation count still comes from the memory collector.
    assert_eq!(
        common::named(&metrics, "runtime.memory.allocations").len(),
        2
    );
}
