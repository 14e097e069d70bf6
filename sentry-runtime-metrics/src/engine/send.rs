//! Handing checked metrics to the SDK: on the integration's own client, with a scope of its own
//! (so a metric never carries a request's user, span or trace, whatever hub the caller is in),
//! the configured attributes and `sentry.origin`, containing panics of the SDK's capture path.
//!
//! That path runs the application's `before_send_metric` hook. After it panics, sending stops
//! for the rest of the round and pauses for 1, 2, 4 .. [`MAX_PAUSE_ROUNDS`] rounds (each panic
//! runs the application's panic hook, which sentry-panic reports as an error): one that always
//! panics must not do so for every metric of every round. The count starts over after twice that
//! many rounds without a panic.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use sentry_core::protocol::Unit;
use sentry_core::{Client, Scope, metrics};

use crate::backoff;
use crate::debug_log::{DebugLog, panic_message};
use crate::metric::{MetricType, RuntimeMetric, Tags};
use crate::rules::MAX_ATTRIBUTES;

/// The `sentry.origin` of every metric this crate sends, so they can be told from manual ones.
pub(crate) const ORIGIN: &str = "auto.runtime_metrics";

/// Most rounds sending pauses after the SDK's capture path panicked.
const MAX_PAUSE_ROUNDS: u32 = 64;

/// Sends metrics to a client.
pub(crate) struct Sender {
    /// Empty: its only content is a trace id of its own (the SDK gives every metric one).
    scope: Scope,
    /// The configured attributes (checked) and `sentry.origin`, below each series' own.
    common: Tags,
    /// Pauses in a row; only changed by the thread that sets a pause.
    panics: AtomicU32,
    /// The round from which sending may resume.
    resumes_at: AtomicU64,
    /// The round of the last panic.
    last_panic: AtomicU64,
    reported: AtomicBool,
}

impl Sender {
    pub(crate) fn new(mut common: Tags) -> Self {
        common.insert("sentry.origin".into(), ORIGIN.into());
        Sender {
            scope: Scope::default(),
            common,
            panics: AtomicU32::new(0),
            resumes_at: AtomicU64::new(0),
            last_panic: AtomicU64::new(0),
            reported: AtomicBool::new(false),
        }
    }

    /// How many attributes of its own a metric may carry: the configured ones count towards
    /// the limit, which applies to the attributes sent (`sentry.origin`, like the attributes the
    /// SDK adds, is Sentry's own and does not).
    pub(crate) fn attribute_room(&self) -> usize {
        MAX_ATTRIBUTES.saturating_sub(self.common.len() - 1)
    }

    /// Captures `metrics` on `client` in round `round`; returns how many were captured (the
    /// rest were lost to a capture panic or a pause after one).
    pub(crate) fn send(
        &self,
        client: &Client,
        metrics: Vec<RuntimeMetric>,
        round: u64,
        log: &DebugLog,
    ) -> usize {
        let mut captured = 0;
        for metric in metrics {
            if !self.capture(client, metric, round, log) {
                break;
            }
            captured += 1;
        }
        captured
    }

    /// Captures one metric unless sending is paused in `round`; false if it was not captured.
    fn capture(&self, client: &Client, metric: RuntimeMetric, round: u64, log: &DebugLog) -> bool {
        let seen = self.resumes_at.load(Ordering::Acquire);
        if round < seen {
            return false;
        }
        let Err(payload) =
            catch_unwind(AssertUnwindSafe(|| self.capture_unguarded(client, metric)))
        else {
            return true;
        };
        // Threads that panic at once (workers sending in the same round) are one failure: only
        // the one that moves `resumes_at` from what it saw counts it.
        let quiet_for = round.saturating_sub(self.last_panic.load(Ordering::Relaxed));
        let panics = if quiet_for > 2 * u64::from(MAX_PAUSE_ROUNDS) {
            1
        } else {
            self.panics.load(Ordering::Relaxed).saturating_add(1)
        };
        let pause = u64::from(backoff::rest_rounds(panics, MAX_PAUSE_ROUNDS));
        // `round` is the round in progress, so `round + 1 + pause` skips the rest of this one
        // and `pause` more.
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
            log.write(format_args!(
                "sending a metric panicked (in a `before_send_metric` hook?): {}; the \
                 integration stops sending for the round, and pauses 1, 2, 4 .. \
                 {MAX_PAUSE_ROUNDS} rounds after each such panic (reported once)",
                panic_message(payload.as_ref())
            ));
        }
        false
    }

    /// The SDK's capture, with the common attributes below the series' own.
    fn capture_unguarded(&self, client: &Client, metric: RuntimeMetric) {
        let RuntimeMetric {
            name,
            metric_type,
            value,
            unit,
            tags,
        } = metric;
        let value = value.as_f64();
        let attributes = self.common.iter().chain(tags.iter());
        macro_rules! with_attributes {
            ($metric:expr) => {{
                let mut metric = $metric;
                for (key, value) in attributes {
                    metric = metric.attribute(key.clone(), value.clone());
                }
                metric
            }};
        }
        let unit = unit.map(Unit::from);
        match metric_type {
            MetricType::Counter => {
                client.capture_metric(with_attributes!(metrics::counter(name, value)), &self.scope)
            }
            MetricType::Gauge => {
                let mut gauge = metrics::gauge(name, value);
                if let Some(unit) = unit {
                    gauge = gauge.unit(unit);
                }
                client.capture_metric(with_attributes!(gauge), &self.scope);
            }
            MetricType::Distribution => {
                let mut distribution = metrics::distribution(name, value);
                if let Some(unit) = unit {
                    distribution = distribution.unit(unit);
                }
                client.capture_metric(with_attributes!(distribution), &self.scope);
            }
        }
    }
}
