//! Sending checked metrics with the SDK's public metrics API, and the integration's debug log.

use std::any::Any;
use std::fmt;
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use sentry_core::Hub;
use sentry_core::metrics;
use sentry_core::protocol::Unit;

use crate::backoff;
use crate::{MetricType, RuntimeMetric, Tags};

/// The `sentry.origin` of every metric this crate sends, so they can be told from manual ones.
pub(crate) const ORIGIN: &str = "auto.runtime_metrics";

/// Most rounds sending pauses after the SDK's capture path panicked (the pause doubles from one
/// round with every panic; see [`backoff`]). The capture path runs the application's
/// `before_send_metric` hook: one that always panics must not do so for every metric of every
/// round.
const MAX_PAUSE_ROUNDS: u32 = 64;

/// Captures metrics, containing panics of the SDK's capture path: after one, the integration
/// stops sending for the rest of the round and pauses for 1, 2, 4 .. [`MAX_PAUSE_ROUNDS`]
/// rounds. The count starts over after twice that many rounds without a panic.
#[derive(Default)]
pub(crate) struct Capture {
    /// Pauses in a row; only changed by the thread that sets a pause.
    panics: AtomicU32,
    /// The round from which sending may resume.
    resumes_at: AtomicU64,
    /// The round of the last panic.
    last_panic: AtomicU64,
    reported: AtomicBool,
}

impl Capture {
    /// Captures `metric` unless sending is paused in `round`; false if it was not captured
    /// (paused, or the capture panicked and paused it).
    pub(crate) fn capture(
        &self,
        hub: &Hub,
        metric: RuntimeMetric,
        common: &Tags,
        round: u64,
    ) -> bool {
        let seen = self.resumes_at.load(Ordering::Acquire);
        if round < seen {
            return false;
        }
        let Err(payload) = catch_unwind(AssertUnwindSafe(|| capture(hub, metric, common))) else {
            return true;
        };
        // Threads that panic at once (the sampler and workers sending in the same round) are
        // one failure: only the one that moves `resumes_at` from what it saw counts it.
        let quiet_for = round.saturating_sub(self.last_panic.load(Ordering::Relaxed));
        let panics = if quiet_for > 2 * u64::from(MAX_PAUSE_ROUNDS) {
            1
        } else {
            self.panics.load(Ordering::Relaxed).saturating_add(1)
        };
        let pause = u64::from(backoff::rest_rounds(panics, MAX_PAUSE_ROUNDS));
        // The round in progress is `round` (completed rounds), so `round + 1 + pause` skips
        // the rest of this one and `pause` more.
        let resume = round.saturating_add(1 + pause).max(seen);
        if self
            .resumes_at
            .compare_exchange(seen, resume, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            self.panics.store(panics, Ordering::Relaxed);
            self.last_panic.store(round, Ordering::Relaxed);
        }
        if !self.reported.swap(true, Ordering::Relaxed) {
            debug(
                hub,
                format_args!(
                    "sending a metric panicked (in a `before_send_metric` hook?): {}; the \
                     integration stops sending for the round, and pauses 1, 2, 4 .. \
                     {MAX_PAUSE_ROUNDS} rounds after each such panic (reported once)",
                    panic_message(payload.as_ref())
                ),
            );
        }
        false
    }
}

/// The message of a panic payload.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("non-string panic payload")
}

/// Captures one checked metric on `hub`, with `common` attributes (the user's static attributes
/// and the origin) below the series' own.
pub(crate) fn capture(hub: &Hub, metric: RuntimeMetric, common: &Tags) {
    let RuntimeMetric {
        name,
        metric_type,
        value,
        unit,
        tags,
    } = metric;
    let value = value.as_f64();
    let attributes = common.iter().chain(tags.iter());
    macro_rules! with_attributes {
        ($metric:expr) => {{
            let mut metric = $metric;
            for (key, value) in attributes {
                metric = metric.attribute(key.clone(), value.clone());
            }
            metric
        }};
    }
    match metric_type {
        MetricType::Counter => hub.capture_metric(with_attributes!(metrics::counter(name, value))),
        MetricType::Gauge => {
            let mut gauge = metrics::gauge(name, value);
            if let Some(unit) = unit {
                gauge = gauge.unit(Unit::from(unit));
            }
            hub.capture_metric(with_attributes!(gauge));
        }
        MetricType::Distribution => {
            let mut distribution = metrics::distribution(name, value);
            if let Some(unit) = unit {
                distribution = distribution.unit(Unit::from(unit));
            }
            hub.capture_metric(with_attributes!(distribution));
        }
    }
}

/// Writes to stderr when the hub's client has `debug: true`, like the SDK's own `sentry_debug!`,
/// but for an explicit hub (the sampler thread's current hub is not the client's).
pub(crate) fn debug(hub: &Hub, message: fmt::Arguments<'_>) {
    if hub.client().is_some_and(|client| client.options().debug) {
        // The SDK's debug log is stderr. Not `eprintln!`, which panics when stderr is closed.
        let _ = writeln!(std::io::stderr(), "[sentry] [runtime-metrics] {message}");
    }
}
