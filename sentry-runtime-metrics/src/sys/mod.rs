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

#[cfg(target_os = "linux")]
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
#[cfg(target_os = "linux")]
use std::time::Duration;
use std::time::Instant;

pub(crate) use readings::{
    CgroupId, CpuQuota, DiskIo, MemoryLimit, Resource, ScopedPressure, Throttling, Usage,
};
pub(crate) use shared::{Consumer, Round};
use shared::{Rounds, Shared};

use crate::sync::lock;

/// How old the last look at the process's cgroup membership may be when a value of its cgroups
/// is read (the container collector looks every round).
#[cfg(target_os = "linux")]
const LOOK_AGAIN: Duration = linux::cgroup::LOCATE_AGAIN;

/// The sources of this process, shared by every built-in collector alive.
pub(crate) struct Sources {
    #[cfg(target_os = "linux")]
    process: linux::process::ProcFiles,
    /// Found when first asked for: a process that reads no cgroup value finds none.
    #[cfg(target_os = "linux")]
    cgroup: OnceLock<linux::cgroup::FollowedCgroup>,
    #[cfg(not(target_os = "linux"))]
    process: portable::SysinfoProcess,
    rounds: Rounds,
    usage: Shared<Option<Usage>>,
    memory_limit: Shared<Option<MemoryLimit>>,
    cpu_quota: Shared<Option<CpuQuota>>,
    /// Whether and when, in this round, the process's cgroup membership was looked at.
    follows_moves: AtomicBool,
    moves_looked: Shared<()>,
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
            cgroup: OnceLock::new(),
            #[cfg(not(target_os = "linux"))]
            process: portable::SysinfoProcess::open(),
            rounds: Rounds::default(),
            usage: Shared::default(),
            memory_limit: Shared::default(),
            cpu_quota: Shared::default(),
            follows_moves: AtomicBool::new(false),
            moves_looked: Shared::default(),
            consumers: AtomicUsize::new(0),
        }
    }

    /// The process's cgroups where they are now; whether it moved is looked at again when the
    /// last look is `look_after` old.
    #[cfg(target_os = "linux")]
    fn cgroup(&self, look_after: Duration) -> Arc<linux::cgroup::Cgroup> {
        self.cgroup
            .get_or_init(linux::cgroup::FollowedCgroup::of_this_process)
            .current(look_after)
    }

    /// Follows the process to another cgroup each round: from now on, whichever built-in
    /// collector runs first in a round looks whether the process moved (the container collector
    /// asks for this; without it, the cgroups are looked at once a minute).
    pub(crate) fn follow_cgroup_moves_each_round(&self) {
        self.follows_moves.store(true, Ordering::Relaxed);
    }

    /// Called by each built-in collector at the start of its sample: the round its readings
    /// are shared in. The first in a round looks whether the process moved to another cgroup,
    /// if it is followed each round.
    pub(crate) fn start_round(&self, consumer: Consumer) -> Round {
        let round = self.rounds.start(consumer);
        #[cfg(target_os = "linux")]
        if self.follows_moves.load(Ordering::Relaxed) {
            self.moves_looked.get(round, || {
                self.cgroup(Duration::ZERO);
            });
        }
        round
    }

    /// A new collector's share of the shared readings.
    pub(crate) fn consumer(&self) -> Consumer {
        Consumer::nth(self.consumers.fetch_add(1, Ordering::Relaxed))
    }

    /// CPU times, faults, context switches, peak RSS (shared in a round).
    pub(crate) fn usage(&self, round: Round) -> Option<Usage> {
        self.usage.get(round, || {
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

    /// The peak resident set, given what `getrusage` reported and the resident set now.
    #[cfg_attr(not(target_os = "linux"), allow(unused_variables))]
    pub(crate) fn peak_rss(&self, usage: Usage, rss_now: Option<u64>) -> Option<u64> {
        #[cfg(target_os = "linux")]
        {
            self.process.peak_rss(usage, rss_now)
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
    pub(crate) fn memory_limit(&self, round: Round) -> Option<MemoryLimit> {
        self.memory_limit.get(round, || {
            #[cfg(target_os = "linux")]
            {
                self.cgroup(LOOK_AGAIN).memory_limit()
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
            self.cgroup(LOOK_AGAIN).working_set(limit)
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
            self.cgroup(LOOK_AGAIN).limit_hits(limit)
        }
        #[cfg(not(target_os = "linux"))]
        {
            None
        }
    }

    pub(crate) fn oom_kills(&self) -> Option<(CgroupId, u64)> {
        #[cfg(target_os = "linux")]
        {
            self.cgroup(LOOK_AGAIN).oom_kills()
        }
        #[cfg(not(target_os = "linux"))]
        {
            None
        }
    }

    /// The CPU quota in effect (shared in a round).
    pub(crate) fn cpu_quota(&self, round: Round) -> Option<CpuQuota> {
        self.cpu_quota.get(round, || {
            #[cfg(target_os = "linux")]
            {
                self.cgroup(LOOK_AGAIN).cpu_quota()
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
            self.cgroup(LOOK_AGAIN).throttling(quota)
        }
        #[cfg(not(target_os = "linux"))]
        {
            None
        }
    }

    /// Pressure on `resource`, and whose.
    #[cfg_attr(not(target_os = "linux"), allow(unused_variables))]
    pub(crate) fn pressure(&self, resource: Resource) -> Option<ScopedPressure> {
        #[cfg(target_os = "linux")]
        {
            self.cgroup(LOOK_AGAIN).pressure(resource)
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
