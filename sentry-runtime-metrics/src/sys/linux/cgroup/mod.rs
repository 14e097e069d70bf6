//! The cgroups a process runs in: memory and CPU limits in effect (its own cgroup's or a
//! parent's), throttling, OOM kills, the limits before the OOM kill (`memory.high`, swap,
//! `pids.max`), pressure, and what was found (for the report of what the integration sees). Handles cgroup v2, v1 and hybrid hosts (a v1
//! controller wins over the unified hierarchy, whose pressure files are still used). A missing
//! file or `max` means no limit, and nothing is sent for it.

mod cpu;
mod early_limits;
#[cfg(test)]
mod fixtures;
mod followed;
mod levels;
mod membership;
mod memory;
pub(crate) mod mounts;
pub(crate) mod parse;
pub(crate) mod pressure;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use cpu::CpuCgroup;
use early_limits::EarlyLimits;
pub(crate) use followed::{FollowedCgroup, LOCATE_AGAIN};
use levels::Levels;
pub(crate) use membership::{Membership, parse_membership};
use memory::MemoryCgroup;
use mounts::Mounts;
use pressure::PressureFiles;

use crate::sys::findings::{Availability, CgroupFound, Findings, Limit, LimitFinding};
use crate::sys::readings::{
    CgroupId, CpuQuota, LimitInUse, MemoryLimit, Resource, ScopedPressure, Throttling,
};

/// The cgroups of this process where it was found; each controller's files opened when it is
/// first asked for (a process that collects no CPU quota holds no CPU file open), each file once.
#[derive(Debug)]
pub(crate) struct Cgroup {
    memory_levels: (Levels, bool),
    memory: OnceLock<Option<MemoryCgroup>>,
    cpu_levels: (Levels, bool),
    cpu: OnceLock<CpuCgroup>,
    pids_levels: Levels,
    /// Whether the pids controller is a v1 hierarchy's.
    pids_v1: bool,
    /// The controllers (`memory`, `cpu`, `pids`) whose hierarchy's real root the process is
    /// in, where no limit can be set (for the report of what the integration sees).
    at_root: Vec<(&'static str, bool)>,
    /// Found when first asked for: every level's limit read once (see [`early_limits`]).
    early: OnceLock<EarlyLimits>,
    pressure: PressureFiles,
}

impl Cgroup {
    /// The cgroups of `membership` (the text of `/proc/self/cgroup`) in this process's mounts.
    pub(crate) fn of_this_process(membership: &str) -> Self {
        Self::locate(
            &Mounts::of_this_process(),
            &parse_membership(membership),
            membership::in_initial_namespace(),
        )
    }

    /// The cgroups of `membership` under `mounts`; `initial_namespace`: whether a mount of a
    /// whole hierarchy shows its real root (see [`levels`](levels::levels)).
    pub(crate) fn locate(
        mounts: &Mounts,
        membership: &Membership,
        initial_namespace: bool,
    ) -> Self {
        let v2_levels = match (&mounts.unified, &membership.unified) {
            (Some(mount), Some(path)) => levels::levels(mount, path, initial_namespace),
            _ => Levels::default(),
        };
        let v1_levels = |mount: &Option<mounts::Mount>, controller: &str| {
            let path = membership.v1_path(controller)?;
            Some(levels::levels(mount.as_ref()?, path, initial_namespace))
        };
        // (levels, whether v1)
        let memory_levels = v1_levels(&mounts.memory, "memory")
            .map_or_else(|| (v2_levels.clone(), false), |levels| (levels, true));
        let cpu_levels = v1_levels(&mounts.cpu, "cpu")
            .map_or_else(|| (v2_levels.clone(), false), |levels| (levels, true));
        let (pids_levels, pids_v1) = v1_levels(&mounts.pids, "pids")
            .map_or_else(|| (v2_levels.clone(), false), |levels| (levels, true));
        // In the real root (seen from the initial namespace, in a mount of the whole
        // hierarchy), with the version of its hierarchy.
        let in_root = |mount: &Option<mounts::Mount>, path: Option<&str>| {
            initial_namespace && path == Some("/") && mount.as_ref().is_some_and(|m| m.shows_root())
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
        Cgroup {
            memory_levels,
            memory: OnceLock::new(),
            cpu_levels,
            cpu: OnceLock::new(),
            pids_levels,
            pids_v1,
            at_root,
            early: OnceLock::new(),
            // The own v2 cgroup's pressure; the real root's is the system's.
            pressure: PressureFiles::open(v2_levels.dirs.first().map(PathBuf::as_path)),
        }
    }

    fn memory(&self) -> Option<&MemoryCgroup> {
        self.memory
            .get_or_init(|| {
                let (levels, v1) = &self.memory_levels;
                MemoryCgroup::open(levels, *v1)
            })
            .as_ref()
    }

    fn cpu(&self) -> &CpuCgroup {
        self.cpu.get_or_init(|| {
            let (levels, v1) = &self.cpu_levels;
            CpuCgroup::open(&levels.dirs, *v1)
        })
    }

    pub(crate) fn memory_limit(&self) -> Option<MemoryLimit> {
        self.memory()?.limit()
    }

    pub(crate) fn working_set(&self, limit: MemoryLimit) -> Option<u64> {
        self.memory()?.working_set(limit)
    }

    pub(crate) fn limit_hits(&self, limit: MemoryLimit) -> Option<u64> {
        self.memory()?.limit_hits(limit)
    }

    pub(crate) fn oom_kills(&self) -> Option<(CgroupId, u64)> {
        self.memory()?.oom_kills()
    }

    fn early(&self) -> &EarlyLimits {
        self.early.get_or_init(|| {
            let (levels, v1) = &self.memory_levels;
            EarlyLimits::find((levels, *v1), &self.pids_levels)
        })
    }

    /// `memory.high` in effect (v2) and how often it was hit.
    pub(crate) fn memory_high(&self) -> Option<LimitInUse> {
        self.early().memory_high.as_ref()?.read()
    }

    /// The swap limit in effect (v2) and the swap in use by the cgroup that sets it.
    pub(crate) fn swap(&self) -> Option<LimitInUse> {
        self.early().swap.as_ref()?.read()
    }

    /// The task limit (`pids.max`) in effect, the tasks in the cgroup that sets it, and the
    /// tasks refused in the own cgroup.
    pub(crate) fn task_limit(&self) -> Option<LimitInUse> {
        self.early().tasks.read()
    }

    pub(crate) fn cpu_quota(&self) -> Option<CpuQuota> {
        self.cpu().quota()
    }

    pub(crate) fn throttling(&self, quota: CpuQuota) -> Option<Throttling> {
        self.cpu().throttling(quota)
    }

    pub(crate) fn pressure(&self, resource: Resource) -> Option<ScopedPressure> {
        self.pressure.read(resource)
    }

    /// What was found: the cgroups followed, the limits in effect and where, the pressure's
    /// scope (into `findings`).
    pub(crate) fn find(&self, findings: &mut Findings) {
        let (memory_levels, memory_v1) = &self.memory_levels;
        let (cpu_levels, cpu_v1) = &self.cpu_levels;
        let pids_v1 = self.pids_v1;
        for (controller, levels, v1) in [
            ("memory", memory_levels, *memory_v1),
            ("cpu", cpu_levels, *cpu_v1),
            ("pids", &self.pids_levels, pids_v1),
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
        let tasks = (early.tasks.setting(), on(&self.pids_levels, "pids.current"));
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

/// The identity of cgroup directory `dir` (one `stat`, when the cgroup is found).
pub(crate) fn cgroup_id(dir: &Path) -> Option<CgroupId> {
    let metadata = std::fs::metadata(dir).ok()?;
    Some(CgroupId {
        dev: metadata.dev(),
        ino: metadata.ino(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::readings::{Scope, SetBy};
    use fixtures::{fixture, write};

    #[test]
    fn reads_a_v2_layout_from_files() {
        let root = fixture("mod-v2");
        write(&root, "cgroup.controllers", "cpu memory io\n");
        let dir = root.join("app.slice");
        write(&dir, "cgroup.controllers", "cpu memory\n");
        write(&dir, "memory.max", "1073741824\n");
        write(&dir, "memory.current", "268435456\n");
        write(
            &dir,
            "memory.stat",
            "anon 100\nfile 2000\ninactive_file 67108864\n",
        );
        write(
            &dir,
            "memory.events",
            "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n",
        );
        write(&dir, "cpu.max", "200000 100000\n");
        write(
            &dir,
            "cpu.pressure",
            "some avg10=1.00 avg60=0 avg300=0 total=7\nfull avg10=0.50 avg60=0 avg300=0 total=3\n",
        );
        let cgroup = Cgroup::locate(
            &Mounts::usual(&root),
            &parse_membership("0::/app.slice\n"),
            true,
        );
        let limit = cgroup.memory_limit().unwrap();
        assert_eq!(limit.bytes, 1 << 30);
        assert_eq!(cgroup.working_set(limit), Some((256 - 64) << 20));
        assert_eq!(
            (cgroup.limit_hits(limit), cgroup.oom_kills().map(|(_, k)| k)),
            (Some(3), Some(1))
        );
        assert_eq!(cgroup.cpu_quota().map(|q| q.cpus), Some(2.0));
        let cpu = cgroup.pressure(Resource::Cpu).unwrap();
        assert_eq!((cpu.scope(), cpu.cgroup), (Scope::Cgroup, cgroup_id(&dir)));
        assert_eq!(
            cpu.pressure.full.map(|f| f.avg10),
            Some(0.005),
            "a cgroup's CPU full line counts"
        );
        // `max` means no limit; files are re-read every time.
        write(&dir, "memory.max", "max\n");
        assert_eq!(cgroup.memory_limit(), None);
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn reads_a_v1_layout_mounted_at_the_container_root() {
        let root = fixture("mod-v1");
        // Inside a container, the controller directory is the cgroup itself.
        write(&root.join("memory"), "memory.limit_in_bytes", "536870912\n");
        write(&root.join("memory"), "memory.usage_in_bytes", "134217728\n");
        write(
            &root.join("memory"),
            "memory.stat",
            "cache 9\ninactive_file 1\ntotal_inactive_file 33554432\n",
        );
        write(&root.join("memory"), "memory.failcnt", "4\n");
        write(&root.join("cpu,cpuacct"), "cpu.cfs_quota_us", "50000\n");
        write(&root.join("cpu,cpuacct"), "cpu.cfs_period_us", "100000\n");
        let membership = parse_membership("4:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n");
        let cgroup = Cgroup::locate(&Mounts::usual(&root), &membership, true);
        let limit = cgroup.memory_limit().unwrap();
        assert_eq!(limit.bytes, 512 << 20);
        assert_eq!(cgroup.working_set(limit), Some((128 - 32) << 20));
        assert_eq!(cgroup.limit_hits(limit), Some(4));
        assert_eq!(cgroup.cpu_quota().map(|q| q.cpus), Some(0.5));
        assert_eq!(
            cgroup.pressure(Resource::Cpu).map(|p| p.scope()),
            Path::new("/proc/pressure/cpu")
                .exists()
                .then_some(Scope::System)
        );
        write(
            &root.join("memory"),
            "memory.limit_in_bytes",
            "9223372036854771712\n",
        );
        assert_eq!(cgroup.memory_limit(), None);
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn docker_in_docker_reads_the_inner_container_and_the_pod_limit_out_of_sight() {
        let root = fixture("mod-dind");
        let outer = root.join("memory");
        let inner = outer.join("docker/inner");
        write(&outer, "memory.limit_in_bytes", "1073741824\n");
        write(
            &outer.join("docker"),
            "memory.limit_in_bytes",
            "9223372036854771712\n",
        );
        write(&inner, "memory.limit_in_bytes", "536870912\n");
        write(
            &inner,
            "memory.oom_control",
            "oom_kill_disable 0\noom_kill 2\n",
        );
        write(
            &inner,
            "memory.stat",
            "hierarchical_memory_limit 268435456\ntotal_inactive_file 0\n",
        );
        let mounts = Mounts {
            memory: Some(mounts::Mount {
                point: outer.clone(),
                root: "/docker/outer".to_owned(),
            }),
            ..Mounts::default()
        };
        let membership = parse_membership("4:memory:/docker/outer/docker/inner\n");
        let cgroup = Cgroup::locate(&mounts, &membership, true);
        assert_eq!(
            cgroup.oom_kills(),
            Some((cgroup_id(&inner).unwrap(), 2)),
            "the inner container's own count, not the outer one's"
        );
        let limit = cgroup.memory_limit().unwrap();
        assert_eq!(
            limit.bytes,
            256 << 20,
            "the pod's limit above both containers, out of sight, is the smallest"
        );
        write(
            &inner,
            "memory.stat",
            "hierarchical_memory_limit 536870912\ntotal_inactive_file 0\n",
        );
        let limit = cgroup.memory_limit().unwrap();
        assert_eq!(limit.bytes, 512 << 20);
        assert!(matches!(limit.set_by, SetBy::Level { index: 0, .. }));
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn no_cgroup_means_no_values() {
        let cgroup = Cgroup::locate(
            &Mounts::usual(Path::new("/nonexistent")),
            &Membership::default(),
            true,
        );
        assert_eq!((cgroup.memory_limit(), cgroup.cpu_quota()), (None, None));
        assert_eq!(cgroup.oom_kills(), None);
        // And it says so: no cgroup, not a controller turned off.
        let mut findings = Findings::default();
        cgroup.find(&mut findings);
        assert!(findings.cgroups.is_empty());
        assert!(
            findings.limits.iter().all(|finding| finding.found.is_none()
                && matches!(
                    finding.availability,
                    Availability::NoCgroup | Availability::NotInV1
                )),
            "{findings:?}"
        );
    }
}
