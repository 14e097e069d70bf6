//! The [`Platform`] of macOS, Windows and the other non-Linux platforms: sysinfo, and on Unix
//! `getrusage` and `getrlimit`. On Linux this file is compiled only for its tests, which check
//! it against the `/proc` reader.
//!
//! sysinfo gives the resident set, the total CPU time, open files where the OS allows, threads
//! only on Linux, and the start time. One refresh serves a round: it is taken by the first
//! accessor after [`Platform::begin_round`] and reused by the others. There are no cgroups
//! here: no limit, quota, throttling or pressure is sent.

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};

use crate::sync::lock;
use crate::sys::Platform;
use crate::sys::readings::{
    CgroupId, CpuQuota, DiskIo, LimitInUse, MemoryLimit, Resident, Resource, ScopedPressure,
    Throttling, Usage,
};

/// Threads one by one: not read here (sysinfo does not give their CPU and wait), so thread
/// groups send nothing on these platforms. (On Linux, where this file is compiled for its tests
/// only, nothing uses it.)
#[cfg_attr(target_os = "linux", allow(dead_code))]
pub(crate) mod threads {
    /// One thread's totals (never read here).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub(crate) struct ThreadTimes {
        pub(crate) cpu_ns: u64,
        pub(crate) wait_ns: Option<u64>,
    }

    /// No threads are read on this platform.
    #[derive(Clone, Debug, Default)]
    pub(crate) struct ThreadTable;

    impl ThreadTable {
        pub(crate) fn new() -> Self {
            ThreadTable
        }

        /// `false`: the threads cannot be read here.
        pub(crate) fn read(&mut self, _each: impl FnMut(u32, &str, ThreadTimes)) -> bool {
            false
        }
    }
}

/// The sources of this process.
#[derive(Debug)]
pub(crate) struct Sources {
    process: SysinfoProcess,
}

impl Platform for Sources {
    fn open() -> Self {
        Sources {
            process: SysinfoProcess::open(),
        }
    }

    fn usage(&self) -> Option<Usage> {
        #[cfg(unix)]
        {
            crate::sys::ffi::usage()
        }
        #[cfg(not(unix))]
        {
            None
        }
    }

    fn memory_limit(&self) -> Option<MemoryLimit> {
        None
    }

    fn cpu_quota(&self) -> Option<CpuQuota> {
        None
    }

    fn look_for_moves(&self) {}

    fn begin_round(&self) {
        self.process.begin_round();
    }

    /// sysinfo's resident set, without a split: nothing is sent for the file-backed part.
    fn resident(&self) -> Option<Resident> {
        Some(Resident {
            bytes: self.process.rss_bytes()?,
            file_and_shared: None,
        })
    }

    /// `getrusage`'s: there is no `/proc/self/status` to correct it with.
    fn peak_rss(&self, usage: Usage, _rss_now: Option<u64>) -> Option<u64> {
        Some(usage.max_rss_bytes)
    }

    fn threads(&self) -> Option<u64> {
        self.process.threads()
    }

    fn open_fds(&self) -> Option<u64> {
        self.process.open_fds()
    }

    fn fd_soft_limit(&self) -> Option<u64> {
        #[cfg(unix)]
        {
            crate::sys::ffi::nofile_soft_limit()
        }
        #[cfg(not(unix))]
        {
            None
        }
    }

    fn affinity_cpus(&self) -> Option<u64> {
        std::thread::available_parallelism()
            .ok()
            .map(|cpus| cpus.get() as u64)
    }

    fn total_cpu_ms(&self) -> Option<f64> {
        self.process.total_cpu_ms()
    }

    fn disk_io(&self) -> Option<DiskIo> {
        None
    }

    fn started_at(&self) -> Option<Instant> {
        self.process.started_at()
    }

    fn working_set(&self, _limit: MemoryLimit) -> Option<u64> {
        None
    }

    fn limit_hits(&self, _limit: MemoryLimit) -> Option<u64> {
        None
    }

    fn oom_kills(&self) -> Option<(CgroupId, u64)> {
        None
    }

    fn memory_high(&self) -> Option<LimitInUse> {
        None
    }

    fn swap(&self) -> Option<LimitInUse> {
        None
    }

    fn task_limit(&self) -> Option<LimitInUse> {
        None
    }

    /// No cgroups, limits or `schedstat` through sysinfo.
    fn findings(&self) -> crate::sys::findings::Findings {
        crate::sys::findings::Findings {
            reader: "sysinfo",
            ..Default::default()
        }
    }

    fn throttling(&self, _quota: CpuQuota) -> Option<Throttling> {
        None
    }

    fn pressure(&self, _resource: Resource) -> Option<ScopedPressure> {
        None
    }
}

/// What one refresh found.
#[derive(Clone, Copy, Debug, Default)]
struct Snapshot {
    rss_bytes: Option<u64>,
    threads: Option<u64>,
    open_files: Option<u64>,
    total_cpu_ms: Option<f64>,
    /// Seconds since the Unix epoch.
    start_time: Option<u64>,
}

/// A reused `System` refreshing only this process.
#[derive(Debug)]
pub(crate) struct SysinfoProcess {
    state: Mutex<Refreshed>,
    pid: Option<Pid>,
}

#[derive(Debug)]
struct Refreshed {
    system: Option<System>,
    /// The snapshot of this round, once taken.
    last: Option<Snapshot>,
}

impl SysinfoProcess {
    pub(crate) fn open() -> Self {
        SysinfoProcess {
            state: Mutex::new(Refreshed {
                system: System::new().ok(),
                last: None,
            }),
            pid: sysinfo::get_current_pid().ok(),
        }
    }

    /// Starts a round: the next accessor refreshes, and the others of the round reuse it.
    fn begin_round(&self) {
        lock(&self.state).last = None;
    }

    fn snapshot(&self) -> Snapshot {
        let mut state = lock(&self.state);
        let Refreshed { system, last } = &mut *state;
        if let Some(snapshot) = last {
            return *snapshot;
        }
        let (Some(system), Some(pid)) = (system.as_mut(), self.pid) else {
            return Snapshot::default();
        };
        let kind = ProcessRefreshKind::nothing()
            .with_memory()
            .with_cpu()
            .with_tasks();
        system.refresh_processes_specifics(ProcessesToUpdate::Some(&[pid]), true, kind);
        let snapshot = match system.process(pid) {
            #[allow(clippy::cast_precision_loss)] // Milliseconds of CPU stay far below 2^53.
            Some(process) => Snapshot {
                rss_bytes: Some(process.memory()),
                threads: process.tasks().map(|tasks| tasks.len() as u64),
                open_files: process.open_files().map(|count| count as u64),
                total_cpu_ms: Some(process.accumulated_cpu_time() as f64),
                start_time: Some(process.start_time()).filter(|start| *start > 0),
            },
            None => Snapshot::default(),
        };
        *last = Some(snapshot);
        snapshot
    }

    pub(crate) fn rss_bytes(&self) -> Option<u64> {
        self.snapshot().rss_bytes
    }

    pub(crate) fn threads(&self) -> Option<u64> {
        self.snapshot().threads
    }

    pub(crate) fn open_fds(&self) -> Option<u64> {
        self.snapshot().open_files
    }

    pub(crate) fn total_cpu_ms(&self) -> Option<f64> {
        self.snapshot().total_cpu_ms
    }

    /// When the process started, from its start in wall-clock seconds.
    pub(crate) fn started_at(&self) -> Option<Instant> {
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(self.snapshot().start_time?);
        Instant::now().checked_sub(SystemTime::now().duration_since(start).ok()?)
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use crate::sys::platform;

    #[test]
    fn agrees_with_the_proc_reader() {
        let portable = Sources::open();
        let proc_files = platform::Sources::open();
        let (theirs, ours) = (
            portable.resident().unwrap().bytes as f64,
            proc_files.resident().unwrap().bytes as f64,
        );
        assert!((theirs - ours).abs() <= ours * 0.1, "{theirs} vs {ours}");
        // sysinfo counts tasks other than the main thread on Linux.
        assert!(portable.threads().is_some());
        assert!(portable.total_cpu_ms().is_some());
        assert!(portable.open_fds().is_some_and(|fds| fds > 0));
        assert_eq!(portable.fd_soft_limit(), proc_files.fd_soft_limit());
        // No cgroups here: nothing is made up.
        assert_eq!(
            (portable.memory_limit(), portable.cpu_quota()),
            (None, None)
        );
        // Both start times within two seconds: sysinfo's is whole seconds after a boot time in
        // whole seconds.
        let (theirs, ours) = (
            portable.started_at().unwrap(),
            proc_files.started_at().unwrap(),
        );
        let apart = if theirs > ours {
            theirs - ours
        } else {
            ours - theirs
        };
        assert!(apart < Duration::from_millis(2100), "{apart:?}");
    }
}
