//! The Linux [`Platform`]: the process's own files in `/proc/self` and the cgroups it runs in,
//! each file opened once, when first read.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use super::cgroup::{Cgroup, FollowedCgroup, LOCATE_AGAIN};
use super::file::read_once;
use super::process::ProcFiles;
use crate::sys::findings::Findings;
use crate::sys::readings::{
    CgroupId, CpuQuota, DiskIo, LimitInUse, MemoryLimit, Resident, Resource, ScopedPressure,
    Throttling, Usage,
};
use crate::sys::{Platform, ffi};
use std::path::Path;

/// The sources of this process on Linux.
#[derive(Debug)]
pub(crate) struct Sources {
    process: ProcFiles,
    /// Found when first asked for: a process that reads no cgroup value finds none.
    cgroup: OnceLock<FollowedCgroup>,
}

impl Sources {
    /// The process's cgroups where they are now; whether it moved is looked at again when the
    /// last look is `look_after` old.
    fn cgroup(&self, look_after: Duration) -> Arc<Cgroup> {
        self.cgroup
            .get_or_init(FollowedCgroup::of_this_process)
            .current(look_after)
    }

    /// The cgroups as last found (looked at again once a minute, or each round when the
    /// container collector asks: [`Platform::look_for_moves`]).
    fn cgroups(&self) -> Arc<Cgroup> {
        self.cgroup(LOCATE_AGAIN)
    }
}

impl Platform for Sources {
    fn open() -> Self {
        Sources {
            process: ProcFiles::open(),
            cgroup: OnceLock::new(),
        }
    }

    fn usage(&self) -> Option<Usage> {
        ffi::usage()
    }

    fn memory_limit(&self) -> Option<MemoryLimit> {
        self.cgroups().memory_limit()
    }

    fn cpu_quota(&self) -> Option<CpuQuota> {
        self.cgroups().cpu_quota()
    }

    /// Every file is read when its value is asked for: nothing to start.
    fn begin_round(&self) {}

    fn look_for_moves(&self) {
        self.cgroup(Duration::ZERO);
    }

    fn resident(&self) -> Option<Resident> {
        self.process.resident()
    }

    fn peak_rss(&self, usage: Usage, rss_now: Option<u64>) -> Option<u64> {
        self.process.peak_rss(usage, rss_now)
    }

    fn threads(&self) -> Option<u64> {
        self.process.threads()
    }

    fn open_fds(&self) -> Option<u64> {
        self.process.open_fds()
    }

    fn fd_soft_limit(&self) -> Option<u64> {
        ffi::nofile_soft_limit()
    }

    fn affinity_cpus(&self) -> Option<u64> {
        ffi::affinity_cpus()
    }

    /// `getrusage` gives user and system time on Linux.
    fn total_cpu_ms(&self) -> Option<f64> {
        None
    }

    fn disk_io(&self) -> Option<DiskIo> {
        self.process.disk_io()
    }

    fn started_at(&self) -> Option<Instant> {
        self.process.started_at()
    }

    fn working_set(&self, limit: MemoryLimit) -> Option<u64> {
        self.cgroups().working_set(limit)
    }

    fn limit_hits(&self, limit: MemoryLimit) -> Option<u64> {
        self.cgroups().limit_hits(limit)
    }

    fn oom_kills(&self) -> Option<(CgroupId, u64)> {
        self.cgroups().oom_kills()
    }

    fn memory_high(&self) -> Option<LimitInUse> {
        self.cgroups().memory_high()
    }

    fn swap(&self) -> Option<LimitInUse> {
        self.cgroups().swap()
    }

    fn task_limit(&self) -> Option<LimitInUse> {
        self.cgroups().task_limit()
    }

    fn throttling(&self, quota: CpuQuota) -> Option<Throttling> {
        self.cgroups().throttling(quota)
    }

    fn pressure(&self, resource: Resource) -> Option<ScopedPressure> {
        self.cgroups().pressure(resource)
    }

    fn findings(&self) -> Findings {
        let schedstat = read_once(
            Path::new("/proc/thread-self/schedstat"),
            super::threads::parse_schedstat,
        );
        let mut findings = Findings {
            reader: "/proc and cgroup files",
            schedstat: Some(schedstat.is_some()),
            resident_split: self
                .process
                .resident()
                .is_some_and(|r| r.file_and_shared.is_some()),
            ..Findings::default()
        };
        // Where the process is now.
        self.cgroup(Duration::ZERO).find(&mut findings);
        findings
    }
}
