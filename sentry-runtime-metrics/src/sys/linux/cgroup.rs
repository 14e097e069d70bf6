//! The cgroup a process runs in: its memory limit and usage, and its CPU quota. Handles cgroup v2
//! (`memory.max`, `memory.current`, `cpu.max`), v1 (`memory.limit_in_bytes`,
//! `memory.usage_in_bytes`, `cpu.cfs_quota_us` / `cpu.cfs_period_us`) and hybrid hosts (a v1
//! controller wins over the unified hierarchy). A missing file or `max` means no limit.

use std::path::{Path, PathBuf};

use super::{CachedFile, read_small};

/// v1 reports "unlimited" as a huge page-aligned number (`PAGE_COUNTER_MAX` pages); anything
/// above this is treated as no limit.
const V1_UNLIMITED_ABOVE: u64 = 1 << 62;

/// The files of this process's cgroup, found from `/proc/self/cgroup` and opened once.
#[derive(Debug, Default)]
pub(crate) struct CgroupFiles {
    memory_limit: Option<CachedFile>,
    memory_usage: Option<CachedFile>,
    memory_stat: Option<CachedFile>,
    memory_v1: bool,
    cpu_max: Option<CachedFile>,
    cfs_quota: Option<(CachedFile, CachedFile)>,
}

/// The membership lines of `/proc/self/cgroup`: the unified (v2) path and v1 controller paths.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Membership {
    pub(crate) unified: Option<String>,
    pub(crate) v1: Vec<(String, String)>,
}

/// Parses `/proc/self/cgroup` (`hierarchy-id:controllers:path` per line).
pub(crate) fn parse_membership(text: &str) -> Membership {
    let mut membership = Membership::default();
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(id), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if id == "0" && controllers.is_empty() {
            membership.unified = Some(path.to_owned());
        } else {
            for controller in controllers.split(',').filter(|c| !c.is_empty()) {
                membership.v1.push((controller.to_owned(), path.to_owned()));
            }
        }
    }
    membership
}

impl CgroupFiles {
    /// Finds the files under `root` (normally `/sys/fs/cgroup`) for `membership`. Inside a
    /// container the process's own cgroup is usually mounted at the root, so the path from
    /// `/proc/self/cgroup` is tried first, then the mount root.
    pub(crate) fn locate(root: &Path, membership: &Membership) -> Self {
        let v1_dir = |controller: &str, mount: &str| -> Option<PathBuf> {
            let (_, path) = membership.v1.iter().find(|(c, _)| c == controller)?;
            candidates(&root.join(mount), path).find(|dir| dir.is_dir())
        };
        let v2_dir = membership.unified.as_deref().and_then(|path| {
            candidates(root, path).find(|dir| dir.join("cgroup.controllers").is_file())
        });
        let open = |dir: &Path, name: &str| Some(CachedFile::open(&dir.join(name)));
        let mut files = CgroupFiles::default();
        if let Some(dir) = v1_dir("memory", "memory") {
            files.memory_limit = open(&dir, "memory.limit_in_bytes");
            files.memory_usage = open(&dir, "memory.usage_in_bytes");
            files.memory_stat = open(&dir, "memory.stat");
            files.memory_v1 = true;
        } else if let Some(dir) = &v2_dir {
            files.memory_limit = open(dir, "memory.max");
            files.memory_usage = open(dir, "memory.current");
            files.memory_stat = open(dir, "memory.stat");
        }
        if let Some(dir) = v1_dir("cpu", "cpu").or_else(|| v1_dir("cpu", "cpu,cpuacct")) {
            files.cfs_quota = open(&dir, "cpu.cfs_quota_us").zip(open(&dir, "cpu.cfs_period_us"));
        } else if let Some(dir) = &v2_dir {
            files.cpu_max = open(dir, "cpu.max");
        }
        files
    }

    /// This process's cgroup, looked up under `/sys/fs/cgroup`.
    pub(crate) fn of_this_process() -> Self {
        let mut buf = [0u8; 4096];
        let membership = read_small(Path::new("/proc/self/cgroup"), &mut buf)
            .map(parse_membership)
            .unwrap_or_default();
        Self::locate(Path::new("/sys/fs/cgroup"), &membership)
    }

    /// The memory limit in bytes, if one is set.
    pub(crate) fn memory_limit(&self) -> Option<u64> {
        let mut buf = [0u8; 64];
        let text = self.memory_limit.as_ref()?.read(&mut buf)?;
        if self.memory_v1 {
            parse_v1_limit(text)
        } else {
            parse_v2_limit(text)
        }
    }

    /// The cgroup's working set: memory charged to it minus inactive file cache, which the
    /// kernel reclaims before it kills anything (the figure Kubernetes evicts on).
    pub(crate) fn memory_working_set(&self) -> Option<u64> {
        let mut buf = [0u8; 64];
        let usage: u64 = self
            .memory_usage
            .as_ref()?
            .read(&mut buf)?
            .trim()
            .parse()
            .ok()?;
        let mut stat = [0u8; 8192];
        let stat = self.memory_stat.as_ref()?.read(&mut stat)?;
        let key = if self.memory_v1 {
            "total_inactive_file"
        } else {
            "inactive_file"
        };
        Some(usage.saturating_sub(parse_stat_key(stat, key)?))
    }

    /// The CPU quota in CPUs (e.g. 1.5), if one is set.
    pub(crate) fn cpu_quota(&self) -> Option<f64> {
        let (mut a, mut b) = ([0u8; 64], [0u8; 64]);
        if let Some(file) = &self.cpu_max {
            return parse_cpu_max(file.read(&mut a)?);
        }
        let (quota, period) = self.cfs_quota.as_ref()?;
        parse_cfs(quota.read(&mut a)?, period.read(&mut b)?)
    }
}

fn candidates<'a>(base: &'a Path, path: &'a str) -> impl Iterator<Item = PathBuf> + 'a {
    let relative = path.trim_start_matches('/');
    [base.join(relative), base.to_path_buf()].into_iter()
}

/// The value of `key` in a `memory.stat` file (`key value` per line).
pub(crate) fn parse_stat_key(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let (name, value) = line.split_once(' ')?;
        (name == key).then(|| value.trim().parse().ok()).flatten()
    })
}

/// `memory.max`: bytes, or `max` for no limit.
pub(crate) fn parse_v2_limit(text: &str) -> Option<u64> {
    match text.trim() {
        "max" => None,
        value => value.parse().ok(),
    }
}

/// `memory.limit_in_bytes`: bytes; a huge value means no limit.
pub(crate) fn parse_v1_limit(text: &str) -> Option<u64> {
    text.trim()
        .parse()
        .ok()
        .filter(|limit| *limit < V1_UNLIMITED_ABOVE)
}

/// `cpu.max`: `quota period` in microseconds, or `max period`.
pub(crate) fn parse_cpu_max(text: &str) -> Option<f64> {
    let mut parts = text.split_whitespace();
    let quota: f64 = parts.next()?.parse().ok()?;
    let period: f64 = parts.next()?.parse().ok()?;
    (quota > 0.0 && period > 0.0).then(|| quota / period)
}

/// `cpu.cfs_quota_us` (`-1`: no limit) and `cpu.cfs_period_us`.
pub(crate) fn parse_cfs(quota: &str, period: &str) -> Option<f64> {
    let quota: f64 = quota.trim().parse().ok()?;
    let period: f64 = period.trim().parse().ok()?;
    (quota > 0.0 && period > 0.0).then(|| quota / period)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_limits_and_quotas() {
        assert_eq!(parse_v2_limit("max\n"), None);
        assert_eq!(parse_v2_limit("536870912\n"), Some(512 << 20));
        assert_eq!(parse_v2_limit(""), None);
        assert_eq!(parse_v1_limit("9223372036854771712\n"), None);
        assert_eq!(parse_v1_limit("1073741824\n"), Some(1 << 30));
        assert_eq!(parse_cpu_max("max 100000\n"), None);
        assert_eq!(parse_cpu_max("150000 100000\n"), Some(1.5));
        assert_eq!(parse_cfs("-1\n", "100000\n"), None);
        assert_eq!(parse_cfs("50000\n", "100000\n"), Some(0.5));
    }

    #[test]
    fn parses_membership_of_v1_v2_and_hybrid_hosts() {
        let hybrid = "9:name=systemd:/\n4:memory:/svc/abc\n1:cpu,cpuacct:/svc\n0::/\n";
        let m = parse_membership(hybrid);
        assert_eq!(m.unified.as_deref(), Some("/"));
        assert!(m.v1.contains(&("memory".into(), "/svc/abc".into())));
        assert!(m.v1.contains(&("cpuacct".into(), "/svc".into())));
        let v2 = parse_membership("0::/system.slice/app.service\n");
        assert_eq!(v2.unified.as_deref(), Some("/system.slice/app.service"));
        assert!(v2.v1.is_empty());
    }

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
        let dir = root.join("app.slice");
        write(&dir, "cgroup.controllers", "cpu memory\n");
        write(&dir, "memory.max", "1073741824\n");
        write(&dir, "memory.current", "268435456\n");
        write(
            &dir,
            "memory.stat",
            "anon 100\nfile 2000\ninactive_file 67108864\nactive_file 5\n",
        );
        write(&dir, "cpu.max", "200000 100000\n");
        let files = CgroupFiles::locate(&root, &parse_membership("0::/app.slice\n"));
        assert_eq!(files.memory_limit(), Some(1 << 30));
        assert_eq!(files.memory_working_set(), Some((256 - 64) << 20));
        assert_eq!(files.cpu_quota(), Some(2.0));
        // `max` and missing files mean no limit.
        // Files are re-read every time: a changed limit shows at once.
        write(&dir, "memory.max", "max\n");
        assert_eq!(files.memory_limit(), None);
        // A file missing when the cgroup is located means no limit.
        std::fs::remove_file(dir.join("cpu.max")).unwrap();
        let files = CgroupFiles::locate(&root, &parse_membership("0::/app.slice\n"));
        assert_eq!(files.cpu_quota(), None);
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
        write(&root.join("cpu,cpuacct"), "cpu.cfs_quota_us", "50000\n");
        write(&root.join("cpu,cpuacct"), "cpu.cfs_period_us", "100000\n");
        let membership = parse_membership("4:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n");
        let files = CgroupFiles::locate(&root, &membership);
        assert_eq!(files.memory_limit(), Some(512 << 20));
        assert_eq!(files.memory_working_set(), Some((128 - 32) << 20));
        assert_eq!(files.cpu_quota(), Some(0.5));
        write(
            &root.join("memory"),
            "memory.limit_in_bytes",
            "9223372036854771712\n",
        );
        assert_eq!(files.memory_limit(), None);
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn no_cgroup_means_no_values() {
        let files = CgroupFiles::locate(Path::new("/nonexistent"), &Membership::default());
        assert!(files.memory_limit.is_none() && files.cpu_max.is_none());
        assert_eq!(
            (
                files.memory_limit(),
                files.memory_working_set(),
                files.cpu_quota()
            ),
            (None, None, None)
        );
    }
}
