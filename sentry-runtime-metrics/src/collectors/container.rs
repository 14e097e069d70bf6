//! [`ContainerMetrics`]: what says a container is about to be throttled, killed or starved: CPU
//! throttling under a quota, OOM kills and memory limit hits, the limits that bite before the
//! OOM kill (`memory.high`, swap, tasks), pressure stall information, and the process's storage
//! IO.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

mod fields;

use sentry_runtime_metrics_derive::MetricCollector;

use super::built_in::SharesReadings;
use crate::running_totals::{Began, RunningTotals};
use crate::sys::readings::Scope;
use crate::sys::{CgroupId, Needs, Platform, Resource, Shared, Sources, Throttling};

/// The signals of the process's cgroup and the kernel (Linux): throttling under the CPU quota in
/// effect, OOM kills and hits of the memory limit in effect, `memory.high` and its hits, the
/// swap in use under a swap limit, the tasks under the task limit (`pids.max`: past it no thread
/// can be created), the pressure on CPU, memory and IO
/// (of the process's v2 cgroup, else of the whole system, as the `scope` attribute says), and the
/// bytes the process read from and wrote to storage. Apart from the memory and process
/// collectors, which collect what the peers do, so those stay comparable.
///
/// Nothing is sent for what is not there: no throttling without a CPU quota, no limit hits
/// without a memory limit, no `memory.high`, swap or task values without their limit, no pressure without PSI (`CONFIG_PSI`), no `full` CPU pressure for
/// the system (the kernel reports a placeholder zero there). Files are read only when their
/// value is sent: `cpu.stat` only with a quota.
///
/// The counters here are the kernel's totals of one cgroup (or of the system), sent as the
/// increase since the previous round of the same cgroup. They began before this process could
/// look, so the first round only records them, and so does the first round of another cgroup
/// (when the limit in effect moves to another cgroup, or the process is moved): two unrelated
/// totals are never subtracted. The storage IO is the process's own, counted from its start:
/// the first round sends all of it. Totals of a cgroup or of
/// the system are the same for every process in it: when several processes send them, compare
/// per host or per process (`server_name`), do not add them up.
#[derive(Clone, Debug, MetricCollector)]
#[collector(name = "container")]
pub struct ContainerMetrics {
    /// Time the cgroup that sets the CPU quota in effect (the process's own or a parent) was
    /// throttled, in milliseconds: it wanted CPU and was not allowed to run. Summed over CPUs
    /// (the kernel adds up each CPU's throttled run queue), so it can exceed the wall time.
    #[counter(name = "process.cpu.throttled_time", delta)]
    throttled_time: Option<f64>,
    /// Quota periods in which that cgroup used up its quota and was throttled.
    #[counter(name = "process.cpu.throttled_periods", delta)]
    throttled_periods: Option<u64>,
    /// Share of the quota periods since the previous sample that were throttled (0..1).
    #[gauge(name = "process.cpu.throttled_ratio", unit = "ratio")]
    throttled_ratio: Option<f64>,
    /// Processes in the process's own cgroup killed by the kernel's OOM killer: the others in
    /// it (a process killed sends nothing more; its restart shows as `process.uptime` dropping).
    #[counter(name = "runtime.memory.oom_kills", delta)]
    oom_kills: Option<u64>,
    /// Times the memory of the cgroup that sets the limit in effect hit it (the kernel then
    /// reclaims, and kills if that fails); sent only while a limit in sight is set.
    #[counter(name = "runtime.memory.limit_hits", delta)]
    limit_hits: Option<u64>,
    /// `memory.high` in effect (cgroup v2): the smallest set on the process's cgroup or a
    /// parent. Above it the kernel throttles the cgroup's tasks and reclaims their memory, long
    /// before `memory.max` kills; not sent when none is set.
    #[gauge(name = "runtime.memory.high", unit = "byte")]
    memory_high: Option<u64>,
    /// Times the cgroup that sets `memory.high` went over it and was throttled and reclaimed
    /// (`memory.events` `high`).
    #[counter(name = "runtime.memory.high_hits", delta)]
    high_hits: Option<u64>,
    /// Swap in use by the cgroup that sets the swap limit in effect (cgroup v2); sent only with
    /// a limit.
    #[gauge(name = "runtime.memory.swap", unit = "byte")]
    swap: Option<u64>,
    /// The swap the cgroup may use (`memory.swap.max`, cgroup v2: v1 bounds memory and swap
    /// only together); not sent when unlimited or 0 (no swap at all).
    #[gauge(name = "runtime.memory.swap.limit", unit = "byte")]
    swap_limit: Option<u64>,
    /// The task limit in effect (`pids.max`, the smallest on the process's cgroup or a
    /// parent): past it creating a thread or process fails (`std::thread::spawn` panics);
    /// not sent when none is set.
    #[gauge(name = "process.pids.limit")]
    pids_limit: Option<u64>,
    /// Tasks (threads of every process) in the cgroup that sets the task limit
    /// (`pids.current`); sent only with a limit.
    #[gauge(name = "process.pids.count")]
    pids_count: Option<u64>,
    /// Times creating a task (thread or process) failed at the task limit, each a `fork` or
    /// `clone` that returned `EAGAIN`, as the kernel counts them: from Linux 6.12 (cgroup v2),
    /// the refusals of the limit in effect anywhere below it (`pids.events.local` of the cgroup
    /// that sets it); before, on v1 and with `pids_localevents`, the refusals of the tasks of
    /// the process's own cgroup (its `pids.events`).
    #[counter(name = "process.pids.limit_hits", delta)]
    pids_limit_hits: Option<u64>,
    /// Share of the last 10 s in which some task waited for CPU (PSI `some avg10`), by `scope`.
    #[gauge(
        name = "process.pressure.cpu.some",
        unit = "ratio",
        attribute = "scope"
    )]
    cpu_some: BTreeMap<&'static str, f64>,
    /// Share of the last 10 s in which every task of the cgroup waited for CPU (cgroup only).
    #[gauge(
        name = "process.pressure.cpu.full",
        unit = "ratio",
        attribute = "scope"
    )]
    cpu_full: BTreeMap<&'static str, f64>,
    /// Share of the last 10 s in which some task waited for memory (reclaim, swap-in).
    #[gauge(
        name = "process.pressure.memory.some",
        unit = "ratio",
        attribute = "scope"
    )]
    memory_some: BTreeMap<&'static str, f64>,
    /// Share of the last 10 s in which every task waited for memory: time lost to thrashing.
    #[gauge(
        name = "process.pressure.memory.full",
        unit = "ratio",
        attribute = "scope"
    )]
    memory_full: BTreeMap<&'static str, f64>,
    /// Share of the last 10 s in which some task waited for IO.
    #[gauge(name = "process.pressure.io.some", unit = "ratio", attribute = "scope")]
    io_some: BTreeMap<&'static str, f64>,
    /// Share of the last 10 s in which every task waited for IO.
    #[gauge(name = "process.pressure.io.full", unit = "ratio", attribute = "scope")]
    io_full: BTreeMap<&'static str, f64>,
    /// Time some task waited for CPU, in milliseconds (PSI `some total`).
    #[counter(name = "process.pressure.cpu.stall_time", attribute = "scope", delta)]
    cpu_stall: BTreeMap<&'static str, f64>,
    /// Time some task waited for memory, in milliseconds.
    #[counter(
        name = "process.pressure.memory.stall_time",
        attribute = "scope",
        delta
    )]
    memory_stall: BTreeMap<&'static str, f64>,
    /// Time some task waited for IO, in milliseconds.
    #[counter(name = "process.pressure.io.stall_time", attribute = "scope", delta)]
    io_stall: BTreeMap<&'static str, f64>,
    /// Bytes the process read from and wrote to storage, by `direction` (`read`, `write`; the
    /// block layer, not the page cache; `/proc/self/io`).
    #[counter(name = "process.disk.io", attribute = "direction", delta)]
    disk_io: BTreeMap<&'static str, u64>,
    sources: Arc<Sources>,
    /// This round's shared readings, when the group that samples the built-in collectors
    /// together handed them over (after looking whether the process moved); read here when
    /// sampled alone.
    shared: Option<Shared>,
    /// The throttling seen by the previous sample and whose, for the ratio.
    previous: Option<(CgroupId, Throttling)>,
    /// The last kernel totals sent, each with the cgroup it was read from.
    totals: RunningTotals<ContainerTotal, u64>,
    /// Whether the system's pressure is sent when the process's cgroup has none of its own
    /// (shared with the integration, whose `host_pressure` sets it).
    host_pressure: Arc<AtomicBool>,
}

/// The kernel totals sent as counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum ContainerTotal {
    ThrottledMicros,
    ThrottledPeriods,
    OomKills,
    LimitHits,
    HighHits,
    TaskLimitHits,
    /// Stall time of a resource, of the process's cgroup or the system.
    StallMicros(Resource),
    DiskRead,
    DiskWritten,
}

impl ContainerMetrics {
    /// A container collector (the process's cgroups are found when first needed and followed
    /// when the process moves; each file opened once).
    pub fn new() -> Self {
        Self::with_sources(Arc::new(Sources::open()), Arc::new(AtomicBool::new(true)))
    }

    /// A container collector reading `sources`, shared with the other built-in collectors.
    pub(crate) fn with_sources(sources: Arc<Sources>, host_pressure: Arc<AtomicBool>) -> Self {
        ContainerMetrics {
            throttled_time: None,
            throttled_periods: None,
            throttled_ratio: None,
            oom_kills: None,
            limit_hits: None,
            memory_high: None,
            high_hits: None,
            swap: None,
            swap_limit: None,
            pids_limit: None,
            pids_count: None,
            pids_limit_hits: None,
            cpu_some: BTreeMap::new(),
            cpu_full: BTreeMap::new(),
            memory_some: BTreeMap::new(),
            memory_full: BTreeMap::new(),
            io_some: BTreeMap::new(),
            io_full: BTreeMap::new(),
            cpu_stall: BTreeMap::new(),
            memory_stall: BTreeMap::new(),
            io_stall: BTreeMap::new(),
            disk_io: BTreeMap::new(),
            sources,
            shared: None,
            previous: None,
            totals: RunningTotals::new(),
            host_pressure,
        }
    }

    /// Whether to send the whole system's pressure (`scope = "system"`) when the process's
    /// cgroup has none of its own (cgroup v1, or no cgroup): on by default. Every process on a
    /// host sends the same values there, so a fleet of pods may want it off (the pressure of
    /// their own cgroup, `scope = "cgroup"`, is sent either way).
    #[must_use]
    pub fn host_pressure(mut self, send: bool) -> Self {
        self.host_pressure = Arc::new(AtomicBool::new(send));
        self
    }

    fn sample(&mut self) {
        // The process is followed to another cgroup each round.
        let shared = self.shared.take().unwrap_or_else(|| {
            self.sources.look_for_moves();
            Shared::read(&self.sources, self.needs())
        });
        let throttling = shared
            .cpu_quota
            .and_then(|quota| Some((quota.cgroup, self.sources.throttling(quota)?)));
        let oom_kills = self.sources.oom_kills();
        let limit_hits = shared
            .memory_limit
            .and_then(|limit| Some((limit.set_by.cgroup()?, self.sources.limit_hits(limit)?)));
        let memory_high = self.sources.memory_high();
        let swap = self.sources.swap();
        let tasks = self.sources.task_limit();
        let host_pressure = self.host_pressure.load(Ordering::Relaxed);
        let pressure = fields::RESOURCES.map(|resource| {
            self.sources
                .pressure(resource)
                .filter(|reading| host_pressure || reading.scope() == Scope::Cgroup)
        });
        let disk_io = self.sources.disk_io();

        let mut totals = self.totals.sample();
        let mut of_cgroup = |total, reading: Option<(CgroupId, u64)>| {
            let (cgroup, value) = reading?;
            totals.increase_from(total, cgroup, value, Began::Earlier)
        };
        let throttled_us = of_cgroup(
            ContainerTotal::ThrottledMicros,
            throttling.map(|(cgroup, t)| (cgroup, t.throttled_us)),
        );
        self.throttled_time = throttled_us.map(fields::micros_to_ms);
        self.throttled_periods = of_cgroup(
            ContainerTotal::ThrottledPeriods,
            throttling.map(|(cgroup, t)| (cgroup, t.throttled_periods)),
        );
        self.oom_kills = of_cgroup(ContainerTotal::OomKills, oom_kills);
        self.limit_hits = of_cgroup(ContainerTotal::LimitHits, limit_hits);
        self.high_hits = of_cgroup(
            ContainerTotal::HighHits,
            memory_high.and_then(|high| high.hits),
        );
        self.pids_limit_hits = of_cgroup(
            ContainerTotal::TaskLimitHits,
            tasks.and_then(|tasks| tasks.hits),
        );
        // The stall of the cgroup, or (`None`) of the system since boot.
        let stalled = pressure.map(|reading| {
            let reading = reading?;
            let total = ContainerTotal::StallMicros(reading.resource);
            let stall_us = reading.pressure.some.total_us;
            totals.increase_from(total, reading.cgroup, stall_us, Began::Earlier)
        });
        // The process's own, counted from its start: all of it the first time.
        let mut of_process = |total, bytes| totals.increase(total, bytes, Began::AtZero);
        let disk_io = disk_io.map(|io| {
            [
                ("read", of_process(ContainerTotal::DiskRead, io.read_bytes)),
                (
                    "write",
                    of_process(ContainerTotal::DiskWritten, io.write_bytes),
                ),
            ]
        });
        drop(totals);

        self.throttled_ratio = fields::throttled_ratio(self.previous, throttling);
        self.previous = throttling;
        self.memory_high = memory_high.map(|high| high.limit);
        (self.swap_limit, self.swap) = (swap.map(|s| s.limit), swap.and_then(|s| s.used));
        (self.pids_limit, self.pids_count) = (tasks.map(|t| t.limit), tasks.and_then(|t| t.used));
        for (reading, stalled) in pressure.into_iter().zip(stalled) {
            self.set_pressure(reading, stalled);
        }
        self.disk_io.clear();
        for (direction, grew) in disk_io.into_iter().flatten() {
            self.disk_io.extend(grew.map(|grew| (direction, grew)));
        }
    }
}

impl SharesReadings for ContainerMetrics {
    fn needs(&self) -> Needs {
        Needs {
            usage: false,
            memory_limit: true,
            cpu_quota: true,
        }
    }

    /// Its signals are the process's cgroup's: followed each round.
    fn follows_moves(&self) -> bool {
        true
    }

    fn hand(&mut self, shared: Shared) {
        self.shared = Some(shared);
    }
}

impl Default for ContainerMetrics {
    fn default() -> Self {
        Self::new()
    }
}
