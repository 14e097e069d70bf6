//! The report's sentences, from what the platform found ([`Findings`]) and the switches.

use std::path::PathBuf;

use super::{EnvironmentReport, NotSent, Switches};
use crate::local_view::readable;
use crate::metric::MetricType;
use crate::sys::findings::{Availability, Findings, Limit, LimitFinding};
use crate::sys::readings::Scope;
use crate::tracking_alloc::TrackingAllocator;

/// The report of `findings` for the collectors `switches` turns on.
pub(super) fn report(findings: &Findings, switches: Switches) -> EnvironmentReport {
    let mut report = EnvironmentReport {
        seen: seen(findings, switches),
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

/// One line a finding.
fn seen(findings: &Findings, switches: Switches) -> Vec<String> {
    let mut seen = vec![format!("reads: {}", findings.reader)];
    if findings.cgroups.is_empty() && findings.at_root.is_empty() {
        seen.push("cgroups: none found".to_owned());
    }
    for (controller, version) in &findings.at_root {
        seen.push(format!(
            "cgroup v{version} {controller}: the root cgroup (no limit can be set there)"
        ));
    }
    for cgroup in &findings.cgroups {
        seen.push(format!(
            "cgroup v{} {}: {}",
            cgroup.version,
            cgroup.controller,
            cgroup.dir.display()
        ));
    }
    if findings.parents_out_of_sight {
        seen.push(
            "cgroups above these are out of sight (a container or a cgroup namespace): a limit \
             set there is not seen (cgroup v1's memory limit is, through \
             `hierarchical_memory_limit`)"
                .to_owned(),
        );
    }
    for finding in &findings.limits {
        let name = limit_name(findings, finding.limit);
        let line = match &finding.found {
            Some((value, Some(dir))) if finding.limit == Limit::Swap && *value == 0.0 => {
                format!("{name}: 0 set on {} (no swap allowed)", dir.display())
            }
            Some((value, Some(dir))) => format!(
                "{name}: {} set on {}",
                show(finding.limit, *value),
                dir.display()
            ),
            Some((value, None)) => format!(
                "{name}: {} set above the cgroups in sight",
                show(finding.limit, *value)
            ),
            None if findings
                .at_root
                .iter()
                .any(|(c, _)| *c == controller_of(finding.limit)) =>
            {
                format!("{name}: none (the root cgroup)")
            }
            None => match finding.availability {
                Availability::Available if findings.parents_out_of_sight => {
                    format!("{name}: none set in sight")
                }
                Availability::Available => format!("{name}: none set"),
                Availability::NotInV1 => format!("{name}: none in cgroup v1"),
                Availability::ControllerOff => {
                    format!("{name}: none (the controller is not enabled here)")
                }
                Availability::NotAccounted => format!("{name}: none (swap is not accounted)"),
                Availability::NoCgroup => {
                    format!("{name}: no {} cgroup found", controller_of(finding.limit))
                }
            },
        };
        seen.push(line);
    }
    seen.push(match &findings.pressure {
        Some((Scope::Cgroup, dir)) => format!("pressure: the cgroup's ({})", dir.display()),
        Some((Scope::System, dir)) => format!(
            "pressure: the system's ({}), {}",
            dir.display(),
            if switches.host_pressure {
                "sent with `scope = system`"
            } else {
                "not sent (`host_pressure(false)`)"
            }
        ),
        None if findings.reader == "sysinfo" => "pressure: not available here".to_owned(),
        None => "pressure: none (no PSI: a kernel without `CONFIG_PSI`, or `psi=0`)".to_owned(),
    });
    if let Some(schedstat) = findings.schedstat {
        seen.push(format!(
            "schedstat: {}",
            if schedstat {
                "yes (run-queue wait of thread groups)"
            } else {
                "no (a kernel without `CONFIG_SCHED_INFO`): no run-queue wait"
            }
        ));
    }
    seen
}

/// The controller a limit belongs to.
fn controller_of(limit: Limit) -> &'static str {
    match limit {
        Limit::CpuQuota => "cpu",
        Limit::Tasks => "pids",
        Limit::Memory | Limit::MemoryHigh | Limit::Swap => "memory",
    }
}

/// The limit's file name in the version the process's cgroup has.
fn limit_name(findings: &Findings, limit: Limit) -> &'static str {
    let controller = controller_of(limit);
    let v1 = findings
        .cgroups
        .iter()
        .map(|cgroup| (cgroup.controller, cgroup.version))
        .chain(findings.at_root.iter().copied())
        .any(|(c, version)| c == controller && version == 1);
    limit.name(v1)
}

/// A limit's value as a person reads it.
fn show(limit: Limit, value: f64) -> String {
    match limit {
        Limit::Memory | Limit::MemoryHigh | Limit::Swap => {
            readable::readable("", MetricType::Gauge, value, Some("byte"))
        }
        Limit::CpuQuota => format!("{} CPUs", readable::significant(value)),
        Limit::Tasks => format!("{value} tasks"),
    }
}

fn finding(findings: &Findings, limit: Limit) -> Option<&LimitFinding> {
    findings
        .limits
        .iter()
        .find(|finding| finding.limit == limit)
}

/// The own cgroup of `controller`, for "on X or a parent".
fn own(findings: &Findings, controller: &str) -> Option<PathBuf> {
    findings
        .cgroups
        .iter()
        .find(|cgroup| cgroup.controller == controller)
        .map(|cgroup| cgroup.dir.clone())
}

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
    let jemalloc_global = jemalloc_is_global();
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

fn jemalloc_is_global() -> bool {
    #[cfg(feature = "jemalloc")]
    {
        crate::collectors::JemallocMetrics::jemalloc_is_global()
    }
    #[cfg(not(feature = "jemalloc"))]
    {
        false
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
mod tests {
    use super::*;
    use crate::sys::findings::CgroupFound;

    fn switches() -> Switches {
        Switches {
            memory: true,
            process: true,
            container: true,
            max_thread_groups: 16,
            host_pressure: true,
        }
    }

    fn limit(limit: Limit, found: Option<(f64, Option<&str>)>, possible: bool) -> LimitFinding {
        LimitFinding {
            limit,
            found: found.map(|(value, dir)| (value, dir.map(PathBuf::from))),
            availability: if possible {
                Availability::Available
            } else {
                Availability::NotAccounted
            },
        }
    }

    /// A container on cgroup v2 with a memory limit and `pids.max` on its own cgroup.
    fn v2_container() -> Findings {
        Findings {
            reader: "/proc and cgroup files",
            cgroups: ["memory", "cpu", "pids"]
                .map(|controller| CgroupFound {
                    controller,
                    version: 2,
                    dir: PathBuf::from("/sys/fs/cgroup"),
                })
                .to_vec(),
            at_root: Vec::new(),
            parents_out_of_sight: true,
            limits: vec![
                limit(
                    Limit::Memory,
                    Some((512.0 * 1048576.0, Some("/sys/fs/cgroup"))),
                    true,
                ),
                limit(Limit::CpuQuota, None, true),
                limit(Limit::MemoryHigh, None, true),
                limit(Limit::Swap, None, false),
                limit(Limit::Tasks, Some((64.0, Some("/sys/fs/cgroup"))), true),
            ],
            pressure: Some((Scope::Cgroup, PathBuf::from("/sys/fs/cgroup"))),
            schedstat: Some(true),
            resident_split: true,
        }
    }

    #[test]
    fn says_what_is_set_where_and_why_the_rest_is_not_sent() {
        let report = super::report(&v2_container(), switches());
        let text = report.to_string();
        assert!(
            text.contains("memory.max: 512 MiB set on /sys/fs/cgroup"),
            "{text}"
        );
        assert!(
            text.contains("pids.max: 64 tasks set on /sys/fs/cgroup"),
            "{text}"
        );
        assert!(text.contains("cpu.max: none set in sight"), "{text}");
        assert!(
            text.contains("memory.swap.max: none (swap is not accounted)"),
            "{text}"
        );
        assert!(text.contains("pressure: the cgroup's"), "{text}");
        assert!(text.contains("out of sight"), "{text}");
        assert!(!report.is_not_sent("runtime.memory.limit"));
        assert!(!report.is_not_sent("process.pids.limit"));
        assert!(report.is_not_sent("process.cpu.throttled_time"), "{text}");
        assert!(report.is_not_sent("runtime.memory.high_hits"), "{text}");
        assert!(report.is_not_sent("runtime.memory.swap.limit"), "{text}");
        let high = report
            .not_sent()
            .iter()
            .find(|skipped| skipped.metric == "runtime.memory.high")
            .unwrap();
        assert_eq!(
            high.why,
            "no memory.high is set on /sys/fs/cgroup or a parent in sight"
        );
        assert!(!report.is_not_sent("process.pressure.cpu.full"));
    }

    #[test]
    fn a_limit_out_of_sight_has_no_usage_and_collectors_off_say_so() {
        let mut findings = v2_container();
        findings.limits[0] = limit(Limit::Memory, Some((1e9, None)), true);
        findings.pressure = Some((Scope::System, PathBuf::from("/proc/pressure")));
        findings.schedstat = Some(false);
        let report = report(
            &findings,
            Switches {
                container: false,
                ..switches()
            },
        );
        assert!(!report.is_not_sent("runtime.memory.limit"));
        assert!(report.is_not_sent("runtime.memory.limit_usage"));
        assert!(report.is_not_sent("process.thread_group.wait_time"));
        assert!(!report.is_not_sent("process.thread_group.cpu_time"));
        assert!(report.is_not_sent("process.cpu.throttled_ratio"));
        let off = super::report(
            &findings,
            Switches {
                memory: false,
                process: false,
                ..switches()
            },
        );
        assert!(off.is_not_sent("runtime.memory.rss"));
        assert!(off.is_not_sent("process.cpu.user_time"));
        assert!(off.is_not_sent("runtime.memory.oom_kills"));
        assert!(off.to_string().contains("collect_process: false"));
        // The container collector sends `runtime.memory.*` counters of its own.
        let memory_off = super::report(
            &v2_container(),
            Switches {
                memory: false,
                ..switches()
            },
        );
        assert!(memory_off.is_not_sent("runtime.memory.rss.anon"));
        assert!(memory_off.is_not_sent("runtime.memory.limit"));
        assert!(!memory_off.is_not_sent("runtime.memory.oom_kills"));
        assert!(!memory_off.is_not_sent("runtime.memory.limit_hits"));
        assert!(!memory_off.is_not_sent("process.pids.limit"));
        // And without it, all of its own are not sent.
        assert!(report.is_not_sent("process.pressure.memory.some"));
        assert!(report.is_not_sent("runtime.memory.limit_hits"));
        assert!(!report.is_not_sent("runtime.memory.rss"));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn reads_this_host() {
        use crate::sys::{Platform, Sources};
        let findings = Sources::open().findings();
        let report = super::report(&findings, switches());
        // Whatever the host: the cgroups it lists are directories, every limit is named, and
        // a limit found is positive.
        for cgroup in &findings.cgroups {
            assert!(cgroup.dir.is_dir(), "{report}");
        }
        assert_eq!(findings.limits.len(), 5, "{report}");
        assert!(
            findings
                .limits
                .iter()
                .filter_map(|finding| finding.found.as_ref())
                .all(|(value, _)| *value > 0.0)
        );
        assert!(
            findings.resident_split && findings.schedstat.is_some(),
            "{report}"
        );
    }
}
