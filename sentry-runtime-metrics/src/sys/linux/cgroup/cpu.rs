//! The CPU controller: the quota in effect (the smallest on the way up, in CPUs) and how often
//! the cgroup that sets it was throttled. The period (v1) and `cpu.stat` are only read where a
//! quota is set, each opened the first time it is needed.

use std::path::PathBuf;
use std::sync::OnceLock;

use super::{cgroup_id, parse};
use crate::sys::platform::file::CachedFile;
use crate::sys::readings::{CgroupId, CpuQuota, Throttling};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Version {
    V1,
    V2,
}

#[derive(Debug)]
struct Level {
    dir: PathBuf,
    id: CgroupId,
    /// v1 `cpu.cfs_quota_us`, v2 `cpu.max`.
    quota: CachedFile,
    /// v1 `cpu.cfs_period_us`.
    period: OnceLock<CachedFile>,
    stat: OnceLock<CachedFile>,
}

impl Level {
    fn file<'a>(&self, slot: &'a OnceLock<CachedFile>, name: &str) -> &'a CachedFile {
        slot.get_or_init(|| CachedFile::open(&self.dir.join(name)))
    }
}

#[derive(Debug)]
pub(crate) struct CpuCgroup {
    version: Version,
    levels: Vec<Level>,
}

impl CpuCgroup {
    pub(crate) fn open(dirs: &[PathBuf], v1: bool) -> Self {
        let version = if v1 { Version::V1 } else { Version::V2 };
        let quota_file = match version {
            Version::V1 => "cpu.cfs_quota_us",
            Version::V2 => "cpu.max",
        };
        let levels = dirs
            .iter()
            .filter_map(|dir| {
                Some(Level {
                    dir: dir.clone(),
                    id: cgroup_id(dir)?,
                    quota: CachedFile::open(&dir.join(quota_file)),
                    period: OnceLock::new(),
                    stat: OnceLock::new(),
                })
            })
            .filter(|level| level.quota.exists())
            .collect();
        CpuCgroup { version, levels }
    }

    /// The smallest quota set on the way up; `None` when there is none.
    pub(crate) fn quota(&self) -> Option<CpuQuota> {
        let mut effective: Option<CpuQuota> = None;
        for (index, level) in self.levels.iter().enumerate() {
            let cpus = match self.version {
                Version::V2 => level.quota.read(parse::parse_cpu_max).flatten(),
                Version::V1 => {
                    level
                        .quota
                        .read(parse::parse_cfs_quota)
                        .flatten()
                        .and_then(|quota| {
                            let period = level.file(&level.period, "cpu.cfs_period_us");
                            Some(quota / period.read(parse::parse_cfs_period)?)
                        })
                }
            };
            if let Some(cpus) = cpus
                && effective.is_none_or(|e| cpus < e.cpus)
            {
                effective = Some(CpuQuota {
                    cpus,
                    level: index,
                    cgroup: level.id,
                });
            }
        }
        effective
    }

    /// The directory of the cgroup that sets `quota` (for the report of what the integration
    /// sees).
    pub(crate) fn dir_of(&self, quota: CpuQuota) -> Option<&std::path::Path> {
        let level = self.levels.get(quota.level)?;
        (level.id == quota.cgroup).then_some(level.dir.as_path())
    }

    /// Periods and throttling of the cgroup that sets `quota`, if it is still the cgroup it was.
    pub(crate) fn throttling(&self, quota: CpuQuota) -> Option<Throttling> {
        let level = self
            .levels
            .get(quota.level)
            .filter(|level| level.id == quota.cgroup)?;
        let stat = level.file(&level.stat, "cpu.stat");
        match self.version {
            Version::V1 => stat.read(parse::parse_v1_cpu_stat),
            Version::V2 => stat.read(parse::parse_v2_cpu_stat),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{fixture, write};
    use super::*;

    #[test]
    fn v2_a_parent_quota_with_its_throttling() {
        let root = fixture("cpu-v2");
        let (parent, child) = (root.join("pod"), root.join("pod/ctr"));
        write(&child, "cpu.max", "max 100000\n");
        write(&parent, "cpu.max", "50000 100000\n");
        write(
            &parent,
            "cpu.stat",
            "usage_usec 1\nnr_periods 40\nnr_throttled 10\nthrottled_usec 2000\n",
        );
        let cpu = CpuCgroup::open(&[child, parent], false);
        let quota = cpu.quota().expect("the parent's quota");
        assert_eq!(quota.cpus, 0.5);
        assert_eq!(
            cpu.throttling(quota),
            Some(Throttling {
                periods: 40,
                throttled_periods: 10,
                throttled_us: 2000
            })
        );
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn v1_no_quota_reads_no_period() {
        let root = fixture("cpu-v1");
        write(&root, "cpu.cfs_quota_us", "-1\n");
        let cpu = CpuCgroup::open(std::slice::from_ref(&root), true);
        assert_eq!(cpu.quota(), None);
        assert!(cpu.levels[0].period.get().is_none());
        write(&root, "cpu.cfs_quota_us", "20000\n");
        write(&root, "cpu.cfs_period_us", "100000\n");
        let quota = cpu.quota().unwrap();
        assert!((quota.cpus - 0.2).abs() < 1e-12);
        write(
            &root,
            "cpu.stat",
            "nr_periods 5\nnr_throttled 5\nthrottled_time 80000000\n",
        );
        assert_eq!(cpu.throttling(quota).map(|t| t.throttled_us), Some(80_000));
        std::fs::remove_dir_all(root).unwrap();
    }
}
