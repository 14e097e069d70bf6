//! The limits that bite before `memory.max`: `memory.high` (v2: above it the kernel throttles
//! and reclaims the cgroup's tasks), the swap a cgroup may use (v2 `memory.swap.max`, v1
//! `memory.memsw.limit_in_bytes` less `memory.limit_in_bytes`), and the task limit
//! (`pids.max`: past it `fork` and `clone` fail, and `std::thread::spawn` panics).
//!
//! Each is the smallest set on the process's cgroup or a parent, as for `memory.max`. Every
//! level's limit file is read when the cgroups are found (at the start, when the process moved,
//! and once a minute); each round reads only the files of the cgroup that sets a limit (its
//! limit again, and its use of it): a host or cgroup without these limits reads nothing more.
//! So a limit set or lowered on another level shows within a minute; one changed on the level
//! that sets it shows in the next round.

use std::path::{Path, PathBuf};

use super::levels::Levels;
use super::{cgroup_id, parse};
use crate::sys::platform::file::{CachedFile, read_once};
use crate::sys::readings::{CgroupId, LimitInUse};

/// Which limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// v2 `memory.high`, with its `high` events.
    MemoryHigh,
    /// v2 `memory.swap.max` and `memory.swap.current`.
    SwapV2,
    /// v1 `memory.memsw.limit_in_bytes` less `memory.limit_in_bytes`, and `total_swap`.
    SwapV1,
    /// `pids.max` and `pids.current`, in either version.
    Tasks,
}

/// The cgroup that sets one limit, and the files read each round.
#[derive(Debug)]
pub(crate) struct Setter {
    kind: Kind,
    dir: PathBuf,
    id: CgroupId,
    limit: CachedFile,
    /// v1 swap: the memory limit the swap limit is counted above.
    memory_limit: Option<CachedFile>,
    /// Its use: `memory.swap.current`, `memory.stat` (v1 swap), `pids.current`.
    used: Option<CachedFile>,
    /// How often it was hit: `memory.events` (`high`), `pids.events` (`max`).
    hits: Option<CachedFile>,
}

impl Setter {
    /// The directory of the cgroup that sets it (for the report of what the integration sees).
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// The limit now, and the cgroup's use of it; `None` once it is lifted (or unreadable).
    pub(crate) fn read(&self) -> Option<LimitInUse> {
        let limit = match self.kind {
            Kind::SwapV1 => {
                let both = self.limit.read(parse::parse_v1_limit)??;
                let memory = (self.memory_limit.as_ref()?).read(parse::parse_v1_limit)?;
                // An unlimited memory with a limited memory+swap cannot be set (the kernel
                // keeps memsw at least the memory limit).
                both.checked_sub(memory?)?
            }
            _ => self.limit.read(parse::parse_v2_limit)??,
        };
        // No swap at all is a setting, not a limit that bites: nothing to watch.
        if limit == 0 && matches!(self.kind, Kind::SwapV1 | Kind::SwapV2) {
            return None;
        }
        let used = self.used.as_ref().and_then(|file| match self.kind {
            Kind::SwapV1 => file.read(|text| parse::parse_key(text, "total_swap")),
            _ => file.read(parse::parse_number),
        });
        let hits = self.hits.as_ref().and_then(|file| match self.kind {
            Kind::MemoryHigh => file.read(|text| parse::parse_key(text, "high")),
            _ => file.read(|text| parse::parse_key(text, "max")),
        });
        Some(LimitInUse {
            limit,
            used,
            hits,
            cgroup: self.id,
        })
    }
}

/// The cgroups that set the limits before `memory.max`, as found.
#[derive(Debug, Default)]
pub(crate) struct EarlyLimits {
    pub(crate) memory_high: Option<Setter>,
    pub(crate) swap: Option<Setter>,
    pub(crate) tasks: Option<Setter>,
}

impl EarlyLimits {
    /// Reads every level's limits once and keeps the cgroup that sets the smallest of each.
    /// `memory`: the memory controller's levels and whether they are v1; `pids`: the pids
    /// controller's levels.
    pub(crate) fn find(memory: (&Levels, bool), pids: &Levels) -> Self {
        let (memory_levels, v1) = memory;
        let (memory_high, swap) = if v1 {
            (None, smallest(&memory_levels.dirs, Kind::SwapV1))
        } else {
            (
                smallest(&memory_levels.dirs, Kind::MemoryHigh),
                smallest(&memory_levels.dirs, Kind::SwapV2),
            )
        };
        EarlyLimits {
            memory_high,
            swap,
            tasks: smallest(&pids.dirs, Kind::Tasks),
        }
    }
}

/// The level of `dirs` with the smallest limit of `kind`, its files opened.
fn smallest(dirs: &[PathBuf], kind: Kind) -> Option<Setter> {
    let limit_file = match kind {
        Kind::MemoryHigh => "memory.high",
        Kind::SwapV2 => "memory.swap.max",
        Kind::SwapV1 => "memory.memsw.limit_in_bytes",
        Kind::Tasks => "pids.max",
    };
    let limit_of = |dir: &Path| -> Option<u64> {
        match kind {
            Kind::SwapV1 => {
                let both = read_once(&dir.join(limit_file), parse::parse_v1_limit)??;
                let memory = read_once(&dir.join("memory.limit_in_bytes"), parse::parse_v1_limit)??;
                both.checked_sub(memory)
            }
            _ => read_once(&dir.join(limit_file), parse::parse_v2_limit)?,
        }
    };
    let (_, dir) = dirs
        .iter()
        .filter_map(|dir| Some((limit_of(dir)?, dir)))
        .min_by_key(|(limit, _)| *limit)?;
    let (used_file, hits_file) = match kind {
        Kind::MemoryHigh => (None, Some("memory.events")),
        Kind::SwapV2 => (Some("memory.swap.current"), None),
        Kind::SwapV1 => (Some("memory.stat"), None),
        Kind::Tasks => (Some("pids.current"), Some("pids.events")),
    };
    let open = |name: Option<&str>| name.map(|name| CachedFile::open(&dir.join(name)));
    Some(Setter {
        kind,
        dir: dir.clone(),
        id: cgroup_id(dir)?,
        limit: CachedFile::open(&dir.join(limit_file)),
        memory_limit: (kind == Kind::SwapV1)
            .then(|| CachedFile::open(&dir.join("memory.limit_in_bytes"))),
        used: open(used_file),
        hits: open(hits_file),
    })
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{fixture, seen, write};
    use super::*;

    #[test]
    fn v2_the_smallest_on_the_way_up_and_its_use() {
        let root = fixture("early-v2");
        let (parent, child) = (root.join("slice"), root.join("slice/app"));
        write(&child, "memory.high", "max\n");
        write(&child, "memory.swap.max", "268435456\n");
        write(&child, "memory.swap.current", "4096\n");
        write(&child, "pids.max", "max\n");
        write(&parent, "memory.high", "536870912\n");
        write(
            &parent,
            "memory.events",
            "low 0\nhigh 12\nmax 0\noom 0\noom_kill 0\n",
        );
        write(&parent, "memory.swap.max", "max\n");
        write(&parent, "pids.max", "64\n");
        write(&parent, "pids.current", "9\n");
        write(&parent, "pids.events", "max 4\n");
        let levels = seen(&[&child, &parent]);
        let limits = EarlyLimits::find((&levels, false), &levels);
        let high = limits.memory_high.as_ref().unwrap();
        assert_eq!(high.dir(), parent.as_path());
        let reading = high.read().unwrap();
        assert_eq!((reading.limit, reading.hits), (512 << 20, Some(12)));
        assert_eq!(Some(reading.cgroup), cgroup_id(&parent));
        let swap = limits.swap.as_ref().unwrap().read().unwrap();
        assert_eq!((swap.limit, swap.used), (256 << 20, Some(4096)));
        let tasks = limits.tasks.as_ref().unwrap().read().unwrap();
        assert_eq!(
            (tasks.limit, tasks.used, tasks.hits),
            (64, Some(9), Some(4))
        );
        // The setter's limit is read again each time; lifted, it is gone.
        write(&parent, "pids.max", "128\n");
        assert_eq!(limits.tasks.as_ref().unwrap().read().unwrap().limit, 128);
        write(&parent, "pids.max", "max\n");
        assert!(limits.tasks.as_ref().unwrap().read().is_none());
        // No swap at all: nothing to watch.
        write(&child, "memory.swap.max", "0\n");
        assert!(limits.swap.as_ref().unwrap().read().is_none());
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn v1_swap_is_memsw_less_the_memory_limit_and_no_high() {
        let root = fixture("early-v1");
        let own = root.join("docker/abc");
        write(&own, "memory.limit_in_bytes", "268435456\n");
        write(&own, "memory.memsw.limit_in_bytes", "402653184\n");
        write(&own, "memory.stat", "cache 0\nswap 5\ntotal_swap 8192\n");
        let levels = seen(&[&own]);
        let limits = EarlyLimits::find((&levels, true), &Levels::default());
        assert!(limits.memory_high.is_none(), "v1 has no memory.high");
        assert!(limits.tasks.is_none(), "no pids levels");
        let swap = limits.swap.as_ref().unwrap().read().unwrap();
        assert_eq!((swap.limit, swap.used), (128 << 20, Some(8192)));
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn nothing_where_no_limit_is_set() {
        let root = fixture("early-none");
        write(&root, "memory.high", "max\n");
        write(&root, "memory.swap.max", "max\n");
        write(&root, "pids.max", "max\n");
        let levels = seen(&[&root]);
        let limits = EarlyLimits::find((&levels, false), &levels);
        assert!(limits.memory_high.is_none() && limits.swap.is_none() && limits.tasks.is_none());
        let v1 = seen(&[&root.join("v1")]);
        write(
            &root.join("v1"),
            "memory.limit_in_bytes",
            "9223372036854771712\n",
        );
        write(
            &root.join("v1"),
            "memory.memsw.limit_in_bytes",
            "9223372036854771712\n",
        );
        assert!(EarlyLimits::find((&v1, true), &v1).swap.is_none());
        std::fs::remove_dir_all(root).unwrap();
    }
}
