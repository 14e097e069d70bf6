//! The report's list of the built-in metrics not sent and why, from what the platform found
//! ([`Findings`]) and the switches; its lines of what it sees come from [`seen`].

use std::path::PathBuf;

use super::seen::{self, finding, limit_name, own};
use super::{EnvironmentReport, NotSent, Switches};
use crate::sys::findings::{Availability, Findings, Limit};
use crate::sys::readings::Scope;
use crate::tracking_alloc::TrackingAllocator;

/// The report of `findings` for the collectors `switches` turns on.
pub(super) fn report(findings: &Findings, switches: Switches) -> EnvironmentReport {
    let mut report = EnvironmentReport {
        seen: seen::seen(findings, switches),
        not_sent: Vec::new(),
    };
    let mut skip =
        |metric: &'static str, why: String| report.not_sent.push(NotSent { metric, why });
    if switches.memory {
        memory(findings, &mut skip);
    } else {
        for metric in MEMORY_METRICS {
            skip(
                metric,
                "the memory collector is off (`collect_memory: false`, or no `memory` feature)"
                    .into(),
            );
        }
    }
    if switches.process {
        process(findings, switches, &mut skip);
        if switches.container {
            container(findings, switches, &mut skip);
        } else {
            for metric in CONTAINER_METRICS {
                skip(
                    metric,
                    "the container collector is off (`collect_container: false`)".into(),
                );
            }
        }
    } else {
        let container_memory = CONTAINER_METRICS
            .into_iter()
            .filter(|metric| metric.starts_with("runtime."));
        for metric in ["process.*"].into_iter().chain(container_memory) {
            skip(
                metric,
                "the process collector, and the container collector with it, is off \
                 (`collect_process: false`, or no `process` feature)"
                    .into(),
            );
        }
    }
    report
}

/// The memory collector's metrics (and the jemalloc collector's, which comes with it), by
/// name or family.
const MEMORY_METRICS: [&str; 7] = [
    "runtime.memory.rss*",
    "runtime.memory.heap_allocated",
    "runtime.memory.allocations",
    "runtime.memory.allocated_bytes",
    "runtime.memory.limit",
    "runtime.memory.limit_usage",
    "runtime.memory.jemalloc.*",
];

/// The container collector's metrics, by name or family.
const CONTAINER_METRICS: [&str; 8] = [
    "process.cpu.throttled_*",
    "process.pressure.*",
    "process.disk.io",
    "process.pids.*",
    "runtime.memory.oom_kills",
    "runtime.memory.limit_hits",
    "runtime.memory.high*",
    "runtime.memory.swap*",
];

/// Why a limit's metrics are not sent, if they are not: not set, not possible here, or set
/// out of sight (`usage_too`: whether its usage is needed, which cannot be read there).
fn limit_missing(
    findings: &Findings,
    limit: Limit,
    controller: &str,
    usage_too: bool,
) -> Option<String> {
    let name = limit_name(findings, limit);
    if findings.at_root.iter().any(|(c, _)| *c == controller) {
        return Some(format!(
            "the process is in the root {controller} cgroup, where no limit can be set"
        ));
    }
    let Some(finding) = finding(findings, limit) else {
        return Some(format!("no {controller} cgroup found"));
    };
    let where_ = |dir: Option<PathBuf>| match dir {
        Some(dir) => format!("on {} or a parent in sight", dir.display()),
        None => "on the process's cgroup or a parent".to_owned(),
    };
    match &finding.found {
        Some((value, Some(dir))) if limit == Limit::Swap && *value == 0.0 => Some(format!(
            "{name} is 0 on {}: the cgroup may not swap, nothing to watch",
            dir.display()
        )),
        Some((_, Some(_))) => None,
        Some((_, None)) if usage_too => Some(format!(
            "the {name} in effect is set above the cgroups in sight: its usage cannot be read"
        )),
        Some((_, None)) => None,
        None => Some(match finding.availability {
            Availability::Available => {
                format!("no {name} is set {}", where_(own(findings, controller)))
            }
            Availability::NotInV1 if limit == Limit::Swap => {
                "cgroup v1 has no swap limit of its own (`memory.memsw.*` bounds memory and swap \
                 together)"
                    .to_owned()
            }
            Availability::NotInV1 => format!("cgroup v1 has no `{name}`"),
            Availability::ControllerOff => format!(
                "the {controller} controller is not enabled for {}",
                own(findings, controller).map_or_else(
                    || "the process's cgroup".to_owned(),
                    |d| d.display().to_string()
                )
            ),
            Availability::NotAccounted => "swap is not accounted here (no `memory.swap.max`: a \
                                           kernel without `CONFIG_SWAP`, or `swapaccount=0`)"
                .to_owned(),
            Availability::NoCgroup => format!("no {controller} cgroup found"),
        }),
    }
}

fn memory(findings: &Findings, skip: &mut impl FnMut(&'static str, String)) {
    if let Some(why) = limit_missing(findings, Limit::Memory, "memory", false) {
        skip("runtime.memory.limit", why);
    }
    if let Some(why) = limit_missing(findings, Limit::Memory, "memory", true) {
        skip("runtime.memory.limit_usage", why);
    }
    if !findings.resident_split {
        let why = || "this platform's reader does not split the resident set".to_owned();
        skip("runtime.memory.rss.anon", why());
        skip("runtime.memory.rss.file", why());
    }
    let jemalloc_global = crate::collectors::jemalloc_is_global();
    if TrackingAllocator::<()>::allocations().is_none() {
        let why = || {
            "no `TrackingAllocator` is the global allocator (`#[global_allocator] static A: \
             TrackingAllocator<System> = TrackingAllocator::new(System);`)"
                .to_owned()
        };
        if !jemalloc_global {
            skip("runtime.memory.heap_allocated", why());
        }
        skip("runtime.memory.allocations", why());
        skip("runtime.memory.allocated_bytes", why());
    }
    if cfg!(feature = "jemalloc") && !jemalloc_global {
        skip(
            "runtime.memory.jemalloc.*",
            "jemalloc is not the global allocator".to_owned(),
        );
    }
}

fn process(findings: &Findings, switches: Switches, skip: &mut impl FnMut(&'static str, String)) {
    if switches.max_thread_groups == 0 {
        skip(
            "process.thread_group.*",
            "thread groups are off (`max_thread_groups(0)`)".to_owned(),
        );
    } else if findings.schedstat.is_none() {
        skip(
            "process.thread_group.*",
            "thread groups are read on Linux only".to_owned(),
        );
    } else if findings.schedstat == Some(false) {
        skip(
            "process.thread_group.wait_time",
            "threads have no `schedstat` (a kernel without `CONFIG_SCHED_INFO`)".to_owned(),
        );
    }
}

fn container(findings: &Findings, switches: Switches, skip: &mut impl FnMut(&'static str, String)) {
    if findings.reader == "sysinfo" {
        for family in CONTAINER_METRICS {
            if family != "process.disk.io" {
                skip(
                    family,
                    "cgroups and pressure are read on Linux only".to_owned(),
                );
            }
        }
        return;
    }
    if let Some(why) = limit_missing(findings, Limit::CpuQuota, "cpu", true) {
        skip("process.cpu.throttled_*", why);
    }
    if let Some(why) = limit_missing(findings, Limit::Memory, "memory", true) {
        skip("runtime.memory.limit_hits", why);
    }
    if own(findings, "memory").is_none() {
        skip(
            "runtime.memory.oom_kills",
            "no memory cgroup found".to_owned(),
        );
    }
    if let Some(why) = limit_missing(findings, Limit::MemoryHigh, "memory", true) {
        skip("runtime.memory.high", why.clone());
        skip("runtime.memory.high_hits", why);
    }
    if let Some(why) = limit_missing(findings, Limit::Swap, "memory", true) {
        skip("runtime.memory.swap", why.clone());
        skip("runtime.memory.swap.limit", why);
    }
    if let Some(why) = limit_missing(findings, Limit::Tasks, "pids", true) {
        skip("process.pids.*", why);
    }
    match &findings.pressure {
        None => skip(
            "process.pressure.*",
            "no pressure stall information (a kernel without `CONFIG_PSI`, or `psi=0`)".to_owned(),
        ),
        Some((Scope::System, _)) if !switches.host_pressure => skip(
            "process.pressure.*",
            "the cgroup has no pressure of its own (cgroup v1) and the system's is off \
             (`host_pressure(false)`)"
                .to_owned(),
        ),
        Some((Scope::System, _)) => skip(
            "process.pressure.cpu.full",
            "the system's CPU `full` line is a placeholder zero".to_owned(),
        ),
        Some((Scope::Cgroup, _)) => {}
    }
}

#[cfg(test)]
mod tests;
