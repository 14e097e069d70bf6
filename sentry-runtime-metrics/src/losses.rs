//! Everything the integration counts, in one place: why a metric was lost ([`Loss`]), the
//! losses of one round by collector and reason ([`Tally`], sent as the
//! `runtime_metrics.dropped` counter), and the running totals users read in
//! [`RuntimeMetricsStats`]. The code that loses a metric only says so here, like sentry-core's
//! client reports, which record `(category, reason)` apart from the code that drops.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::metric::{MetricType, MetricValue, RuntimeMetric, Tags};
use crate::rules::Unsendable;

/// Name of the counter that reports metrics dropped by this integration, by `collector` and
/// `reason`.
pub(crate) const DROPPED_METRIC: &str = "runtime_metrics.dropped";

/// Why metrics were not sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Loss {
    /// Refused by the rules: Sentry would have dropped it.
    Unsendable(Unsendable),
    /// A counter whose increase was negative (Sentry counters only go up).
    NegativeCounter,
    /// Past the collector's bound in one round ([`Collected::max_metrics`](crate::Collected::max_metrics)).
    OverCap,
    /// Dropped by the collector itself, over a limit of its own ([`Collected::dropped`](crate::Collected::dropped)).
    CollectorLimit,
    /// The collector panicked, or rests after panicking: its round is lost.
    CollectorPanicked,
    /// The collector returned an error: its round is lost.
    CollectorFailed,
    /// The collector was still running (an earlier round, another `collect_now`) and was
    /// skipped.
    CollectorBusy,
    /// No thread could be started to run the collector.
    NoThread,
    /// The SDK's capture path panicked (a `before_send_metric` hook), or sending was paused
    /// after such a panic.
    CapturePanicked,
    /// The integration has no open client to send to (`collect_now` without one).
    NoClient,
}

impl Loss {
    /// The `reason` attribute of the `runtime_metrics.dropped` counter.
    pub(crate) fn reason(self) -> &'static str {
        match self {
            Loss::Unsendable(Unsendable::EmptyName) => "empty_name",
            Loss::Unsendable(Unsendable::LongName) => "long_name",
            Loss::Unsendable(Unsendable::NonFinite) => "non_finite_value",
            Loss::NegativeCounter => "negative_counter",
            Loss::OverCap => "over_cap",
            Loss::CollectorLimit => "collector_limit",
            Loss::CollectorPanicked => "collector_panicked",
            Loss::CollectorFailed => "collector_failed",
            Loss::CollectorBusy => "collector_busy",
            Loss::NoThread => "no_thread",
            Loss::CapturePanicked => "capture_panicked",
            Loss::NoClient => "no_client",
        }
    }

    /// Whether the loss can be reported as `runtime_metrics.dropped`: not when the reason is
    /// that nothing can be sent.
    fn reportable(self) -> bool {
        !matches!(self, Loss::CapturePanicked | Loss::NoClient)
    }
}

/// Metrics lost in one round (or one collector's part of it), by collector and reason.
#[derive(Debug, Default)]
pub(crate) struct Tally(BTreeMap<(&'static str, Loss), u64>);

impl Tally {
    pub(crate) fn add(&mut self, collector: &'static str, loss: Loss, metrics: u64) {
        if metrics > 0 {
            let count = self.0.entry((collector, loss)).or_default();
            // A collector's own count (`Collected::dropped`) can be anything: stop, never wrap.
            *count = count.saturating_add(metrics);
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Moves `other`'s losses into this tally.
    pub(crate) fn merge(&mut self, other: Tally) {
        for ((collector, loss), metrics) in other.0 {
            self.add(collector, loss, metrics);
        }
    }

    /// Every metric lost.
    pub(crate) fn total(&self) -> u64 {
        self.0.values().fold(0, |total, n| total.saturating_add(*n))
    }

    /// The `runtime_metrics.dropped` counters that report this tally.
    pub(crate) fn report(&self) -> Vec<RuntimeMetric> {
        self.0
            .iter()
            .filter(|((_, loss), _)| loss.reportable())
            .map(|((collector, loss), metrics)| {
                #[allow(clippy::cast_precision_loss)] // Counts far below 2^53.
                RuntimeMetric {
                    name: Cow::Borrowed(DROPPED_METRIC),
                    metric_type: MetricType::Counter,
                    value: MetricValue::Float(*metrics as f64),
                    unit: None,
                    tags: Tags::from([
                        (Cow::Borrowed("collector"), Cow::Borrowed(*collector)),
                        (Cow::Borrowed("reason"), Cow::Borrowed(loss.reason())),
                    ]),
                }
            })
            .collect()
    }
}

/// What the integration has done so far, for users who want to see that nothing is lost on its
/// side.
///
/// It counts up to the SDK: a metric handed to the SDK (`capture_metric`) is the SDK's from
/// then on, batched and sent by its transport. What happens to it there (a failed or
/// rate-limited request, a full transport queue) shows in the SDK's own debug log
/// (`ClientOptions::debug`) and in the client reports it sends to Sentry
/// (`ClientOptions::send_client_reports`), not here.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RuntimeMetricsStats {
    /// Completed collection rounds (background and `collect_now`).
    pub rounds: u64,
    /// Metrics handed to the SDK (`capture_metric`), to be batched and sent by its transport;
    /// not a count of what reached Sentry (the `runtime_metrics.dropped` reports not included).
    pub metrics_handed_to_sdk: u64,
    /// Metrics dropped: empty or over-long name, NaN or infinite value, negative counter
    /// increase, over the per-collector cap, dropped by a collector over a limit of its own
    /// ([`Collected::dropped`](crate::Collected::dropped)), lost with a collector round that panicked,
    /// failed, was skipped or found no thread to run on (counted as the metrics that collector
    /// sent in its last good round), not sent because the SDK's capture path (a
    /// `before_send_metric` hook) panicked or sending was paused after such a panic, or
    /// collected by `collect_now` without an open client to send to. Each drop is also sent,
    /// by collector and reason, as the `runtime_metrics.dropped` counter, except the last two
    /// kinds, which have no client to go to (and counter increases of those rounds are lost).
    pub metrics_dropped: u64,
    /// Metrics sent in a corrected form (name rewritten, unknown unit stripped, attributes cut).
    pub metrics_corrected: u64,
    /// Collector rounds that panicked or returned an error.
    pub collector_failures: u64,
    /// Times a round skipped a collector because it was still running: its previous background
    /// run had not returned (it is slower than the collection interval, or waited for a free
    /// worker), or another `collect_now` was running it. That run sends when it returns. Built-in collectors are counted too (they are only
    /// ever skipped at intervals of a few milliseconds on a busy machine).
    pub collector_skips: u64,
    /// Configured attributes (`RuntimeMetricsConfig::attributes`) dropped (an invalid key, over
    /// 32) or cut (a value over 200 bytes) when the integration was created.
    pub attributes_corrected: u64,
    /// Collectors registered now: the built-in memory, process and container collectors (one,
    /// `built-in`, as they are sampled together), each custom one and each Tokio runtime (one
    /// that finished, such as a runtime that shut down, is removed).
    pub collectors: u64,
}

/// The running totals behind [`RuntimeMetricsStats`].
#[derive(Debug, Default)]
pub(crate) struct Stats {
    rounds: AtomicU64,
    sent: AtomicU64,
    dropped: AtomicU64,
    corrected: AtomicU64,
    failures: AtomicU64,
    skips: AtomicU64,
    attributes_corrected: AtomicU64,
}

impl Stats {
    /// The completed rounds; also the number of the round in progress.
    pub(crate) fn rounds(&self) -> u64 {
        self.rounds.load(Ordering::Relaxed)
    }

    /// Counts a completed round; returns its number (the rounds completed so far).
    pub(crate) fn round_completed(&self) -> u64 {
        self.rounds.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub(crate) fn sent(&self, metrics: u64) {
        self.sent.fetch_add(metrics, Ordering::Relaxed);
    }

    pub(crate) fn corrected(&self, metrics: u64) {
        self.corrected.fetch_add(metrics, Ordering::Relaxed);
    }

    pub(crate) fn collectors_failed(&self, runs: u64) {
        self.failures.fetch_add(runs, Ordering::Relaxed);
    }

    pub(crate) fn collectors_skipped(&self, runs: u64) {
        self.skips.fetch_add(runs, Ordering::Relaxed);
    }

    pub(crate) fn attributes_corrected(&self, attributes: u64) {
        self.attributes_corrected
            .fetch_add(attributes, Ordering::Relaxed);
    }

    /// Counts what `tally` lost.
    pub(crate) fn lost(&self, tally: &Tally) {
        self.dropped.fetch_add(tally.total(), Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self, collectors: usize) -> RuntimeMetricsStats {
        RuntimeMetricsStats {
            rounds: self.rounds.load(Ordering::Relaxed),
            metrics_handed_to_sdk: self.sent.load(Ordering::Relaxed),
            metrics_dropped: self.dropped.load(Ordering::Relaxed),
            metrics_corrected: self.corrected.load(Ordering::Relaxed),
            collector_failures: self.failures.load(Ordering::Relaxed),
            collector_skips: self.skips.load(Ordering::Relaxed),
            attributes_corrected: self.attributes_corrected.load(Ordering::Relaxed),
            collectors: collectors as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tally_reports_what_can_be_reported_and_counts_everything() {
        let mut tally = Tally::default();
        tally.add("a", Loss::OverCap, 3);
        tally.add("a", Loss::OverCap, 2);
        tally.add("b", Loss::NoClient, 7);
        tally.add("b", Loss::CollectorBusy, 0);
        let mut other = Tally::default();
        other.add("b", Loss::Unsendable(Unsendable::NonFinite), 1);
        tally.merge(other);
        assert_eq!(tally.total(), 13);
        let report: Vec<(String, f64)> = tally
            .report()
            .into_iter()
            .map(|m| {
                (
                    format!("{}/{}", m.tags["collector"], m.tags["reason"]),
                    m.value.as_f64(),
                )
            })
            .collect();
        assert_eq!(
            report,
            [
                ("a/over_cap".into(), 5.0),
                ("b/non_finite_value".into(), 1.0)
            ]
        );
        let stats = Stats::default();
        stats.lost(&tally);
        assert_eq!(stats.snapshot(0).metrics_dropped, 13);
    }
}
