//! [`TokioMetrics`]: scheduler health of a Tokio runtime, read from outside it.

mod busy;
mod counts;
#[cfg(tokio_unstable)]
mod histograms;
mod probes;
mod stalls;
#[cfg(tokio_unstable)]
mod unstable;

use std::time::{Duration, Instant};

use sentry_runtime_metrics_derive::MetricCollector;
use tokio::runtime::{Handle, RuntimeFlavor};

use crate::metric::Tags;
use busy::BusyTimes;
use counts::Counts;
use probes::Probes;
use stalls::Stalls;

/// Default bound on a probe's wait: a probe not polled within it counts as delayed this long.
pub const DEFAULT_PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// Default bound on the values each of Tokio's latency histograms sends per round
/// ([`TokioMetrics::histogram_values`]).
pub const DEFAULT_HISTOGRAM_VALUES: usize = 100;

/// Health of one Tokio runtime: workers, tasks, queue, how busy the workers are and how long
/// a newly spawned task waits before it first runs.
///
/// Everything is read from outside the runtime (from any thread), so it keeps reporting while
/// the runtime is saturated or stuck. Scheduling delay: every sample spawns a few tiny probe
/// tasks and records, at the next sample, how long each waited before it was first polled; a
/// probe not polled within the probe timeout counts as that timeout. Metrics marked
/// `tokio_unstable` are sent only when the crate is built with `--cfg tokio_unstable`.
///
/// Busy ratio: the increase of the workers' busy time since the previous sample over the
/// elapsed time, averaged over workers (0..1); the busiest worker's ratio is sent too. Tokio
/// publishes a worker's busy time when it parks or between polls, so a worker stuck inside one
/// poll shows as idle until it returns: that is what the blocked metrics report.
///
/// Blocked workers (multi-thread runtimes): a worker that has been inside one poll since at
/// least the previous sample, and for 250 ms at least (shorter intervals accumulate), counts in
/// `async.workers.blocked`; a task holding its worker with a sync lock, a blocking call or a
/// loop without `.await`. Idle workers (parked) and saturated ones whose tasks yield do not
/// count. Read from what Tokio publishes (stable metrics; `collectors/tokio_runtime/stalls.rs`
/// says why that holds, against Tokio's source). The first time a worker is seen blocked, the
/// SDK's debug log says which runtime and worker, and since when (once per episode).
#[derive(Clone, Debug, MetricCollector)]
#[collector(name = "tokio")]
pub struct TokioMetrics {
    /// Worker threads of the runtime.
    #[gauge(name = "async.workers.count")]
    workers: Option<u64>,
    /// Tasks alive in the runtime (spawned and not finished).
    #[gauge(name = "async.tasks.alive")]
    alive_tasks: Option<u64>,
    /// Tasks waiting in the runtime's global (injection) queue.
    #[gauge(name = "async.queue.global_depth")]
    global_queue_depth: Option<u64>,
    /// Times the workers parked (ran out of work), summed over workers.
    #[counter(name = "async.workers.park_count", delta)]
    park_count: Option<u64>,
    /// Busy time over elapsed time since the previous sample, averaged over workers (0..1).
    #[gauge(name = "async.workers.busy_ratio", unit = "ratio")]
    busy_ratio: Option<f64>,
    /// Busy ratio of the busiest worker since the previous sample (0..1).
    #[gauge(name = "async.workers.busy_ratio.max", unit = "ratio")]
    busiest_ratio: Option<f64>,
    /// Busy ratio of each worker (with `per_worker`).
    #[gauge(name = "async.worker.busy_ratio", unit = "ratio", attribute = "worker")]
    worker_busy_ratio: Vec<f64>,
    /// Park count of each worker (with `per_worker`).
    #[counter(name = "async.worker.park_count", attribute = "worker", delta)]
    worker_park_count: std::collections::BTreeMap<usize, u64>,
    /// How long probe tasks waited before they were first polled.
    #[distribution(name = "async.scheduling_delay", unit = "second")]
    probe_delays: Vec<Duration>,
    /// The longest probe wait of the round.
    #[gauge(name = "async.scheduling_delay.max", unit = "second")]
    max_probe_delay: Option<Duration>,
    /// Workers stuck inside one poll since the previous sample (for 250 ms at least): not
    /// parked, and no busy time or park published since (multi-thread runtimes).
    #[gauge(name = "async.workers.blocked")]
    blocked_workers: Option<u64>,
    /// How long the longest-blocked worker has shown no progress, from the first sample that
    /// saw it stop (0 when none is blocked).
    #[gauge(name = "async.workers.blocked_time.max", unit = "second")]
    longest_blocked: Option<Duration>,
    /// Whether each worker is blocked, 0 or 1 (with `per_worker`).
    #[gauge(name = "async.worker.blocked", attribute = "worker")]
    worker_blocked: Vec<u64>,
    /// Threads in the blocking pool (`tokio_unstable`).
    #[cfg(tokio_unstable)]
    #[gauge(name = "async.blocking.threads")]
    blocking_threads: Option<u64>,
    /// Idle threads in the blocking pool (`tokio_unstable`).
    #[cfg(tokio_unstable)]
    #[gauge(name = "async.blocking.idle_threads")]
    idle_blocking_threads: Option<u64>,
    /// Tasks waiting for a blocking-pool thread (`tokio_unstable`).
    #[cfg(tokio_unstable)]
    #[gauge(name = "async.blocking.queue_depth")]
    blocking_queue_depth: Option<u64>,
    /// Task polls, summed over workers (`tokio_unstable`).
    #[cfg(tokio_unstable)]
    #[counter(name = "async.polls.total", delta)]
    polls: Option<u64>,
    /// Tasks spawned (`tokio_unstable`).
    #[cfg(tokio_unstable)]
    #[counter(name = "async.tasks.spawned", delta)]
    spawned_tasks: Option<u64>,
    /// Mean poll duration, averaged over workers (`tokio_unstable`).
    #[cfg(tokio_unstable)]
    #[gauge(name = "async.poll_time.mean", unit = "second")]
    mean_poll_time: Option<Duration>,
    /// Tasks stolen by one worker from another (`tokio_unstable`).
    #[cfg(tokio_unstable)]
    #[counter(name = "async.steals", delta)]
    steals: Option<u64>,
    /// Times a task was forced to yield after exhausting its budget (`tokio_unstable`).
    #[cfg(tokio_unstable)]
    #[counter(name = "async.forced_yields", delta)]
    forced_yields: Option<u64>,
    /// How long task polls took, from Tokio's poll-time histogram: a representative set of the
    /// round's polls (`tokio_unstable`, with `enable_metrics_poll_time_histogram`).
    #[cfg(tokio_unstable)]
    #[distribution(name = "async.tasks.poll_time", unit = "second")]
    poll_times: Vec<Duration>,
    /// How long tasks waited from being scheduled to being polled, from Tokio's
    /// schedule-latency histogram: a representative set of the round's (`tokio_unstable`, the
    /// `tokio-schedule-latency` feature, and `enable_metrics_schedule_latency_histogram`).
    #[cfg(all(tokio_unstable, feature = "tokio-schedule-latency"))]
    #[distribution(name = "async.tasks.schedule_latency", unit = "second")]
    schedule_latencies: Vec<Duration>,
    /// Samples of the schedule-latency histogram this round, all of them (`tokio_unstable`, as
    /// above).
    #[cfg(all(tokio_unstable, feature = "tokio-schedule-latency"))]
    #[counter(name = "async.tasks.schedule_latency.count", delta)]
    schedule_latency_count: Option<u64>,
    #[attributes]
    labels: Tags,
    /// The runtime shut down: nothing more to send, and the integration removes the collector.
    #[finished]
    gone: bool,
    scheduler: Scheduler,
}

/// What is kept from one sample to the next.
#[derive(Clone, Debug, Default)]
struct Scheduler {
    /// `None` once the runtime has shut down.
    handle: Option<Handle>,
    per_worker: bool,
    probe_timeout: Duration,
    busy: BusyTimes,
    counts: Counts,
    probes: Probes,
    stalls: Stalls,
    /// Values per latency histogram and round.
    histogram_values: usize,
    #[cfg(tokio_unstable)]
    histograms: histograms::Histograms,
}

impl TokioMetrics {
    /// A collector for the runtime of `handle`. Its counts (parks, polls ..) are read now, so
    /// its first sample sends what they grew by since.
    pub fn new(handle: Handle) -> Self {
        let scheduler = Scheduler {
            counts: Counts::new(&handle.metrics()),
            #[cfg(tokio_unstable)]
            histograms: histograms::Histograms::new(&handle.metrics()),
            handle: Some(handle),
            probe_timeout: DEFAULT_PROBE_TIMEOUT,
            histogram_values: DEFAULT_HISTOGRAM_VALUES,
            ..Scheduler::default()
        };
        Self::empty(scheduler, Tags::new(), false)
    }

    /// Also sends per-worker busy ratio and park count, with a `worker` attribute.
    #[must_use]
    pub fn per_worker(mut self, per_worker: bool) -> Self {
        self.scheduler.per_worker = per_worker;
        self
    }

    /// Bound on a probe's wait (default [`DEFAULT_PROBE_TIMEOUT`]).
    #[must_use]
    pub fn probe_timeout(mut self, timeout: Duration) -> Self {
        self.scheduler.probe_timeout = timeout;
        self
    }

    /// At most `values` values per round from each of Tokio's latency histograms (default
    /// [`DEFAULT_HISTOGRAM_VALUES`]): each is a billed item in Sentry. With `tokio_unstable` and
    /// the histograms turned on in the runtime's builder only.
    #[must_use]
    pub fn histogram_values(mut self, values: usize) -> Self {
        self.scheduler.histogram_values = values;
        self
    }

    /// Adds `runtime = name` to every metric, to tell several runtimes apart.
    #[must_use]
    pub fn runtime_name(mut self, name: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        self.labels.insert("runtime".into(), name.into());
        self
    }

    /// What it is registered as, so that registering its name or its runtime again replaces
    /// it: the `runtime` name and the runtime's id.
    pub(crate) fn registration_keys(&self) -> Vec<String> {
        let name = self
            .labels
            .get("runtime")
            .map(|name| format!("tokio runtime named {name}"));
        name.into_iter().chain(Some(self.runtime_key())).collect()
    }

    /// The key of its runtime (its id), whatever name it goes by.
    pub(crate) fn runtime_key(&self) -> String {
        match &self.scheduler.handle {
            Some(handle) => format!("tokio runtime {}", handle.id()),
            None => "tokio runtime (shut down)".to_owned(),
        }
    }

    /// No values yet: what each sample starts from, so nothing stale is ever sent.
    fn empty(scheduler: Scheduler, labels: Tags, gone: bool) -> Self {
        TokioMetrics {
            workers: None,
            alive_tasks: None,
            global_queue_depth: None,
            park_count: None,
            busy_ratio: None,
            busiest_ratio: None,
            worker_busy_ratio: Vec::new(),
            worker_park_count: std::collections::BTreeMap::new(),
            probe_delays: Vec::new(),
            max_probe_delay: None,
            blocked_workers: None,
            longest_blocked: None,
            worker_blocked: Vec::new(),
            #[cfg(tokio_unstable)]
            blocking_threads: None,
            #[cfg(tokio_unstable)]
            idle_blocking_threads: None,
            #[cfg(tokio_unstable)]
            blocking_queue_depth: None,
            #[cfg(tokio_unstable)]
            polls: None,
            #[cfg(tokio_unstable)]
            spawned_tasks: None,
            #[cfg(tokio_unstable)]
            mean_poll_time: None,
            #[cfg(tokio_unstable)]
            steals: None,
            #[cfg(tokio_unstable)]
            forced_yields: None,
            #[cfg(tokio_unstable)]
            poll_times: Vec::new(),
            #[cfg(all(tokio_unstable, feature = "tokio-schedule-latency"))]
            schedule_latencies: Vec::new(),
            #[cfg(all(tokio_unstable, feature = "tokio-schedule-latency"))]
            schedule_latency_count: None,
            labels,
            gone,
            scheduler,
        }
    }

    /// Whether the runtime is still there (a shut-down runtime sends nothing).
    pub fn is_alive(&self) -> bool {
        !self.gone
    }

    fn sample(&mut self) {
        *self = Self::empty(
            std::mem::take(&mut self.scheduler),
            std::mem::take(&mut self.labels),
            self.gone,
        );
        let Some(handle) = self.scheduler.handle.clone() else {
            return;
        };
        let now = Instant::now();
        let (delays, runtime_gone) = self
            .scheduler
            .probes
            .harvest(now, self.scheduler.probe_timeout);
        if runtime_gone {
            self.forget_runtime();
            return;
        }
        self.max_probe_delay = delays.iter().max().copied();
        self.probe_delays = delays;

        let metrics = handle.metrics();
        let workers = metrics.num_workers();
        self.workers = Some(workers as u64);
        self.alive_tasks = Some(metrics.num_alive_tasks() as u64);
        self.global_queue_depth = Some(metrics.global_queue_depth() as u64);
        let mut grew = self.scheduler.counts.grew(&metrics);
        self.park_count = grew.parks;
        let busy: Vec<Duration> = (0..workers)
            .map(|w| metrics.worker_total_busy_duration(w))
            .collect();
        if handle.runtime_flavor() == RuntimeFlavor::MultiThread
            && let Some(blocked) = self.scheduler.stalls.observe(&metrics, &busy, now)
        {
            self.blocked(blocked);
        }
        if let Some(ratios) = self.scheduler.busy.ratios(busy, now) {
            self.busy_ratio = Some(ratios.mean);
            self.busiest_ratio = Some(ratios.max);
            self.worker_busy_ratio = ratios.each;
        }
        if self.scheduler.per_worker {
            self.worker_park_count = std::mem::take(&mut grew.worker_parks);
        } else {
            self.worker_busy_ratio.clear();
            self.worker_blocked.clear();
        }
        #[cfg(tokio_unstable)]
        self.unstable(&metrics, workers, grew);
        // Last, so this round's probes are not counted as alive or queued tasks. Spawning on a
        // shut-down runtime cancels the task at once.
        if !self.scheduler.probes.spawn(&handle, now) {
            self.forget_runtime();
        }
    }

    /// The runtime shut down: send nothing now or later, and let go of its handle.
    fn forget_runtime(&mut self) {
        let mut scheduler = Scheduler {
            handle: None,
            busy: BusyTimes::default(),
            ..std::mem::take(&mut self.scheduler)
        };
        scheduler.probes.clear();
        scheduler.stalls.clear();
        *self = Self::empty(scheduler, std::mem::take(&mut self.labels), true);
    }
}
