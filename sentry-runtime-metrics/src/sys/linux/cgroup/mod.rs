//! The cgroups a process runs in: memory and CPU limits in effect (its own cgroup's or a
//! parent's), throttling, OOM kills, the limits before the OOM kill (`memory.high`, swap,
//! `pids.max`), pressure, and what was found (for the report of what the integration sees). Handles cgroup v2, v1 and hybrid hosts (a v1
//! controller wins over the unified hierarchy, whose pressure files are still used). A missing
//! file or `max` means no limit, and nothing is sent for it.

mod cpu;
mod early_limits;
#[cfg(test)]
mod fixtures;
mod followed;
mod found;
mod levels;
mod membership;
mod memory;
pub(crate) mod mounts;
pub(crate) mod parse;
pub(crate) mod pressure;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use cpu::CpuCgroup;
use early_limits::EarlyLimits;
pub(crate) use followed::{FollowedCgroup, LOCATE_AGAIN};
use levels::Levels;
pub(crate) use membership::{Membership, parse_membership};
use memory::MemoryCgroup;
use mounts::Mounts;
use pressure::PressureFiles;

use crate::sys::readings::{
    CgroupId, CpuQuota, LimitInUse, MemoryLimit, Resource, ScopedPressure, Throttling,
};

/// The cgroups of this process where it was found; each controller's files opened when it is
/// first asked for (a process that collects no CPU quota holds no CPU file open), each file once.
#[derive(Debug)]
pub(crate) struct Cgroup {
    memory_levels: (Levels, bool),
    memory: OnceLock<Option<MemoryCgroup>>,
    cpu_levels: (Levels, bool),
    cpu: OnceLock<CpuCgroup>,
    pids_levels: (Levels, bool),
    /// Whether cgroup2 is mounted with `pids_localevents`.
    pids_local_events: bool,
    /// The controllers (`memory`, `cpu`, `pids`) whose hierarchy's real root the process is
    /// in, where no limit can be set (for the report of what the integration sees).
    at_root: Vec<(&'static str, bool)>,
    /// Found when first asked for: every level's limit read once (see [`early_limits`]).
    early: OnceLock<EarlyLimits>,
    pressure: PressureFiles,
}

impl Cgroup {
    /// The cgroups of `membership` (the text of `/proc/self/cgroup`) in this process's mounts.
    pub(crate) fn of_this_process(membership: &str) -> Self {
        Self::locate(
            &Mounts::of_this_process(),
            &parse_membership(membership),
            membership::in_initial_namespace(),
        )
    }

    /// The cgroups of `membership` under `mounts`; `initial_namespace`: whether a mount of a
    /// whole hierarchy shows its real root (see [`levels`](levels::levels)).
    pub(crate) fn locate(
        mounts: &Mounts,
        membership: &Membership,
        initial_namespace: bool,
    ) -> Self {
        let v2_levels = match (&mounts.unified, &membership.unified) {
            (Some(mount), Some(path)) => levels::levels(mount, path, initial_namespace),
            _ => Levels::default(),
        };
        let v1_levels = |mount: &Option<mounts::Mount>, controller: &str| {
            let path = membership.v1_path(controller)?;
            Some(levels::levels(mount.as_ref()?, path, initial_namespace))
        };
        // (levels, whether v1)
        let memory_levels = v1_levels(&mounts.memory, "memory")
            .map_or_else(|| (v2_levels.clone(), false), |levels| (levels, true));
        let cpu_levels = v1_levels(&mounts.cpu, "cpu")
            .map_or_else(|| (v2_levels.clone(), false), |levels| (levels, true));
        let pids_levels = v1_levels(&mounts.pids, "pids")
            .map_or_else(|| (v2_levels.clone(), false), |levels| (levels, true));
        Cgroup {
            memory_levels,
            memory: OnceLock::new(),
            cpu_levels,
            cpu: OnceLock::new(),
            pids_levels,
            pids_local_events: mounts.pids_local_events,
            at_root: found::controllers_at_root(mounts, membership, initial_namespace),
            early: OnceLock::new(),
            // The own v2 cgroup's pressure; the real root's is the system's.
            pressure: PressureFiles::open(v2_levels.dirs.first().map(PathBuf::as_path)),
        }
    }

    fn memory(&self) -> Option<&MemoryCgroup> {
        self.memory
            .get_or_init(|| {
                let (levels, v1) = &self.memory_levels;
                MemoryCgroup::open(levels, *v1)
            })
            .as_ref()
    }

    fn cpu(&self) -> &CpuCgroup {
        self.cpu.get_or_init(|| {
            let (levels, v1) = &self.cpu_levels;
            CpuCgroup::open(&levels.dirs, *v1)
        })
    }

    pub(crate) fn memory_limit(&self) -> Option<MemoryLimit> {
        self.memory()?.limit()
    }

    pub(crate) fn working_set(&self, limit: MemoryLimit) -> Option<u64> {
        self.memory()?.working_set(limit)
    }

    pub(crate) fn limit_hits(&self, limit: MemoryLimit) -> Option<u64> {
        self.memory()?.limit_hits(limit)
    }

    pub(crate) fn oom_kills(&self) -> Option<(CgroupId, u64)> {
        self.memory()?.oom_kills()
    }

    fn early(&self) -> &EarlyLimits {
        self.early.get_or_init(|| {
            let (levels, v1) = &self.memory_levels;
            EarlyLimits::find((levels, *v1), &self.pids_levels.0, self.pids_local_events)
        })
    }

    /// `memory.high` in effect (v2) and how often it was hit.
    pub(crate) fn memory_high(&self) -> Option<LimitInUse> {
        self.early().memory_high.as_ref()?.read()
    }

    /// The swap limit in effect (v2) and the swap in use by the cgroup that sets it.
    pub(crate) fn swap(&self) -> Option<LimitInUse> {
        self.early().swap.as_ref()?.read()
    }

    /// The task limit (`pids.max`) in effect, the tasks in the cgroup that sets it, and the
    /// tasks refused in the own cgroup.
    pub(crate) fn task_limit(&self) -> Option<LimitInUse> {
        self.early().tasks.read()
    }

    pub(crate) fn cpu_quota(&self) -> Option<CpuQuota> {
        self.cpu().quota()
    }

    pub(crate) fn throttling(&self, quota: CpuQuota) -> Option<Throttling> {
        self.cpu().throttling(quota)
    }

    pub(crate) fn pressure(&self, resource: Resource) -> Option<ScopedPressure> {
        self.pressure.read(resource)
    }
}

/// The identity of cgroup directory `dir` (one `stat`, when the cgroup is found).
pub(crate) fn cgroup_id(dir: &Path) -> Option<CgroupId> {
    let metadata = std::fs::metadata(dir).ok()?;
    Some(CgroupId {
        dev: metadata.dev(),
        ino: metadata.ino(),
    })
}

#[cfg(test)]
mod tests;
