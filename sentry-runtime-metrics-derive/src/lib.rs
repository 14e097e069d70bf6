//! `#[derive(MetricCollector)]` for [sentry-runtime-metrics].
//!
//! Use it through `sentry_runtime_metrics::MetricCollector`, which brings both the trait and this
//! derive into scope (like serde's `Serialize`). Depending on this crate directly is never needed.
//!
//! [sentry-runtime-metrics]: https://docs.rs/sentry-runtime-metrics
//!
//! # Example
//!
//! ```
//! use sentry_runtime_metrics::{MetricCollector, RunningTotals};
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
//!     totals: RunningTotals,
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
//! ```
//!
//! The derive calls the struct's `sample` method, then turns every annotated field into a
//! `RuntimeMetric`. `collect_mut(&mut self)`, which the integration calls every round, samples
//! in place, so state kept by the sample method carries over to the next round;
//! `collect(&self)` samples a clone (so the struct must be `Clone`).
//!
//! # Counters
//!
//! Sentry sums counter values, so each round sends what a counter grew by. A `#[counter]` field
//! holds a running total (the default), and the derive sends the increase since the previous
//! round, keeping each total in the struct's `#[totals]` field (a `RunningTotals`, which the
//! build asks for when a counter needs it). What the first round sends depends on where the
//! total began:
//!
//! - from zero, with the process, the collector or the series (a count the application keeps,
//!   CPU time of this process): all of it, since all of it happened and was never sent (the
//!   default);
//! - before this process could look (a host's or a cgroup's total): nothing; it is recorded,
//!   and later rounds send what it grew by (`began_earlier`).
//!
//! A total that goes down was reset: the new total is sent. Labelled series are kept per label
//! (the map key as displayed, or the index in a sequence): give each series its own label and
//! keep it, since two entries shown alike, or a sequence whose entries move, would mix their
//! totals. A series not seen for 60 rounds is forgotten, and seen again, its first round is
//! like any first round. Nested (`#[flatten]`) collectors run before any total is recorded, so
//! a round that fails leaves the totals for the next one to send what they grew by. A field marked `delta` holds the increase itself (the sample method counts it, or
//! computes it with its own `RunningTotals`) and is sent as it is. A counter that did not move
//! is not sent.
//!
//! # Attributes
//!
//! On the struct:
//!
//! | Key | Accepts | Default | Example |
//! |-----|---------|---------|---------|
//! | `name` | string: what `MetricCollector::name()` returns | the struct's name in kebab-case | `#[collector(name = "work-queue")]` |
//! | `sample` | string: the method called before each collection | `"sample"` | `#[collector(sample = "refresh")]` |
//!
//! On fields (one of these per field; a field without any is plain state; at most one
//! `#[attributes]`, one `#[finished]` and one `#[totals]` field):
//!
//! | Attribute | Key | Accepts | Example |
//! |-----------|-----|---------|---------|
//! | `#[gauge]` | `name` (required) | `[A-Za-z0-9_.]+`, unique in the collector | `#[gauge(name = "app.queue.depth")]` |
//! | | `unit` | a unit Sentry knows (below); required for `Duration` | `#[gauge(name = "app.queue.bytes", unit = "byte")]` |
//! | | `attribute` | attribute key: one series per entry of a `Vec`, array or map | `#[gauge(name = "app.worker.load", attribute = "worker")]` |
//! | `#[counter]` | `name` (required) | as for gauges; the field holds a running total, the round sends its increase | `#[counter(name = "app.queue.processed")]` |
//! | | `attribute` | as for gauges | `#[counter(name = "app.worker.polls", attribute = "worker")]` |
//! | | `began_earlier` | flag: the total began before this process could see it (a host's, a cgroup's); the first round sends nothing | `#[counter(name = "app.host.stalls", began_earlier)]` |
//! | | `delta` | flag: the field holds the increase since the last round, sent as it is | `#[counter(name = "app.retries", delta)]` |
//! | `#[distribution]` | `name` (required) | as for gauges | `#[distribution(name = "app.job.size")]` |
//! | | `unit` | as for gauges | `#[distribution(name = "app.job.wait", unit = "millisecond")]` |
//! | `#[flatten]` | `prefix` | prepended to every metric name of a nested collector | `#[flatten(prefix = "app.pool.")]` |
//! | `#[attributes]` | (none) | a `Tags` map added to every metric of this collector instance (keys the series already has win) | `#[attributes] labels: Tags` |
//! | `#[finished]` | (none) | a `bool` the sample method sets once the collector is done for good (what it reads is gone); the collection says so (`Collected::finished`) and the integration removes the collector | `#[finished] gone: bool` |
//! | `#[totals]` | (none) | a `RunningTotals` where the derive keeps the last total of each counter field that holds one | `#[totals] totals: RunningTotals` |
//!
//! Field types:
//!
//! - `#[gauge]` and `#[counter]`: every integer type, `f32`, `f64`, `bool` (sent as 0 or 1),
//!   `std::time::Duration` (converted to the field's time unit, which is then required), the
//!   atomic integers and `AtomicBool` behind an `Arc` (`Arc<AtomicU64>` shared with the code
//!   that counts, read with a relaxed load; a bare atomic is not `Clone`, which the derive
//!   needs), and `Option` or `Arc` of these (`None` is not sent that round). With `attribute`, a `Vec`, `VecDeque`,
//!   slice, array (the index is the attribute value), `BTreeMap` or `HashMap` (the key, through
//!   `Display`) of those.
//! - `#[distribution]`: a `Vec`, `VecDeque`, slice or array of those; each value is one sample.
//! - `#[flatten]`: another type deriving `MetricCollector`; it samples itself. Its metric
//!   names, behind the prefix, must differ from every other field's: two that would send the same
//!   name fail the build, naming both ways to the name (for a generic field, once the type is
//!   known).
//! - `#[finished]`: `bool`.
//! - `#[totals]`: `sentry_runtime_metrics::RunningTotals` (`RunningTotals::new()` or `Default`).
//!
//! Units: `nanosecond`, `microsecond`, `millisecond`, `second`, `minute`, `hour`, `day`, `week`,
//! `bit`, `byte`, `kilobyte`, `kibibyte`, `megabyte`, `mebibyte`, `gigabyte`, `gibibyte`,
//! `terabyte`, `tebibyte`, `petabyte`, `pebibyte`, `exabyte`, `exbibyte`, `ratio`, `percent`,
//! and the aliases sentry-types accepts (`ms`, `bytes`, `MiB`, `%`, ...). Counters take no unit:
//! Sentry's counters are unitless. A number of things (`count`, `items`, requests) takes none
//! either: leave `unit` out.
//!
//! Doc comments on metric fields become the metrics' descriptions in
//! `DescribeMetrics::describe()`, which lists every metric a collector can send without sampling.
//!
//! # The sample method
//!
//! `fn sample(&mut self)` or `fn sample(&mut self) -> Result<(), E>` with `E: Display`. When it
//! returns an error, the collector sends nothing that round and `collect_mut` returns the error
//! (a `CollectError` naming the collector); the integration reports it through the SDK's debug
//! log, and `collect(&self)` logs it the same way and returns no metrics. The running totals are
//! not touched then: the next good round sends what they grew by since the last good one.
//! `#[collector(sample = "refresh")]` names another method. A struct without the method fails
//! the build with "`Metrics` has no sample method", pointing at the derive and the struct (or
//! at the `sample = ".."` that names a missing method). (A misspelled method gets the
//! same error: the compiler's own "a method with a similar name" is not used, because in a
//! user's crate it also lists every trait with a `sample` item, rand's among them, and points
//! into this library's source.)
//!
//! # Reading the generated code
//!
//! Run `cargo expand --example NAME` (or `cargo expand path::to::module`, after
//! `cargo install cargo-expand`). For each struct you will see a `const _: () = { .. };` block
//! holding the `MetricCollector` and `DescribeMetrics` impls, with one line per metric calling
//! small helpers of `sentry_runtime_metrics::__private`. The snapshots under
//! `sentry-runtime-metrics-derive/src/snapshots/` show exactly that output for three
//! representative structs.
//!
//! Mistakes are compile errors that point at the offending token and say how to fix them; every
//! mistake of one struct is reported in the same compile.

mod ast;
mod attr;
mod collector_name;
mod ctxt;
mod expand;
mod fallback;
mod fields;
mod names;
mod sample;
mod span;
mod syntax;
mod units;
mod valid;

#[cfg(test)]
mod snapshot_tests;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

/// Derives `MetricCollector` and `DescribeMetrics` for a struct; see the crate docs.
#[proc_macro_derive(
    MetricCollector,
    attributes(
        collector,
        gauge,
        counter,
        distribution,
        flatten,
        attributes,
        finished,
        totals
    )
)]
pub fn derive_metric_collector(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    derive(&input).into()
}

/// The derive on a parsed input, shared with the snapshot tests.
fn derive(input: &DeriveInput) -> proc_macro2::TokenStream {
    let cx = ctxt::Ctxt::new();
    let parsed = ast::Input::from_syn(&cx, input);
    if let Some(parsed) = &parsed {
        valid::check(&cx, parsed);
    }
    match (cx.check(), parsed) {
        (Ok(()), Some(parsed)) => expand::derive(&parsed),
        (Err(error), _) => fallback::expand(input, error),
        (Ok(()), None) => unreachable_input(input),
    }
}

fn unreachable_input(input: &DeriveInput) -> proc_macro2::TokenStream {
    // `from_syn` returns `None` only after recording an error; keep a message just in case.
    fallback::expand(
        input,
        syn::Error::new_spanned(
            &input.ident,
            "derive(MetricCollector) could not read this item",
        ),
    )
}
