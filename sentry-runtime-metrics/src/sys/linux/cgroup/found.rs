//! What was found of the process's cgroups, for the report of what the integration sees
//! ([`Findings`]): the cgroups followed and their versions, the controllers whose root cgroup
//! the process is in, each limit in effect and where it is set (or why none can be), and whose
//! pressure is read.

use std::path::Path;

use super::levels::Levels;
use super::membership::Membership;
use super::mounts::{Mount, Mounts};
use super::{Cgroup, MemoryCgroup, early_limits};
use crate::sys::findings::{Availability, CgroupFound, Findings, Limit, LimitFinding};

impl Cgroup {
    /// What was found: the cgroups followed, the limits in effect and where, the pressure's
    /// scope (into `findings`).
    pub(crate) fn find(&self, findings: &mut Findings) {
        let (memory_levels, memory_v1) = &self.memory_levels;
        let (cpu_levels, cpu_v1) = &self.cpu_levels;
        let (pids_levels, pids_v1) = &self.pids_levels;
        for (controller, levels, v1) in [
            ("memory", memory_levels, *memory_v1),
            ("cpu", cpu_levels, *cpu_v1),
            ("pids", pids_levels, *pids_v1),
        ] {
            if let Some(dir) = levels.dirs.first() {
                findings.cgroups.push(CgroupFound {
                    controller,
                    version: if v1 { 1 } else { 2 },
                    dir: dir.clone(),
                });
                findings.parents_out_of_sight |= levels.hidden_above;
            }
        }
        for &(controller, v1) in &self.at_root {
            findings.at_root.push((controller, if v1 { 1 } else { 2 }));
        }
        let has = |levels: &Levels, file: &str| {
            levels
                .dirs
                .first()
                .is_some_and(|own| own.join(file).exists())
        };
        let on = |levels: &Levels, file: &str| match (levels.dirs.is_empty(), has(levels, file)) {
            (true, _) => Availability::NoCgroup,
            (false, true) => Availability::Available,
            (false, false) => Availability::ControllerOff,
        };
        let memory_usage = if *memory_v1 {
            "memory.usage_in_bytes"
        } else {
            "memory.current"
        };
        let memory_on = on(memory_levels, memory_usage);
        let memory = self.memory();
        let limit = memory.and_then(MemoryCgroup::limit);
        findings.limits.push(LimitFinding {
            limit: Limit::Memory,
            found: limit.map(|limit| {
                let dir = memory.and_then(|memory| memory.dir_of(limit));
                (limit.bytes as f64, dir.map(Path::to_path_buf))
            }),
            availability: memory_on,
        });
        let quota = self.cpu_quota();
        findings.limits.push(LimitFinding {
            limit: Limit::CpuQuota,
            found: quota.map(|quota| {
                let dir = self.cpu().dir_of(quota).map(Path::to_path_buf);
                (quota.cpus, dir)
            }),
            availability: on(
                cpu_levels,
                if *cpu_v1 {
                    "cpu.cfs_quota_us"
                } else {
                    "cpu.max"
                },
            ),
        });
        let early = self.early();
        let v2_memory = |watched: &Option<early_limits::Watched>, accounted: bool| {
            let availability = match (watched, memory_on, accounted) {
                (None, _, _) => Availability::NotInV1,
                (Some(_), Availability::Available, false) => Availability::NotAccounted,
                (Some(_), memory, _) => memory,
            };
            let found = watched.as_ref().and_then(early_limits::Watched::setting);
            (found, availability)
        };
        let tasks = (early.tasks.setting(), on(pids_levels, "pids.current"));
        for (limit, (found, availability)) in [
            (Limit::MemoryHigh, v2_memory(&early.memory_high, true)),
            (
                Limit::Swap,
                v2_memory(&early.swap, has(memory_levels, "memory.swap.max")),
            ),
            (Limit::Tasks, tasks),
        ] {
            findings.limits.push(LimitFinding {
                limit,
                found: found.map(|(value, dir)| (value as f64, Some(dir))),
                availability,
            });
        }
        findings.pressure = self.pressure.whose();
    }
}

/// The controllers (`memory`, `cpu`, `pids`) whose hierarchy's real root the process is in
/// (seen from the initial namespace, in a mount of the whole hierarchy), where no limit can be
/// set, each with whether its hierarchy is v1.
pub(super) fn controllers_at_root(
    mounts: &Mounts,
    membership: &Membership,
    initial_namespace: bool,
) -> Vec<(&'static str, bool)> {
    let in_root = |mount: &Option<Mount>, path: Option<&str>| {
        initial_namespace && path == Some("/") && mount.as_ref().is_some_and(Mount::shows_root)
    };
    let unified_root = in_root(&mounts.unified, membership.unified.as_deref());
    let mut at_root = Vec::new();
    for (controller, mount) in [
        ("memory", &mounts.memory),
        ("cpu", &mounts.cpu),
        ("pids", &mounts.pids),
    ] {
        let v1_path = membership.v1_path(controller).filter(|_| mount.is_some());
        match v1_path {
            Some(path) if in_root(mount, Some(path)) => at_root.push((controller, true)),
            Some(_) => {}
            None if unified_root => at_root.push((controller, false)),
            None => {}
        }
    }
    at_root
}
