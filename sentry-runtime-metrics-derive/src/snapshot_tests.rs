//! Expansion snapshots: what `cargo expand` shows for three representative structs. A reviewer
//! reads `src/snapshots/*.snap` to see the generated code; a change to the output shows up there.

use syn::{DeriveInput, parse_quote};

fn expand(input: DeriveInput) -> String {
    let tokens = crate::derive(&input);
    let file: syn::File = match syn::parse2(tokens.clone()) {
        Ok(file) => file,
        Err(err) => panic!("expansion is not valid Rust ({err}):\n{tokens}"),
    };
    prettyplease::unparse(&file)
}

#[test]
fn queue_metrics_from_the_docs() {
    insta::assert_snapshot!(expand(parse_quote! {
        /// Health of the work queue.
        #[derive(Clone, Default, MetricCollector)]
        #[collector(name = "work-queue")]
        struct QueueMetrics {
            /// Jobs waiting to run.
            #[gauge(name = "app.queue.depth")]
            depth: u64,
            /// Bytes held by waiting jobs.
            #[gauge(name = "app.queue.bytes", unit = "byte")]
            bytes: u64,
            /// Jobs finished since start: a running total, sent as what it grew by.
            #[counter(name = "app.queue.processed")]
            processed: u64,
            /// Where the derive keeps the last total of each counter.
            #[totals]
            totals: sentry_runtime_metrics::RunningTotals,
            /// Not a metric: unannotated fields are state the sample method may use.
            source: std::sync::Arc<std::sync::atomic::AtomicU64>,
        }
    }));
}

#[test]
fn per_worker_series_durations_and_distributions() {
    insta::assert_snapshot!(expand(parse_quote! {
        #[derive(Clone, MetricCollector)]
        #[collector(sample = "refresh")]
        struct SchedulerMetrics {
            /// Time each worker spent busy this round.
            #[gauge(name = "app.worker.busy", unit = "ms", attribute = "worker")]
            busy: Vec<std::time::Duration>,
            /// Polls per worker (running totals).
            #[counter(name = "app.worker.polls", attribute = "worker")]
            polls: Vec<u64>,
            /// The host's stall time, counting since boot.
            #[counter(name = "app.host.stall_time", began_earlier)]
            host_stall: Option<u64>,
            #[totals]
            totals: sentry_runtime_metrics::RunningTotals,
            /// How long each probe waited before it ran.
            #[distribution(name = "app.probe.delay", unit = "second")]
            probe_delays: Vec<std::time::Duration>,
            /// Only known on some platforms.
            #[gauge(name = "app.open_files")]
            open_files: Option<u64>,
        }
    }));
}

#[test]
fn generic_nested_collector_with_prefix_and_delta() {
    insta::assert_snapshot!(expand(parse_quote! {
        #[derive(Clone, MetricCollector)]
        struct PoolMetrics<Inner: Clone + Send> {
            /// Connections created since the previous round.
            #[counter(name = "app.pool.created", delta)]
            created: u32,
            /// The connection pool's own collector.
            #[flatten(prefix = "app.pool.")]
            inner: Inner,
        }
    }));
}
