//! What the platform layer finds of this process's cgroups, limits and kernel features, as
//! plain values: the [report of what the integration sees](crate::EnvironmentReport) is made
//! from them.

use std::path::PathBuf;

use super::readings::Scope;

/// What one platform found.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Findings {
    /// How values are read: `/proc` and cgroup files, or sysinfo.
    pub(crate) reader: &'static str,
    /// The cgroup each controller of interest puts the process in, and its version.
    pub(crate) cgroups: Vec<CgroupFound>,
    /// The controllers whose hierarchy's root cgroup the process is in (no limit can be set
    /// there), with the hierarchy's version.
    pub(crate) at_root: Vec<(&'static str, u8)>,
    /// Whether cgroups above those in sight may set limits that cannot be seen (inside a
    /// container or a cgroup namespace).
    pub(crate) parents_out_of_sight: bool,
    /// Each limit looked for, and what was found.
    pub(crate) limits: Vec<LimitFinding>,
    /// Whose pressure is read, from where; `None`: no PSI.
    pub(crate) pressure: Option<(Scope, PathBuf)>,
    /// Whether threads have `schedstat` (run-queue wait); `None`: not looked at (not Linux).
    pub(crate) schedstat: Option<bool>,
    /// Whether the resident set is split into anonymous and file-backed.
    pub(crate) resident_split: bool,
}

/// The cgroup one controller puts the process in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CgroupFound {
    /// `memory`, `cpu`, `pids`.
    pub(crate) controller: &'static str,
    /// 1 or 2.
    pub(crate) version: u8,
    pub(crate) dir: PathBuf,
}

/// One limit looked for.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct LimitFinding {
    pub(crate) limit: Limit,
    /// The value in effect (bytes, CPUs or tasks) and where it is set (`None`: out of sight);
    /// `None`: not set anywhere in sight.
    pub(crate) found: Option<(f64, Option<PathBuf>)>,
    /// Whether this kind of limit can be set here, or why not.
    pub(crate) availability: Availability,
}

/// Whether a kind of limit can be set on the process's cgroup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Availability {
    Available,
    /// Not in cgroup v1 (`memory.high`; swap, which v1 bounds only with memory).
    NotInV1,
    /// The controller is not enabled for the process's cgroup (its files are not there).
    ControllerOff,
    /// Swap is not accounted (a kernel without `CONFIG_SWAP`, or `swapaccount=0`).
    NotAccounted,
    /// The process is in no cgroup of this controller that could be found.
    NoCgroup,
}

/// The limits looked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Limit {
    Memory,
    CpuQuota,
    MemoryHigh,
    Swap,
    Tasks,
}

impl Limit {
    /// Its name, as the kernel's files say it.
    pub(crate) fn name(self, v1: bool) -> &'static str {
        match (self, v1) {
            (Limit::Memory, false) => "memory.max",
            (Limit::Memory, true) => "memory.limit_in_bytes",
            (Limit::CpuQuota, false) => "cpu.max",
            (Limit::CpuQuota, true) => "cpu.cfs_quota_us",
            (Limit::MemoryHigh, _) => "memory.high",
            (Limit::Swap, _) => "memory.swap.max",
            (Limit::Tasks, _) => "pids.max",
        }
    }
}
