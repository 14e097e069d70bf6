//! The report's lines of what it sees, from what the platform found ([`Findings`]).

use std::path::PathBuf;

use super::Switches;
use crate::local_view::readable;
use crate::metric::MetricType;
use crate::sys::findings::{Availability, Findings, Limit, LimitFinding};
use crate::sys::readings::Scope;

/// One line a finding.
pub(super) fn seen(findings: &Findings, switches: Switches) -> Vec<String> {
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
pub(super) fn controller_of(limit: Limit) -> &'static str {
    match limit {
        Limit::CpuQuota => "cpu",
        Limit::Tasks => "pids",
        Limit::Memory | Limit::MemoryHigh | Limit::Swap => "memory",
    }
}

/// The limit's file name in the version the process's cgroup has.
pub(super) fn limit_name(findings: &Findings, limit: Limit) -> &'static str {
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
pub(super) fn show(limit: Limit, value: f64) -> String {
    match limit {
        Limit::Memory | Limit::MemoryHigh | Limit::Swap => {
            readable::readable("", MetricType::Gauge, value, Some("byte"))
        }
        Limit::CpuQuota => format!("{} CPUs", readable::significant(value)),
        Limit::Tasks => format!("{value} tasks"),
    }
}

pub(super) fn finding(findings: &Findings, limit: Limit) -> Option<&LimitFinding> {
    findings
        .limits
        .iter()
        .find(|finding| finding.limit == limit)
}

/// The own cgroup of `controller`, for "on X or a parent".
pub(super) fn own(findings: &Findings, controller: &str) -> Option<PathBuf> {
    findings
        .cgroups
        .iter()
        .find(|cgroup| cgroup.controller == controller)
        .map(|cgroup| cgroup.dir.clone())
}
