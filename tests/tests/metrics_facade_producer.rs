//! A real third-party producer through the `metrics` facade bridge: metrics-process records
//! this process's metrics each round. A binary of its own: the resident set it reports is
//! compared with /proc's, which tests running alongside would move.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Tests fail loudly.

mod common;

use common::{is, metrics_in, named};
use sentry::ClientOptions;
use sentry::protocol::{MetricType as Sent, Unit as SentUnit};
use sentry_runtime_metrics::metrics_rs::Builder;

/// A real third-party producer: metrics-process records this process's metrics through the
/// facade each round, and its resident set arrives as a gauge in bytes, matching /proc.
#[test]
fn metrics_process_resident_memory_arrives_as_a_gauge_in_bytes() {
    let (recorder, recorded) = Builder::new().build();
    let integration = common::integration_of(vec![Box::new(recorded)]);
    let producer = metrics_process::Collector::default();
    let mut rss_at_collect = Vec::new();
    let envelopes = common::with_captured_envelopes_options(
        || {
            for _ in 0..2 {
                metrics::with_local_recorder(&recorder, || {
                    producer.describe();
                    producer.collect();
                });
                rss_at_collect.push(common::rss_kib() * 1024);
                integration.collect_now();
            }
        },
        ClientOptions::new().add_integration(integration.clone()),
    );
    let metrics = metrics_in(&envelopes);
    let rss = named(&metrics, "process_resident_memory_bytes");
    assert_eq!(rss.len(), 2, "one per round");
    for (sent, proc_rss) in rss.iter().zip(&rss_at_collect) {
        assert!(is(sent, Sent::Gauge));
        assert_eq!(sent.unit, Some(SentUnit::Byte));
        // Read a moment apart: within 4 MiB of /proc/self/status's VmRSS.
        let difference = (sent.value - *proc_rss as f64).abs();
        assert!(
            difference < 4.0 * 1024.0 * 1024.0,
            "sent {} vs /proc {proc_rss}",
            sent.value
        );
    }
}
