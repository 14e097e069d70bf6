//! How busy the workers were since the previous sample: the increase of each worker's busy time
//! over the elapsed time, as tokio-metrics computes it.

use std::time::{Duration, Instant};

/// The workers' busy times at one sample.
#[derive(Clone, Debug, Default)]
pub(super) struct BusyTimes {
    previous: Option<(Instant, Vec<Duration>)>,
}

/// Busy ratios since the previous sample (0..1).
#[derive(Debug)]
pub(super) struct Ratios {
    /// Averaged over workers.
    pub(super) mean: f64,
    /// The busiest worker's.
    pub(super) max: f64,
    /// Each worker's.
    pub(super) each: Vec<f64>,
}

impl BusyTimes {
    /// The ratios since the previous sample, given each worker's busy time `now` (none for the
    /// first sample, or when the number of workers changed); `busy` becomes the previous.
    pub(super) fn ratios(&mut self, busy: Vec<Duration>, now: Instant) -> Option<Ratios> {
        let previous = self.previous.replace((now, busy));
        let (then, before) = previous?;
        let (_, busy) = self.previous.as_ref()?;
        let workers = busy.len();
        let elapsed = now.duration_since(then).as_secs_f64();
        if before.len() != workers || workers == 0 || elapsed <= 0.0 {
            return None;
        }
        let each: Vec<f64> = busy
            .iter()
            .zip(&before)
            .map(|(now, then)| (now.saturating_sub(*then).as_secs_f64() / elapsed).min(1.0))
            .collect();
        #[allow(clippy::cast_precision_loss)] // Worker counts are small.
        let mean = each.iter().sum::<f64>() / workers as f64;
        let max = each.iter().copied().fold(0.0, f64::max);
        Some(Ratios { mean, max, each })
    }
}
