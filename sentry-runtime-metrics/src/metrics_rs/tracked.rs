//! The collector's own list of the series it sends: for each, what it last sent and how long
//! nobody has recorded into it, as metrics-util's `recency` and the Prometheus exporter's
//! `idle_timeout` keep it. A series that no handle holds and that was not updated for the idle
//! timeout is forgotten: no longer sent, and its place under the series limit freed; recorded
//! into again, it is made anew.
//!
//! Two kinds are never forgotten, because made anew they would send something false: a counter
//! set with `absolute` (its total is copied from elsewhere, and would be sent whole once more)
//! and a gauge moved with `increment` or `decrement` (its level is relative to what it held, and
//! would start again from 0). A gauge set again to the value it holds counts as no update.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::metrics_rs::reservoir::Reservoir;
use crate::metrics_rs::series::{CounterCell, GaugeCell, Series};

/// Handles of a series the registry and the collector hold themselves: more means the
/// application holds one, and may record into it at any time.
const OWN_HANDLES: usize = 2;

/// How long a series has been idle.
#[derive(Debug, Default)]
pub(super) struct Idle {
    since: Option<Instant>,
    expired: bool,
}

impl Idle {
    /// Records a round at `now`: `idle` if nothing was recorded into the series since the
    /// previous one. It expires once idle for `timeout`, with no handle held.
    fn round<C>(
        &mut self,
        series: &Arc<Series<C>>,
        idle: bool,
        now: Instant,
        timeout: Option<Duration>,
    ) {
        if !idle || Arc::strong_count(series) > OWN_HANDLES {
            *self = Idle::default();
            return;
        }
        let since = *self.since.get_or_insert(now);
        self.expired = timeout.is_some_and(|timeout| now.duration_since(since) >= timeout);
    }

    /// Whether the series is to be forgotten.
    pub(super) fn expired(&self) -> bool {
        self.expired
    }
}

/// A counter, and the total its last increase was computed to.
#[derive(Debug)]
pub(super) struct TrackedCounter {
    pub(super) series: Arc<Series<CounterCell>>,
    pub(super) sent: u64,
    pub(super) idle: Idle,
}

impl TrackedCounter {
    pub(super) fn new(series: Arc<Series<CounterCell>>) -> Self {
        TrackedCounter {
            series,
            sent: 0,
            idle: Idle::default(),
        }
    }

    /// This round's increase (0 if it did not move), recorded as sent.
    pub(super) fn increase(&mut self, now: Instant, timeout: Option<Duration>) -> u64 {
        let total = self.series.cell.total();
        // Counters never go down (`absolute` keeps the larger value); a wrap past `u64::MAX` is
        // still the right difference.
        let increase = total.wrapping_sub(self.sent);
        self.sent = total;
        let idle = increase == 0 && !self.series.cell.is_absolute();
        self.idle.round(&self.series, idle, now, timeout);
        increase
    }

    /// Whether it was not updated since the last round (checked again when forgetting it).
    pub(super) fn still_idle(&self, cell: &CounterCell) -> bool {
        cell.total() == self.sent
    }
}

/// A gauge, its unit, and the value it was last sent with.
#[derive(Debug)]
pub(super) struct TrackedGauge {
    pub(super) series: Arc<Series<GaugeCell>>,
    pub(super) unit: Option<&'static str>,
    last_bits: Option<u64>,
    pub(super) idle: Idle,
}

impl TrackedGauge {
    pub(super) fn new(series: Arc<Series<GaugeCell>>, unit: Option<&'static str>) -> Self {
        TrackedGauge {
            series,
            unit,
            last_bits: None,
            idle: Idle::default(),
        }
    }

    /// Its value now (none if nobody set it), recorded as sent.
    pub(super) fn value(&mut self, now: Instant, timeout: Option<Duration>) -> Option<f64> {
        let bits = self.series.cell.bits();
        let idle = self.last_bits == Some(bits) && !self.series.cell.is_relative();
        self.last_bits = Some(bits);
        self.idle.round(&self.series, idle, now, timeout);
        self.series.cell.value()
    }

    pub(super) fn still_idle(&self, cell: &GaugeCell) -> bool {
        self.last_bits == Some(cell.bits())
    }
}

/// A histogram, its unit, and the name of its count.
#[derive(Debug)]
pub(super) struct TrackedHistogram {
    pub(super) series: Arc<Series<Reservoir>>,
    pub(super) unit: Option<&'static str>,
    /// `<name>.count`, the counter of values recorded.
    pub(super) count_name: Cow<'static, str>,
    pub(super) idle: Idle,
}

impl TrackedHistogram {
    pub(super) fn new(series: Arc<Series<Reservoir>>, unit: Option<&'static str>) -> Self {
        TrackedHistogram {
            count_name: count_name(&series.name),
            series,
            unit,
            idle: Idle::default(),
        }
    }

    /// Drains the values recorded since the last round into `into`; returns how many were.
    pub(super) fn drain(
        &mut self,
        into: &mut Vec<f64>,
        now: Instant,
        timeout: Option<Duration>,
    ) -> u64 {
        let recorded = self.series.cell.drain(into);
        self.idle.round(&self.series, recorded == 0, now, timeout);
        recorded
    }

    pub(super) fn still_idle(&self, cell: &Reservoir) -> bool {
        cell.is_empty()
    }
}

/// The name of a histogram's count. An empty name stays empty, so both are dropped alike.
pub(super) fn count_name(name: &str) -> Cow<'static, str> {
    if name.is_empty() {
        Cow::Borrowed("")
    } else {
        Cow::Owned(format!("{name}.count"))
    }
}
