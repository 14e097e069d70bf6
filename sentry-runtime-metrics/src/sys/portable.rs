//! macOS, Windows and other non-Linux platforms, through sysinfo. On Linux this module is
//! compiled only for its tests, which check it against the `/proc` reader.
//!
//! sysinfo gives the resident set, the total CPU time (no user/system split: those counters are
//! not sent there) and, where the OS allows, open files; threads only on Linux.

use std::sync::Mutex;

use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};

use super::ProcessSnapshot;
use crate::sync::lock;

/// A reused `System` refreshing only this process.
#[derive(Debug)]
pub(crate) struct SysinfoProcess {
    system: Mutex<Option<System>>,
    pid: Option<Pid>,
    open_files: Mutex<Option<u64>>,
}

impl SysinfoProcess {
    pub(crate) fn open() -> Self {
        SysinfoProcess {
            system: Mutex::new(System::new().ok()),
            pid: sysinfo::get_current_pid().ok(),
            open_files: Mutex::new(None),
        }
    }

    /// Refreshes this process and returns what sysinfo knows of it; also remembers the open
    /// file count for [`open_fds`](Self::open_fds).
    pub(crate) fn snapshot(&self) -> ProcessSnapshot {
        let mut system = lock(&self.system);
        let (Some(system), Some(pid)) = (system.as_mut(), self.pid) else {
            return ProcessSnapshot::default();
        };
        let kind = ProcessRefreshKind::nothing()
            .with_memory()
            .with_cpu()
            .with_tasks();
        system.refresh_processes_specifics(ProcessesToUpdate::Some(&[pid]), true, kind);
        let Some(process) = system.process(pid) else {
            return ProcessSnapshot::default();
        };
        *lock(&self.open_files) = process.open_files().map(|count| count as u64);
        #[allow(clippy::cast_precision_loss)] // Milliseconds of CPU stay far below 2^53.
        ProcessSnapshot {
            threads: process.tasks().map(|tasks| tasks.len() as u64),
            rss_bytes: Some(process.memory()),
            user_ms: None,
            system_ms: None,
            total_cpu_ms: Some(process.accumulated_cpu_time() as f64),
        }
    }

    /// Open files as of the last [`snapshot`](Self::snapshot).
    pub(crate) fn open_fds(&self) -> Option<u64> {
        *lock(&self.open_files)
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_the_proc_reader() {
        let portable = SysinfoProcess::open();
        let proc_files = super::super::linux::ProcFiles::open();
        let (theirs, ours) = (portable.snapshot(), proc_files.snapshot());
        let (theirs_rss, ours_rss) = (
            theirs.rss_bytes.unwrap() as f64,
            ours.rss_bytes.unwrap() as f64,
        );
        assert!(
            (theirs_rss - ours_rss).abs() <= ours_rss * 0.1,
            "{theirs_rss} vs {ours_rss}"
        );
        // sysinfo counts tasks other than the main thread on Linux.
        assert!(theirs.threads.is_some());
        let (theirs_cpu, ours_cpu) = (theirs.total_cpu_ms.unwrap(), ours.total_cpu_ms.unwrap());
        assert!(
            (theirs_cpu - ours_cpu).abs() <= 50.0 + ours_cpu * 0.1,
            "{theirs_cpu} vs {ours_cpu}"
        );
        assert!(portable.open_fds().is_some_and(|fds| fds > 0));
        assert_eq!((theirs.user_ms, theirs.system_ms), (None, None));
    }
}
