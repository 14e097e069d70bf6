//! [`ProcessMetrics`]: threads, file descriptors, CPU time and utilization.

use std::sync::Arc;
use std::time::Instant;

use sentry_runtime_metrics_derive::MetricCollector;

use crate::sys::{self, Cgroup, Process};

/// Shortest window utilization is computed over: CPU time has a 10 ms resolution, which over
/// 250 ms is at most 4% of one CPU.
const MIN_UTILIZATION_WINDOW_MS: f64 = 250.0;

/// Threads, file descriptors and CPU of this process.
///
/// CPU utilization is `(Δuser + Δsystem CPU time) / (Δwall time × CPUs available)` over the time
/// since its previous sample, where CPUs available is the process's affinity mask's CPU count
/// (its main thread's, whichever thread collects), lowered to the cgroup CPU quota (`cpu.max` or
/// `cpu.cfs_quota_us / cpu.cfs_period_us`) when one is set: 1.0 means the process used all the
/// CPU it may use. It needs a window of at least 250 ms (CPU time moves in 10 ms ticks): the
/// first sample, and samples closer than that to the last computed one, send no utilization.
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
    /// CPU time in user mode, in milliseconds (sent as the increase per round).
    #[counter(name = "process.cpu.user_time")]
    user_time: Option<f64>,
    /// CPU time in the kernel, in milliseconds (sent as the increase per round).
    #[counter(name = "process.cpu.system_time")]
    system_time: Option<f64>,
    /// CPU used since the previous sample over the CPU available to the process (0..1).
    #[gauge(name = "process.cpu.utilization", unit = "ratio")]
    utilization: Option<f64>,
    /// CPUs this process may use: its affinity mask, lowered to its cgroup CPU quota.
    #[gauge(name = "process.cpu.available")]
    cpus_available: Option<f64>,
    /// Opened once; shared by clones (read-only).
    cgroup: Arc<Cgroup>,
    files: Arc<Process>,
    /// Wall time and total CPU milliseconds of the sample utilization was last computed from.
    previous: Option<(Instant, f64)>,
}

impl ProcessMetrics {
    /// A process collector (finds the process's cgroup once).
    pub fn new() -> Self {
        ProcessMetrics {
            threads: None,
            open_fds: None,
            open_fds_limit: None,
            user_time: None,
            system_time: None,
            utilization: None,
            cpus_available: None,
            cgroup: Arc::new(Cgroup::of_this_process()),
            files: Arc::new(Process::open()),
            previous: None,
        }
    }

    fn sample(&mut self) {
        let now = Instant::now();
        let snapshot = self.files.snapshot();
        self.threads = snapshot.threads;
        self.open_fds = self.files.open_fds();
        self.open_fds_limit = sys::fd_soft_limit();
        self.user_time = snapshot.user_ms;
        self.system_time = snapshot.system_ms;
        self.cpus_available = sys::cpus_available(sys::affinity_cpus(), self.cgroup.cpu_quota());
        let cpu_ms = snapshot.total_cpu_ms;
        self.utilization = None;
        match (self.previous, cpu_ms, self.cpus_available) {
            (Some((then, then_cpu_ms)), Some(cpu_ms), Some(cpus)) => {
                let wall_ms = now.duration_since(then).as_secs_f64() * 1000.0;
                // CPU time moves in clock ticks (10 ms): over a shorter window the ratio would
                // be noise, so it waits for a longer one (keeping the older sample).
                if wall_ms >= MIN_UTILIZATION_WINDOW_MS && cpus > 0.0 && cpu_ms >= then_cpu_ms {
                    let ratio = (cpu_ms - then_cpu_ms) / (wall_ms * cpus);
                    self.utilization = Some(ratio.clamp(0.0, 1.0));
                    self.previous = Some((now, cpu_ms));
                }
            }
            _ => self.previous = cpu_ms.map(|cpu_ms| (now, cpu_ms)),
        }
    }
}

impl Default for ProcessMetrics {
    fn default() -> Self {
        Self::new()
    }
}
