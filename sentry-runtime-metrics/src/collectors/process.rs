//! [`ProcessMetrics`]: threads, file descriptors, CPU time and utilization, uptime, page faults
//! and context switches.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sentry_runtime_metrics_derive::MetricCollector;

use super::built_in::SharesReadings;
use crate::running_totals::{Began, RunningTotals};
use crate::sys::{self, Needs, Platform, Shared, Sources, Usage};

/// Shortest window utilization is computed over, with CPU time from `getrusage`, which has
/// microsecond precision.
const MIN_UTILIZATION_WINDOW: Duration = Duration::from_millis(10);
/// The same, with the total CPU time of the other platforms, which may move in 10 ms ticks:
/// over 250 ms that is at most 4% of one CPU.
const MIN_UTILIZATION_WINDOW_IN_TICKS: Duration = Duration::from_millis(250);

/// Threads, file descriptors, CPU, uptime, page faults and context switches of this process:
/// what the peers (metrics-process, sysinfo) collect, and what the same system calls give besides.
///
/// CPU times, faults and context switches come from one `getrusage(RUSAGE_SELF)` (Unix), with
/// microsecond precision: totals since the process started, so the first round sends all of
/// them and each later round what they grew by (CPU time computed in whole microseconds, so a
/// round's milliseconds are exact). CPU utilization is `(Δuser + Δsystem CPU time) / (Δwall time × CPUs
/// available)` over the time since its previous sample, where CPUs available is the process's
/// affinity mask's CPU count (its main thread's, whichever thread collects), lowered to the CPU
/// quota in effect (the smallest `cpu.max` or `cpu.cfs_quota_us / cpu.cfs_period_us` on its
/// cgroup or a parent): 1.0 means the process used all the CPU it may use. The first sample, and
/// samples closer than 10 ms to the last computed one (250 ms without `getrusage`), send no
/// utilization.
#[derive(Clone, Debug, MetricCollector)]
#[collector(name = "process")]
pub struct ProcessMetrics {
    /// Threads of this process.
    #[gauge(name = "process.threads.count")]
    threads: Option<u64>,
    /// Open file descriptors (Unix).
    #[gauge(name = "process.open_fds")]
    open_fds: Option<u64>,
    /// Soft limit on open file descriptors (`RLIMIT_NOFILE`, Unix); not sent when unlimited.
    #[gauge(name = "process.open_fds.limit")]
    open_fds_limit: Option<u64>,
    /// CPU time in user mode, in milliseconds (`getrusage`, microsecond precision).
    #[counter(name = "process.cpu.user_time", delta)]
    user_time: Option<f64>,
    /// CPU time in the kernel, in milliseconds (`getrusage`, microsecond precision).
    #[counter(name = "process.cpu.system_time", delta)]
    system_time: Option<f64>,
    /// CPU used since the previous sample over the CPU available to the process (0..1).
    #[gauge(name = "process.cpu.utilization", unit = "ratio")]
    utilization: Option<f64>,
    /// CPUs this process may use: its affinity mask, lowered to the CPU quota in effect.
    #[gauge(name = "process.cpu.available")]
    cpus_available: Option<f64>,
    /// Time since the process started (its own start, not the integration's): a drop is a
    /// restart.
    #[gauge(name = "process.uptime", unit = "second")]
    uptime: Option<Duration>,
    /// Page faults, by `type`: `minor` (the page was in memory) and `major` (it had to be read
    /// from disk).
    #[counter(name = "process.paging.faults", attribute = "type", delta)]
    faults: BTreeMap<&'static str, u64>,
    /// Context switches, by `type`: `voluntary` (the thread waited, for IO or a lock) and
    /// `involuntary` (the scheduler took the CPU away: contention).
    #[counter(name = "process.context_switches", attribute = "type", delta)]
    context_switches: BTreeMap<&'static str, u64>,
    sources: Arc<Sources>,
    /// This round's shared readings, when the group that samples the built-in collectors
    /// together handed them over; read here when sampled alone.
    shared: Option<Shared>,
    /// The last `getrusage` totals sent.
    totals: RunningTotals<UsageTotal, u64>,
    /// Wall time and total CPU milliseconds of the sample utilization was last computed from.
    previous: Option<(Instant, f64)>,
}

/// The `getrusage` totals sent as counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum UsageTotal {
    UserMicros,
    SystemMicros,
    MinorFaults,
    MajorFaults,
    VoluntarySwitches,
    InvoluntarySwitches,
}

impl ProcessMetrics {
    /// A process collector (its cgroup is found when first needed, each file opened once).
    pub fn new() -> Self {
        Self::with_sources(Arc::new(Sources::open()))
    }

    /// A process collector reading `sources`, shared with the other built-in collectors.
    pub(crate) fn with_sources(sources: Arc<Sources>) -> Self {
        ProcessMetrics {
            threads: None,
            open_fds: None,
            open_fds_limit: None,
            user_time: None,
            system_time: None,
            utilization: None,
            cpus_available: None,
            uptime: None,
            faults: BTreeMap::new(),
            context_switches: BTreeMap::new(),
            sources,
            shared: None,
            totals: RunningTotals::new(),
            previous: None,
        }
    }

    fn sample(&mut self) {
        let shared =
            (self.shared.take()).unwrap_or_else(|| Shared::read(&self.sources, self.needs()));
        let now = Instant::now();
        let usage = shared.usage;
        #[allow(clippy::cast_precision_loss)] // Microseconds of CPU stay far below 2^53.
        let ms = |micros: u64| micros as f64 / 1000.0;
        self.threads = self.sources.threads();
        self.open_fds = self.sources.open_fds();
        self.open_fds_limit = self.sources.fd_soft_limit();
        self.uptime = self
            .sources
            .started_at()
            .map(|started| now.saturating_duration_since(started));
        self.increases(usage);
        let quota = shared.cpu_quota.map(|quota| quota.cpus);
        self.cpus_available = sys::cpus_available(self.sources.affinity_cpus(), quota);
        let cpu_ms = usage
            .map(|usage| ms(usage.user_us.saturating_add(usage.system_us)))
            .or_else(|| self.sources.total_cpu_ms());
        self.utilization = None;
        match (self.previous, cpu_ms, self.cpus_available) {
            (Some((then, then_cpu_ms)), Some(cpu_ms), Some(cpus)) => {
                let wall = now.duration_since(then);
                // Over a shorter window the ratio would be noise: wait for a longer one
                // (keeping the older sample).
                let shortest = if usage.is_some() {
                    MIN_UTILIZATION_WINDOW
                } else {
                    MIN_UTILIZATION_WINDOW_IN_TICKS
                };
                if wall >= shortest && cpus > 0.0 && cpu_ms >= then_cpu_ms {
                    let wall_ms = wall.as_secs_f64() * 1000.0;
                    let ratio = (cpu_ms - then_cpu_ms) / (wall_ms * cpus);
                    self.utilization = Some(ratio.clamp(0.0, 1.0));
                    self.previous = Some((now, cpu_ms));
                }
            }
            _ => self.previous = cpu_ms.map(|cpu_ms| (now, cpu_ms)),
        }
    }
}

impl ProcessMetrics {
    /// What the `getrusage` totals grew by since the previous sample (all of them, the first
    /// time: they count from the process's start).
    fn increases(&mut self, usage: Option<Usage>) {
        self.faults.clear();
        self.context_switches.clear();
        let Some(usage) = usage else {
            (self.user_time, self.system_time) = (None, None);
            return;
        };
        let mut totals = self.totals.sample();
        let mut increase =
            |total: UsageTotal, value: u64| totals.increase(total, value, Began::AtZero);
        #[allow(clippy::cast_precision_loss)] // Microseconds of CPU stay far below 2^53.
        let ms = |micros: u64| micros as f64 / 1000.0;
        self.user_time = increase(UsageTotal::UserMicros, usage.user_us).map(ms);
        self.system_time = increase(UsageTotal::SystemMicros, usage.system_us).map(ms);
        let faults = [
            ("minor", UsageTotal::MinorFaults, usage.minor_faults),
            ("major", UsageTotal::MajorFaults, usage.major_faults),
        ];
        for (label, total, value) in faults {
            self.faults
                .extend(increase(total, value).map(|grew| (label, grew)));
        }
        let switches = [
            (
                "voluntary",
                UsageTotal::VoluntarySwitches,
                usage.voluntary_switches,
            ),
            (
                "involuntary",
                UsageTotal::InvoluntarySwitches,
                usage.involuntary_switches,
            ),
        ];
        for (label, total, value) in switches {
            self.context_switches
                .extend(increase(total, value).map(|grew| (label, grew)));
        }
    }
}

impl SharesReadings for ProcessMetrics {
    fn needs(&self) -> Needs {
        Needs {
            usage: true,
            memory_limit: false,
            cpu_quota: true,
        }
    }

    fn hand(&mut self, shared: Shared) {
        self.shared = Some(shared);
    }
}

impl Default for ProcessMetrics {
    fn default() -> Self {
        Self::new()
    }
}
