//! [`ContainerMetrics`]: what says a container is about to be throttled, killed or starved: CPU
//! throttling under a quota, OOM kills and memory limit hits, pressure stall information, and
//! the process's storage IO.

use std::collections::BTreeMap;
use std::sync::Arc;

use sentry_runtime_metrics_derive::MetricCollector;

use crate::sys::{Consumer, Pressure, Resource, Sources, Throttling};

/// The signals of the process's cgroup and the kernel (Linux): throttling under the CPU quota in
/// effect, OOM kills and hits of the memory limit in effect, the pressure on CPU, memory and IO
/// (of the process's v2 cgroup, else of the whole system, as the `scope` attribute says), and the
/// bytes the process read from and wrote to storage. Apart from the memory and process
/// collectors, which collect what the peers do, so those stay comparable.
///
/// Nothing is sent for what is not there: no throttling without a CPU quota, no limit hits
/// without a memory limit, no pressure without PSI (`CONFIG_PSI`), no `full` CPU pressure for
/// the system (the kernel reports a placeholder zero there). Files are read only when their
/// value is sent: `cpu.stat` only with a quota.
#[derive(Clone, Debug, MetricCollector)]
#[collector(name = "container")]
pub struct ContainerMetrics {
    /// Time the process's cgroup was throttled under the CPU quota in effect, in milliseconds:
    /// it wanted CPU and was not allowed to run.
    #[counter(name = "process.cpu.throttled_time")]
    throttled_time: Option<f64>,
    /// Quota periods in which the cgroup used up its quota and was throttled.
    #[counter(name = "process.cpu.throttled_periods")]
    throttled_periods: Option<u64>,
    /// Share of the quota periods since the previous sample that were throttled (0..1).
    #[gauge(name = "process.cpu.throttled_ratio", unit = "ratio")]
    throttled_ratio: Option<f64>,
    /// Processes of the cgroup killed by the kernel's OOM killer.
    #[counter(name = "runtime.memory.oom_kills")]
    oom_kills: Option<u64>,
    /// Times the cgroup's memory hit the limit in effect (the kernel then reclaims, and kills if
    /// that fails); sent only while a limit is set.
    #[counter(name = "runtime.memory.limit_hits")]
    limit_hits: Option<u64>,
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
    #[counter(name = "process.pressure.cpu.stall_time", attribute = "scope")]
    cpu_stall: BTreeMap<&'static str, f64>,
    /// Time some task waited for memory, in milliseconds.
    #[counter(name = "process.pressure.memory.stall_time", attribute = "scope")]
    memory_stall: BTreeMap<&'static str, f64>,
    /// Time some task waited for IO, in milliseconds.
    #[counter(name = "process.pressure.io.stall_time", attribute = "scope")]
    io_stall: BTreeMap<&'static str, f64>,
    /// Bytes the process read from and wrote to storage, by `direction` (`read`, `write`; the
    /// block layer, not the page cache; `/proc/self/io`).
    #[counter(name = "process.disk.io", attribute = "direction")]
    disk_io: BTreeMap<&'static str, u64>,
    sources: Arc<Sources>,
    consumer: Consumer,
    /// The throttling seen by the previous sample, for the ratio.
    previous: Option<Throttling>,
}

impl ContainerMetrics {
    /// A container collector (the process's cgroup is found once, its files opened once,
    /// shared with the other built-in collectors).
    pub fn new() -> Self {
        let sources = Sources::shared();
        ContainerMetrics {
            throttled_time: None,
            throttled_periods: None,
            throttled_ratio: None,
            oom_kills: None,
            limit_hits: None,
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
            consumer: sources.consumer(),
            sources,
            previous: None,
        }
    }

    fn sample(&mut self) {
        let throttling = self
            .sources
            .cpu_quota(self.consumer)
            .and_then(|quota| self.sources.throttling(quota));
        #[allow(clippy::cast_precision_loss)] // Counts far below 2^53.
        {
            self.throttled_time = throttling.map(|t| t.throttled_us as f64 / 1000.0);
            self.throttled_periods = throttling.map(|t| t.throttled_periods);
            self.throttled_ratio = match (self.previous, throttling) {
                (Some(then), Some(now)) if now.periods > then.periods => {
                    let periods = now.periods - then.periods;
                    let throttled = now.throttled_periods.saturating_sub(then.throttled_periods);
                    Some((throttled as f64 / periods as f64).min(1.0))
                }
                _ => None,
            };
        }
        self.previous = throttling;
        self.oom_kills = self.sources.oom_kills();
        self.limit_hits = self
            .sources
            .memory_limit(self.consumer)
            .and_then(|limit| self.sources.limit_hits(limit));
        self.pressure(Resource::Cpu);
        self.pressure(Resource::Memory);
        self.pressure(Resource::Io);
        self.disk_io.clear();
        if let Some(io) = self.sources.disk_io() {
            self.disk_io.insert("read", io.read_bytes);
            self.disk_io.insert("write", io.write_bytes);
        }
    }

    fn pressure(&mut self, resource: Resource) {
        let (some, full, stall) = match resource {
            Resource::Cpu => (&mut self.cpu_some, &mut self.cpu_full, &mut self.cpu_stall),
            Resource::Memory => (
                &mut self.memory_some,
                &mut self.memory_full,
                &mut self.memory_stall,
            ),
            Resource::Io => (&mut self.io_some, &mut self.io_full, &mut self.io_stall),
        };
        some.clear();
        full.clear();
        stall.clear();
        let Some((
            Pressure {
                some: waited,
                full: all,
            },
            scope,
        )) = self.sources.pressure(resource)
        else {
            return;
        };
        let scope = scope.as_str();
        some.insert(scope, waited.avg10);
        #[allow(clippy::cast_precision_loss)] // Microseconds far below 2^53.
        stall.insert(scope, waited.total_us as f64 / 1000.0);
        if let Some(all) = all {
            full.insert(scope, all.avg10);
        }
    }
}

impl Default for ContainerMetrics {
    fn default() -> Self {
        Self::new()
    }
}
