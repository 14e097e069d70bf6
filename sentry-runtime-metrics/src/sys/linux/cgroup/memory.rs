//! The memory controller: the limit in effect (the smallest on the way up), the working set of
//! the cgroup that sets it, OOM kills and how often the limit was hit. v1 files where the
//! process is in a v1 memory hierarchy, else v2.
//!
//! Only the limit files are read every round; usage and `memory.stat` only while a limit is set
//! (each opened the first time it is needed), so a host without limits reads nothing else.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::parse;
use crate::sys::linux::file::CachedFile;
use crate::sys::readings::MemoryLimit;

/// Which file layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Version {
    V1,
    V2,
}

/// One directory on the way up.
#[derive(Debug)]
struct Level {
    dir: PathBuf,
    limit: CachedFile,
    usage: OnceLock<CachedFile>,
    stat: OnceLock<CachedFile>,
    /// v1 `memory.failcnt`, v2 `memory.events`: how often the limit was hit.
    hits: OnceLock<CachedFile>,
}

impl Level {
    fn file<'a>(&self, slot: &'a OnceLock<CachedFile>, name: &str) -> &'a CachedFile {
        slot.get_or_init(|| CachedFile::open(&self.dir.join(name)))
    }
}

#[derive(Debug)]
pub(crate) struct MemoryCgroup {
    version: Version,
    /// Nearest first; only those with a limit file.
    levels: Vec<Level>,
    /// The own cgroup's OOM kill count: v1 `memory.oom_control`, v2 `memory.events`.
    oom: CachedFile,
}

impl MemoryCgroup {
    /// The memory cgroup of levels `dirs` (nearest first), v1 or v2.
    pub(crate) fn open(dirs: &[PathBuf], v1: bool) -> Option<Self> {
        let version = if v1 { Version::V1 } else { Version::V2 };
        let own = dirs.first()?;
        let (limit_file, oom_file) = match version {
            Version::V1 => ("memory.limit_in_bytes", "memory.oom_control"),
            Version::V2 => ("memory.max", "memory.events"),
        };
        let mut levels = Vec::new();
        for (i, dir) in dirs.iter().enumerate() {
            // v1: a parent whose hierarchy does not take in its children limits them not.
            if version == Version::V1 && i > 0 && !uses_hierarchy(dir) {
                break;
            }
            let limit = CachedFile::open(&dir.join(limit_file));
            if limit.exists() {
                levels.push(Level {
                    dir: dir.clone(),
                    limit,
                    usage: OnceLock::new(),
                    stat: OnceLock::new(),
                    hits: OnceLock::new(),
                });
            }
        }
        Some(MemoryCgroup {
            version,
            levels,
            oom: CachedFile::open(&own.join(oom_file)),
        })
    }

    /// The smallest limit set on the way up; `None` when there is none (or it is unreadable).
    pub(crate) fn limit(&self) -> Option<MemoryLimit> {
        let parse = match self.version {
            Version::V1 => parse::parse_v1_limit,
            Version::V2 => parse::parse_v2_limit,
        };
        let mut effective: Option<MemoryLimit> = None;
        for (level, dir) in self.levels.iter().enumerate() {
            // Unreadable or `max`: no limit from this level.
            if let Some(bytes) = dir.limit.read(parse).flatten()
                && effective.is_none_or(|e| bytes < e.bytes)
            {
                effective = Some(MemoryLimit { bytes, level });
            }
        }
        effective
    }

    /// The working set of the cgroup that sets `limit`: memory charged to it minus inactive file
    /// cache, which the kernel reclaims before it kills anything (the figure Kubernetes evicts
    /// on).
    pub(crate) fn working_set(&self, limit: MemoryLimit) -> Option<u64> {
        let level = self.levels.get(limit.level)?;
        let (usage_file, inactive_key) = match self.version {
            Version::V1 => ("memory.usage_in_bytes", "total_inactive_file"),
            Version::V2 => ("memory.current", "inactive_file"),
        };
        let usage = level
            .file(&level.usage, usage_file)
            .read(parse::parse_number)?;
        let inactive = level
            .file(&level.stat, "memory.stat")
            .read(|text| parse::parse_key(text, inactive_key))?;
        Some(usage.saturating_sub(inactive))
    }

    /// How often the cgroup that sets `limit` hit it (v1 `memory.failcnt`, v2 `max` events).
    pub(crate) fn limit_hits(&self, limit: MemoryLimit) -> Option<u64> {
        let level = self.levels.get(limit.level)?;
        match self.version {
            Version::V1 => level
                .file(&level.hits, "memory.failcnt")
                .read(parse::parse_number),
            Version::V2 => level
                .file(&level.hits, "memory.events")
                .read(|text| parse::parse_key(text, "max")),
        }
    }

    /// Processes of the own cgroup killed by the OOM killer (`oom_kill`, Linux ≥ 4.13 on v1).
    pub(crate) fn oom_kills(&self) -> Option<u64> {
        self.oom.read(|text| parse::parse_key(text, "oom_kill"))
    }
}

/// v1 `memory.use_hierarchy` of `dir` (read once); on kernels where it is gone, always on.
fn uses_hierarchy(dir: &Path) -> bool {
    crate::sys::linux::file::read_once(&dir.join("memory.use_hierarchy"), parse::parse_number)
        .is_none_or(|flag| flag != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join(name), text).unwrap();
    }

    fn fixture(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("srm-memory-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn v2_the_parent_limit_bounds_the_child() {
        let root = fixture("v2");
        let (parent, child) = (root.join("slice"), root.join("slice/app"));
        write(&child, "memory.max", "max\n");
        write(
            &child,
            "memory.events",
            "low 0\nhigh 0\nmax 0\noom 0\noom_kill 2\n",
        );
        write(&parent, "memory.max", "1073741824\n");
        write(&parent, "memory.current", "268435456\n");
        write(&parent, "memory.stat", "anon 100\ninactive_file 67108864\n");
        write(
            &parent,
            "memory.events",
            "low 0\nhigh 0\nmax 5\noom 1\noom_kill 1\n",
        );
        let memory = MemoryCgroup::open(&[child.clone(), parent.clone()], false).unwrap();
        let limit = memory.limit().expect("the parent's limit");
        assert_eq!(limit.bytes, 1 << 30);
        assert_eq!(memory.working_set(limit), Some((256 - 64) << 20));
        assert_eq!(
            memory.limit_hits(limit),
            Some(5),
            "at the level that sets the limit"
        );
        assert_eq!(memory.oom_kills(), Some(2), "of the own cgroup");
        // A smaller limit on the child wins, and the files are re-read each time.
        write(&child, "memory.max", "536870912\n");
        assert_eq!(memory.limit().map(|l| l.bytes), Some(512 << 20));
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn v1_unlimited_everywhere_reads_no_usage() {
        let root = fixture("v1");
        let (parent, child) = (root.join("docker"), root.join("docker/abc"));
        write(&child, "memory.limit_in_bytes", "9223372036854771712\n");
        write(
            &child,
            "memory.oom_control",
            "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n",
        );
        write(&parent, "memory.limit_in_bytes", "9223372036854771712\n");
        write(&parent, "memory.use_hierarchy", "1\n");
        let memory = MemoryCgroup::open(&[child.clone(), parent.clone()], true).unwrap();
        assert_eq!(memory.limit(), None);
        assert!(
            memory
                .levels
                .iter()
                .all(|l| l.usage.get().is_none() && l.stat.get().is_none())
        );
        assert_eq!(memory.oom_kills(), Some(3));
        // A parent limit in a hierarchy that does not take its children in does not apply.
        write(&parent, "memory.limit_in_bytes", "1073741824\n");
        assert_eq!(memory.limit().map(|l| l.bytes), Some(1 << 30));
        write(&parent, "memory.use_hierarchy", "0\n");
        let flat = MemoryCgroup::open(&[child, parent], true).unwrap();
        assert_eq!(flat.limit(), None);
        std::fs::remove_dir_all(root).unwrap();
    }
}
