//! The memory controller: the limit in effect (the smallest on the way up), the working set of
//! the cgroup that sets it, OOM kills and how often the limit was hit. v1 files where the
//! process is in a v1 memory hierarchy, else v2.
//!
//! Only the limit files are read every round; usage and `memory.stat` only while a limit is set
//! (each opened the first time it is needed), so a host without limits reads nothing else.
//! Inside a v1 container whose parents are out of sight, `memory.stat`'s
//! `hierarchical_memory_limit` (the smallest limit up to the real root, as the kernel enforces
//! it) is read too: a pod's or slice's limit above the container bounds it as well.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::levels::Levels;
use super::{cgroup_id, parse};
use crate::sys::platform::file::CachedFile;
use crate::sys::readings::{CgroupId, MemoryLimit, SetBy};

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
    id: CgroupId,
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
    own: PathBuf,
    own_id: CgroupId,
    /// The own cgroup's OOM kill count: v1 `memory.oom_control`, v2 `memory.events`.
    oom: OnceLock<CachedFile>,
    /// v1 with parents out of sight: the own `memory.stat`, for `hierarchical_memory_limit`.
    hierarchical: Option<OnceLock<CachedFile>>,
}

impl MemoryCgroup {
    /// The memory cgroup of `levels`, v1 or v2.
    pub(crate) fn open(levels: &Levels, v1: bool) -> Option<Self> {
        let version = if v1 { Version::V1 } else { Version::V2 };
        let own = levels.dirs.first()?;
        let own_id = cgroup_id(own)?;
        let limit_file = match version {
            Version::V1 => "memory.limit_in_bytes",
            Version::V2 => "memory.max",
        };
        let mut found = Vec::new();
        let mut whole_path = true;
        for (i, dir) in levels.dirs.iter().enumerate() {
            // v1: a parent whose hierarchy does not take in its children limits them not.
            if version == Version::V1 && i > 0 && !uses_hierarchy(dir) {
                whole_path = false;
                break;
            }
            let limit = CachedFile::open(&dir.join(limit_file));
            if let (true, Some(id)) = (limit.exists(), cgroup_id(dir)) {
                found.push(Level {
                    dir: dir.clone(),
                    id,
                    limit,
                    usage: OnceLock::new(),
                    stat: OnceLock::new(),
                    hits: OnceLock::new(),
                });
            }
        }
        let hierarchical =
            (version == Version::V1 && levels.hidden_above && whole_path).then(OnceLock::new);
        Some(MemoryCgroup {
            version,
            levels: found,
            own: own.clone(),
            own_id,
            oom: OnceLock::new(),
            hierarchical,
        })
    }

    /// The smallest limit set on the way up; `None` when there is none (or it is unreadable).
    pub(crate) fn limit(&self) -> Option<MemoryLimit> {
        let parse = match self.version {
            Version::V1 => parse::parse_v1_limit,
            Version::V2 => parse::parse_v2_limit,
        };
        let mut effective: Option<MemoryLimit> = None;
        for (index, level) in self.levels.iter().enumerate() {
            // Unreadable or `max`: no limit from this level.
            if let Some(bytes) = level.limit.read(parse).flatten()
                && effective.is_none_or(|e| bytes < e.bytes)
            {
                effective = Some(MemoryLimit {
                    bytes,
                    set_by: SetBy::Level {
                        index,
                        cgroup: level.id,
                    },
                });
            }
        }
        // Only a smaller limit than those in sight is one set out of sight.
        if let Some(slot) = &self.hierarchical
            && let Some(bytes) = slot
                .get_or_init(|| CachedFile::open(&self.own.join("memory.stat")))
                .read(parse::parse_hierarchical_limit)
                .flatten()
            && effective.is_none_or(|e| bytes < e.bytes)
        {
            effective = Some(MemoryLimit {
                bytes,
                set_by: SetBy::Hidden,
            });
        }
        effective
    }

    /// The level that sets `limit`, if it is still the cgroup it was.
    fn setter(&self, limit: MemoryLimit) -> Option<&Level> {
        let SetBy::Level { index, cgroup } = limit.set_by else {
            return None;
        };
        self.levels.get(index).filter(|level| level.id == cgroup)
    }

    /// The directory of the cgroup that sets `limit`; `None` for one out of sight.
    pub(crate) fn dir_of(&self, limit: MemoryLimit) -> Option<&Path> {
        Some(&self.setter(limit)?.dir)
    }

    /// The working set of the cgroup that sets `limit`: memory charged to it minus inactive file
    /// cache, which the kernel reclaims before it kills anything (the figure Kubernetes evicts
    /// on). `None` for a limit set out of sight.
    pub(crate) fn working_set(&self, limit: MemoryLimit) -> Option<u64> {
        let level = self.setter(limit)?;
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
        let level = self.setter(limit)?;
        match self.version {
            Version::V1 => level
                .file(&level.hits, "memory.failcnt")
                .read(parse::parse_number),
            Version::V2 => level
                .file(&level.hits, "memory.events")
                .read(|text| parse::parse_key(text, "max")),
        }
    }

    /// Processes of the own cgroup killed by the OOM killer (`oom_kill`, Linux ≥ 4.13 on v1),
    /// and which cgroup that is.
    pub(crate) fn oom_kills(&self) -> Option<(CgroupId, u64)> {
        let name = match self.version {
            Version::V1 => "memory.oom_control",
            Version::V2 => "memory.events",
        };
        let count = self
            .oom
            .get_or_init(|| CachedFile::open(&self.own.join(name)))
            .read(|text| parse::parse_key(text, "oom_kill"))?;
        Some((self.own_id, count))
    }
}

/// v1 `memory.use_hierarchy` of `dir` (read once); on kernels where it is gone, always on.
fn uses_hierarchy(dir: &Path) -> bool {
    crate::sys::platform::file::read_once(&dir.join("memory.use_hierarchy"), parse::parse_number)
        .is_none_or(|flag| flag != 0)
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{fixture, seen, write};
    use super::*;

    #[test]
    fn v2_the_parent_limit_bounds_the_child() {
        let root = fixture("memory-v2");
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
        let memory = MemoryCgroup::open(&seen(&[&child, &parent]), false).unwrap();
        let limit = memory.limit().expect("the parent's limit");
        assert_eq!(limit.bytes, 1 << 30);
        assert_eq!(memory.working_set(limit), Some((256 - 64) << 20));
        assert_eq!(
            memory.limit_hits(limit),
            Some(5),
            "at the level that sets the limit"
        );
        assert_eq!(
            memory.oom_kills().map(|(_, kills)| kills),
            Some(2),
            "of the own cgroup"
        );
        assert_eq!(
            memory.oom_kills().map(|(cgroup, _)| cgroup),
            cgroup_id(&child)
        );
        // A smaller limit on the child wins, and the files are re-read each time.
        write(&child, "memory.max", "536870912\n");
        assert_eq!(memory.limit().map(|l| l.bytes), Some(512 << 20));
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn v1_unlimited_everywhere_reads_no_usage() {
        let root = fixture("memory-v1");
        let (parent, child) = (root.join("docker"), root.join("docker/abc"));
        write(&child, "memory.limit_in_bytes", "9223372036854771712\n");
        write(
            &child,
            "memory.oom_control",
            "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n",
        );
        write(&parent, "memory.limit_in_bytes", "9223372036854771712\n");
        write(&parent, "memory.use_hierarchy", "1\n");
        let memory = MemoryCgroup::open(&seen(&[&child, &parent]), true).unwrap();
        assert_eq!(memory.limit(), None);
        assert!(
            memory
                .levels
                .iter()
                .all(|l| l.usage.get().is_none() && l.stat.get().is_none())
        );
        assert_eq!(memory.oom_kills().map(|(_, kills)| kills), Some(3));
        // A parent limit in a hierarchy that does not take its children in does not apply.
        write(&parent, "memory.limit_in_bytes", "1073741824\n");
        assert_eq!(memory.limit().map(|l| l.bytes), Some(1 << 30));
        write(&parent, "memory.use_hierarchy", "0\n");
        let flat = MemoryCgroup::open(&seen(&[&child, &parent]), true).unwrap();
        assert_eq!(flat.limit(), None);
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn a_cgroup_created_again_is_another_setter() {
        let root = fixture("memory-again");
        let own = root.join("app");
        write(&own, "memory.max", "1048576\n");
        write(&own, "memory.events", "max 7\n");
        let memory = MemoryCgroup::open(&seen(&[&own]), false).unwrap();
        let limit = memory.limit().unwrap();
        assert_eq!(memory.limit_hits(limit), Some(7));
        // Found again after the cgroup was removed and created at the same path: the old
        // reading's setter is not the new cgroup, whose count started over.
        let old_inode = cgroup_id(&own).unwrap();
        let parked = root.join("parked");
        std::fs::rename(&own, &parked).unwrap();
        write(&own, "memory.max", "1048576\n");
        write(&own, "memory.events", "max 1\n");
        assert_ne!(cgroup_id(&own), Some(old_inode));
        let again = MemoryCgroup::open(&seen(&[&own]), false).unwrap();
        assert_eq!(again.limit_hits(limit), None);
        assert_eq!(again.limit_hits(again.limit().unwrap()), Some(1));
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn v1_a_limit_out_of_sight_from_hierarchical_memory_limit() {
        let root = fixture("memory-hidden");
        write(&root, "memory.limit_in_bytes", "9223372036854771712\n");
        write(
            &root,
            "memory.stat",
            "cache 1\nhierarchical_memory_limit 2147483648\ntotal_inactive_file 0\n",
        );
        write(&root, "memory.failcnt", "3\n");
        let hidden = Levels {
            dirs: vec![root.clone()],
            hidden_above: true,
        };
        let memory = MemoryCgroup::open(&hidden, true).unwrap();
        let limit = memory.limit().expect("the pod's limit, out of sight");
        assert_eq!((limit.bytes, limit.set_by), (2 << 30, SetBy::Hidden));
        assert_eq!(
            (memory.working_set(limit), memory.limit_hits(limit)),
            (None, None),
            "the usage and hits of a cgroup out of sight are not known"
        );
        // The container's own, smaller limit wins and is read as its own.
        write(&root, "memory.limit_in_bytes", "1073741824\n");
        let own = memory.limit().unwrap();
        assert_eq!(own.bytes, 1 << 30);
        assert_eq!(memory.limit_hits(own), Some(3));
        // Where every parent is in sight, the stat is not read for it.
        let in_sight = MemoryCgroup::open(&seen(&[&root]), true).unwrap();
        assert!(in_sight.hierarchical.is_none());
        std::fs::remove_dir_all(root).unwrap();
    }
}
