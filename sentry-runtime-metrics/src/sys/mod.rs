//! Platform access, one module per platform, so collectors stay free of `cfg` noise.
//!
//! Every source the built-in collectors read goes through one [`Sources`] per process: each file
//! is opened once for all of them, and a source two collectors need is read once per round
//! ([`shared`]). Each function returns `None` when the platform cannot give the value: collectors
//! send nothing rather than a placeholder.

#[cfg(unix)]
pub(crate) mod ffi;
#[cfg(target_os = "linux")]
pub(crate) mod linux;
#[cfg(any(not(target_os = "linux"), test))]
pub(crate) mod portable;
pub(crate) mod readings;
mod shared;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Instant;

pub(crate) use readings::{
    CpuQuota, DiskIo, MemoryLimit, Pressure, Resource, Scope, Throttling, Usage,
};
pub(crate) use shared::Consumer;
use shared::Shared;

use crate::sync::lock;

/// The sources of this process, shared by every built-in collector alive.
pub(crate) struct Sources {
    #[cfg(target_os = "linux")]
    process: linux::process::ProcFiles,
    #[cfg(target_os = "linux")]
    cgroup: linux::cgroup::Cgroup,
    #[cfg(not(target_os = "linux"))]
    process: portable::SysinfoProcess,
    usage: Shared<Option<Usage>>,
    memory_limit: Shared<Option<MemoryLimit>>,
    cpu_quota: Shared<Option<CpuQuota>>,
    consumers: AtomicUsize,
}

impl std::fmt::Debug for Sources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sources")
            .field("consumers", &self.consumers)
            .finish_non_exhaustive()
    }
}

impl Sources {
    /// The sources of this process: the ones the live collectors use, or new ones (opened now)
    /// if none is alive. So the integration holds one descriptor per file at most, and none
    /// once its collectors are gone.
    pub(crate) fn shared() -> Arc<Self> {
        static ALIVE: Mutex<Weak<Sources>> = Mutex::new(Weak::new());
        let mut alive = lock(&ALIVE);
        if let Some(sources) = alive.upgrade() {
            return sources;
        }
        let sources = Arc::new(Self::open());
        *alive = Arc::downgrade(&sources);
        sources
    }

    fn open() -> Self {
        Sources {
            #[cfg(target_os = "linux")]
            process: linux::process::ProcFiles::open(),
            #[cfg(target_os = "linux")]
            cgroup: linux::cgroup::Cgroup::of_this_process(),
            #[cfg(not(target_os = "linux"))]
            process: portable::SysinfoProcess::open(),
            usage: Shared::default(),
            memory_limit: Shared::default(),
            cpu_quota: Shared::default(),
            consumers: AtomicUsize::new(0),
        }
    }

    /// A new collector's share of the shared readings.
    pub(crate) fn consumer(&self) -> Consumer {
        Consumer::nth(self.consumers.fetch_add(1, Ordering::Relaxed))
    }

    /// CPU times, faults, context switches, peak RSS (shared in a round).
    pub(crate) fn usage(&self, consumer: Consumer) -> Option<Usage> {
        self.usage.get(consumer, || {
            #[cfg(unix)]
            {
                ffi::usage()
            }
            #[cfg(not(unix))]
            {
                None
            }
        })
    }

    /// The peak resident set, given the peak `getrusage` reported.
    pub(crate) fn peak_rss(&self, usage: Usage) -> Option<u64> {
        #[cfg(target_os = "linux")]
        {
            self.process.peak_rss(usage.max_rss_bytes)
        }
        #[cfg(not(target_os = "linux"))]
        {
            Some(usage.max_rss_bytes)
        }
    }

    /// Bytes of this process in RAM now.
    pub(crate) fn rss_bytes(&self) -> Option<u64> {
        self.process.rss_bytes()
    }

    pub(crate) fn threads(&self) -> Option<u64> {
        self.process.threads()
    }

    pub(crate) fn open_fds(&self) -> Option<u64> {
        self.process.open_fds()
    }

    /// CPU time used, where only the total is known (not Linux).
    pub(crate) fn total_cpu_ms(&self) -> Option<f64> {
        #[cfg(target_os = "linux")]
        {
            None
        }
        #[cfg(not(target_os = "linux"))]
        {
            self.process.total_cpu_ms()
        }
    }

    pub(crate) fn disk_io(&self) -> Option<DiskIo> {
        #[cfg(target_os = "linux")]
        {
            self.process.disk_io()
        }
        #[cfg(not(target_os = "linux"))]
        {
            None
        }
    }

    /// When the process started.
    pub(crate) fn started_at(&self) -> Option<Instant> {
        self.process.started_at()
    }

    /// The memory limit in effect (shared in a round).
    pub(crate) fn memory_limit(&self, consumer: Consumer) -> Option<MemoryLimit> {
        self.memory_limit.get(consumer, || {
            #[cfg(target_os = "linux")]
            {
                self.cgroup.memory_limit()
            }
            #[cfg(not(target_os = "linux"))]
            {
                None
            }
        })
    }

    #[cfg_attr(not(target_os = "linux"), allow(unused_variables))]
    pub(crate) fn working_set(&self, limit: MemoryLimit) -> Option<u64> {
        #[cfg(target_os = "linux")]
        {
            self.cgroup.working_set(limit)
        }
        #[cfg(not(target_os = "linux"))]
        {
            None
        }
    }

    #[cfg_attr(not(target_os = "linux"), allow(unused_variables))]
    pub(crate) fn limit_hits(&self, limit: MemoryLimit) -> Option<u64> {
        #[cfg(target_os = "linux")]
        {
            self.cgroup.limit_hits(limit)
        }
        #[cfg(not(target_os = "linux"))]
        {
            None
        }
    }

    pub(crate) fn oom_kills(&self) -> Option<u64> {
        #[cfg(target_os = "linux")]
        {
            self.cgroup.oom_kills()
        }
        #[cfg(not(target_os = "linux"))]
        {
            None
        }
    }

    /// The CPU quota in effect (shared in a round).
    pub(crate) fn cpu_quota(&self, consumer: Consumer) -> Option<CpuQuota> {
        self.cpu_quota.get(consumer, || {
            #[cfg(target_os = "linux")]
            {
                self.cgroup.cpu_quota()
            }
            #[cfg(not(target_os = "linux"))]
            {
                None
            }
        })
    }

    #[cfg_attr(not(target_os = "linux"), allow(unused_variables))]
    pub(crate) fn throttling(&self, quota: CpuQuota) -> Option<Throttling> {
        #[cfg(target_os = "linux")]
        {
            self.cgroup.throttling(quota)
        }
        #[cfg(not(target_os = "linux"))]
        {
            None
        }
    }

    /// Pressure on `resource`, and whose.
    #[cfg_attr(not(target_os = "linux"), allow(unused_variables))]
    pub(crate) fn pressure(&self, resource: Resource) -> Option<(Pressure, Scope)> {
        #[cfg(target_os = "linux")]
        {
            Some((
                self.cgroup.pressure(resource)?,
                self.cgroup.pressure_scope(),
            ))
        }
        #[cfg(not(target_os = "linux"))]
        {
            None
        }
    }
}

/// Soft limit on open file descriptors.
pub(crate) fn fd_soft_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        ffi::nofile_soft_limit()
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// CPUs in the process's affinity mask (its main thread's, whichever thread asks).
pub(crate) fn affinity_cpus() -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        ffi::affinity_cpus()
    }
    #[cfg(not(target_os = "linux"))]
    {
        std::thread::available_parallelism()
            .ok()
            .map(|cpus| cpus.get() as u64)
    }
}

/// CPUs available: the affinity count, lowered to the cgroup quota when one is set.
pub(crate) fn cpus_available(affinity: Option<u64>, quota: Option<f64>) -> Option<f64> {
    #[allow(clippy::cast_precision_loss)] // CPU counts are small.
    let affinity = affinity.map(|count| count as f64);
    match (affinity, quota) {
        (Some(affinity), Some(quota)) => Some(affinity.min(quota)),
        (affinity, quota) => affinity.or(quota),
    }
}
