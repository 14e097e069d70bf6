//! The report from made-up findings, and from this host's.

use super::*;
use crate::sys::findings::{CgroupFound, LimitFinding};

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
