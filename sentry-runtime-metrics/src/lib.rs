//! Runtime health metrics for Sentry: memory, CPU, threads, file descriptors, container limits
//! and pressure, and async-runtime health, collected on a background thread and sent with
//! Sentry's Application Metrics API.
//!
//! # Configuration
//!
//! [`RuntimeMetricsConfig`] says how often to collect and what: built-in memory, process,
//! container (Linux cgroups and pressure) and async-runtime collectors (by cargo feature), your
//! own collectors, and attributes for every metric. `..Default::default()` fills the rest (10 s,
//! memory, process and container on).
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use sentry::ClientOptions;
//! use sentry_runtime_metrics::{RuntimeMetricsConfig, RuntimeMetricsIntegration};
//!
//! let _guard = sentry::init(ClientOptions::new().add_integration(
//!     RuntimeMetricsIntegration::new(RuntimeMetricsConfig {
//!         collection_interval: Duration::from_secs(10),
//!         ..Default::default()
//!     }),
//! ));
//! ```
//!
//! # Custom collectors
//!
//! Derive [`MetricCollector`] on a struct whose fields carry `#[gauge]`, `#[counter]` or
//! `#[distribution]`, filled by a `sample` method:
//!
//! ```
//! use sentry_runtime_metrics::MetricCollector;
//!
//! /// Health of the work queue.
//! #[derive(Clone, Default, MetricCollector)]
//! #[collector(name = "work-queue")]
//! struct QueueMetrics {
//!     /// Jobs waiting to run.
//!     #[gauge(name = "app.queue.depth")]
//!     depth: u64,
//!     /// Bytes held by waiting jobs.
//!     #[gauge(name = "app.queue.bytes", unit = "byte")]
//!     bytes: u64,
//!     /// Jobs finished since start: a running total, sent as what it grew by.
//!     #[counter(name = "app.queue.processed")]
//!     processed: u64,
//!     /// Where the derive keeps the last total of each counter.
//!     #[totals]
//!     totals: sentry_runtime_metrics::RunningTotals,
//!     /// Not a metric: unannotated fields are state the sample method may use.
//!     source: std::sync::Arc<std::sync::atomic::AtomicU64>,
//! }
//!
//! impl QueueMetrics {
//!     fn sample(&mut self) {
//!         self.depth = self.source.load(std::sync::atomic::Ordering::Relaxed);
//!         self.bytes = self.depth * 512;
//!         self.processed += 1;
//!     }
//! }
//!
//! let metrics = QueueMetrics::default().collect();
//! assert_eq!(metrics.len(), 3);
//! assert_eq!(metrics[1].unit.as_deref(), Some("byte"));
//! ```
//!
//! The attribute language (units, labelled series, nested collectors, fallible sampling) is
//! documented on the [derive macro](derive@MetricCollector).
//!
//! # The `metrics` facade
//!
//! With the `metrics-rs` feature, [`metrics_rs`] is a recorder for the `metrics` crate: what
//! `metrics::counter!`, `gauge!` and `histogram!` record, in your code or your dependencies,
//! is sent by the integration's rounds, through a collector like any other.
//!
//! # How it behaves
//!
//! - A background thread keeps time; collectors run on worker threads (the built-in ones
//!   together, each of yours on its own), so a slow collector delays only itself. Nothing runs
//!   at init: `sentry::init`, [`add_collector`](RuntimeMetricsIntegration::add_collector) and
//!   `register_tokio_runtime` never wait for a collector.
//! - A counter a collector returns is the increase to send ([`RunningTotals`] turns running
//!   totals into increases, and the derive does it for `#[counter]` fields); a counter that did
//!   not move is not sent.
//! - Metrics go to the integration's own client, the one created last with this handle: a new
//!   `sentry::init` with a clone of the handle moves collection to the new client.
//!   [`collect_now`](RuntimeMetricsIntegration::collect_now) sends there too, whatever hub the
//!   calling thread is in, with a scope of its own (no request's user, span or trace).
//! - What Sentry would drop or rewrite is dropped or fixed first, and counted
//!   ([`RuntimeMetricsStats`], the `runtime_metrics.dropped` counter).
//! - When the program ends, a [`LastRoundGuard`] (declared after the `sentry::init` guard) runs
//!   a last round, so the increases of the last interval are sent too.
//! - A Tokio runtime registered again (by name, or the same runtime under another name)
//!   replaces the earlier registration; one that shut down is removed, like any collector whose
//!   run says it [`finished`](Collected::finished).

// Lets the built-in collectors use this crate's own derive, whose output names
// `::sentry_runtime_metrics`.
extern crate self as sentry_runtime_metrics;

mod backoff;
mod binding;
mod collector;
pub mod collectors;
mod config;
mod debug_log;
mod descriptor;
mod engine;
mod environment_report;
mod integration;
mod local_view;
mod losses;
mod metric;
#[cfg(feature = "metrics-rs")]
pub mod metrics_rs;
mod rules;
pub mod running_totals;
mod sampler;
mod sync;
// The platform layer serves the memory and process collectors; with one of their features off,
// part of it has no caller.
#[cfg(any(feature = "memory", feature = "process"))]
#[cfg_attr(not(all(feature = "memory", feature = "process")), allow(dead_code))]
mod sys;
mod tracking_alloc;

#[doc(hidden)]
#[path = "private/mod.rs"]
pub mod __private;

pub use collector::{CollectError, Collected, MAX_METRICS_PER_COLLECTOR, MetricCollector};
pub use config::RuntimeMetricsConfig;
pub use descriptor::{DescribeMetrics, MetricDescriptor};
pub use environment_report::{EnvironmentReport, NotSent};
pub use integration::{
    LAST_ROUND_WAIT, LastRoundGuard, MIN_COLLECTION_INTERVAL, RuntimeMetricsIntegration,
};
pub use local_view::LocalView;
pub use losses::RuntimeMetricsStats;
pub use metric::{MetricType, MetricValue, RuntimeMetric, Tags};
pub use running_totals::{Began, RunningTotals, Total};
pub use tracking_alloc::TrackingAllocator;

/// Derives [`MetricCollector`](trait@MetricCollector) and [`DescribeMetrics`] for a struct.
///
/// The full reference (every attribute key, accepted field types, units, and how to read the
/// generated code with `cargo expand`) is in the
/// [`sentry-runtime-metrics-derive` docs](https://docs.rs/sentry-runtime-metrics-derive).
pub use sentry_runtime_metrics_derive::MetricCollector;
