//! Platform access, one module per platform, so collectors stay free of `cfg` noise.
//!
//! Each function returns `None` when the platform cannot give the value: collectors send nothing
//! rather than a placeholder.

#[cfg(unix)]
pub(crate) mod ffi;
#[cfg(target_os = "linux")]
pub(crate) mod linux;
#[cfg(any(not(target_os = "linux"), test))]
pub(crate) mod portable;

/// A snapshot of the process, as far as the platform knows it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct ProcessSnapshot {
    pub(crate) threads: Option<u64>,
    pub(crate) rss_bytes: Option<u64>,
    pub(crate) user_ms: Option<f64>,
    pub(crate) system_ms: Option<f64>,
    /// User plus system CPU time (the only CPU figure some platforms give).
    pub(crate) total_cpu_ms: Option<f64>,
}

/// The process's own counters (`/proc/self` on Linux), with files opened once.
#[derive(Debug)]
pub(crate) struct Process {
    #[cfg(target_os = "linux")]
    files: linux::ProcFiles,
    #[cfg(not(target_os = "linux"))]
    files: portable::SysinfoProcess,
}

impl Process {
    pub(crate) fn open() -> Self {
        Process {
            #[cfg(target_os = "linux")]
            files: linux::ProcFiles::open(),
            #[cfg(not(target_os = "linux"))]
            files: portable::SysinfoProcess::open(),
        }
    }

    /// Threads, resident set and CPU times.
    pub(crate) fn snapshot(&self) -> ProcessSnapshot {
        self.files.snapshot()
    }

    /// Number of open file descriptors (elsewhere than Linux: as of the last snapshot).
    pub(crate) fn open_fds(&self) -> Option<u64> {
        self.files.open_fds()
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

/// The process's cgroup (Linux); on other platforms every value is `None`.
#[derive(Debug, Default)]
pub(crate) struct Cgroup {
    #[cfg(target_os = "linux")]
    files: linux::cgroup::CgroupFiles,
}

impl Cgroup {
    /// Finds this process's cgroup files (one read of `/proc/self/cgroup`).
    pub(crate) fn of_this_process() -> Self {
        Cgroup {
            #[cfg(target_os = "linux")]
            files: linux::cgroup::CgroupFiles::of_this_process(),
        }
    }

    pub(crate) fn memory_limit(&self) -> Option<u64> {
        #[cfg(target_os = "linux")]
        {
            self.files.memory_limit()
        }
        #[cfg(not(target_os = "linux"))]
        {
            None
        }
    }

    pub(crate) fn memory_working_set(&self) -> Option<u64> {
        #[cfg(target_os = "linux")]
        {
            self.files.memory_working_set()
        }
        #[cfg(not(target_os = "linux"))]
        {
            None
        }
    }

    pub(crate) fn cpu_quota(&self) -> Option<f64> {
        #[cfg(target_os = "linux")]
        {
            self.files.cpu_quota()
        }
        #[cfg(not(target_os = "linux"))]
        {
            None
        }
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
