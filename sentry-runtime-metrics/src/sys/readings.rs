//! What the platform layer reads, as plain values the collectors turn into metrics. Every
//! platform returns these (or `None` where it cannot read them).

/// CPU times, page faults, context switches and the peak resident set of the whole process
/// (`getrusage(RUSAGE_SELF)` on Unix).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Usage {
    pub(crate) user_us: u64,
    pub(crate) system_us: u64,
    pub(crate) minor_faults: u64,
    pub(crate) major_faults: u64,
    pub(crate) voluntary_switches: u64,
    pub(crate) involuntary_switches: u64,
    /// The peak resident set, in bytes.
    pub(crate) max_rss_bytes: u64,
}

/// The resident set of the process and the part of it that is file-backed (mapped files,
/// the binary's own pages) or shared memory; the rest is anonymous (heap, stacks).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Resident {
    pub(crate) bytes: u64,
    /// `None` where the platform does not split it.
    pub(crate) file_and_shared: Option<u64>,
}

/// Storage bytes the process caused to be read and written (the block layer, not the page
/// cache).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DiskIo {
    pub(crate) read_bytes: u64,
    pub(crate) write_bytes: u64,
}

/// One cgroup, by the device and inode of its directory: a cgroup removed and created again at
/// the same path is another one, whose counters start again at zero. A kernel total is only
/// ever compared with an earlier total of the same cgroup.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct CgroupId {
    pub(crate) dev: u64,
    pub(crate) ino: u64,
}

/// Which cgroup sets a limit or quota.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SetBy {
    /// One in sight: `index` counts up from the process's own cgroup (0).
    Level { index: usize, cgroup: CgroupId },
    /// One above the cgroups in sight (v1 `hierarchical_memory_limit` inside a container):
    /// its usage and counters cannot be read.
    Hidden,
}

impl SetBy {
    /// The cgroup, where it is in sight.
    pub(crate) fn cgroup(self) -> Option<CgroupId> {
        match self {
            SetBy::Level { cgroup, .. } => Some(cgroup),
            SetBy::Hidden => None,
        }
    }
}

/// The memory limit in effect and where it is set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct MemoryLimit {
    pub(crate) bytes: u64,
    pub(crate) set_by: SetBy,
}

/// One of the limits that bite before the memory limit (`memory.high`, swap, tasks) in effect:
/// the smallest on the process's cgroup or a parent, and that cgroup's use of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LimitInUse {
    /// Bytes (`memory.high`, swap) or tasks (`pids.max`).
    pub(crate) limit: u64,
    /// Swap bytes in use, or tasks in the cgroup (`None` for `memory.high`).
    pub(crate) used: Option<u64>,
    /// Times the limit was hit, and the cgroup that counts them: `memory.high` went over (the
    /// setter's `memory.events` `high`), a task could not be created (where the kernel counts
    /// a refused `fork`: the setter from Linux 6.12, the process's own cgroup before and on
    /// v1); `None` for swap.
    pub(crate) hits: Option<(CgroupId, u64)>,
    /// The cgroup that sets it.
    pub(crate) cgroup: CgroupId,
}

/// The CPU quota in effect and where it is set.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct CpuQuota {
    /// CPUs' worth of time per period (e.g. 1.5).
    pub(crate) cpus: f64,
    /// Index of the cgroup that sets it, counting up from the process's own (0).
    pub(crate) level: usize,
    pub(crate) cgroup: CgroupId,
}

/// CPU periods and throttling of a cgroup with a quota.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Throttling {
    /// Enforcement periods that have elapsed.
    pub(crate) periods: u64,
    /// Periods in which the cgroup used up its quota and was throttled.
    pub(crate) throttled_periods: u64,
    /// Time its tasks were throttled, in microseconds.
    pub(crate) throttled_us: u64,
}

/// A resource pressure stall information (PSI) reports on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Resource {
    Cpu,
    Memory,
    Io,
}

/// One line of a pressure file: `some` (at least one task stalled) or `full` (all stalled).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Stall {
    /// Share of the last 10 s stalled, 0..1 (`avg10` / 100).
    pub(crate) avg10: f64,
    /// Time stalled since boot (or the cgroup's creation), in microseconds.
    pub(crate) total_us: u64,
}

/// The pressure on one resource.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Pressure {
    pub(crate) some: Stall,
    /// Missing for CPU on kernels before 5.13, and never sent for the system's CPU (a
    /// placeholder zero there).
    pub(crate) full: Option<Stall>,
}

/// The pressure on one resource, and whose it is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct ScopedPressure {
    pub(crate) resource: Resource,
    pub(crate) pressure: Pressure,
    /// The cgroup whose pressure it is; `None`: the system's.
    pub(crate) cgroup: Option<CgroupId>,
}

impl ScopedPressure {
    /// Whose pressure it is.
    pub(crate) fn scope(&self) -> Scope {
        Scope::of(self.cgroup)
    }
}

/// Whose pressure is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scope {
    /// The process's cgroup (v2).
    Cgroup,
    /// The whole system (`/proc/pressure`).
    System,
}

impl Scope {
    /// The scope of pressure read from `cgroup`, or from the system for `None`.
    pub(crate) fn of(cgroup: Option<CgroupId>) -> Self {
        match cgroup {
            Some(_) => Scope::Cgroup,
            None => Scope::System,
        }
    }

    /// The `scope` attribute of the pressure metrics.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Scope::Cgroup => "cgroup",
            Scope::System => "system",
        }
    }
}
