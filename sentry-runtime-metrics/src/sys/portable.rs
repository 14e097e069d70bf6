//! macOS, Windows and other non-Linux platforms, through sysinfo. On Linux this module is
//! compiled only for its tests, which check it against the `/proc` reader.
//!
//! sysinfo gives the resident set, the total CPU time, open files where the OS allows, threads
//! only on Linux, and the start time. One refresh serves the accessors of a collector run (a
//! snapshot younger than a millisecond is reused).

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};

use crate::sync::lock;

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
    last: Option<(Instant, Snapshot)>,
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

    fn snapshot(&self) -> Snapshot {
        let mut state = lock(&self.state);
        let Refreshed { system, last } = &mut *state;
        if let Some((at, snapshot)) = last
            && at.elapsed() < Duration::from_millis(1)
        {
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
        *last = Some((Instant::now(), snapshot));
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
    use crate::sys::linux::process::ProcFiles;

    #[test]
    fn agrees_with_the_proc_reader() {
        let portable = SysinfoProcess::open();
        let proc_files = ProcFiles::open();
        let (theirs, ours) = (
            portable.rss_bytes().unwrap() as f64,
            proc_files.rss_bytes().unwrap() as f64,
        );
        assert!((theirs - ours).abs() <= ours * 0.1, "{theirs} vs {ours}");
        // sysinfo counts tasks other than the main thread on Linux.
        assert!(portable.threads().is_some());
        assert!(portable.total_cpu_ms().is_some());
        assert!(portable.open_fds().is_some_and(|fds| fds > 0));
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
