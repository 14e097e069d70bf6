//! What a runtime gives only under `--cfg tokio_unstable`, into the collector's fields.

use std::time::Duration;

use super::{TokioMetrics, counts};

impl TokioMetrics {
    /// What only `tokio_unstable` gives: the blocking pool, polls, spawns, steals, forced
    /// yields, the mean poll time, and the histograms' increases.
    pub(super) fn unstable(
        &mut self,
        metrics: &tokio::runtime::RuntimeMetrics,
        workers: usize,
        grew: counts::Grew,
    ) {
        self.blocking_threads = Some(metrics.num_blocking_threads() as u64);
        self.idle_blocking_threads = Some(metrics.num_idle_blocking_threads() as u64);
        self.blocking_queue_depth = Some(metrics.blocking_queue_depth() as u64);
        self.polls = grew.polls;
        self.spawned_tasks = grew.spawned;
        self.steals = grew.steals;
        self.forced_yields = grew.forced_yields;
        if workers > 0 {
            let total: Duration = (0..workers).map(|w| metrics.worker_mean_poll_time(w)).sum();
            self.mean_poll_time = u32::try_from(workers).ok().map(|n| total / n);
        }
        let recorded = self
            .scheduler
            .histograms
            .grew(metrics, self.scheduler.histogram_values);
        if let Some(polls) = recorded.poll {
            self.poll_times = polls.values;
        }
        #[cfg(feature = "tokio-schedule-latency")]
        if let Some(latencies) = recorded.schedule {
            self.schedule_latency_count = Some(latencies.count);
            self.schedule_latencies = latencies.values;
        }
    }
}
