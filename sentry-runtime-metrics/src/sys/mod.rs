//! Platform access: one file per platform behind one API, the [`Platform`] trait, chosen here
//! once. Linux reads `/proc` and cgroup files itself (`linux/`); the other platforms go through
//! sysinfo (`portable.rs`). Collectors use [`Sources`] and never see a `cfg`.
//!
//! Every value is `None` when the platform cannot give it: collectors send nothing rather than a
//! placeholder. What several built-in collectors need in one round (`getrusage`, the memory
//! limit, the CPU quota) is read once per round by whoever samples them together and handed to
//! each ([`Shared`]).

#[cfg(unix)]
pub(crate) mod ffi;
// The sysinfo reader is compiled on Linux too, for its test against the `/proc` reader.
pub(crate) mod findings;
#[cfg_attr(target_os = "linux", path = "linux/mod.rs")]
#[cfg_attr(not(target_os = "linux"), path = "portable.rs")]
pub(crate) mod platform;
#[cfg(all(test, target_os = "linux"))]
#[path = "portable.rs"]
mod portable;
pub(crate) mod readings;
mod shared;

use std::time::Instant;

pub(crate) use platform::Sources;
#[cfg(feature = "process")]
pub(crate) use platform::threads::ThreadTable;
pub(crate) use readings::{
    CgroupId, CpuQuota, DiskIo, LimitInUse, MemoryLimit, Resident, Resource, ScopedPressure,
    Throttling, Usage,
};
pub(crate) use shared::{Needs, Shared};

/// What a platform can tell of this process. Each platform file implements it for its
/// `Sources`, so the two cannot drift apart; collectors call these and nothing else.
pub(crate) trait Platform {
    /// The sources of this process, each file opened when first read.
    fn open() -> Self
    where
        Self: Sized;

    /// Starts the reads of a round (sysinfo refreshes once for all of them); the reads of
    /// shared sources ([`Shared::read`]) start each round with it.
    fn begin_round(&self);

    /// CPU times, page faults, context switches and the peak resident set (`getrusage`).
    fn usage(&self) -> Option<Usage>;
    /// The memory limit in effect (the smallest on the process's cgroup or a parent).
    fn memory_limit(&self) -> Option<MemoryLimit>;
    /// The CPU quota in effect.
    fn cpu_quota(&self) -> Option<CpuQuota>;
    /// Looks whether the process moved to another cgroup (the container collector asks every
    /// round; without it, the cgroups are looked at again once a minute).
    fn look_for_moves(&self);

    /// Bytes of this process in RAM now, and the file-backed and shared part where known.
    fn resident(&self) -> Option<Resident>;
    /// The peak resident set, given `getrusage`'s reading and the resident set now.
    fn peak_rss(&self, usage: Usage, rss_now: Option<u64>) -> Option<u64>;
    fn threads(&self) -> Option<u64>;
    fn open_fds(&self) -> Option<u64>;
    /// The soft limit on open file descriptors; `None` when unlimited.
    fn fd_soft_limit(&self) -> Option<u64>;
    /// CPUs in the process's affinity mask (its main thread's, whichever thread asks).
    fn affinity_cpus(&self) -> Option<u64>;
    /// CPU time used, in milliseconds, where `getrusage` is not there to give user and system.
    fn total_cpu_ms(&self) -> Option<f64>;
    /// Storage bytes the process read and wrote.
    fn disk_io(&self) -> Option<DiskIo>;
    /// When the process started (its own start, not the integration's).
    fn started_at(&self) -> Option<Instant>;

    /// The working set of the cgroup that sets `limit`.
    fn working_set(&self, limit: MemoryLimit) -> Option<u64>;
    /// Times the cgroup that sets `limit` hit it.
    fn limit_hits(&self, limit: MemoryLimit) -> Option<u64>;
    /// OOM kills in the process's own cgroup, and which cgroup that is.
    fn oom_kills(&self) -> Option<(CgroupId, u64)>;
    /// `memory.high` in effect (cgroup v2) and the times it was hit.
    fn memory_high(&self) -> Option<LimitInUse>;
    /// The swap limit in effect and the swap in use by the cgroup that sets it.
    fn swap(&self) -> Option<LimitInUse>;
    /// The task limit in effect (`pids.max`) and the tasks in the cgroup that sets it.
    fn task_limit(&self) -> Option<LimitInUse>;
    /// Throttling of the cgroup that sets `quota`.
    fn throttling(&self, quota: CpuQuota) -> Option<Throttling>;
    /// Pressure on `resource`, and whose.
    fn pressure(&self, resource: Resource) -> Option<ScopedPressure>;

    /// What it finds of the process's cgroups, limits and kernel features (read afresh: for
    /// the report of what the integration sees, not for rounds).
    fn findings(&self) -> findings::Findings;
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
