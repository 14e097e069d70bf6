//! The cgroups a process runs in: memory and CPU limits in effect (its own cgroup's or a
//! parent's), throttling, OOM kills, pressure. Handles cgroup v2, v1 and hybrid hosts (a v1
//! controller wins over the unified hierarchy, whose pressure files are still used). A missing
//! file or `max` means no limit, and nothing is sent for it.

mod cpu;
mod levels;
mod membership;
mod memory;
pub(crate) mod parse;
pub(crate) mod pressure;

use std::path::{Path, PathBuf};

use cpu::CpuCgroup;
pub(crate) use membership::{Membership, parse_membership};
use memory::MemoryCgroup;
use pressure::PressureFiles;

use super::file::read_once;
use crate::sys::readings::{CpuQuota, MemoryLimit, Pressure, Resource, Scope, Throttling};

/// The cgroups of this process, found once; each file opened once, when first needed.
#[derive(Debug)]
pub(crate) struct Cgroup {
    memory: Option<MemoryCgroup>,
    cpu: Option<CpuCgroup>,
    pressure: PressureFiles,
}

impl Cgroup {
    /// This process's cgroups, under `/sys/fs/cgroup`.
    pub(crate) fn of_this_process() -> Self {
        let membership = read_once(Path::new("/proc/self/cgroup"), |text| {
            Some(parse_membership(text))
        })
        .unwrap_or_default();
        Self::locate(
            Path::new("/sys/fs/cgroup"),
            &membership,
            membership::in_initial_namespace(),
        )
    }

    /// The cgroups of `membership` under `root`; `initial_namespace`: whether a hierarchy's
    /// mount root is its real root (see [`levels`](levels::levels)).
    pub(crate) fn locate(root: &Path, membership: &Membership, initial_namespace: bool) -> Self {
        let v2_mount = [root.to_path_buf(), root.join("unified")]
            .into_iter()
            .find(|mount| mount.join("cgroup.controllers").is_file());
        let v2_levels = match (&v2_mount, &membership.unified) {
            (Some(mount), Some(path)) => levels::levels(mount, path, initial_namespace),
            _ => Vec::new(),
        };
        let v1_levels = |mounts: &[&str], controller: &str| -> Option<Vec<PathBuf>> {
            let path = membership.v1_path(controller)?;
            let mount = mounts.iter().map(|m| root.join(m)).find(|m| m.is_dir())?;
            Some(levels::levels(&mount, path, initial_namespace))
        };
        let memory = match v1_levels(&["memory"], "memory") {
            Some(levels) => MemoryCgroup::open(&levels, true),
            None => MemoryCgroup::open(&v2_levels, false),
        };
        let cpu = match v1_levels(&["cpu", "cpu,cpuacct", "cpuacct,cpu"], "cpu") {
            Some(levels) => CpuCgroup::open(&levels, true),
            None => CpuCgroup::open(&v2_levels, false),
        };
        Cgroup {
            memory,
            cpu: Some(cpu),
            // The own v2 cgroup's pressure; the real root's is the system's.
            pressure: PressureFiles::open(v2_levels.first().map(PathBuf::as_path)),
        }
    }

    pub(crate) fn memory_limit(&self) -> Option<MemoryLimit> {
        self.memory.as_ref()?.limit()
    }

    pub(crate) fn working_set(&self, limit: MemoryLimit) -> Option<u64> {
        self.memory.as_ref()?.working_set(limit)
    }

    pub(crate) fn limit_hits(&self, limit: MemoryLimit) -> Option<u64> {
        self.memory.as_ref()?.limit_hits(limit)
    }

    pub(crate) fn oom_kills(&self) -> Option<u64> {
        self.memory.as_ref()?.oom_kills()
    }

    pub(crate) fn cpu_quota(&self) -> Option<CpuQuota> {
        self.cpu.as_ref()?.quota()
    }

    pub(crate) fn throttling(&self, quota: CpuQuota) -> Option<Throttling> {
        self.cpu.as_ref()?.throttling(quota)
    }

    pub(crate) fn pressure(&self, resource: Resource) -> Option<Pressure> {
        self.pressure.read(resource)
    }

    pub(crate) fn pressure_scope(&self) -> Scope {
        self.pressure.scope()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join(name), text).unwrap();
    }

    fn fixture(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("srm-cgroup-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn reads_a_v2_layout_from_files() {
        let root = fixture("v2");
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
        let cgroup = Cgroup::locate(&root, &parse_membership("0::/app.slice\n"), true);
        let limit = cgroup.memory_limit().unwrap();
        assert_eq!(limit.bytes, 1 << 30);
        assert_eq!(cgroup.working_set(limit), Some((256 - 64) << 20));
        assert_eq!(
            (cgroup.limit_hits(limit), cgroup.oom_kills()),
            (Some(3), Some(1))
        );
        assert_eq!(cgroup.cpu_quota().map(|q| q.cpus), Some(2.0));
        assert_eq!(cgroup.pressure_scope(), Scope::Cgroup);
        let cpu = cgroup.pressure(Resource::Cpu).unwrap();
        assert_eq!(
            cpu.full.map(|f| f.avg10),
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
        let root = fixture("v1");
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
        let cgroup = Cgroup::locate(&root, &membership, true);
        let limit = cgroup.memory_limit().unwrap();
        assert_eq!(limit.bytes, 512 << 20);
        assert_eq!(cgroup.working_set(limit), Some((128 - 32) << 20));
        assert_eq!(cgroup.limit_hits(limit), Some(4));
        assert_eq!(cgroup.cpu_quota().map(|q| q.cpus), Some(0.5));
        assert_eq!(cgroup.pressure_scope(), Scope::System);
        write(
            &root.join("memory"),
            "memory.limit_in_bytes",
            "9223372036854771712\n",
        );
        assert_eq!(cgroup.memory_limit(), None);
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn no_cgroup_means_no_values() {
        let cgroup = Cgroup::locate(Path::new("/nonexistent"), &Membership::default(), true);
        assert_eq!((cgroup.memory_limit(), cgroup.cpu_quota()), (None, None));
        assert_eq!(cgroup.oom_kills(), None);
    }
}
